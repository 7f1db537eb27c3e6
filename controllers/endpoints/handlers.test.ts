import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectKey } from '../../api/core/meta.ts';
import type { Endpoints, Pod, Service } from '../../api/core/v1.ts';
import { IndexedStore } from '../runtime/cache/indexed-store.ts';
import { FakeClock } from '../runtime/clock.ts';
import { DelayingQueue } from '../runtime/queue/delaying-queue.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { CacheCatchUp } from '../shared/cache-catch-up.ts';
import { WrittenEndpoints } from './written-endpoints.ts';
import { SERVICES_BY_SELECTOR_INDEX, serviceSelectorIndex } from '../shared/service-selector-index.ts';
import { type EndpointsQueue, endpointsEventHandlers, leftoverEndpointsKeys, podEventServiceKeys } from './handlers.ts';
import { testEndpoints, testPod, testService } from './test-fixtures.ts';

const ns = 'ns';

function serviceStore(services: Service[]) {
  const store = new IndexedStore<Service>({
    keyFunc: (o) => objectKey(o),
    namespaceFunc: (o) => o.metadata.namespace ?? '',
    indexers: { [SERVICES_BY_SELECTOR_INDEX]: serviceSelectorIndex },
  });
  for (const s of services) store.upsert(deepFreeze(s));
  return store;
}

class RecordingQueue implements EndpointsQueue {
  readonly added: [string, number][] = [];
  enqueue(key: string): void {
    this.added.push([key, 0]);
  }
  enqueueAfter(key: string, delayMs: number): void {
    this.added.push([key, delayMs]);
  }
}

const relabel = (pod: Pod, labels: Record<string, string>, rv: string): Pod => ({
  ...pod,
  metadata: { ...pod.metadata, labels, resourceVersion: rv },
});
const withRV = (pod: Pod, rv: string): Pod => ({ ...pod, metadata: { ...pod.metadata, resourceVersion: rv } });

