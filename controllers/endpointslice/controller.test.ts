import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { objectKey } from '../../api/core/meta.ts';
import type { Node, Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_TOPOLOGY_ZONE } from '../../api/labels.ts';
import type { EventHandler } from '../runtime/cache/event-handler.ts';
import { IndexedStore } from '../runtime/cache/indexed-store.ts';
import { FakeClock } from '../runtime/clock.ts';
import type { ControllerHandle, ControllerOptions, ControllerRegistry, InformerSpec, SharedInformer } from '../runtime/manager-types.ts';
import { deepFreeze } from '../shared/deep-freeze.ts';
import { EndpointSliceReconciler } from './reconciler.ts';
import {
  ENDPOINTSLICE_EVENT_COMPONENT,
  ENDPOINTSLICE_USER_AGENT,
  InvalidEndpointSliceOptionsError,
  setupEndpointSliceController,
} from './controller.ts';
import { endpointFor, FakeSliceApi, makeNode, makePod, makeService, makeSlice } from './test-fixtures.ts';

interface FakeInformer<T> extends SharedInformer<T> {
  readonly spec: InformerSpec<T>;
  readonly handlers: EventHandler<T>[];
  readonly writable: IndexedStore<T>;
}

function fakeRegistry() {
  const clock = new FakeClock();
  const informers = new Map<string, FakeInformer<unknown>>();
  const controllers: ControllerOptions[] = [];
  const clients: string[] = [];
  const recorders: string[] = [];
  const queued: [string, number][] = [];
  const registry: ControllerRegistry = {
    clock,
    logger: pino({ level: 'silent' }),
    metrics: new Registry(),
    client: (component) => {
      clients.push(component);
      return new FakeSliceApi();
    },
    eventRecorder: (component) => {
      recorders.push(component);
      return { event: () => {} };
    },
    informer<T>(spec: InformerSpec<T>): SharedInformer<T> {
      const store = new IndexedStore<T>({
        keyFunc: (o) => objectKey(o as { metadata?: { namespace?: string; name?: string } }),
        namespaceFunc: (o) => (o as { metadata?: { namespace?: string } }).metadata?.namespace ?? '',
        ...(spec.indexers === undefined ? {} : { indexers: spec.indexers }),
      });
      const handlers: EventHandler<T>[] = [];
      const informer: FakeInformer<T> = {
        spec,
        handlers,
        writable: store,
        store,
        addEventHandler: (h) => handlers.push(h),
        hasSynced: () => true,
      };
      informers.set(`${spec.resource.plural}?${spec.labelSelector ?? ''}`, informer as FakeInformer<unknown>);
      return informer;
    },
    addController(options: ControllerOptions): ControllerHandle {
      controllers.push(options);
      return { name: options.name, enqueue: (k) => queued.push([k, 0]), enqueueAfter: (k, ms) => queued.push([k, ms]) };
    },
  };
  const informer = <T>(key: string) => informers.get(key) as FakeInformer<T> | undefined;
  return { registry, clock, informers, informer, controllers, clients, recorders, queued };
}

