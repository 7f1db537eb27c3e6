import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setupEndpointsController } from '../../controllers/endpoints/controller.ts';
import { setupEndpointSliceController } from '../../controllers/endpointslice/controller.ts';
import { ENDPOINTS, SERVICES } from '../../controllers/runtime/resource.ts';
import { EXPECTED_KUBE_MINOR, startTestCluster } from '../envtest/test-cluster.ts';
import { createTestHost, type TestHost, type TestServer, testHostSupport } from '../nethost/test-host.ts';
import { createPod, DEFAULT_NODE_NAME, getEndpoints, listSlices, serviceBody } from './cluster-objects.ts';
import { eventually, type RunningOperator, startOperator } from './operator-harness.ts';
import { MANAGED_BY_ENDPOINTSLICE_CONTROLLER } from '../../api/labels.ts';

// Two things kube-apiserver v1.37 changed for the objects these controllers write (docs/adr/0004):
// 1. Deleting a Service no longer deletes its Endpoints (storage.go: afterDelete lost its Endpoints delete), so the
//    Endpoints controller's delete path (endpoints_controller.go: syncService, Service not found) and its start-up
//    sweep (checkLeftoverEndpoints) are the only cleanup left.
// 2. The Service proxy subresource (storage.go: ResourceLocation) picks its backend from EndpointSlices, through
//    proxy.RandomEndpoint, instead of from Endpoints. A cluster running only the EndpointSlice controller can now proxy.
// Each test states what v1.36 did instead, so the suite also passes with KEO_KUBE_VERSION=v1.36.4.

const env = await startTestCluster({ name: 'apiserver-endpoints-changes' });
const v137 = EXPECTED_KUBE_MINOR >= 37;

function manualEndpoints(name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name },
    subsets: [{ addresses: [{ ip: '10.12.0.1' }], ports: [{ name: 'http', port: 8080 }] }],
  };
}

describe('deleting a Service', () => {
  it(`${v137 ? 'leaves its Endpoints in place' : 'deletes its Endpoints'} when no controller runs (kube-apiserver v1.${EXPECTED_KUBE_MINOR})`, async () => {
    const ns = await env.createNamespace('svcdel-bare');
    await env.client.create(SERVICES, ns, serviceBody('web', { selector: null }));
    await env.client.create(ENDPOINTS, ns, manualEndpoints('web'));
    await env.client.delete(SERVICES, ns, 'web');
    // The API server's own cleanup ran inside the DELETE request (afterDelete), so the answer is final right away.
    const left = await getEndpoints(env.client, ns, 'web');
    if (v137) assert.ok(left !== undefined, 'kube-apiserver v1.37 must not delete the Endpoints of a deleted Service');
    else assert.equal(left, undefined, 'kube-apiserver v1.36 deletes the Endpoints of a deleted Service');
  });

  it('gets its Endpoints deleted by our Endpoints controller, selectorless Services included (as upstream syncService)', async (t) => {
    const operator = startOperator(env, (r) => setupEndpointsController(r, {}));
    t.after(() => operator.stop());
    const ns = await env.createNamespace('svcdel-ctl');
    await env.client.create(SERVICES, ns, serviceBody('manual', { selector: null }));
    await env.client.create(ENDPOINTS, ns, manualEndpoints('manual'));
    await operator.waitForIdle();
    assert.ok(await getEndpoints(env.client, ns, 'manual'), 'a selectorless Service keeps the Endpoints its owner wrote');

    const deletesBefore = endpointsDeletes(operator);
    await env.client.delete(SERVICES, ns, 'manual');
    await eventually('the Endpoints of the deleted selectorless Service to be deleted', async () => {
      assert.equal(await getEndpoints(env.client, ns, 'manual'), undefined);
    });
    if (v137) assert.equal(endpointsDeletes(operator) - deletesBefore, 1, 'on v1.37 the controller is the one that deleted them');
  });
});

/** Successful Endpoints deletes the operator has made so far (the start-up sweep of other tests' leftovers included). */
const endpointsDeletes = (operator: RunningOperator): number =>
  operator.writes().filter((w) => w.verb === 'delete' && w.resource === 'endpoints' && w.code === 200).length;

const support = testHostSupport();

describe('the Service proxy subresource', { skip: support.ok ? false : support.reason }, () => {
  let host: TestHost;
  let server: TestServer;
  before(async () => {
    await env.createNode(DEFAULT_NODE_NAME, 'zone-a');
    host = await createTestHost({ name: 'proxy-backend' });
    server = await host.startServer('http');
  });
  after(async () => host?.remove());

  function runSliceControllerOnly(t: TestContext) {
    const operator = startOperator(env, (r) => setupEndpointSliceController(r, { maxEndpointsPerSlice: 100 }));
    t.after(() => operator.stop());
    return operator;
  }

  it(`${v137 ? 'reaches' : 'cannot reach'} a Pod through the EndpointSlice our controller wrote, with no Endpoints object`, async (t) => {
    runSliceControllerOnly(t);
    const ns = await env.createNamespace('svcproxy');
    await env.client.create(SERVICES, ns, serviceBody('web', { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] }));
    await createPod(env, ns, {
      name: 'web-1',
      labels: { app: 'web' },
      ports: [{ name: 'http', containerPort: server.port }],
      status: { podIPs: [host.address], ready: true },
    });
    await eventually('the EndpointSlice to list the Pod', async () => {
      const slices = await listSlices(env.client, ns, 'web', MANAGED_BY_ENDPOINTSLICE_CONTROLLER);
      assert.deepEqual(
        slices.flatMap((s) => (s.endpoints ?? []).map((e) => e.addresses[0])),
        [host.address],
      );
    });
    assert.equal(await getEndpoints(env.client, ns, 'web'), undefined, 'no Endpoints controller runs here');

    const path = `/api/v1/namespaces/${ns}/services/web:80/proxy/through-the-slice`;
    const got = await kubectlGetRaw(path);
    if (v137) {
      assert.equal(got.code, 0, `kubectl get --raw ${path}: ${got.stderr}`);
      assert.equal(got.stdout, 'ok\n');
      await server.waitForOutput(/REQUEST GET \/through-the-slice/, 5000);
    } else {
      // v1.36 looks the backend up in the Endpoints object of that name, which does not exist: its NotFound.
      assert.notEqual(got.code, 0, 'kube-apiserver v1.36 proxies from Endpoints only');
      assert.match(got.stderr, /NotFound/);
    }
  });
});

function kubectlGetRaw(path: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', ['--kubeconfig', env.cluster.kubeconfigPath, 'get', '--raw', path], { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    );
  });
}
