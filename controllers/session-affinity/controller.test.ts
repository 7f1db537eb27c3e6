import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Service } from '../../api/core/v1.ts';
import type { SessionAffinityPolicy } from '../../api/v1alpha1/session-affinity-policy.ts';
import type { ApiClient } from '../runtime/api-client.ts';
import type { EventHandler } from '../runtime/cache/event-handler.ts';
import { FakeClock } from '../runtime/clock.ts';
import type {
  ControllerHandle,
  ControllerOptions,
  ControllerRegistry,
  EventRecorder,
  InformerSpec,
  SharedInformer,
} from '../runtime/manager-types.ts';
import { COMPONENT, CONTROLLER_NAME, STATUS_CONTROLLER_NAME, setupSessionAffinityController } from './controller.ts';
import { MemoryStore, NS, policy, RecordingApiClient, RecordingEventRecorder, service } from './test-helpers.ts';

type Obj = { metadata?: { namespace?: string; name?: string } };

class FakeInformer<T extends Obj> implements SharedInformer<T> {
  readonly store = new MemoryStore<T>();
  readonly handlers: EventHandler<T>[] = [];
  readonly spec: InformerSpec<T>;
  constructor(spec: InformerSpec<T>) {
    this.spec = spec;
  }
  addEventHandler(handler: EventHandler<T>): void {
    this.handlers.push(handler);
  }
  hasSynced(): boolean {
    return true;
  }
}

class FakeRegistry implements ControllerRegistry {
  readonly clock = new FakeClock();
  readonly logger = pino({ level: 'silent' });
  readonly metrics = new Registry();
  readonly informers = new Map<string, FakeInformer<Obj>>();
  readonly clients: string[] = [];
  readonly recorders: string[] = [];
  readonly controllers: ControllerOptions[] = [];
  readonly enqueued: [string, string, number | undefined][] = [];

  client(component: string): ApiClient {
    this.clients.push(component);
    return new RecordingApiClient();
  }
  informer<T>(spec: InformerSpec<T>): SharedInformer<T> {
    const informer = new FakeInformer(spec as unknown as InformerSpec<Obj>);
    this.informers.set(spec.resource.plural, informer);
    return informer as unknown as SharedInformer<T>;
  }
  eventRecorder(component: string): EventRecorder {
    this.recorders.push(component);
    return new RecordingEventRecorder();
  }
  addController(options: ControllerOptions): ControllerHandle {
    this.controllers.push(options);
    return {
      name: options.name,
      enqueue: (key) => this.enqueued.push([options.name, key, undefined]),
      enqueueAfter: (key, ms) => this.enqueued.push([options.name, key, ms]),
    };
  }
  informerOf<T extends Obj>(plural: string): FakeInformer<T> {
    const i = this.informers.get(plural);
    assert.ok(i, `informer for ${plural}`);
    return i as unknown as FakeInformer<T>;
  }
}

describe('setupSessionAffinityController', () => {
  it('registers the two queues, informers for Services and policies, one client and one event source', () => {
    const registry = new FakeRegistry();
    const handles = setupSessionAffinityController(registry);
    assert.deepEqual(
      registry.controllers.map((c) => [c.name, c.workers]),
      [
        [STATUS_CONTROLLER_NAME, 1],
        [CONTROLLER_NAME, 2],
      ],
    );
    assert.equal(CONTROLLER_NAME, 'session-affinity-controller');
    assert.deepEqual([handles.services.name, handles.status.name], [CONTROLLER_NAME, STATUS_CONTROLLER_NAME]);
    assert.deepEqual([...registry.informers.keys()], ['services', 'sessionaffinitypolicies']);
    assert.deepEqual(registry.clients, [COMPONENT]);
    assert.deepEqual(registry.recorders, [COMPONENT]);
    assert.ok(registry.controllers.every((c) => c.rateLimiter !== undefined));
    assert.notEqual(registry.controllers[0]?.rateLimiter, registry.controllers[1]?.rateLimiter, 'one limiter per queue');
  });

  it('parses policies with the CRD defaults and refuses invalid ones', () => {
    const registry = new FakeRegistry();
    setupSessionAffinityController(registry);
    const { parse } = registry.informerOf<SessionAffinityPolicy>('sessionaffinitypolicies').spec;
    const parsed = parse({
      metadata: { name: 'p', namespace: NS },
      spec: { serviceSelector: {}, sessionAffinity: 'None' },
    });
    assert.deepEqual([parsed.spec.mode, parsed.spec.priority], ['Default', 0]);
    assert.throws(() =>
      parse({
        metadata: { name: 'p' },
        spec: {
          serviceSelector: {},
          sessionAffinity: 'None',
          timeoutSeconds: 5,
        },
      }),
    );
  });

  it('routes informer events to the queues', () => {
    const registry = new FakeRegistry();
    setupSessionAffinityController(registry, { statusBatchPeriodMs: 250 });
    const services = registry.informerOf<Service>('services');
    const policies = registry.informerOf<SessionAffinityPolicy>('sessionaffinitypolicies');
    policies.store.put(policy('sticky'));
    for (const h of services.handlers) h.onAdd?.(service('web'));
    assert.deepEqual(registry.enqueued, [
      [CONTROLLER_NAME, `${NS}/web`, undefined],
      [STATUS_CONTROLLER_NAME, `${NS}/sticky`, 250],
    ]);
  });

  it('refuses options out of range', () => {
    assert.throws(() => setupSessionAffinityController(new FakeRegistry(), { workers: 0 }), RangeError);
    assert.throws(
      () =>
        setupSessionAffinityController(new FakeRegistry(), {
          statusWorkers: 51,
        }),
      RangeError,
    );
    assert.throws(
      () =>
        setupSessionAffinityController(new FakeRegistry(), {
          statusBatchPeriodMs: -1,
        }),
      RangeError,
    );
  });
});
