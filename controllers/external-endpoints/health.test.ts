import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import {
  type BackendHealth,
  decidePublication,
  type EndpointConditions,
  type FailurePolicy,
  type HealthPolicy,
  type HealthState,
  observeProbe,
  type PublicationInput,
  restoreHealth,
  UNKNOWN_HEALTH,
} from './health.ts';
import type { ProbeResult } from './probe/prober.ts';

const S: ProbeResult = { ok: true, latencyMs: 2 };
const F: ProbeResult = { ok: false, latencyMs: 1000, error: { reason: 'Timeout', message: 'timed out' } };
const R: ProbeResult = { ok: false, latencyMs: 1, error: { reason: 'Refused', message: 'connection refused' } };
const A: ProbeResult = { ok: false, latencyMs: 0, error: { reason: 'Aborted', message: 'cancelled' } };

const kubelet: HealthPolicy = { healthyThreshold: 1, unhealthyThreshold: 3, minDwellMs: 0 };

interface Step {
  readonly result: ProbeResult;
  readonly at: number;
}

/** Probe results one interval (10 s) apart, starting at 10 s. */
function every10s(...results: ProbeResult[]): Step[] {
  return results.map((result, i) => ({ result, at: (i + 1) * 10_000 }));
}

function fold(start: BackendHealth, steps: readonly Step[], policy: HealthPolicy) {
  let health = start;
  const states: HealthState[] = [];
  const transitions: string[] = [];
  const damped: number[] = [];
  for (const { result, at } of steps) {
    const step = observeProbe(health, result, at, policy);
    health = step.health;
    states.push(health.state);
    if (step.transition) transitions.push(`${step.transition.from}->${step.transition.to}@${at}`);
    if (step.damped) damped.push(at);
  }
  return { states, transitions, damped, health };
}

const healthyAt0: BackendHealth = { state: 'Healthy', consecutiveSuccesses: 5, consecutiveFailures: 0, lastTransitionTime: 0 };
const unhealthyAt0: BackendHealth = { state: 'Unhealthy', consecutiveSuccesses: 0, consecutiveFailures: 5, lastTransitionTime: 0 };

