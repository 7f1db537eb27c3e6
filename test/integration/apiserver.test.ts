import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { podSchema, serviceSchema } from '../../api/core/v1.ts';
import { ApiError, isInvalid } from '../../controllers/runtime/api-errors.ts';
import { PODS, SERVICES } from '../../controllers/runtime/resource.ts';
import { EXPECTED_KUBE_MINOR, EXPECTED_KUBE_VERSION, startTestCluster } from '../envtest/test-cluster.ts';

// The first integration suite: behaviour only a real API server has (allocation, validation, version stamping, the
// status subresource). If any of these pass against a fake, the harness is not running what it claims.

const env = await startTestCluster({ name: 'apiserver-test' });

const versionSchema = z.looseObject({ gitVersion: z.string(), major: z.string(), minor: z.string() });

function ipv4ToNumber(ip: string): number {
  const octets = ip.split('.').map(Number);
  assert.equal(octets.length, 4, `${ip} is not an IPv4 address`);
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

const inServiceRange = (ip: string): boolean => Math.floor(ipv4ToNumber(ip) / 256) === ipv4ToNumber('10.0.0.0') / 256;

function service(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }], ...spec },
  };
}

async function invalidError(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    () => assert.fail('the API server accepted an invalid object'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
  return err;
}

describe('a local kube-apiserver', () => {
  it('reports the version the binaries were built at', async () => {
    const version = versionSchema.parse(await env.client.getPath('/version'));
    assert.equal(version.gitVersion, EXPECTED_KUBE_VERSION);
    assert.deepEqual([version.major, version.minor], ['1', String(EXPECTED_KUBE_MINOR)]);
  });

  it('allocates distinct ClusterIPs from the service range 10.0.0.0/24', async () => {
    const ns = await env.createNamespace('svc');
    const web = serviceSchema.parse(await env.client.create(SERVICES, ns, service('web')));
    const api = serviceSchema.parse(await env.client.create(SERVICES, ns, service('api')));
    const ips = [web.spec.clusterIP ?? '', api.spec.clusterIP ?? ''];
    for (const ip of ips) assert.ok(inServiceRange(ip), `ClusterIP ${ip} is outside 10.0.0.0/24`);
    assert.notEqual(ips[0], ips[1]);
    assert.deepEqual(web.spec.clusterIPs, [web.spec.clusterIP]);

    const readBack = serviceSchema.parse(await env.client.get(SERVICES, ns, 'web'));
    assert.equal(readBack.spec.clusterIP, web.spec.clusterIP);
  });

  it('rejects a ClientIP session affinity timeout of 0 as Invalid, naming the field', async () => {
    const ns = await env.createNamespace('invalid');
    const err = await invalidError(
      env.client.create(
        SERVICES,
        ns,
        service('sticky', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } }),
      ),
    );
    assert.ok(isInvalid(err), err.message);
    assert.equal(err.code, 422);
    assert.ok(
      err.causes.some((c) => c.field === 'spec.sessionAffinityConfig.clientIP.timeoutSeconds'),
      `causes: ${JSON.stringify(err.causes)}`,
    );
  });

  it('rejects a name that is not a DNS label as Invalid on metadata.name', async () => {
    const ns = await env.createNamespace('invalid');
    const err = await invalidError(env.client.create(SERVICES, ns, service('Not_A_Label')));
    assert.ok(isInvalid(err), err.message);
    assert.ok(
      err.causes.some((c) => c.field === 'metadata.name'),
      `causes: ${JSON.stringify(err.causes)}`,
    );
  });

  it('stores pod status written through /status and ignores status sent with the pod', async () => {
    const ns = await env.createNamespace('pod');
    const node = await env.createNode(`node-${ns}`, 'zone-a');
    assert.equal(node.metadata.labels?.['topology.kubernetes.io/zone'], 'zone-a');
    const created = podSchema.parse(
      await env.client.create(PODS, ns, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web-0', labels: { app: 'web' } },
        spec: { nodeName: node.metadata.name, containers: [{ name: 'web', image: 'web:1', ports: [{ containerPort: 8080 }] }] },
        // A real API server drops status on create: only the status subresource (the kubelet) sets it.
        status: { podIP: '10.1.0.9', podIPs: [{ ip: '10.1.0.9' }] },
      }),
    );
    assert.equal(created.status.podIP, undefined);
    assert.equal(created.status.phase, 'Pending');

    const updated = await env.setPodStatus(created, {
      podIPs: ['10.1.0.5', 'fd00::5'],
      ready: true,
      readyTransitionTime: '2026-01-02T03:04:05Z',
    });
    assert.equal(updated.status.podIP, '10.1.0.5');

    const readBack = podSchema.parse(await env.client.get(PODS, ns, 'web-0'));
    assert.equal(readBack.status.phase, 'Running');
    assert.deepEqual(readBack.status.podIPs, [{ ip: '10.1.0.5' }, { ip: 'fd00::5' }]);
    const ready = readBack.status.conditions?.find((c) => c.type === 'Ready');
    assert.deepEqual(ready, { type: 'Ready', status: 'True', lastTransitionTime: '2026-01-02T03:04:05Z' });

    const notReady = await env.setPodStatus(readBack, { podIPs: ['10.1.0.5', 'fd00::5'], ready: false });
    assert.equal(notReady.status.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
  });
});
