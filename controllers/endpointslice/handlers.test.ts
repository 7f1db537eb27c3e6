import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectKey } from '../../api/core/meta.ts';
import type { Node, Pod, Service } from '../../api/core/v1.ts';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_TOPOLOGY_ZONE } from '../../api/labels.ts';
import { IndexedStore } from '../runtime/cache/indexed-store.ts';
import { FakeClock } from '../runtime/clock.ts';
import { DelayingQueue } from '../runtime/queue/delaying-queue.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { type EndpointSliceHandlerOptions, endpointSliceEventHandlers } from './handlers.ts';
import { MANAGED_BY, makeNode, makePod, makeService, makeSlice, NS } from './test-fixtures.ts';
import { CacheCatchUp } from '../shared/cache-catch-up.ts';
import { EndpointSliceTracker } from '../shared/endpoint-slice-tracker.ts';
import { SERVICES_BY_SELECTOR_INDEX, serviceSelectorIndex } from '../shared/service-selector-index.ts';

type Call = [verb: 'add' | 'addAfter', key: string, delayMs?: number];

function setup(opts: Partial<Omit<EndpointSliceHandlerOptions, 'services'>> & { serviceList?: Service[] } = {}) {
  const { serviceList, ...overrides } = opts;
  const calls: Call[] = [];
  const services = new IndexedStore<Service>({
    keyFunc: objectKey,
    namespaceFunc: (s) => s.metadata.namespace ?? '',
    indexers: { [SERVICES_BY_SELECTOR_INDEX]: serviceSelectorIndex },
  });
  services.replace(deepFreeze(serviceList ?? [makeService()]));
  const tracker = new EndpointSliceTracker();
  const catchUp = new CacheCatchUp();
  let topologyChecks = 0;
  const handlers = endpointSliceEventHandlers({
    queue: { enqueue: (k) => calls.push(['add', k]), enqueueAfter: (k, ms) => calls.push(['addAfter', k, ms]) },
    services,
    tracker,
    catchUp,
    managedBy: MANAGED_BY,
    batchPeriodMs: 0,
    sliceInformerSelectsManagedBy: true,
    onNodeTopologyChange: () => topologyChecks++,
    ...overrides,
  });
  return { handlers, calls, tracker, catchUp, topologyChecks: () => topologyChecks };
}

const relabel = (pod: Pod, labels: Record<string, string>, rv = '999'): Pod =>
  deepFreeze({ ...pod, metadata: { ...pod.metadata, labels, resourceVersion: rv } });
const withRV = (pod: Pod, rv: string, edit: (p: Pod) => void = () => {}): Pod => {
  const copy = structuredClone(pod);
  copy.metadata.resourceVersion = rv;
  edit(copy);
  return deepFreeze(copy);
};

describe('Service events', () => {
  it('enqueue at once on add, every update (resyncs included) and delete', () => {
    const { handlers, calls } = setup();
    const svc = deepFreeze(makeService());
    handlers.services.onAdd?.(svc);
    handlers.services.onUpdate?.(svc, svc);
    handlers.services.onDelete?.(svc, false);
    assert.deepEqual(calls, [
      ['add', 'test/foo'],
      ['add', 'test/foo'],
      ['add', 'test/foo'],
    ]);
  });
});

