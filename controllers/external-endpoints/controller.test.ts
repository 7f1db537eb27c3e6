import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeControllerRegistry } from '../runtime/testing/fake-controller-registry.ts';
import { FakeApiClient } from '../runtime/testing/fake-api-client.ts';
import { SERVICES } from '../runtime/resource.ts';
import { InvalidExternalEndpointsOptionsError, PROBE_SCHEDULER_NAME, setupExternalEndpointsController } from './controller.ts';
import type { ProbeResult, Prober, ProbeSpec, ProbeTarget } from './probe/prober.ts';
import { EXTERNAL_ENDPOINTS } from './resources.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { makeObject, makeService, testContext } from './test-fixtures.ts';

// The wiring, through a hand-made registry: which caches the controller asks for, and the probe scheduler's
// lifecycle (probing starts only when its leader-election runnable starts, on the leader, and stops with its signal).

function fakeRegistry(): FakeControllerRegistry {
  const server = new FakeApiClient();
  return new FakeControllerRegistry({ client: () => server });
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
    const registry = fakeRegistry();
    setupExternalEndpointsController(registry, { prober: new CountingProber() });
    assert.deepEqual(registry.informerKeys(), [
      'externalendpoints?',
      'services?',
      'endpointslices?endpointslice.kubernetes.io/managed-by=external-endpoints.kube-endpoints-operator.io',
      'endpoints?endpoints.kubernetes.io/managed-by=external-endpoints.kube-endpoints-operator.io',
    ]);
    assert.equal(registry.controllers[0]?.name, 'external-endpoints-controller');
  });

  it('probes only once its leader-election runnable starts, feeds results back as keys, and stops when the signal aborts', async () => {
    const registry = fakeRegistry();
    const prober = new CountingProber();
    setupExternalEndpointsController(registry, { prober, statusMinIntervalMs: 0 });
    registry.informerFor(EXTERNAL_ENDPOINTS.plural).store.upsert(
      deepFreeze(
        makeObject({
          endpoints: [{ ip: '198.18.0.2' }],
          ports: [{ name: 'pg', port: 5432 }],
          healthCheck: { type: 'TCP', intervalSeconds: 1 },
        }),
      ),
    );
    registry.informerFor(SERVICES.plural).store.upsert(deepFreeze(makeService()));
    const controller = registry.controllers[0];
    assert.ok(controller);
    await controller.reconciler.reconcile({ key: 'prod/db' }, testContext());
    await registry.clock.advance(5000);
    assert.deepEqual(prober.probed, [], 'no probe before the scheduler starts (a standby never probes)');
    assert.equal(controller.onStart, undefined, 'the controller has no start hook: the scheduler is its own runnable');
    const scheduler = registry.runnable(PROBE_SCHEDULER_NAME);
    assert.notEqual(scheduler.needLeaderElection, false, 'the scheduler runs on the leader only');

    const leading = new AbortController();
    const running = scheduler.start(leading.signal);
    await registry.clock.advance(1500);
    assert.ok(prober.probed.length >= 1);
    assert.deepEqual(
      registry.enqueued.map((e) => e.key),
      ['prod/db'],
      'the first result (Unknown -> Healthy) asks for a reconcile',
    );
    await registry.clock.advance(3000);
    assert.deepEqual(
      registry.enqueued.map((e) => e.key),
      ['prod/db'],
      'steady results do not',
    );

    leading.abort();
    await registry.clock.advance(0);
    await running;
    const probes = prober.probed.length;
    await registry.clock.advance(10_000);
    assert.equal(prober.probed.length, probes, 'losing leadership stops every probe');
  });

  it('refuses bad options with one readable error', () => {
    assert.throws(
      () => setupExternalEndpointsController(fakeRegistry(), { probeDeniedCIDRs: ['10.0.0.1/8'] }),
      InvalidExternalEndpointsOptionsError,
    );
    assert.throws(
      () => setupExternalEndpointsController(fakeRegistry(), { probeConcurrency: 0 }),
      /probeConcurrency must be an integer in 1..1000, got 0/,
    );
  });
});
