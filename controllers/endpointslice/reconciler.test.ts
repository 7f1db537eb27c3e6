import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { type ObjectReference, objectKey } from '../../api/core/meta.ts';
import type { Node, Pod, Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { ANNOTATION_LAST_CHANGE_TRIGGER_TIME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../../api/labels.ts';
import { ApiError } from '../runtime/api-errors.ts';
import { ENDPOINT_SLICES } from '../runtime/resource.ts';
import { FakeApiClient } from '../runtime/testing/fake-api-client.ts';
import { IndexedStore } from '../runtime/cache/indexed-store.ts';
import type { ReconcileContext } from '../runtime/reconcile.ts';
import { StaleCacheError } from '../runtime/reconcile.ts';
import { CacheCatchUp } from '../shared/cache-catch-up.ts';
import { metricValue } from '../runtime/runtime-test-helpers.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { TriggerTimeTracker } from '../shared/trigger-time-tracker.ts';
import { EndpointSliceMetrics } from './metrics.ts';
import { EndpointSliceReconciler, EndpointSliceSyncError, SLICES_BY_SERVICE_INDEX, slicesByServiceIndex } from './reconciler.ts';
import { endpointFor, MANAGED_BY, makeNode, makePod, makeService, makeSlice, NS } from './test-fixtures.ts';
import { EndpointSliceTracker } from '../shared/endpoint-slice-tracker.ts';

// The reconciler against in-memory caches and a recording fake API (upstream pkg/controller/endpointslice/
// endpointslice_controller_test.go: TestSyncService and the tests around it). `catchUp()` plays the informer: it copies
// what the fake API stores into the cache.

interface RecordedEvent {
  object: ObjectReference;
  type: string;
  reason: string;
  message: string;
}

function harness(opts: { services?: Service[]; pods?: Pod[]; nodes?: Node[]; slices?: EndpointSlice[]; max?: number } = {}) {
  const nsOf = (o: { metadata: { namespace?: string | undefined } }) => o.metadata.namespace ?? '';
  const services = new IndexedStore<Service>({ keyFunc: objectKey, namespaceFunc: nsOf });
  const pods = new IndexedStore<Pod>({ keyFunc: objectKey, namespaceFunc: nsOf });
  const nodes = new IndexedStore<Node>({ keyFunc: (n) => n.metadata.name, namespaceFunc: () => '' });
  const slices = new IndexedStore<EndpointSlice>({
    keyFunc: objectKey,
    namespaceFunc: nsOf,
    indexers: { [SLICES_BY_SERVICE_INDEX]: slicesByServiceIndex },
  });
  services.replace(deepFreeze(opts.services ?? [makeService()]));
  pods.replace(deepFreeze(opts.pods ?? []));
  nodes.replace(deepFreeze(opts.nodes ?? [makeNode('node-1')]));
  const api = new FakeApiClient();
  api.seed(ENDPOINT_SLICES, ...(opts.slices ?? []));
  /** The slices the API server holds. */
  const stored = () => api.objects(ENDPOINT_SLICES) as unknown as EndpointSlice[];
  slices.replace(deepFreeze(stored()));

  const events: RecordedEvent[] = [];
  const registry = new Registry();
  const tracker = new EndpointSliceTracker();
  const waiting = new CacheCatchUp();
  const triggerTimeTracker = new TriggerTimeTracker();
  const reconciler = new EndpointSliceReconciler({
    services,
    pods,
    nodes,
    endpointSlices: slices,
    client: api,
    events: { event: (object, type, reason, message) => events.push({ object, type, reason, message }) },
    tracker,
    catchUp: waiting,
    triggerTimeTracker,
    metrics: new EndpointSliceMetrics(registry, opts.max ?? 100),
    options: { maxEndpointsPerSlice: opts.max ?? 100, managedBy: MANAGED_BY },
  });
  const ctx: ReconcileContext = { logger: pino({ level: 'silent' }), reconcileId: 'test', signal: new AbortController().signal };
  return {
    services,
    pods,
    nodes,
    slices,
    api,
    stored,
    events,
    registry,
    tracker,
    /** Syncs refused as stale, waiting for the informer. */
    waiting,
    triggerTimeTracker,
    sync: (key = `${NS}/foo`) => reconciler.reconcile({ key }, ctx),
    /** The informer catching up with the API server. */
    catchUp: () => slices.replace(deepFreeze(stored())),
    verbs: () => api.calls.map((c) => `${c.verb} ${c.name}`),
    metric: (name: string, labels: Record<string, string> = {}) => metricValue(registry, `endpoint_slice_controller_${name}`, labels),
  };
}

describe('EndpointSliceReconciler: Services it leaves alone', () => {
  const cases: { name: string; given: Service }[] = [
    { name: 'TestSyncServiceNoSelector: no selector', given: makeService({ spec: { selector: undefined } }) },
    { name: 'ExternalName with selector and ports', given: makeService({ spec: { type: 'ExternalName', externalName: 'x.example' } }) },
    { name: 'ExternalName without selector', given: makeService({ spec: { type: 'ExternalName', selector: undefined } }) },
    { name: 'ExternalName without ports', given: makeService({ spec: { type: 'ExternalName', ports: [] } }) },
    {
      name: 'ExternalName without selector and ports',
      given: makeService({ spec: { type: 'ExternalName', selector: undefined, ports: [] } }),
    },
    {
      name: 'TestSyncServicePendingDeletion: deleting, no slices (placeholder create suppressed)',
      given: makeService({ metadata: { deletionTimestamp: '2026-01-02T00:00:00Z' } }),
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const h = harness({ services: [c.given], pods: [makePod(1)], slices: [makeSlice('stale', [endpointFor(makePod(9))])] });
      if (c.given.metadata.deletionTimestamp !== undefined) h.catchUp();
      await h.sync();
      assert.deepEqual(c.given.metadata.deletionTimestamp === undefined ? h.verbs() : h.verbs().filter((v) => v.startsWith('create')), []);
    });
  }
});

describe('EndpointSliceReconciler: syncs', () => {
  it('TestSyncServiceWithSelector: no Pods → one placeholder with the creation time as trigger time', async () => {
    const h = harness();
    await h.sync();
    assert.deepEqual(h.verbs(), ['create ']);
    const [created] = h.stored();
    assert.match(created?.metadata.name ?? '', /^foo-/);
    assert.deepEqual(created?.ports, []);
    assert.deepEqual(created?.endpoints, []);
    assert.equal(created?.metadata.labels?.[LABEL_SERVICE_NAME], 'foo');
    assert.equal(created?.metadata.annotations?.[ANNOTATION_LAST_CHANGE_TRIGGER_TIME], '2026-01-01T00:00:00Z');
    assert.equal(created === undefined ? undefined : h.tracker.shouldSync(created), false, 'own echo is ignored');
    assert.equal(await h.metric('changes', { operation: 'create' }), 1);
    assert.equal(await h.metric('syncs', { result: 'success' }), 1);
  });

  it('TestSyncServiceMissing: no calls, and only that Service’s tracker state is dropped', async () => {
    const h = harness({ services: [makeService({ metadata: { name: 'stillthere' } })] });
    h.triggerTimeTracker.computeEndpointLastChangeTriggerTime(NS, makeService({ metadata: { name: 'stillthere' } }), []);
    h.triggerTimeTracker.computeEndpointLastChangeTriggerTime(NS, makeService({ metadata: { name: 'notthere' } }), []);
    h.tracker.update(makeSlice('x', [], { labels: { [LABEL_SERVICE_NAME]: 'notthere' } }));
    await h.sync(`${NS}/notthere`);
    assert.deepEqual(h.verbs(), []);
    assert.equal(h.triggerTimeTracker.has(NS, 'notthere'), false);
    assert.equal(h.triggerTimeTracker.has(NS, 'stillthere'), true);
    assert.equal(h.tracker.has(makeSlice('x', [], { labels: { [LABEL_SERVICE_NAME]: 'notthere' } })), false);
  });

  it('TestSyncServicePodSelection: only matching Pods of the namespace; targetRef without resourceVersion', async () => {
    const h = harness({ pods: [makePod(1), makePod(2, { labels: { foo: 'boo' } }), makePod(3, { namespace: 'other' })] });
    await h.sync();
    const [created] = h.stored();
    assert.deepEqual(
      created?.endpoints?.map((e) => e.targetRef),
      [{ kind: 'Pod', namespace: NS, name: 'pod1', uid: 'pod-uid-1' }],
    );
  });

  it('no change → zero API calls (a periodic resync writes nothing)', async () => {
    const h = harness({ pods: Array.from({ length: 250 }, (_, i) => makePod(i, { ready: i % 3 !== 0 })) });
    await h.sync();
    assert.equal(h.api.calls.length, 3);
    h.catchUp();
    await h.sync();
    await h.sync();
    assert.equal(h.api.calls.length, 3);
    assert.equal(await h.metric('syncs', { result: 'success' }), 3);
  });

  it('TestSyncServiceEndpointSlicePendingDeletion: a slice being deleted is ignored', async () => {
    const h = harness();
    await h.sync();
    h.catchUp();
    h.slices.upsert(deepFreeze(makeSlice('epSlice-1', [], { deletionTimestamp: '2026-01-02T00:00:00Z' })));
    await h.sync();
    assert.deepEqual(h.verbs(), ['create ']);
  });

  it('TestSyncServiceEndpointSliceLabelSelection: only slices with both labels count → update (recycled placeholder) + delete', async () => {
    const empty = (name: string, labels: Record<string, string>, owned = true) => {
      const s = makeSlice(name, [], { ports: null, labels });
      if (!owned) delete s.metadata.ownerReferences;
      return s;
    };
    const both = { [LABEL_SERVICE_NAME]: 'foo', [LABEL_MANAGED_BY]: MANAGED_BY };
    const h = harness({
      slices: [
        empty('matching-1', both),
        empty('matching-2', both),
        empty('partially-matching-1', { [LABEL_SERVICE_NAME]: 'foo' }, false),
        empty('not-matching-1', { [LABEL_SERVICE_NAME]: 'something-else', [LABEL_MANAGED_BY]: MANAGED_BY }, false),
        empty('not-matching-2', { [LABEL_SERVICE_NAME]: 'foo', [LABEL_MANAGED_BY]: 'something-else' }, false),
      ],
    });
    await h.sync();
    assert.deepEqual(h.verbs(), ['update matching-1', 'delete matching-2']);
  });

  it('foreign-owned slice (older Service of the same name) is deleted, after the create', async () => {
    const h = harness({ pods: [makePod(1)], slices: [makeSlice('old', [endpointFor(makePod(1))], { ownerUID: 'old-uid' })] });
    await h.sync();
    assert.deepEqual(
      h.verbs().map((v) => v.split(' ')[0]),
      ['create', 'delete'],
    );
    assert.equal(h.api.calls[1]?.name, 'old');
    assert.equal(h.tracker.shouldSync(makeSlice('old', [])), true, 'the delete is expected: its event will not resync');
    assert.equal(h.tracker.handleDeletion(makeSlice('old', [])), true);
  });

  it('stale cache → StaleCacheError until the informer catches up (TestSyncServiceStaleInformer)', async () => {
    const h = harness({ pods: [makePod(1)] });
    await h.sync();
    await assert.rejects(h.sync(), StaleCacheError);
    assert.equal(await h.metric('syncs', { result: 'stale' }), 1);
    assert.equal(h.api.calls.length, 1, 'a stale sync writes nothing');
    assert.equal(h.waiting.caughtUp(`${NS}/foo`), true, 'the refused sync waits for the informer (controllers/shared/cache-catch-up.ts)');
    h.catchUp();
    await h.sync();
    assert.equal(h.api.calls.length, 1);
  });

  const staleCases: { name: string; given: { tracked: number; cached: number }; want: boolean }[] = [
    { name: 'cache generation older than ours → stale', given: { tracked: 2, cached: 1 }, want: true },
    { name: 'equal generation → fine', given: { tracked: 1, cached: 1 }, want: false },
    { name: 'cache generation newer → fine', given: { tracked: 1, cached: 2 }, want: false },
  ];
  for (const c of staleCases) {
    it(`TestSyncServiceStaleInformer: ${c.name}`, async () => {
      const h = harness({ slices: [makeSlice('s', [], { ports: [], generation: c.given.cached })] });
      h.tracker.update(makeSlice('s', [], { generation: c.given.tracked }));
      if (c.want) await assert.rejects(h.sync(), StaleCacheError);
      else await h.sync();
    });
  }

  it('namespace terminating: the create error is swallowed and the rest of finalize is skipped', async () => {
    const h = harness({ pods: [makePod(1)], slices: [makeSlice('old', [endpointFor(makePod(1))], { ownerUID: 'old-uid' })] });
    h.api.failOnce = (call) =>
      call.verb === 'create'
        ? new ApiError({
            code: 403,
            reason: 'Forbidden',
            message: 'namespace test is being terminated',
            causes: [{ reason: 'NamespaceTerminating' }],
            verb: 'create',
            path: '/x',
          })
        : undefined;
    await h.sync();
    assert.deepEqual(h.verbs(), ['create ']);
    assert.deepEqual(h.events, []);
  });

  it('a failed create stops finalize, records FailedToUpdateEndpointSlices and fails the sync', async () => {
    const h = harness({ pods: [makePod(1)], slices: [makeSlice('old', [endpointFor(makePod(1))], { ownerUID: 'old-uid' })] });
    h.api.failOnce = (call) =>
      call.verb === 'create'
        ? new ApiError({ code: 500, reason: 'InternalError', message: 'boom', verb: 'create', path: '/x' })
        : undefined;
    const err = await h.sync().catch((e: unknown) => e);
    assert.ok(err instanceof EndpointSliceSyncError);
    assert.match(err.message, /^failed to create EndpointSlice for Service test\/foo: .*boom/);
    assert.deepEqual(h.verbs(), ['create ']);
    assert.equal(h.events[0]?.reason, 'FailedToUpdateEndpointSlices');
    assert.equal(h.events[0]?.type, 'Warning');
    assert.equal(h.events[0]?.message, `Error updating Endpoint Slices for Service test/foo: ${err.message}`);
    assert.deepEqual(h.events[0]?.object, {
      kind: 'Service',
      apiVersion: 'v1',
      namespace: 'test',
      name: 'foo',
      uid: 'svc-uid-1',
      resourceVersion: '1',
    });
    assert.equal(await h.metric('syncs', { result: 'error' }), 1);
  });

  it('a conflicting update fails with the slice name', async () => {
    const h = harness({ pods: [makePod(1), makePod(2)], slices: [makeSlice('s', [endpointFor(makePod(1))])] });
    h.api.failOnce = (call) =>
      call.verb === 'update' ? new ApiError({ code: 409, reason: 'Conflict', message: 'modified', verb: 'update', path: '/x' }) : undefined;
    await assert.rejects(h.sync(), /failed to update s EndpointSlice for Service test\/foo/);
  });

  it('TestReconcilerPodMissingNode: writes the other endpoints, then fails so it is retried', async () => {
    const h = harness({ pods: [makePod(0, { nodeName: 'node-0' }), makePod(1)] });
    await assert.rejects(
      h.sync(),
      (err: unknown) =>
        err instanceof EndpointSliceSyncError && err.message === 'skipping Pod pod0 for Service test/foo: Node node-0 Not Found',
    );
    const [created] = h.stored();
    assert.deepEqual(
      created?.endpoints?.map((e) => e.targetRef?.name),
      ['pod1'],
    );
    assert.equal(h.events.length, 1);
  });

  it('several failures are aggregated as upstream: [a, b]', async () => {
    const h = harness({ pods: [makePod(0, { nodeName: 'gone-0' }), makePod(1, { nodeName: 'gone-1' })] });
    await assert.rejects(
      h.sync(),
      (err: unknown) =>
        err instanceof EndpointSliceSyncError &&
        err.message ===
          '[skipping Pod pod0 for Service test/foo: Node gone-0 Not Found, skipping Pod pod1 for Service test/foo: Node gone-1 Not Found]',
    );
  });

  it('TestReconcilerFinalizeSvcDeletionTimestamp: a deleting Service gets no creates but its updates and deletes', async () => {
    const deleting = makeService({ metadata: { deletionTimestamp: '2026-01-02T00:00:00Z' } });
    const full = Array.from({ length: 100 }, (_, i) => makePod(i));
    const h = harness({
      services: [deleting],
      pods: [...full.map((p, i) => (i === 0 ? makePod(0, { ready: false }) : p)), makePod(500)],
      slices: [
        makeSlice(
          'full',
          full.map((p) => endpointFor(p)),
        ),
        makeSlice('foreign', [endpointFor(makePod(900))], { ownerUID: 'x' }),
      ],
    });
    await h.sync();
    assert.deepEqual(h.verbs(), ['update full', 'delete foreign']);
  });

  it('TestReconcilerFinalizeSvcDeletionTimestamp: recycling still turns a create into an update', async () => {
    const deleting = makeService({ metadata: { deletionTimestamp: '2026-01-02T00:00:00Z' } });
    const h = harness({ services: [deleting], pods: [makePod(5)], slices: [makeSlice('s', [endpointFor(makePod(1))])] });
    await h.sync();
    assert.deepEqual(h.verbs(), ['update s']);
  });

  it('a slice already gone when deleted is fine, and is not tracked as an expected deletion', async () => {
    const h = harness({ pods: [makePod(1)], slices: [makeSlice('old', [endpointFor(makePod(1))], { ownerUID: 'old-uid' })] });
    h.api.remove(ENDPOINT_SLICES, NS, 'old');
    await h.sync();
    assert.deepEqual(
      h.verbs().map((v) => v.split(' ')[0]),
      ['create', 'delete'],
    );
    assert.equal(h.tracker.has(makeSlice('old', [])), false);
    assert.equal(await h.metric('changes', { operation: 'delete' }), 0);
  });

  it('dual-stack to single-stack: the slices of the removed family are deleted after the rest', async () => {
    const h = harness({
      pods: [makePod(1, { ips: ['1.2.3.4', 'fd00::1'] })],
      slices: [makeSlice('v4', [endpointFor(makePod(1, { ips: ['1.2.3.4'] }))]), makeSlice('v6', [], { addressType: 'IPv6' })],
    });
    await h.sync();
    assert.deepEqual(h.verbs(), ['delete v6']);
  });

  it('metrics follow the syncs (desired endpoints, slices, changes)', async () => {
    const h = harness({ pods: Array.from({ length: 150 }, (_, i) => makePod(i)) });
    await h.sync();
    assert.deepEqual(
      {
        desired: await h.metric('endpoints_desired'),
        slices: await h.metric('num_endpoint_slices'),
        desiredSlices: await h.metric('desired_endpoint_slices'),
        creates: await h.metric('changes', { operation: 'create' }),
      },
      { desired: 150, slices: 2, desiredSlices: 2, creates: 2 },
    );
    h.services.remove(`${NS}/foo`);
    await h.sync();
    assert.equal(await h.metric('endpoints_desired'), 0);
    assert.equal(await h.metric('num_endpoint_slices'), 0);
  });
});
