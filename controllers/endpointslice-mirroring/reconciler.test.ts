import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { EndpointAddress, Endpoints, EndpointSubset, Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import {
  ANNOTATION_LEADER,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  LABEL_SKIP_MIRROR,
  MANAGED_BY_MIRRORING_CONTROLLER,
} from '../../api/labels.ts';
import { FakeClock } from '../runtime/clock.ts';
import { StaleCacheError } from '../runtime/reconcile.ts';
import { EndpointSliceMirroringMetrics } from './metrics.ts';
import { MIRRORED_SLICES_INDEX, mirroredSlicesIndexFunc } from './mirrored-slices.ts';
import { EndpointSliceMirroringSyncError, EndpointSliceMirroringReconciler } from './reconciler.ts';
import { ENDPOINT_SLICES } from '../runtime/resource.ts';
import { FakeApiClient } from '../runtime/testing/fake-api-client.ts';
import { apiError, MemoryStore, RecordingEventRecorder, testContext } from './test-fixtures.ts';
import { EndpointSliceTracker } from '../shared/endpoint-slice-tracker.ts';

const NAME = 'testing-sync-endpoints';
const NS = 'default';
const KEY = `${NS}/${NAME}`;

const endpointsObj = (subsets: EndpointSubset[], meta: Partial<Endpoints['metadata']> = {}): Endpoints => ({
  metadata: { name: NAME, namespace: NS, uid: 'ep-uid', resourceVersion: '7', ...meta },
  subsets,
});
const serviceObj = (selector?: Record<string, string>): Service => ({ metadata: { name: NAME, namespace: NS }, spec: { selector } });
const mirroredSlice = (name: string, over: Partial<EndpointSlice> = {}, labels: Record<string, string> = {}): EndpointSlice => ({
  metadata: {
    name,
    namespace: NS,
    uid: `uid-${name}`,
    generation: 1,
    labels: { [LABEL_SERVICE_NAME]: NAME, [LABEL_MANAGED_BY]: MANAGED_BY_MIRRORING_CONTROLLER, ...labels },
  },
  addressType: 'IPv4',
  ports: [],
  endpoints: [],
  ...over,
});
// Upstream's generateAddresses: 10.0.<i/255>.<i%255>.
const generateAddresses = (n: number): EndpointAddress[] =>
  Array.from({ length: n }, (_, i) => ({ ip: `10.0.${Math.floor(i / 255)}.${i % 255}` }));

function setup(given: { endpoints?: Endpoints; service?: Service; slices?: EndpointSlice[]; max?: number }) {
  const registry = new Registry();
  const metrics = new EndpointSliceMirroringMetrics(registry);
  const client = new FakeApiClient();
  client.seed(ENDPOINT_SLICES, ...(given.slices ?? []));
  const recorder = new RecordingEventRecorder();
  const tracker = new EndpointSliceTracker();
  const endpoints = new MemoryStore<Endpoints>(given.endpoints === undefined ? [] : [given.endpoints]);
  const services = new MemoryStore<Service>(given.service === undefined ? [] : [given.service]);
  const slices = new MemoryStore<EndpointSlice>(serverSlices(client), { [MIRRORED_SLICES_INDEX]: mirroredSlicesIndexFunc });
  const reconciler = new EndpointSliceMirroringReconciler({
    endpoints,
    services,
    endpointSlices: slices,
    client,
    clock: new FakeClock(),
    recorder,
    tracker,
    metrics,
    maxEndpointsPerSubset: given.max ?? 1000,
  });
  const reconcile = () => reconciler.reconcile({ key: KEY }, testContext());
  /** Feeds the fake server's current slices into the cache, as the informer would after the writes. */
  const syncCache = () => {
    for (const k of slices.keys()) slices.remove(k);
    for (const s of serverSlices(client)) slices.put(s);
  };
  return { registry, client, recorder, tracker, endpoints, services, slices, reconcile, syncCache };
}

/** The value of one series; `series` names a histogram's `_sum`/`_count` (default: the metric itself). */
async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
  series = name,
): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, `metric ${name} registered`);
  const data = await metric.get();
  const match = data.values.find(
    (v) =>
      Object.entries(labels).every(([k, val]) => v.labels[k] === val) && ((v as { metricName?: string }).metricName ?? name) === series,
  );
  return match?.value;
}

/** The slices the fake API server holds. */
const serverSlices = (client: FakeApiClient) => client.objects(ENDPOINT_SLICES) as unknown as EndpointSlice[];

const mirroredOnServer = (client: FakeApiClient) =>
  serverSlices(client).filter((s) => s.metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY_MIRRORING_CONTROLLER);

