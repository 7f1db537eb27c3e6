import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { Node, Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_TOPOLOGY_ZONE } from '../../api/labels.ts';
import { FakeControllerRegistry } from '../runtime/testing/fake-controller-registry.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { EndpointSliceReconciler } from './reconciler.ts';
import { EVENT_COMPONENT, USER_AGENT, InvalidEndpointSliceOptionsError, setupEndpointSliceController } from './controller.ts';
import { FakeApiClient } from '../runtime/testing/fake-api-client.ts';
import { endpointFor, makeNode, makePod, makeService, makeSlice } from './test-fixtures.ts';

function fakeRegistry() {
  const registry = new FakeControllerRegistry({ client: () => new FakeApiClient() });
  // Keys are `plural?labelSelector`, as the informers are shared.
  const informer = <T>(key: string) => {
    const [plural = '', selector = ''] = key.split('?');
    return registry.informerFor<T>(plural, selector === '' ? undefined : selector);
  };
  const queued = () => registry.enqueued.map((e) => [e.key, e.delayMs ?? 0]);
  return { registry, clock: registry.clock, informer, queued };
}

describe('setupEndpointSliceController', () => {
  it('watches Pods, Services and Nodes, and only our own EndpointSlices, indexed by Service', () => {
    const f = fakeRegistry();
    setupEndpointSliceController(f.registry);
    assert.deepEqual(f.registry.informerKeys().sort(), [
      'endpointslices?endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io',
      'nodes?',
      'pods?',
      'services?',
    ]);
    for (const informer of f.registry.informers) assert.equal(informer.handlers.length, 1);
    assert.deepEqual(
      Object.keys(f.informer('endpointslices?endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io').spec.indexers ?? {}),
      ['endpointslice.kubernetes.io/service'],
    );
  });

  it('registers the reconciler with upstream’s names, worker count and retry policy', () => {
    const f = fakeRegistry();
    setupEndpointSliceController(f.registry, { workers: 7 });
    const [c] = f.registry.controllers;
    assert.equal(c?.name, 'endpointslice-controller');
    assert.equal(c?.workers, 7);
    assert.equal(c?.maxRetries, 15);
    assert.ok(c?.reconciler instanceof EndpointSliceReconciler);
    assert.deepEqual(f.registry.clients, [USER_AGENT]);
    assert.deepEqual(f.registry.recorders, [EVENT_COMPONENT]);
    assert.equal(USER_AGENT, 'endpointslice-controller');
    assert.equal(EVENT_COMPONENT, 'endpoint-slice-controller');
    // 1 s, 2 s, 4 s ... per key, as upstream's EndpointSlice service queue.
    const limiter = c?.rateLimiter;
    assert.deepEqual([limiter?.when('k'), limiter?.when('k'), limiter?.when('k')], [1000, 2000, 4000]);
  });

  it('a custom managed-by value selects its own slices', () => {
    const f = fakeRegistry();
    setupEndpointSliceController(f.registry, { managedBy: 'my-controller.example.com' });
    assert.ok(f.registry.informerKeys().includes('endpointslices?endpointslice.kubernetes.io/managed-by=my-controller.example.com'));
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
    f.informer<Service>('services?').store.upsert(deepFreeze(makeService()));
    f.informer('pods?').handlers[0]?.onAdd?.(deepFreeze(makePod(1)));
    assert.deepEqual(f.queued(), [['test/foo', 2000]]);
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
      nodes.store.upsert(deepFreeze(n));
      nodes.handlers[0]?.onAdd?.(n);
    }
    await f.clock.advance(0);
    // A hinted Service: two Pods, one per zone.
    const svc = makeService({ metadata: { annotations: { 'service.kubernetes.io/topology-mode': 'Auto' } } });
    services.store.upsert(deepFreeze(svc));
    for (const p of [makePod(1, { nodeName: 'node-a' }), makePod(2, { nodeName: 'node-b' })]) pods.store.upsert(deepFreeze(p) as never);
    const [c] = f.registry.controllers;
    await c?.reconciler.reconcile(
      { key: 'test/foo' },
      { logger: pino({ level: 'silent' }), reconcileId: 'r', signal: new AbortController().signal },
    );
    f.registry.enqueued.length = 0;
    // A third, much bigger zone appears: zone-a and zone-b are now short.
    const zoneC = makeNode('node-c', 'zone-c', '64');
    nodes.store.upsert(deepFreeze(zoneC));
    nodes.handlers[0]?.onAdd?.(zoneC);
    nodes.handlers[0]?.onUpdate?.(
      zoneC,
      deepFreeze({ ...zoneC, metadata: { ...zoneC.metadata, labels: { [LABEL_TOPOLOGY_ZONE]: 'zone-c' } } }),
    );
    assert.deepEqual(f.queued(), [], 'the check runs on the next tick, once');
    await f.clock.advance(0);
    assert.deepEqual(f.queued(), [['test/foo', 0]]);
  });

  it('a slice of ours we did not write re-queues its Service after 1 s', () => {
    const f = fakeRegistry();
    setupEndpointSliceController(f.registry);
    const slices = f.informer<EndpointSlice>('endpointslices?endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io');
    const slice = deepFreeze(makeSlice('s', [endpointFor(makePod(1))]));
    slices.handlers[0]?.onAdd?.(slice);
    assert.deepEqual(f.queued(), [['test/foo', 1000]]);
  });
});