describe('podEventServiceKeys', () => {
  const services = serviceStore([
    testService(),
    testService({ metadata: { name: 'bar' }, spec: { selector: { foo: 'baz' } } }),
    testService({ metadata: { name: 'all' }, spec: { selector: {} } }),
    testService({ metadata: { name: 'manual' }, spec: { selector: undefined } }),
    testService({ metadata: { name: 'foo', namespace: 'other' } }),
  ]);
  const pod = testPod(ns, 0, 1, true);
  const cases: { name: string; given: [Pod | undefined, Pod | undefined]; want: string[] }[] = [
    { name: 'add: every matching Service of the namespace', given: [undefined, pod], want: ['ns/all', 'ns/foo'] },
    { name: 'delete: the Services the last state matched', given: [pod, undefined], want: ['ns/all', 'ns/foo'] },
    { name: 'resync (same resourceVersion): nothing', given: [pod, testPod(ns, 0, 1, false)], want: [] },
    { name: 'readiness flip: current matches', given: [pod, withRV(testPod(ns, 0, 1, false), '9')], want: ['ns/all', 'ns/foo'] },
    { name: 'relabel only: Services joined or left', given: [pod, relabel(pod, { foo: 'baz' }, '9')], want: ['ns/bar', 'ns/foo'] },
    { name: 'irrelevant change: nothing', given: [pod, { ...withRV(pod, '9'), spec: { ...pod.spec, nodeName: 'n1' } }], want: [] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(podEventServiceKeys(services, ...deepFreeze(c.given)), c.want));
});

describe('endpointsEventHandlers', () => {
  it('enqueues the Service key at once on Service add, update (resyncs included) and delete', () => {
    const queue = new RecordingQueue();
    const h = endpointsEventHandlers(serviceStore([]), queue, 1000, new CacheCatchUp(), new WrittenEndpoints());
    const svc = deepFreeze(testService());
    h.service.onAdd?.(svc);
    h.service.onUpdate?.(svc, svc);
    h.service.onDelete?.(svc, false);
    assert.deepEqual(queue.added, [
      ['ns/foo', 0],
      ['ns/foo', 0],
      ['ns/foo', 0],
    ]);
  });

  it('enqueues the Services of a Pod event after the batch period', () => {
    const queue = new RecordingQueue();
    const h = endpointsEventHandlers(serviceStore([testService()]), queue, 1500, new CacheCatchUp(), new WrittenEndpoints());
    const pod = deepFreeze(testPod(ns, 0, 1, true));
    h.pod.onAdd?.(pod);
    h.pod.onUpdate?.(pod, deepFreeze(withRV(testPod(ns, 0, 1, false), '2')));
    h.pod.onDelete?.(pod, true);
    assert.deepEqual(queue.added, [
      ['ns/foo', 1500],
      ['ns/foo', 1500],
      ['ns/foo', 1500],
    ]);
  });

  it('enqueues the Service of a deleted Endpoints so it is recreated, and ignores Endpoints adds and updates (TestEndpointsDeletionEvents)', () => {
    const queue = new RecordingQueue();
    const h = endpointsEventHandlers(serviceStore([]), queue, 0, new CacheCatchUp(), new WrittenEndpoints());
    const ep = deepFreeze(testEndpoints());
    h.endpoints.onDelete?.(ep, false);
    h.endpoints.onAdd?.(ep);
    h.endpoints.onUpdate?.(ep, ep);
    assert.deepEqual(queue.added, [['ns/foo', 0]]);
  });

  it('an Endpoints add or update wakes a sync of its Service refused as stale, once (controllers/shared/cache-catch-up.ts)', () => {
    const queue = new RecordingQueue();
    const catchUp = new CacheCatchUp();
    const h = endpointsEventHandlers(serviceStore([]), queue, 0, catchUp, new WrittenEndpoints());
    const ep = deepFreeze(testEndpoints());
    catchUp.wait('ns/other');
    h.endpoints.onUpdate?.(ep, ep);
    assert.deepEqual(queue.added, [], 'another Service waits');
    catchUp.wait('ns/foo');
    h.endpoints.onUpdate?.(ep, ep);
    h.endpoints.onUpdate?.(ep, ep);
    catchUp.wait('ns/foo');
    h.endpoints.onAdd?.(ep);
    assert.deepEqual(queue.added, [
      ['ns/foo', 0],
      ['ns/foo', 0],
    ]);
    assert.equal(catchUp.size, 1, 'only ns/other still waits');
  });

  it('an Endpoints event lets go of our own copy once the cache shows a version we did not replace (written-endpoints.ts)', () => {
    const written = new WrittenEndpoints();
    const h = endpointsEventHandlers(serviceStore([]), new RecordingQueue(), 0, new CacheCatchUp(), written);
    const version = (rv: string) => deepFreeze(testEndpoints({ metadata: { resourceVersion: rv } }));
    written.remember('ns/foo', '1', version('2'));
    written.remember('ns/other', '1', version('2'));
    h.endpoints.onUpdate?.(version('1'), version('1'));
    assert.equal(written.size, 2, 'version 1 is one we replaced: the copy is still needed');
    h.endpoints.onUpdate?.(version('1'), version('2'));
    assert.equal(written.size, 1, 'the cache shows our write');
    h.endpoints.onDelete?.(deepFreeze(testEndpoints({ metadata: { name: 'other', resourceVersion: '1' } })), false);
    assert.equal(written.size, 0, 'deleted');
  });
});

describe('leftoverEndpointsKeys (TestCheckLeftoverEndpoints)', () => {
  const cases: { name: string; given: Endpoints[]; want: string[] }[] = [
    {
      name: 'every Endpoints, whoever made it',
      given: [testEndpoints(), testEndpoints({ metadata: { name: 'manual', labels: {} } })],
      want: ['ns/foo', 'ns/manual'],
    },
    {
      name: 'leader-election locks are skipped',
      given: [
        testEndpoints({ metadata: { name: 'kube-controller-manager', annotations: { 'control-plane.alpha.kubernetes.io/leader': '{}' } } }),
      ],
      want: [],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(leftoverEndpointsKeys(deepFreeze(c.given)), c.want));
});

// Upstream TestPodUpdatesBatching / TestPodAddsBatching / TestPodDeleteBatching, through the real delaying queue on a
// fake clock: each Pod event happens `after` ms after the previous one; a worker drains the queue whenever keys are
// ready; the result is how many syncs the Service got.
describe('Pod event batching', () => {
  async function syncsFor(
    batchPeriodMs: number,
    events: { after: number; apply: (h: ReturnType<typeof endpointsEventHandlers>) => void }[],
  ) {
    const clock = new FakeClock();
    const queue = new DelayingQueue({ clock });
    const handlers = endpointsEventHandlers(
      serviceStore([testService()]),
      { enqueue: (k) => queue.add(k), enqueueAfter: (k, d) => queue.addAfter(k, d) },
      batchPeriodMs,
      new CacheCatchUp(),
      new WrittenEndpoints(),
    );
    let syncs = 0;
    const drain = async () => {
      while (queue.len() > 0) {
        const key = await queue.get();
        if (key === undefined) return;
        syncs++;
        queue.done(key);
      }
    };
    for (const e of events) {
      await clock.advance(e.after);
      await drain();
      e.apply(handlers);
      await drain();
    }
    await clock.advance(batchPeriodMs + 1);
    await drain();
    queue.shutDown();
    return syncs;
  }

  const pod = (rv: number, ready: boolean) => deepFreeze(withRV(testPod(ns, 0, 1, ready), String(rv)));
  const updates = (gaps: number[]) =>
    gaps.map((after, i) => ({
      after,
      apply: (h: ReturnType<typeof endpointsEventHandlers>) => h.pod.onUpdate?.(pod(i + 1, i % 2 === 0), pod(i + 2, i % 2 === 1)),
    }));
  const adds = (gaps: number[]) =>
    gaps.map((after, i) => ({
      after,
      apply: (h: ReturnType<typeof endpointsEventHandlers>) => h.pod.onAdd?.(deepFreeze({ ...testPod(ns, i, 1, true) })),
    }));
  const deletes = (gaps: number[]) =>
    gaps.map((after, i) => ({
      after,
      apply: (h: ReturnType<typeof endpointsEventHandlers>) => h.pod.onDelete?.(deepFreeze(testPod(ns, i, 1, true)), false),
    }));

  const cases: { name: string; given: { batchPeriodMs: number; events: Parameters<typeof syncsFor>[1] }; want: number }[] = [
    { name: 'updates, no batching: one sync per event', given: { batchPeriodMs: 0, events: updates([0, 100, 100]) }, want: 3 },
    { name: 'updates inside the batch window: one sync', given: { batchPeriodMs: 1000, events: updates([0, 200, 200]) }, want: 1 },
    { name: 'an update after the batch window: two syncs', given: { batchPeriodMs: 1000, events: updates([0, 200, 1000]) }, want: 2 },
    { name: 'adds, no batching', given: { batchPeriodMs: 0, events: adds([0, 100, 100]) }, want: 3 },
    { name: 'adds inside the window', given: { batchPeriodMs: 1000, events: adds([0, 200, 200]) }, want: 1 },
    { name: 'adds across the window', given: { batchPeriodMs: 1000, events: adds([0, 200, 1000]) }, want: 2 },
    { name: 'deletes, no batching', given: { batchPeriodMs: 0, events: deletes([0, 100, 100]) }, want: 3 },
    { name: 'deletes inside the window', given: { batchPeriodMs: 1000, events: deletes([0, 200, 200]) }, want: 1 },
    { name: 'deletes across the window', given: { batchPeriodMs: 1000, events: deletes([0, 200, 1000]) }, want: 2 },
  ];
  for (const c of cases) it(c.name, async () => assert.equal(await syncsFor(c.given.batchPeriodMs, c.given.events), c.want));
});