describe('setupEndpointSliceController', () => {
  it('watches Pods, Services and Nodes, and only our own EndpointSlices, indexed by Service', () => {
    const f = fakeRegistry();
    setupEndpointSliceController(f.registry);
    assert.deepEqual([...f.informers.keys()].sort(), [
      'endpointslices?endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io',
      'nodes?',
      'pods?',
      'services?',
    ]);
    for (const informer of f.informers.values()) assert.equal(informer.handlers.length, 1);
    assert.deepEqual(
      Object.keys(f.informer('endpointslices?endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io')?.spec.indexers ?? {}),
      ['endpointslice.kubernetes.io/service'],
    );
  });

  it('registers the reconciler with upstream’s names, worker count and retry policy', () => {
    const f = fakeRegistry();
    setupEndpointSliceController(f.registry, { workers: 7 });
    const [c] = f.controllers;
    assert.equal(c?.name, 'endpointslice-controller');
    assert.equal(c?.workers, 7);
    assert.equal(c?.maxRetries, 15);
    assert.ok(c?.reconciler instanceof EndpointSliceReconciler);
    assert.deepEqual(f.clients, [ENDPOINTSLICE_USER_AGENT]);
    assert.deepEqual(f.recorders, [ENDPOINTSLICE_EVENT_COMPONENT]);
    assert.equal(ENDPOINTSLICE_USER_AGENT, 'endpointslice-controller');
    assert.equal(ENDPOINTSLICE_EVENT_COMPONENT, 'endpoint-slice-controller');
    // 1 s, 2 s, 4 s ... per key, as upstream's EndpointSlice service queue.
    const limiter = c?.rateLimiter;
    assert.deepEqual([limiter?.when('k'), limiter?.when('k'), limiter?.when('k')], [1000, 2000, 4000]);
  });

  it('a custom managed-by value selects its own slices', () => {
    const f = fakeRegistry();
    setupEndpointSliceController(f.registry, { managedBy: 'my-controller.example.com' });
    assert.ok(f.informers.has('endpointslices?endpointslice.kubernetes.io/managed-by=my-controller.example.com'));
  });

  const invalid: { name: string; given: Parameters<typeof setupEndpointSliceController>[1] }[] = [
    { name: 'workers 0', given: { workers: 0 } },
    { name: 'workers 51', given: { workers: 51 } },
    { name: 'maxEndpointsPerSlice 0', given: { maxEndpointsPerSlice: 0 } },
    { name: 'maxEndpointsPerSlice 1001', given: { maxEndpointsPerSlice: 1001 } },
    { name: 'negative batch period', given: { batchPeriodMs: -1 } },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name}`, () =>
      assert.throws(() => setupEndpointSliceController(fakeRegistry().registry, c.given), InvalidEndpointSliceOptionsError));
  }

  it('Pod events reach the queue after the batch period', () => {
    const f = fakeRegistry();
    setupEndpointSliceController(f.registry, { batchPeriodMs: 2000 });
    f.informer<Service>('services?')?.writable.upsert(deepFreeze(makeService()));
    f.informer('pods?')?.handlers[0]?.onAdd?.(deepFreeze(makePod(1)));
    assert.deepEqual(f.queued, [['test/foo', 2000]]);
  });

  it('a burst of Node events runs one topology check, which re-queues overloaded hinted Services', async () => {
    const f = fakeRegistry();
    setupEndpointSliceController(f.registry);
    const nodes = f.informer<Node>('nodes?');
    const services = f.informer<Service>('services?');
    const pods = f.informer('pods?');
    const zoneA = makeNode('node-a', 'zone-a');
    const zoneB = makeNode('node-b', 'zone-b');
    for (const n of [zoneA, zoneB]) {
      nodes?.writable.upsert(deepFreeze(n));
      nodes?.handlers[0]?.onAdd?.(n);
    }
    await f.clock.advance(0);
    // A hinted Service: two Pods, one per zone.
    const svc = makeService({ metadata: { annotations: { 'service.kubernetes.io/topology-mode': 'Auto' } } });
    services?.writable.upsert(deepFreeze(svc));
    for (const p of [makePod(1, { nodeName: 'node-a' }), makePod(2, { nodeName: 'node-b' })]) pods?.writable.upsert(deepFreeze(p) as never);
    const [c] = f.controllers;
    await c?.reconciler.reconcile(
      { key: 'test/foo' },
      { logger: pino({ level: 'silent' }), reconcileId: 'r', signal: new AbortController().signal },
    );
    f.queued.length = 0;
    // A third, much bigger zone appears: zone-a and zone-b are now short.
    const zoneC = makeNode('node-c', 'zone-c', '64');
    nodes?.writable.upsert(deepFreeze(zoneC));
    nodes?.handlers[0]?.onAdd?.(zoneC);
    nodes?.handlers[0]?.onUpdate?.(
      zoneC,
      deepFreeze({ ...zoneC, metadata: { ...zoneC.metadata, labels: { [LABEL_TOPOLOGY_ZONE]: 'zone-c' } } }),
    );
    assert.deepEqual(f.queued, [], 'the check runs on the next tick, once');
    await f.clock.advance(0);
    assert.deepEqual(f.queued, [['test/foo', 0]]);
  });

  it('a slice of ours we did not write re-queues its Service after 1 s', () => {
    const f = fakeRegistry();
    setupEndpointSliceController(f.registry);
    const slices = f.informer<EndpointSlice>('endpointslices?endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io');
    const slice = deepFreeze(makeSlice('s', [endpointFor(makePod(1))]));
    slices?.handlers[0]?.onAdd?.(slice);
    assert.deepEqual(f.queued, [['test/foo', 1000]]);
  });
});