describe('Pod events → Services after the batch period', () => {
  const other = makeService({ metadata: { name: 'other', uid: 'u2' }, spec: { selector: { app: 'x' } } });
  const pod = deepFreeze(makePod(1));
  const cases: { name: string; given: (h: EndpointSliceHandlersUnderTest) => void; want: Call[] }[] = [
    { name: 'add → matching Service', given: (h) => h.pods.onAdd?.(pod), want: [['addAfter', 'test/foo', 5000]] },
    { name: 'delete → Services of the last labels', given: (h) => h.pods.onDelete?.(pod, true), want: [['addAfter', 'test/foo', 5000]] },
    { name: 'resync (same resourceVersion) → nothing', given: (h) => h.pods.onUpdate?.(pod, pod), want: [] },
    {
      name: 'irrelevant change (phase only) → nothing',
      given: (h) =>
        h.pods.onUpdate?.(
          pod,
          withRV(pod, '2', (p) => (p.status.phase = 'Unknown')),
        ),
      want: [],
    },
    {
      name: 'readiness change → matching Service',
      given: (h) =>
        h.pods.onUpdate?.(
          pod,
          withRV(pod, '2', (p) => (p.status.conditions = [{ type: 'Ready', status: 'False' }])),
        ),
      want: [['addAfter', 'test/foo', 5000]],
    },
    {
      name: 'relabel only → the Services it left and joined',
      given: (h) => h.pods.onUpdate?.(pod, relabel(pod, { app: 'x' })),
      want: [
        ['addAfter', 'test/foo', 5000],
        ['addAfter', 'test/other', 5000],
      ],
    },
    {
      name: 'relabel keeping the same Services → nothing',
      given: (h) => h.pods.onUpdate?.(pod, relabel(pod, { foo: 'bar', extra: '1' })),
      want: [],
    },
  ];
  type EndpointSliceHandlersUnderTest = ReturnType<typeof setup>['handlers'];
  for (const c of cases) {
    it(c.name, () => {
      const { handlers, calls } = setup({ serviceList: [makeService(), other], batchPeriodMs: 5000 });
      c.given(handlers);
      assert.deepEqual(calls, c.want);
    });
  }

  it('TestPodAddsBatching: events within the batch period give one sync, a later one another', async () => {
    const clock = new FakeClock();
    const queue = new DelayingQueue({ clock });
    const services = new IndexedStore<Service>({
      keyFunc: objectKey,
      namespaceFunc: (s) => s.metadata.namespace ?? '',
      indexers: { [SERVICES_BY_SELECTOR_INDEX]: serviceSelectorIndex },
    });
    services.replace(deepFreeze([makeService()]));
    const handlers = endpointSliceEventHandlers({
      queue: { enqueue: (k) => queue.add(k), enqueueAfter: (k, ms) => queue.addAfter(k, ms) },
      services,
      tracker: new EndpointSliceTracker(),
      catchUp: new CacheCatchUp(),
      managedBy: MANAGED_BY,
      batchPeriodMs: 1000,
      sliceInformerSelectsManagedBy: true,
    });
    const synced: string[] = [];
    const drain = async () => {
      while (queue.len() > 0) {
        const key = await queue.get();
        if (key !== undefined) {
          synced.push(key);
          queue.done(key);
        }
      }
    };
    handlers.pods.onAdd?.(deepFreeze(makePod(1)));
    await clock.advance(300);
    handlers.pods.onAdd?.(deepFreeze(makePod(2)));
    await clock.advance(300);
    handlers.pods.onAdd?.(deepFreeze(makePod(3)));
    await drain();
    assert.deepEqual(synced, [], 'nothing before the batch period');
    await clock.advance(400);
    await drain();
    assert.deepEqual(synced, ['test/foo']);
    await clock.advance(2000);
    handlers.pods.onAdd?.(deepFreeze(makePod(4)));
    await clock.advance(1000);
    await drain();
    assert.deepEqual(synced, ['test/foo', 'test/foo']);
    queue.shutDown();
  });
});