describe('observeProbe', () => {
  const cases: {
    name: string;
    given: { start: BackendHealth; policy: HealthPolicy; steps: Step[] };
    want: { states: HealthState[]; transitions: string[]; damped?: number[] };
  }[] = [
    {
      name: 'a new backend is Healthy after its first success with the defaults',
      given: { start: UNKNOWN_HEALTH, policy: kubelet, steps: every10s(S) },
      want: { states: ['Healthy'], transitions: ['Unknown->Healthy@10000'] },
    },
    {
      name: 'a new backend is Unhealthy at its first failure, whatever the threshold',
      given: { start: UNKNOWN_HEALTH, policy: kubelet, steps: every10s(R, S) },
      want: { states: ['Unhealthy', 'Healthy'], transitions: ['Unknown->Unhealthy@10000', 'Unhealthy->Healthy@20000'] },
    },
    {
      name: 'a new backend stays Unknown until healthyThreshold successes, the first one counting',
      given: { start: UNKNOWN_HEALTH, policy: { ...kubelet, healthyThreshold: 3 }, steps: every10s(S, S, S) },
      want: { states: ['Unknown', 'Unknown', 'Healthy'], transitions: ['Unknown->Healthy@30000'] },
    },
    {
      name: 'Healthy turns Unhealthy after unhealthyThreshold consecutive failures',
      given: { start: healthyAt0, policy: kubelet, steps: every10s(F, F, F, F) },
      want: { states: ['Healthy', 'Healthy', 'Unhealthy', 'Unhealthy'], transitions: ['Healthy->Unhealthy@30000'] },
    },
    {
      name: 'a success in between restarts the failure count',
      given: { start: healthyAt0, policy: kubelet, steps: every10s(F, F, S, F, F) },
      want: { states: ['Healthy', 'Healthy', 'Healthy', 'Healthy', 'Healthy'], transitions: [] },
    },
    {
      name: 'Unhealthy recovers after healthyThreshold consecutive successes',
      given: { start: unhealthyAt0, policy: { ...kubelet, healthyThreshold: 2 }, steps: every10s(S, F, S, S) },
      want: { states: ['Unhealthy', 'Unhealthy', 'Unhealthy', 'Healthy'], transitions: ['Unhealthy->Healthy@40000'] },
    },
    {
      name: 'unhealthyThreshold 1 flips on the first failure',
      given: { start: healthyAt0, policy: { ...kubelet, unhealthyThreshold: 1 }, steps: every10s(F) },
      want: { states: ['Unhealthy'], transitions: ['Healthy->Unhealthy@10000'] },
    },
    {
      name: 'flap damping holds a flip back until the dwell time has passed, then applies it',
      given: {
        start: UNKNOWN_HEALTH,
        policy: { ...kubelet, unhealthyThreshold: 2, minDwellMs: 45_000 },
        steps: every10s(S, F, F, F, F, F),
      },
      want: {
        states: ['Healthy', 'Healthy', 'Healthy', 'Healthy', 'Healthy', 'Unhealthy'],
        transitions: ['Unknown->Healthy@10000', 'Healthy->Unhealthy@60000'],
        damped: [30_000, 40_000, 50_000],
      },
    },
    {
      name: 'a backend flapping faster than the dwell time changes state once per dwell at most',
      given: {
        start: healthyAt0,
        policy: { healthyThreshold: 1, unhealthyThreshold: 1, minDwellMs: 25_000 },
        steps: every10s(F, S, F, S, F, S, F),
      },
      want: {
        // Healthy since 0: the failure at 10 s waits; 30 s flips; 40 s waits; 60 s flips back; 70 s waits.
        states: ['Healthy', 'Healthy', 'Unhealthy', 'Unhealthy', 'Unhealthy', 'Healthy', 'Healthy'],
        transitions: ['Healthy->Unhealthy@30000', 'Unhealthy->Healthy@60000'],
        damped: [10_000, 40_000, 70_000],
      },
    },
    {
      name: 'without damping the same flapping flips every time',
      given: { start: healthyAt0, policy: { healthyThreshold: 1, unhealthyThreshold: 1, minDwellMs: 0 }, steps: every10s(F, S, F) },
      want: {
        states: ['Unhealthy', 'Healthy', 'Unhealthy'],
        transitions: ['Healthy->Unhealthy@10000', 'Unhealthy->Healthy@20000', 'Healthy->Unhealthy@30000'],
      },
    },
    {
      name: 'damping does not delay the first verdict on a new backend',
      given: { start: UNKNOWN_HEALTH, policy: { ...kubelet, minDwellMs: 600_000 }, steps: every10s(F) },
      want: { states: ['Unhealthy'], transitions: ['Unknown->Unhealthy@10000'] },
    },
    {
      name: 'aborted probes are no evidence: neither state nor counts move',
      given: { start: healthyAt0, policy: kubelet, steps: every10s(F, F, A, A, A, F) },
      want: { states: ['Healthy', 'Healthy', 'Healthy', 'Healthy', 'Healthy', 'Unhealthy'], transitions: ['Healthy->Unhealthy@60000'] },
    },
  ];
  for (const { name, given, want } of deepFreeze(cases)) {
    it(name, () => {
      const got = fold(given.start, given.steps, given.policy);
      assert.deepEqual(
        { states: got.states, transitions: got.transitions, damped: got.damped },
        { states: want.states, transitions: want.transitions, damped: want.damped ?? [] },
      );
    });
  }

  it('keeps counts, times, latency and the current error for status', () => {
    const frozen = deepFreeze({ start: healthyAt0, steps: every10s(F, R) });
    const { health } = fold(frozen.start, frozen.steps, kubelet);
    assert.deepEqual(health, {
      state: 'Healthy',
      consecutiveSuccesses: 0,
      consecutiveFailures: 2,
      lastProbeTime: 20_000,
      lastTransitionTime: 0,
      lastError: { reason: 'Refused', message: 'connection refused' },
      lastLatencyMs: 1,
    });
    const recovered = observeProbe(health, S, 30_000, kubelet).health;
    assert.equal(recovered.lastError, undefined, 'a success clears the error');
    assert.deepEqual([recovered.consecutiveSuccesses, recovered.consecutiveFailures], [1, 0]);
  });

  it('returns the very same value for an aborted probe', () => {
    const prev = deepFreeze({ ...healthyAt0 });
    const step = observeProbe(prev, A, 1, kubelet);
    assert.equal(step.health, prev);
    assert.equal(step.transition, undefined);
  });
});

