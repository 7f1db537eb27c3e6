import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { objectKey } from '../../api/core/meta.ts';
import type { ApiClient } from '../runtime/api-client.ts';
import type { EventHandler } from '../runtime/cache/event-handler.ts';
import { IndexedStore } from '../runtime/cache/indexed-store.ts';
import { FakeClock } from '../runtime/clock.ts';
import type {
  ControllerHandle,
  ControllerOptions,
  ControllerRegistry,
  EventRecorder,
  InformerSpec,
  SharedInformer,
} from '../runtime/manager-types.ts';
import { deepFreeze } from '../shared/deep-freeze.ts';
import { CONTROLLER_NAME, EVENT_COMPONENT, setupEndpointsController, USER_AGENT } from './controller.ts';
import { testEndpoints, testPod, testService } from './test-fixtures.ts';

interface FakeInformer {
  spec: InformerSpec<unknown>;
  store: IndexedStore<{ metadata: { namespace?: string; name?: string } }>;
  handlers: EventHandler<unknown>[];
}

function fakeRegistry() {
  const informers = new Map<string, FakeInformer>();
  const clients: string[] = [];
  const recorders: string[] = [];
  const controllers: ControllerOptions[] = [];
  const enqueued: [string, number][] = [];
  const handle: ControllerHandle = {
    name: CONTROLLER_NAME,
    enqueue: (key) => enqueued.push([key, 0]),
    enqueueAfter: (key, ms) => enqueued.push([key, ms]),
  };
  const registry: ControllerRegistry = {
    client(component) {
      clients.push(component);
      return {} as ApiClient;
    },
    clock: new FakeClock(),
    logger: pino({ level: 'silent' }),
    metrics: new Registry(),
    informer<T>(spec: InformerSpec<T>): SharedInformer<T> {
      const store = new IndexedStore<{ metadata: { namespace?: string; name?: string } }>({
        keyFunc: (o) => objectKey(o),
        namespaceFunc: (o) => o.metadata.namespace ?? '',
      });
      const informer: FakeInformer = { spec: spec as InformerSpec<unknown>, store, handlers: [] };
      informers.set(spec.resource.plural, informer);
      return {
        store: store as unknown as SharedInformer<T>['store'],
        addEventHandler: (h) => informer.handlers.push(h as EventHandler<unknown>),
        hasSynced: () => true,
      };
    },
    eventRecorder(component): EventRecorder {
      recorders.push(component);
      return { event: () => {} };
    },
    addController(options) {
      controllers.push(options);
      return handle;
    },
  };
  return { registry, informers, clients, recorders, controllers, enqueued };
}

describe('setupEndpointsController', () => {
  it('uses upstream names, defaults and the client-go default rate limiter', () => {
    const f = fakeRegistry();
    setupEndpointsController(f.registry);
    assert.deepEqual(f.clients, [USER_AGENT]);
    assert.equal(USER_AGENT, 'endpoint-controller');
    assert.deepEqual(f.recorders, [EVENT_COMPONENT]);
    assert.equal(EVENT_COMPONENT, 'endpoint-controller');
    const options = f.controllers[0];
    assert.equal(options?.name, 'endpoints-controller');
    assert.equal(options?.workers, 5);
    assert.equal(options?.maxRetries, 15);
    // 5 ms·2ⁿ per key: the first three retries of one key.
    assert.deepEqual([options?.rateLimiter?.when('k'), options?.rateLimiter?.when('k'), options?.rateLimiter?.when('k')], [5, 10, 20]);
  });

  it('watches Services, Pods and Endpoints through the API schemas', () => {
    const f = fakeRegistry();
    setupEndpointsController(f.registry);
    assert.deepEqual([...f.informers.keys()].sort(), ['endpoints', 'pods', 'services']);
    const pod = f.informers.get('pods')?.spec.parse({ metadata: { name: 'p', namespace: 'ns', uid: 'u', resourceVersion: '1' } }) as {
      spec: { containers: unknown[] };
    };
    assert.deepEqual(pod.spec.containers, []);
    assert.throws(() => f.informers.get('services')?.spec.parse({ spec: {} }));
    assert.throws(() => f.informers.get('endpoints')?.spec.parse({ metadata: {}, subsets: [{ addresses: [{}] }] }));
  });

  it('wires handlers: Services at once, Pods after the batch period, Endpoints deletes', () => {
    const f = fakeRegistry();
    setupEndpointsController(f.registry, { batchPeriodMs: 2000, workers: 2 });
    assert.equal(f.controllers[0]?.workers, 2);
    const services = f.informers.get('services');
    const svc = deepFreeze(testService());
    services?.store.upsert(svc);
    for (const h of services?.handlers ?? []) h.onAdd?.(svc);
    for (const h of f.informers.get('pods')?.handlers ?? []) h.onAdd?.(deepFreeze(testPod('ns', 0, 1, true)));
    for (const h of f.informers.get('endpoints')?.handlers ?? []) h.onDelete?.(deepFreeze(testEndpoints()), false);
    assert.deepEqual(f.enqueued, [
      ['ns/foo', 0],
      ['ns/foo', 2000],
      ['ns/foo', 0],
    ]);
  });

  it('on start, enqueues every cached Endpoints except leader-election locks', async () => {
    const f = fakeRegistry();
    setupEndpointsController(f.registry);
    const endpoints = f.informers.get('endpoints');
    endpoints?.store.upsert(deepFreeze(testEndpoints({ metadata: { name: 'orphan', labels: {} } })));
    endpoints?.store.upsert(
      deepFreeze(testEndpoints({ metadata: { name: 'lock', annotations: { 'control-plane.alpha.kubernetes.io/leader': '{}' } } })),
    );
    await f.controllers[0]?.onStart?.(new AbortController().signal);
    assert.deepEqual(f.enqueued, [['ns/orphan', 0]]);
  });

  it('rejects invalid options', () => {
    assert.throws(() => setupEndpointsController(fakeRegistry().registry, { workers: 0 }), RangeError);
    assert.throws(() => setupEndpointsController(fakeRegistry().registry, { batchPeriodMs: -1 }), RangeError);
  });
});
