import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialProbeState, nextProbeState, probeTarget, probeTiming, type ProbeState } from './container-probe.ts';
import type { SimContainer } from './simulated-objects.ts';

const container: SimContainer = {
  name: 'manager',
  ports: [
    { name: 'metrics', containerPort: 8080 },
    { name: 'health', containerPort: 8081 },
  ],
};

describe('probeTarget', () => {
  for (const [name, probe, want] of [
    [
      'httpGet on a named port (config/manager)',
      { httpGet: { path: '/readyz', port: 'health' } },
      { kind: 'http', port: 8081, path: '/readyz' },
    ],
    ['httpGet on a number, path defaults to /', { httpGet: { port: 9000 } }, { kind: 'http', port: 9000, path: '/' }],
    ['tcpSocket', { tcpSocket: { port: 'metrics' } }, { kind: 'tcp', port: 8080 }],
    ['an unknown port name', { httpGet: { port: 'nope' } }, { error: 'httpGet port nope is not a port of container manager' }],
    ['HTTPS', { httpGet: { port: 443, scheme: 'HTTPS' } }, { error: 'httpGet over HTTPS is not supported here' }],
    ['exec', {}, { error: 'only httpGet and tcpSocket probes run here' }],
  ] as const) {
    it(name, () => assert.deepEqual(probeTarget(container, probe), want));
  }
});

describe('probeTiming', () => {
  it('API defaults', () =>
    assert.deepEqual(probeTiming({}), { initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 3 }));
  it("config/manager's liveness probe", () =>
    assert.deepEqual(probeTiming({ initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 }), {
      initialDelayMs: 5000,
      periodMs: 10_000,
      timeoutMs: 2000,
      successThreshold: 1,
      failureThreshold: 3,
    }));
});

describe('nextProbeState', () => {
  const run = (start: ProbeState, attempts: readonly boolean[], thresholds = { successThreshold: 1, failureThreshold: 3 }) =>
    attempts.reduce<boolean[]>((out, a) => {
      const prev = out.length === 0 ? start : (states[states.length - 1] as ProbeState);
      const next = nextProbeState(prev, a, thresholds);
      states.push(next);
      out.push(next.success);
      return out;
    }, []);
  let states: ProbeState[] = [];
  const table: [string, ProbeState, boolean[], boolean[], { successThreshold: number; failureThreshold: number }?][] = [
    ['readiness starts failed and passes on the first success', initialProbeState('readiness'), [true], [true]],
    [
      'readiness needs successThreshold successes in a row',
      initialProbeState('readiness'),
      [true, false, true, true],
      [false, false, false, true],
      { successThreshold: 2, failureThreshold: 3 },
    ],
    [
      'liveness starts passing and fails after failureThreshold failures',
      initialProbeState('liveness'),
      [false, false, false],
      [true, true, false],
    ],
    [
      'a success in between resets the failure streak',
      initialProbeState('liveness'),
      [false, false, true, false, false],
      [true, true, true, true, true],
    ],
    [
      'a ready container turns unready after 3 failures and back on 1 success',
      { success: true, lastAttempt: true, streak: 5 },
      [false, false, false, true],
      [true, true, false, true],
    ],
  ];
  for (const [name, start, attempts, want, thresholds] of table) {
    it(name, () => {
      states = [];
      assert.deepEqual(run(start, attempts, thresholds), want);
    });
  }
});