describe('restoreHealth', () => {
  it("carries over the previous leader's verdict, counts and times", () => {
    const restored = restoreHealth(
      deepFreeze({
        address: '198.18.0.2',
        healthy: true,
        lastProbeTime: '2026-11-21T05:00:10Z',
        lastTransitionTime: '2026-11-21T05:00:00Z',
        consecutiveFailures: 1,
        consecutiveSuccesses: 0,
        lastError: 'connection refused by 198.18.0.2:80',
      }),
    );
    assert.deepEqual(restored, {
      state: 'Healthy',
      consecutiveSuccesses: 0,
      consecutiveFailures: 1,
      lastProbeTime: Date.parse('2026-11-21T05:00:10Z'),
      lastTransitionTime: Date.parse('2026-11-21T05:00:00Z'),
      lastError: { reason: 'Error', message: 'connection refused by 198.18.0.2:80' },
    });
    // Two more failures (threshold 3) flip it: the count went on from the old leader's.
    const a = observeProbe(restored, F, Date.parse('2026-11-21T05:00:20Z'), kubelet).health;
    assert.equal(observeProbe(a, F, Date.parse('2026-11-21T05:00:30Z'), kubelet).health.state, 'Unhealthy');
  });

  it('maps an unhealthy entry and drops unparsable times', () => {
    const restored = restoreHealth({
      address: '198.18.0.2',
      healthy: false,
      lastProbeTime: 'yesterday',
      consecutiveFailures: 4,
      consecutiveSuccesses: 0,
    });
    assert.deepEqual(restored, {
      state: 'Unhealthy',
      consecutiveSuccesses: 0,
      consecutiveFailures: 4,
      lastProbeTime: undefined,
      lastTransitionTime: undefined,
      lastError: undefined,
    });
  });

  it('restores Unknown and the probe failure reason from the tri-state fields', () => {
    const restored = restoreHealth({
      address: '198.18.0.2',
      healthy: false,
      health: 'Unknown',
      reason: 'Timeout',
      lastError: 'no answer within 1000 ms',
      latencyMs: 1000,
      consecutiveFailures: 0,
      consecutiveSuccesses: 0,
    });
    assert.equal(restored.state, 'Unknown');
    assert.deepEqual(restored.lastError, { reason: 'Timeout', message: 'no answer within 1000 ms' });
    assert.equal(restored.lastLatencyMs, 1000);
  });
});

const ready: EndpointConditions = { ready: true, serving: true, terminating: false };
const notReady: EndpointConditions = { ready: false, serving: false, terminating: false };
const drained: EndpointConditions = { ready: false, serving: true, terminating: true };

function b(key: string, state: HealthState, maintenance = false, standby = false): PublicationInput {
  return { key, state, maintenance, standby };
}