describe('EndpointSlice events', () => {
  const ours = deepFreeze(makeSlice('s', []));
  const foreign = deepFreeze(makeSlice('f', [], { labels: { [LABEL_SERVICE_NAME]: 'foo', [LABEL_MANAGED_BY]: 'someone-else' } }));
  const newer = deepFreeze(makeSlice('s', [], { generation: 2 }));
  const cases: {
    name: string;
    given: {
      batchPeriodMs?: number;
      track?: (t: EndpointSliceTracker) => void;
      event: (h: ReturnType<typeof setup>['handlers']) => void;
      selector?: boolean;
      /** Service keys whose sync was refused as stale. */
      waiting?: string[];
    };
    want: Call[];
  }[] = [
    {
      name: 'add of an untracked slice of ours → sync after 1 s',
      given: { event: (h) => h.endpointSlices.onAdd?.(ours) },
      want: [['addAfter', 'test/foo', 1000]],
    },
    {
      name: 'add of our own write (echo) → nothing',
      given: { track: (t) => t.update(ours), event: (h) => h.endpointSlices.onAdd?.(ours) },
      want: [],
    },
    { name: 'add of a foreign slice → nothing', given: { event: (h) => h.endpointSlices.onAdd?.(foreign) }, want: [] },
    {
      name: 'the delay is the batch period when longer than 1 s',
      given: { batchPeriodMs: 5000, event: (h) => h.endpointSlices.onAdd?.(ours) },
      want: [['addAfter', 'test/foo', 5000]],
    },
    {
      name: 'add of our own write while a sync of its Service waits for it → that sync now (once)',
      given: {
        track: (t) => t.update(ours),
        waiting: ['test/foo'],
        event: (h) => (h.endpointSlices.onAdd?.(ours), h.endpointSlices.onAdd?.(ours)),
      },
      want: [['add', 'test/foo']],
    },
    {
      name: 'update of our own write while a sync of its Service waits for it → that sync now',
      given: { track: (t) => t.update(ours), waiting: ['test/foo'], event: (h) => h.endpointSlices.onUpdate?.(ours, ours) },
      want: [['add', 'test/foo']],
    },
    {
      name: 'news while a sync waits → that sync now, and the usual delayed one',
      given: { track: (t) => t.update(ours), waiting: ['test/foo'], event: (h) => h.endpointSlices.onUpdate?.(ours, newer) },
      want: [
        ['add', 'test/foo'],
        ['addAfter', 'test/foo', 1000],
      ],
    },
    {
      name: 'the delete we made while a sync waits for it → that sync now',
      given: { track: (t) => t.expectDeletion(ours), waiting: ['test/foo'], event: (h) => h.endpointSlices.onDelete?.(ours, false) },
      want: [['add', 'test/foo']],
    },
    {
      name: 'echo for another Service than the waiting one → nothing',
      given: { track: (t) => t.update(ours), waiting: ['test/bar'], event: (h) => h.endpointSlices.onAdd?.(ours) },
      want: [],
    },
    {
      name: 'a foreign slice does not wake a waiting sync',
      given: { waiting: ['test/foo'], event: (h) => h.endpointSlices.onAdd?.(foreign) },
      want: [],
    },
    {
      name: 'update of our own write (echo) → nothing',
      given: { track: (t) => t.update(ours), event: (h) => h.endpointSlices.onUpdate?.(ours, ours) },
      want: [],
    },
    {
      name: 'update with a newer generation (someone edited it) → sync',
      given: { track: (t) => t.update(ours), event: (h) => h.endpointSlices.onUpdate?.(ours, newer) },
      want: [['addAfter', 'test/foo', 1000]],
    },
    {
      name: 'TestOnEndpointSliceUpdate: managed-by changed away → sync',
      given: { track: (t) => t.update(ours), event: (h) => h.endpointSlices.onUpdate?.(ours, foreign) },
      want: [['addAfter', 'test/foo', 1000]],
    },
    {
      name: 'service-name label changed → both Services',
      given: {
        track: (t) => t.update(ours),
        event: (h) =>
          h.endpointSlices.onUpdate?.(
            ours,
            deepFreeze(makeSlice('s', [], { labels: { [LABEL_SERVICE_NAME]: 'bar', [LABEL_MANAGED_BY]: MANAGED_BY } })),
          ),
      },
      want: [
        ['addAfter', 'test/bar', 1000],
        ['addAfter', 'test/foo', 1000],
      ],
    },
    {
      name: 'delete we did not make → sync to replace it',
      given: { track: (t) => t.update(ours), event: (h) => h.endpointSlices.onDelete?.(ours, false) },
      want: [['addAfter', 'test/foo', 1000]],
    },
    {
      name: 'delete we made → nothing',
      given: { track: (t) => t.expectDeletion(ours), event: (h) => h.endpointSlices.onDelete?.(ours, false) },
      want: [],
    },
    { name: 'delete of an untracked slice → nothing', given: { event: (h) => h.endpointSlices.onDelete?.(ours, true) }, want: [] },
    {
      name: 'a slice leaving the label-selected informer (managed-by moved away) → sync, as upstream’s update',
      given: { event: (h) => h.endpointSlices.onDelete?.(foreign, false) },
      want: [['addAfter', 'test/foo', 1000]],
    },
    {
      name: 'a foreign delete with an unselected informer → nothing',
      given: { selector: false, event: (h) => h.endpointSlices.onDelete?.(foreign, false) },
      want: [],
    },
    {
      name: 'a slice without service-name label → nothing',
      given: { event: (h) => h.endpointSlices.onAdd?.(deepFreeze(makeSlice('x', [], { labels: { [LABEL_MANAGED_BY]: MANAGED_BY } }))) },
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const h = setup({ batchPeriodMs: c.given.batchPeriodMs ?? 0, sliceInformerSelectsManagedBy: c.given.selector ?? true });
      c.given.track?.(h.tracker);
      for (const key of c.given.waiting ?? []) h.catchUp.wait(key);
      c.given.event(h.handlers);
      assert.deepEqual(h.calls, c.want);
    });
  }

  it('a delete we did not make is forgotten by the tracker, so the next sync is not stale', () => {
    const h = setup();
    h.tracker.update(ours);
    h.handlers.endpointSlices.onDelete?.(ours, false);
    assert.equal(h.tracker.staleSlices(NS, 'foo', []), false);
  });

  it('a slice moved away keeps its tracker entry, as upstream', () => {
    const h = setup();
    h.tracker.update(ours);
    h.handlers.endpointSlices.onDelete?.(
      deepFreeze(makeSlice('s', [], { labels: { [LABEL_SERVICE_NAME]: 'foo', [LABEL_MANAGED_BY]: 'x' } })),
      false,
    );
    assert.equal(h.tracker.has(ours), true);
  });
});