describe('EndpointSliceMirroringReconciler (upstream TestSyncEndpoints)', () => {
  const port80 = [{ port: 80 }];
  const cases: {
    name: string;
    given: { endpoints: Endpoints; service?: Service; slices?: EndpointSlice[] };
    want: { actions: number; events: number; slices: number };
  }[] = [
    {
      name: 'Endpoints with no addresses',
      given: { endpoints: endpointsObj([{ ports: port80 }]), service: serviceObj() },
      want: { actions: 0, events: 0, slices: 0 },
    },
    {
      name: 'Endpoints with skip label true',
      given: {
        endpoints: endpointsObj([{ ports: port80, addresses: [{ ip: '10.0.0.1' }] }], { labels: { [LABEL_SKIP_MIRROR]: 'true' } }),
        service: serviceObj(),
      },
      want: { actions: 0, events: 0, slices: 0 },
    },
    {
      name: 'Endpoints with skip label false',
      given: {
        endpoints: endpointsObj([{ ports: port80, addresses: [{ ip: '10.0.0.1' }] }], { labels: { [LABEL_SKIP_MIRROR]: 'false' } }),
        service: serviceObj(),
      },
      want: { actions: 1, events: 0, slices: 1 },
    },
    {
      name: 'Endpoints with missing Service',
      given: { endpoints: endpointsObj([{ ports: port80, addresses: [{ ip: '10.0.0.1' }] }]) },
      want: { actions: 0, events: 0, slices: 0 },
    },
    {
      name: 'Endpoints with Service with selector specified',
      given: { endpoints: endpointsObj([{ ports: port80, addresses: [{ ip: '10.0.0.1' }] }]), service: serviceObj({ foo: 'bar' }) },
      want: { actions: 0, events: 0, slices: 0 },
    },
    {
      name: 'Existing EndpointSlices that need to be cleaned up',
      given: { endpoints: endpointsObj([{ ports: port80 }]), service: serviceObj(), slices: [mirroredSlice(`${NAME}-1`)] },
      want: { actions: 1, events: 0, slices: 0 },
    },
    {
      name: 'Existing EndpointSlices managed by a different controller, no addresses to sync',
      given: {
        endpoints: endpointsObj([{ ports: port80 }]),
        service: serviceObj(),
        slices: [{ metadata: { name: `${NAME}-1`, namespace: NS, labels: { [LABEL_MANAGED_BY]: 'something-else' } }, addressType: 'IPv4' }],
      },
      want: { actions: 0, events: 0, slices: 0 },
    },
    {
      name: 'Endpoints with 1000 addresses',
      given: { endpoints: endpointsObj([{ ports: port80, addresses: generateAddresses(1000) }]), service: serviceObj() },
      want: { actions: 1, events: 0, slices: 1 },
    },
    {
      name: 'Endpoints with 1001 addresses - 1 should not be mirrored',
      given: { endpoints: endpointsObj([{ ports: port80, addresses: generateAddresses(1001) }]), service: serviceObj() },
      want: { actions: 1, events: 1, slices: 1 },
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const t = setup(c.given);
      assert.deepEqual(await t.reconcile(), { kind: 'done' });
      assert.equal(t.client.calls.length, c.want.actions, 'API calls');
      assert.equal(t.recorder.events.length, c.want.events, 'events');
      assert.equal(mirroredOnServer(t.client).length, c.want.slices, 'mirrored slices');
    });
  }
});

