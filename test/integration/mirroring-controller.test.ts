import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { type EndpointSubset, endpointsSchema } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import {
  ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  LABEL_SKIP_MIRROR,
  MANAGED_BY_MIRRORING_CONTROLLER,
} from '../../api/labels.ts';
import { setupEndpointSliceMirroringController } from '../../controllers/endpointslice-mirroring/controller.ts';
import { ApiError, isInvalid } from '../../controllers/runtime/api-errors.ts';
import { ENDPOINTS, SERVICES } from '../../controllers/runtime/resource.ts';
import { startTestCluster } from '../envtest/test-cluster.ts';
import { listEvents, listSlices, serviceBody } from './cluster-objects.ts';
import { assertRestartWritesNothing, eventually, type RunningOperator, startOperator } from './operator-harness.ts';

// The EndpointSlice mirroring controller's whole loop on a real kube-apiserver: hand-written Endpoints of selector-less
// Services become EndpointSlices, and stop being mirrored when mirroring no longer applies. The per-subset cap is 5
// here so that a handful of addresses exceeds it.

const MAX_ENDPOINTS_PER_SUBSET = 5;
const MANAGED_BY = MANAGED_BY_MIRRORING_CONTROLLER;

const env = await startTestCluster({
  name: 'mirroring-controller-test',
  apiServerFlags: { 'service-cluster-ip-range': '10.0.0.0/24,fd00:10:96::/112' },
});

/** Starts an operator running only the mirroring controller; it stops when the test ends. */
function runOperator(t: TestContext): RunningOperator {
  const operator = startOperator(env, (r) => setupEndpointSliceMirroringController(r, { maxEndpointsPerSubset: MAX_ENDPOINTS_PER_SUBSET }));
  t.after(() => operator.stop());
  return operator;
}

/** The mirrored slices of `name`, once they list exactly `want` (address type → `address:ready` entries, sorted). */
function expectMirrored(namespace: string, name: string, want: Record<string, string[]>): Promise<EndpointSlice[]> {
  return eventually(`mirrored slices of ${namespace}/${name} to be ${JSON.stringify(want)}`, async () => {
    const slices = await listSlices(env.client, namespace, name, MANAGED_BY);
    const got: Record<string, string[]> = {};
    for (const s of slices) {
      got[s.addressType] = [
        ...(got[s.addressType] ?? []),
        ...(s.endpoints ?? []).map((e) => `${e.addresses.join(',')}:${e.conditions?.ready === true ? 'ready' : 'not-ready'}`),
      ].sort();
    }
    assert.deepEqual(got, want);
    return slices;
  });
}

/** Waits until `name` has no mirrored slice left. */
function expectNoMirrored(namespace: string, name: string): Promise<void> {
  return eventually(`no mirrored slices of ${namespace}/${name}`, async () => {
    assert.deepEqual(await listSlices(env.client, namespace, name, MANAGED_BY), []);
  });
}

const http = { name: 'http', port: 8080, protocol: 'TCP' };

function endpointsBody(
  name: string,
  subsets: readonly EndpointSubset[],
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, ...metadata }, subsets };
}

/** What `kubectl edit` does to an Endpoints object: read it, change it, PUT it back. */
async function editEndpoints(
  namespace: string,
  name: string,
  change: (e: { metadata: Record<string, unknown>; subsets?: unknown }) => Record<string, unknown>,
): Promise<void> {
  const current = endpointsSchema.parse(await env.client.get(ENDPOINTS, namespace, name));
  await env.client.update(ENDPOINTS, namespace, name, change(current));
}