describe('Node events → topology check', () => {
  const node = deepFreeze(makeNode('n1', 'zone-a'));
  const edit = (e: (n: Node) => void): Node => {
    const c = structuredClone(node);
    c.metadata.resourceVersion = '2';
    e(c);
    return deepFreeze(c);
  };
  const cases: { name: string; given: (h: ReturnType<typeof setup>['handlers']) => void; want: number }[] = [
    { name: 'add', given: (h) => h.nodes.onAdd?.(node), want: 1 },
    { name: 'delete', given: (h) => h.nodes.onDelete?.(node, false), want: 1 },
    { name: 'zone label added later', given: (h) => h.nodes.onUpdate?.(deepFreeze(makeNode('n1')), node), want: 1 },
    {
      name: 'zone changed',
      given: (h) =>
        h.nodes.onUpdate?.(
          node,
          edit((n) => (n.metadata.labels = { [LABEL_TOPOLOGY_ZONE]: 'zone-b' })),
        ),
      want: 1,
    },
    {
      name: 'readiness changed',
      given: (h) =>
        h.nodes.onUpdate?.(
          node,
          edit((n) => (n.status = { conditions: [{ type: 'Ready', status: 'False' }] })),
        ),
      want: 1,
    },
    {
      name: 'other change (heartbeat, CPU)',
      given: (h) =>
        h.nodes.onUpdate?.(
          node,
          edit((n) => (n.status = { conditions: n.status?.conditions, allocatable: { cpu: '8' } })),
        ),
      want: 0,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const h = setup();
      c.given(h.handlers);
      assert.equal(h.topologyChecks(), c.want);
      assert.deepEqual(h.calls, []);
    });
  }
});

it('uses the namespace of the Pod only', () => {
  const h = setup({ serviceList: [makeService(), makeService({ metadata: { namespace: 'elsewhere' } })] });
  h.handlers.pods.onAdd?.(deepFreeze(makePod(1, { namespace: NS })));
  assert.deepEqual(h.calls, [['addAfter', 'test/foo', 0]]);
});