describe('decidePublication', () => {
  const openAt1: FailurePolicy = { minHealthy: 1, whenBelowMinHealthy: 'PublishAll' };
  const closedAt1: FailurePolicy = { minHealthy: 1, whenBelowMinHealthy: 'PublishNone' };
  const cases: {
    name: string;
    given: { backends: PublicationInput[]; policy: FailurePolicy };
    want: {
      conditions: EndpointConditions[];
      counts: Record<string, number>;
      belowMinHealthy: boolean;
      panicMode: boolean;
      standby?: number;
    };
  }[] = [
    {
      name: 'healthy ready, unhealthy and unknown not ready, maintenance drained',
      given: { backends: [b('a', 'Healthy'), b('b', 'Unhealthy'), b('c', 'Unknown'), b('d', 'Healthy', true)], policy: openAt1 },
      want: {
        conditions: [ready, notReady, notReady, drained],
        counts: { healthy: 1, unhealthy: 1, unknown: 1, maintenance: 1, ready: 1 },
        belowMinHealthy: false,
        panicMode: false,
      },
    },
    {
      name: 'fail open: below minHealthy every backend not in maintenance is published ready, in panic mode',
      given: { backends: [b('a', 'Unhealthy'), b('b', 'Unhealthy'), b('c', 'Unhealthy', true)], policy: openAt1 },
      want: {
        conditions: [ready, ready, drained],
        counts: { healthy: 0, unhealthy: 2, unknown: 0, maintenance: 1, ready: 2 },
        belowMinHealthy: true,
        panicMode: true,
      },
    },
    {
      name: 'fail closed: below minHealthy nothing is ready, not even the healthy ones',
      given: {
        backends: [b('a', 'Healthy'), b('b', 'Unhealthy'), b('c', 'Unhealthy'), b('d', 'Healthy', true)],
        policy: { minHealthy: 2, whenBelowMinHealthy: 'PublishNone' },
      },
      want: {
        conditions: [notReady, notReady, notReady, drained],
        counts: { healthy: 1, unhealthy: 2, unknown: 0, maintenance: 1, ready: 0 },
        belowMinHealthy: true,
        panicMode: false,
      },
    },
    {
      name: 'fail closed at the default minimum of one is plain health-based publishing',
      given: { backends: [b('a', 'Unhealthy'), b('b', 'Unknown')], policy: closedAt1 },
      want: {
        conditions: [notReady, notReady],
        counts: { healthy: 0, unhealthy: 1, unknown: 1, maintenance: 0, ready: 0 },
        belowMinHealthy: true,
        panicMode: false,
      },
    },
    {
      name: 'minHealthy 0 disables the rail',
      given: { backends: [b('a', 'Unhealthy'), b('b', 'Unhealthy')], policy: { minHealthy: 0, whenBelowMinHealthy: 'PublishAll' } },
      want: {
        conditions: [notReady, notReady],
        counts: { healthy: 0, unhealthy: 2, unknown: 0, maintenance: 0, ready: 0 },
        belowMinHealthy: false,
        panicMode: false,
      },
    },
    {
      name: 'a backend in maintenance never counts as healthy toward minHealthy',
      given: { backends: [b('a', 'Healthy', true), b('b', 'Unhealthy')], policy: openAt1 },
      want: {
        conditions: [drained, ready],
        counts: { healthy: 0, unhealthy: 1, unknown: 0, maintenance: 1, ready: 1 },
        belowMinHealthy: true,
        panicMode: true,
      },
    },
    {
      name: 'below a minimum larger than the backend count with all healthy: all ready, no panic',
      given: { backends: [b('a', 'Healthy'), b('b', 'Healthy')], policy: { minHealthy: 3, whenBelowMinHealthy: 'PublishAll' } },
      want: {
        conditions: [ready, ready],
        counts: { healthy: 2, unhealthy: 0, unknown: 0, maintenance: 0, ready: 2 },
        belowMinHealthy: true,
        panicMode: false,
      },
    },
    {
      name: 'before the first probes, fail open publishes the new backends (reported as unknown)',
      given: { backends: [b('a', 'Unknown'), b('b', 'Unknown')], policy: openAt1 },
      want: {
        conditions: [ready, ready],
        counts: { healthy: 0, unhealthy: 0, unknown: 2, maintenance: 0, ready: 2 },
        belowMinHealthy: true,
        panicMode: true,
      },
    },
    {
      name: 'all in maintenance: all drained, even failing open',
      given: { backends: [b('a', 'Healthy', true), b('b', 'Unhealthy', true)], policy: openAt1 },
      want: {
        conditions: [drained, drained],
        counts: { healthy: 0, unhealthy: 0, unknown: 0, maintenance: 2, ready: 0 },
        belowMinHealthy: true,
        panicMode: false,
      },
    },
    {
      name: 'standby (a tier above the active one): healthy ones held back as not ready but counted toward minHealthy',
      given: {
        backends: [b('a', 'Healthy'), b('b', 'Healthy', false, true), b('c', 'Unhealthy', false, true), b('d', 'Healthy', true, true)],
        policy: { minHealthy: 2, whenBelowMinHealthy: 'PublishNone' },
      },
      want: {
        conditions: [ready, notReady, notReady, drained],
        counts: { healthy: 2, unhealthy: 1, unknown: 0, maintenance: 1, ready: 1 },
        belowMinHealthy: false,
        panicMode: false,
        standby: 1,
      },
    },
    {
      name: 'standby backends serve too in panic mode (fail open overrides tiers)',
      given: { backends: [b('a', 'Unhealthy'), b('b', 'Unknown', false, true)], policy: openAt1 },
      want: {
        conditions: [ready, ready],
        counts: { healthy: 0, unhealthy: 1, unknown: 1, maintenance: 0, ready: 2 },
        belowMinHealthy: true,
        panicMode: true,
      },
    },
    {
      name: 'no backends',
      given: { backends: [], policy: openAt1 },
      want: {
        conditions: [],
        counts: { healthy: 0, unhealthy: 0, unknown: 0, maintenance: 0, ready: 0 },
        belowMinHealthy: true,
        panicMode: false,
      },
    },
  ];
  for (const { name, given, want } of deepFreeze(cases)) {
    it(name, () => {
      const got = decidePublication(given.backends, given.policy);
      assert.deepEqual(
        got.endpoints.map((e) => e.key),
        given.backends.map((x) => x.key),
      );
      assert.deepEqual(
        {
          conditions: got.endpoints.map((e) => e.conditions),
          counts: { healthy: got.healthy, unhealthy: got.unhealthy, unknown: got.unknown, maintenance: got.maintenance, ready: got.ready },
          belowMinHealthy: got.belowMinHealthy,
          panicMode: got.panicMode,
          ...(want.standby === undefined ? {} : { standby: got.standby }),
        },
        want,
      );
      if (want.standby === undefined) assert.equal(got.standby, 0);
    });
  }
});