describe('EndpointSliceMirroringReconciler writes', () => {
  const subsets: EndpointSubset[] = [
    {
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      addresses: [{ ip: '10.0.0.1', nodeName: 'n1' }],
      notReadyAddresses: [{ ip: '2001:db8::1' }],
    },
  ];

  it('an unchanged Endpoints makes zero API calls on the next sync', async () => {
    const t = setup({ endpoints: endpointsObj(subsets, { labels: { team: 'a' }, annotations: { note: 'x' } }), service: serviceObj() });
    await t.reconcile();
    assert.deepEqual(
      t.client.calls.map((c) => c.verb),
      ['create', 'create'],
    );
    t.syncCache();
    t.client.calls.length = 0;
    await t.reconcile();
    await t.reconcile();
    assert.deepEqual(t.client.calls, []);
    assert.equal(await metricValue(t.registry, 'endpoint_slice_mirroring_controller_changes', { operation: 'create' }), 2);
  });

  it('a Service selector being added deletes every mirrored slice and only those', async () => {
    const foreign: EndpointSlice = {
      metadata: {
        name: 'foreign',
        namespace: NS,
        uid: 'f',
        labels: { [LABEL_SERVICE_NAME]: NAME, [LABEL_MANAGED_BY]: 'endpointslice-controller.k8s.io' },
      },
      addressType: 'IPv4',
    };
    const t = setup({ endpoints: endpointsObj(subsets), service: serviceObj(), slices: [foreign] });
    await t.reconcile();
    t.syncCache();
    assert.equal(t.tracker.staleSlices(NS, NAME, mirroredOnServer(t.client)), false);
    t.services.put(serviceObj({ app: 'x' }));
    t.client.calls.length = 0;

    await t.reconcile();
    assert.equal(t.client.calls.length, 2);
    assert.ok(t.client.calls.every((c) => c.verb === 'delete' && c.name !== 'foreign'));
    assert.deepEqual(mirroredOnServer(t.client), []);
    assert.equal(serverSlices(t.client).length, 1, 'the foreign slice is untouched');
    // The tracker forgot the Endpoints, so the delete events of these slices are not taken for foreign deletions.
    assert.equal(t.tracker.staleSlices(NS, NAME, [mirroredSlice('gone')]), false);
    // Upstream does not count these deletes in the changes metric.
    assert.equal(await metricValue(t.registry, 'endpoint_slice_mirroring_controller_changes', { operation: 'delete' }), 0);
  });

  for (const [name, change] of [
    ['the Endpoints being deleted', (t: ReturnType<typeof setup>) => t.endpoints.remove(KEY)],
    ['the Service being deleted', (t: ReturnType<typeof setup>) => t.services.remove(KEY)],
    [
      'a skip-mirror label',
      (t: ReturnType<typeof setup>) => t.endpoints.put(endpointsObj(subsets, { labels: { [LABEL_SKIP_MIRROR]: 'true' } })),
    ],
    [
      'a leader-election annotation',
      (t: ReturnType<typeof setup>) => t.endpoints.put(endpointsObj(subsets, { annotations: { [ANNOTATION_LEADER]: 'x' } })),
    ],
  ] as const) {
    it(`${name} deletes the mirrored slices`, async () => {
      const t = setup({ endpoints: endpointsObj(subsets), service: serviceObj() });
      await t.reconcile();
      t.syncCache();
      change(t);
      await t.reconcile();
      assert.deepEqual(mirroredOnServer(t.client), []);
    });
  }

  it('over 1000 addresses in a subset are truncated to 1000 with a TooManyAddressesToMirror warning', async () => {
    const t = setup({ endpoints: endpointsObj([{ ports: [{ port: 80 }], addresses: generateAddresses(1003) }]), service: serviceObj() });
    await t.reconcile();
    const [slice] = mirroredOnServer(t.client);
    assert.equal(slice?.endpoints?.length, 1000);
    assert.deepEqual(t.recorder.events, [
      {
        object: { kind: 'Endpoints', apiVersion: 'v1', namespace: NS, name: NAME, uid: 'ep-uid', resourceVersion: '7' },
        type: 'Warning',
        reason: 'TooManyAddressesToMirror',
        message: 'A max of 1000 addresses can be mirrored to EndpointSlices per Endpoints subset. 3 addresses were skipped',
      },
    ]);
    const skipped = 'endpoint_slice_mirroring_controller_addresses_skipped_per_sync';
    assert.equal(await metricValue(t.registry, skipped, {}, `${skipped}_sum`), 3);
  });

  it('invalid IPs give an InvalidIPAddress warning and are not mirrored', async () => {
    const t = setup({
      endpoints: endpointsObj([{ ports: [{ port: 80 }], addresses: [{ ip: '10.0.0.1' }, { ip: 'bogus' }] }]),
      service: serviceObj(),
    });
    await t.reconcile();
    assert.deepEqual(
      t.recorder.events.map((e) => [e.reason, e.message]),
      [['InvalidIPAddress', 'Skipped 1 invalid IP addresses when mirroring to EndpointSlices']],
    );
    assert.deepEqual(
      mirroredOnServer(t.client)[0]?.endpoints?.map((e) => e.addresses),
      [['10.0.0.1']],
    );
  });

  it('a cache older than our own writes is a StaleCacheError and writes nothing', async () => {
    const t = setup({ endpoints: endpointsObj(subsets), service: serviceObj() });
    await t.reconcile();
    // The cache has not seen the creates yet: the tracker knows slices the cache lacks.
    t.client.calls.length = 0;
    await assert.rejects(t.reconcile(), StaleCacheError);
    assert.deepEqual(t.client.calls, []);
    t.syncCache();
    await t.reconcile();
    assert.deepEqual(t.client.calls, []);
  });

  it('a create refused because the namespace is terminating ends the sync quietly, skipping the rest', async () => {
    const t = setup({
      endpoints: endpointsObj([{ ports: [{ port: 80 }], addresses: [{ ip: '10.0.0.1' }] }]),
      service: serviceObj(),
      slices: [mirroredSlice('stale-ports', { ports: [{ name: '', port: 1, protocol: '' }], addressType: 'IPv6' })],
    });
    t.client.failOn = (call) => (call.verb === 'create' ? apiError(403, 'Forbidden', [{ reason: 'NamespaceTerminating' }]) : undefined);
    assert.deepEqual(await t.reconcile(), { kind: 'done' });
    assert.deepEqual(
      t.client.calls.map((c) => c.verb),
      ['create'],
      'the delete after the failed create is skipped',
    );
  });

  it('a failed write stops the sync and reports the API error as cause', async () => {
    const t = setup({ endpoints: endpointsObj([{ ports: [{ port: 80 }], addresses: [{ ip: '10.0.0.1' }] }]), service: serviceObj() });
    const conflict = apiError(500, 'InternalError');
    t.client.failOn = () => conflict;
    const err = await t.reconcile().then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof EndpointSliceMirroringSyncError);
    assert.match(err.message, /^failed to create EndpointSlice for Endpoints default\/testing-sync-endpoints: /);
    assert.equal(err.cause, conflict);
    const duration = 'endpoint_slice_mirroring_controller_endpoints_sync_duration';
    assert.equal(await metricValue(t.registry, duration, {}, `${duration}_count`), 1, 'duration observed on failure too');
  });

  it('deleting mirrored slices tries every slice and aggregates the failures', async () => {
    const t = setup({
      endpoints: endpointsObj([]),
      service: serviceObj({ a: 'b' }),
      slices: [mirroredSlice('a'), mirroredSlice('b'), mirroredSlice('c')],
    });
    t.client.failOn = (call) => (call.name === 'c' ? undefined : apiError(500, 'InternalError'));
    const err = await t.reconcile().then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof EndpointSliceMirroringSyncError);
    assert.match(err.message, /^error\(s\) deleting 2\/3 EndpointSlices for default\/testing-sync-endpoints Endpoints, including: /);
    assert.equal(t.client.calls.length, 3);
  });

  it('an Endpoints pending deletion gets no new slices', async () => {
    const t = setup({
      endpoints: endpointsObj([{ ports: [{ port: 80 }], addresses: [{ ip: '10.0.0.1' }] }], { deletionTimestamp: '2026-01-01T00:00:00Z' }),
      service: serviceObj(),
    });
    await t.reconcile();
    assert.deepEqual(t.client.calls, []);
  });

  it('a recreated Endpoints (new UID) rewrites the slice with the new owner', async () => {
    const t = setup({ endpoints: endpointsObj(subsets), service: serviceObj() });
    await t.reconcile();
    t.syncCache();
    t.endpoints.put(endpointsObj(subsets, { uid: 'ep-uid-2' }));
    t.client.calls.length = 0;
    await t.reconcile();
    assert.deepEqual(
      t.client.calls.map((c) => c.verb),
      ['update', 'update'],
    );
    assert.ok(mirroredOnServer(t.client).every((s) => s.metadata.ownerReferences?.[0]?.uid === 'ep-uid-2'));
  });

  it('publishes the desired and actual slice gauges across syncs', async () => {
    const t = setup({ endpoints: endpointsObj(subsets), service: serviceObj() });
    await t.reconcile();
    assert.equal(await metricValue(t.registry, 'endpoint_slice_mirroring_controller_endpoints_desired'), 2);
    assert.equal(await metricValue(t.registry, 'endpoint_slice_mirroring_controller_num_endpoint_slices'), 2);
    assert.equal(await metricValue(t.registry, 'endpoint_slice_mirroring_controller_desired_endpoint_slices'), 2);
    t.syncCache();
    t.services.remove(KEY);
    await t.reconcile();
    assert.equal(await metricValue(t.registry, 'endpoint_slice_mirroring_controller_endpoints_desired'), 0);
    assert.equal(await metricValue(t.registry, 'endpoint_slice_mirroring_controller_num_endpoint_slices'), 0);
  });

  it('rejects a maxEndpointsPerSubset outside 1..1000', () => {
    assert.throws(() => setup({ max: 0 }), RangeError);
    assert.throws(() => setup({ max: 1001 }), RangeError);
  });
});
