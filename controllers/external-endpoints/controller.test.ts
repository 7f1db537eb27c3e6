import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { EventHandler } from '../runtime/cache/event-handler.ts';
import { FakeClock } from '../runtime/clock.ts';
import type { ControllerHandle, ControllerOptions, ControllerRegistry, InformerSpec, SharedInformer } from '../runtime/manager-types.ts';
import { SERVICES } from '../runtime/resource.ts';
import { InvalidExternalEndpointsOptionsError, setupExternalEndpointsController } from './controller.ts';
import type { ProbeResult, Prober, ProbeSpec, ProbeTarget } from './probe/prober.ts';
import { EXTERNAL_ENDPOINTS } from './resources.ts';
import { FakeApiServer, MemoryStore, makeObject, makeService, RecordingEventRecorder, testContext } from './test-helpers.ts';

// The wiring, through a hand-made registry: which caches the controller asks for, and the probe scheduler's
// lifecycle (probing starts only in onStart, which the manager runs on the leader, and stops with its signal).

type AnyObject = { metadata?: { namespace?: string | undefined; name?: string | undefined } | undefined };

class FakeInformer<T extends AnyObject> implements SharedInformer<T> {
  readonly store: MemoryStore<T>;
  readonly handlers: EventHandler<T>[] = [];
  constructor(spec: InformerSpec<T>) {
    this.store = new MemoryStore<T>([], spec.indexers ?? {});
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
  readonly server = new FakeApiServer();
  readonly recorder = new RecordingEventRecorder();
  readonly informers: { spec: InformerSpec<unknown>; informer: FakeInformer<AnyObject> }[] = [];
  controller: ControllerOptions | undefined;
  readonly enqueued: string[] = [];

  client() {
    return this.server;
  }
  informer<T>(spec: InformerSpec<T>): SharedInformer<T> {
    const informer = new FakeInformer(spec as unknown as InformerSpec<AnyObject>);
    this.informers.push({ spec: spec as InformerSpec<unknown>, informer });
    return informer as unknown as SharedInformer<T>;
  }
  eventRecorder() {
    return this.recorder;
  }
  addController(options: ControllerOptions): ControllerHandle {
    this.controller = options;
    return { name: options.name, enqueue: (k) => this.enqueued.push(k), enqueueAfter: (k) => this.enqueued.push(k) };
  }
  store<T extends AnyObject>(plural: string): MemoryStore<T> {
    const found = this.informers.find((i) => i.spec.resource.plural === plural);
    assert.ok(found, `no informer for ${plural}`);
    return found.informer.store as unknown as MemoryStore<T>;
  }
}

class CountingProber implements Prober {
  readonly probed: string[] = [];
  result: ProbeResult = { ok: true, latencyMs: 1 };
  async probe(target: ProbeTarget, _spec: ProbeSpec, _signal: AbortSignal): Promise<ProbeResult> {
    this.probed.push(target.address);
    return this.result;
  }
}

describe('setupExternalEndpointsController', () => {
  it('caches ExternalEndpoints and Services, and only our own slices and Endpoints', () => {
    const registry = new FakeRegistry();
    setupExternalEndpointsController(registry, { prober: new CountingProber() });
    assert.deepEqual(
      registry.informers.map((i) => `${i.spec.resource.plural}?${i.spec.labelSelector ?? ''}`),
      [
        'externalendpoints?',
        'services?',
        'endpointslices?endpointslice.kubernetes.io/managed-by=external-endpoints.kube-endpoints-operator.io',
        'endpoints?endpoints.kubernetes.io/managed-by=external-endpoints.kube-endpoints-operator.io',
      ],
    );
    assert.equal(registry.controller?.name, 'external-endpoints-controller');
  });

  it('probes only after onStart (leader), feeds results back as keys, and stops when the signal aborts', async () => {
    const registry = new FakeRegistry();
    const prober = new CountingProber();
    setupExternalEndpointsController(registry, { prober, statusMinIntervalMs: 0 });
    registry.store(EXTERNAL_ENDPOINTS.plural).put(
      makeObject({
        endpoints: [{ ip: '198.18.0.2' }],
        ports: [{ name: 'pg', port: 5432 }],
        healthCheck: { type: 'TCP', intervalSeconds: 1 },
      }),
    );
    registry.store(SERVICES.plural).put(makeService());
    const controller = registry.controller;
    assert.ok(controller);
    await controller.reconciler.reconcile({ key: 'prod/db' }, testContext());
    await registry.clock.advance(5000);
    assert.deepEqual(prober.probed, [], 'no probe before the controller starts (a standby never probes)');

    const leading = new AbortController();
    await controller.onStart?.(leading.signal);
    await registry.clock.advance(1500);
    assert.ok(prober.probed.length >= 1);
    assert.deepEqual(registry.enqueued, ['prod/db'], 'the first result (Unknown -> Healthy) asks for a reconcile');
    await registry.clock.advance(3000);
    assert.deepEqual(registry.enqueued, ['prod/db'], 'steady results do not');

    leading.abort();
    await registry.clock.advance(0);
    const probes = prober.probed.length;
    await registry.clock.advance(10_000);
    assert.equal(prober.probed.length, probes, 'losing leadership stops every probe');
  });

  it('refuses bad options with one readable error', () => {
    assert.throws(
      () => setupExternalEndpointsController(new FakeRegistry(), { probeDeniedCIDRs: ['10.0.0.1/8'] }),
      InvalidExternalEndpointsOptionsError,
    );
    assert.throws(
      () => setupExternalEndpointsController(new FakeRegistry(), { probeConcurrency: 0 }),
      /probeConcurrency must be an integer in 1..1000, got 0/,
    );
  });
});