describe('EndpointSlice mirroring controller on a real API server', () => {
  it('mirrors the Endpoints of a selector-less Service, with its labels, most annotations and an owner reference', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('mirror');
    await env.client.create(SERVICES, ns, serviceBody('db', { selector: null, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }));
    const created = endpointsSchema.parse(
      await env.client.create(
        ENDPOINTS,
        ns,
        endpointsBody(
          'db',
          [
            {
              addresses: [
                { ip: '10.40.0.1', hostname: 'db-0', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: ns, name: 'db-0' } },
                { ip: '10.40.0.2' },
              ],
              notReadyAddresses: [{ ip: '10.40.0.3' }],
              ports: [http],
            },
            { addresses: [{ ip: 'fd00:10:40::1' }], ports: [http] },
          ],
          {
            labels: { team: 'data' },
            annotations: {
              note: 'kept',
              [ANNOTATION_LAST_CHANGE_TRIGGER_TIME]: '2026-01-01T00:00:00Z',
              'kubectl.kubernetes.io/last-applied-configuration': '{}',
            },
          },
        ),
      ),
    );

    const slices = await expectMirrored(ns, 'db', {
      IPv4: ['10.40.0.1:ready', '10.40.0.2:ready', '10.40.0.3:not-ready'],
      IPv6: ['fd00:10:40::1:ready'],
    });
    for (const s of slices) {
      assert.deepEqual(s.metadata.labels, { team: 'data', [LABEL_SERVICE_NAME]: 'db', [LABEL_MANAGED_BY]: MANAGED_BY });
      assert.deepEqual(s.metadata.annotations, { note: 'kept' });
      assert.deepEqual(s.metadata.ownerReferences, [
        { apiVersion: 'v1', kind: 'Endpoints', name: 'db', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
      assert.deepEqual(s.ports, [http]);
    }
    const db0 = slices.flatMap((s) => s.endpoints ?? []).find((e) => e.addresses[0] === '10.40.0.1');
    // Only `ready` is mirrored; serving and terminating stay unset. No zone: Endpoints have none.
    assert.deepEqual(db0, {
      addresses: ['10.40.0.1'],
      conditions: { ready: true },
      hostname: 'db-0',
      nodeName: 'node-a',
      targetRef: { kind: 'Pod', namespace: ns, name: 'db-0' },
    });
  });

  it('follows updates of the Endpoints: addresses, ports and labels', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('update');
    await env.client.create(SERVICES, ns, serviceBody('db', { selector: null }));
    await env.client.create(ENDPOINTS, ns, endpointsBody('db', [{ addresses: [{ ip: '10.41.0.1' }, { ip: '10.41.0.2' }], ports: [http] }]));
    await expectMirrored(ns, 'db', { IPv4: ['10.41.0.1:ready', '10.41.0.2:ready'] });

    await editEndpoints(ns, 'db', (e) => ({
      ...e,
      metadata: { ...e.metadata, labels: { tier: 'storage' } },
      subsets: [
        { addresses: [{ ip: '10.41.0.2' }, { ip: '10.41.0.3' }], ports: [http] },
        { addresses: [{ ip: '10.41.0.9' }], ports: [{ name: 'admin', port: 9090, protocol: 'TCP' }] },
      ],
    }));
    const slices = await expectMirrored(ns, 'db', { IPv4: ['10.41.0.2:ready', '10.41.0.3:ready', '10.41.0.9:ready'] });
    const ports = slices.map((s) => (s.ports ?? []).map((p) => `${p.name}/${p.port}`).join(',')).sort();
    assert.deepEqual(ports, ['admin/9090', 'http/8080'], 'one slice per port set');
    for (const s of slices) assert.equal(s.metadata.labels?.tier, 'storage');
  });

  it('mirrors at most maxEndpointsPerSubset addresses of a subset, ready ones first, and warns with an Event', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('cap');
    await env.client.create(SERVICES, ns, serviceBody('big', { selector: null }));
    const ready = ['10.42.0.1', '10.42.0.2', '10.42.0.3', '10.42.0.4'].map((ip) => ({ ip }));
    const notReady = ['10.42.1.30', '10.42.1.4', '10.42.1.200', '10.42.1.1'].map((ip) => ({ ip }));
    await env.client.create(ENDPOINTS, ns, endpointsBody('big', [{ addresses: ready, notReadyAddresses: notReady, ports: [http] }]));

    // 4 ready + the first not-ready address in IP-string order: 10.42.1.1.
    await expectMirrored(ns, 'big', {
      IPv4: ['10.42.0.1:ready', '10.42.0.2:ready', '10.42.0.3:ready', '10.42.0.4:ready', '10.42.1.1:not-ready'],
    });
    await eventually('a TooManyAddressesToMirror warning on the Endpoints', async () => {
      const events = await listEvents(env.client, ns, 'Endpoints', 'big');
      const warning = events.find((e) => e.reason === 'TooManyAddressesToMirror');
      assert.ok(warning, `events: ${JSON.stringify(events)}`);
      assert.equal(warning.type, 'Warning');
      assert.equal(
        warning.message,
        'A max of 5 addresses can be mirrored to EndpointSlices per Endpoints subset. 3 addresses were skipped',
      );
    });

    // Back within the cap, everything is mirrored (and later syncs, a restart's included, have nothing to warn about).
    await editEndpoints(ns, 'big', (e) => ({
      ...e,
      subsets: [{ addresses: ready, notReadyAddresses: notReady.slice(0, 1), ports: [http] }],
    }));
    await expectMirrored(ns, 'big', {
      IPv4: ['10.42.0.1:ready', '10.42.0.2:ready', '10.42.0.3:ready', '10.42.0.4:ready', '10.42.1.30:not-ready'],
    });
  });

  it('mirrors addresses in canonical form; those it would skip as invalid never get past the API server', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('canonical');
    await env.client.create(SERVICES, ns, serviceBody('db', { selector: null }));
    await env.client.create(
      ENDPOINTS,
      ns,
      endpointsBody('db', [{ addresses: [{ ip: 'FD00:10:43:0:0:0:0:0001' }, { ip: 'fd00:10:43::2' }], ports: [http] }]),
    );
    await expectMirrored(ns, 'db', { IPv6: ['fd00:10:43::1:ready', 'fd00:10:43::2:ready'] });

    // The controller's invalid-address path (unit-tested) is unreachable here: the API server validates Endpoints IPs
    // at least as strictly as the controller's parser, leading zeros and IPv4-mapped IPv6 included.
    for (const [i, ip] of ['10.43.0', '010.43.0.1', '::ffff:10.43.0.1', 'fd00::1%eth0'].entries()) {
      const err = await env.client.create(ENDPOINTS, ns, endpointsBody(`bad-${i}`, [{ addresses: [{ ip }] }])).then(
        () => assert.fail(`the API server accepted ${ip}`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ApiError && isInvalid(err), `${ip}: ${String(err)}`);
    }
  });

  it('deletes the mirrored slices when the Service gets a selector or is deleted, and mirrors again without one', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('selector');
    await env.client.create(SERVICES, ns, serviceBody('db', { selector: null }));
    await env.client.create(ENDPOINTS, ns, endpointsBody('db', [{ addresses: [{ ip: '10.44.0.1' }], ports: [http] }]));
    await expectMirrored(ns, 'db', { IPv4: ['10.44.0.1:ready'] });

    await env.client.patch(SERVICES, ns, 'db', { spec: { selector: { app: 'db' } } }, 'merge');
    await expectNoMirrored(ns, 'db');
    await env.client.patch(SERVICES, ns, 'db', { spec: { selector: null } }, 'merge');
    await expectMirrored(ns, 'db', { IPv4: ['10.44.0.1:ready'] });
    await env.client.delete(SERVICES, ns, 'db');
    await expectNoMirrored(ns, 'db');
  });

  it('deletes the mirrored slices when the Endpoints is labelled skip-mirror "true" (and only "true")', async (t) => {
    const operator = runOperator(t);
    const ns = await env.createNamespace('skip');
    await env.client.create(SERVICES, ns, serviceBody('db', { selector: null }));
    await env.client.create(ENDPOINTS, ns, endpointsBody('db', [{ addresses: [{ ip: '10.45.0.1' }], ports: [http] }]));
    await expectMirrored(ns, 'db', { IPv4: ['10.45.0.1:ready'] });

    const label = (value: string) =>
      env.client.patch(ENDPOINTS, ns, 'db', { metadata: { labels: { [LABEL_SKIP_MIRROR]: value } } }, 'merge');
    await label('false');
    await operator.waitForIdle();
    const slices = await expectMirrored(ns, 'db', { IPv4: ['10.45.0.1:ready'] });
    assert.equal(slices[0]?.metadata.labels?.[LABEL_SKIP_MIRROR], 'false', 'the label is mirrored like any other');

    await label('true');
    await expectNoMirrored(ns, 'db');
  });

  it('deletes the mirrored slices when the Endpoints is deleted', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('epdelete');
    await env.client.create(SERVICES, ns, serviceBody('db', { selector: null }));
    await env.client.create(ENDPOINTS, ns, endpointsBody('db', [{ addresses: [{ ip: '10.46.0.1' }], ports: [http] }]));
    await expectMirrored(ns, 'db', { IPv4: ['10.46.0.1:ready'] });

    await env.client.delete(ENDPOINTS, ns, 'db');
    await expectNoMirrored(ns, 'db');
  });

  it('makes zero writes when restarted on a converged cluster', async (t) => {
    const first = runOperator(t);
    const ns = await env.createNamespace('restart');
    await env.client.create(SERVICES, ns, serviceBody('db', { selector: null }));
    await env.client.create(
      ENDPOINTS,
      ns,
      endpointsBody(
        'db',
        [
          { addresses: [{ ip: '10.47.0.1' }, { ip: '10.47.0.2' }], notReadyAddresses: [{ ip: '10.47.0.3' }], ports: [http] },
          { addresses: [{ ip: 'fd00:10:47::1' }], ports: [http, { name: 'admin', port: 9090, protocol: 'TCP', appProtocol: 'http' }] },
        ],
        { labels: { team: 'data' }, annotations: { note: 'kept' } },
      ),
    );
    // Repacking puts every address on http into one subset (split by family) and fd00:10:47::1 alone on admin: it is
    // mirrored twice, into the IPv6 slices of both port sets.
    const slices = await expectMirrored(ns, 'db', {
      IPv4: ['10.47.0.1:ready', '10.47.0.2:ready', '10.47.0.3:not-ready'],
      IPv6: ['fd00:10:47::1:ready', 'fd00:10:47::1:ready'],
    });
    assert.equal(slices.length, 3);
    await assertRestartWritesNothing(t, first, 1);
  });
});
