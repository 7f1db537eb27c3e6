import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RuntimeContainerState, RuntimePodState } from './container-runtime.ts';
import { desiredRuntimeStatus, runtimePodPhase, runtimePodStatus } from './runtime-pod-status.ts';
import { iso, node, pod, T0 } from './test-fixtures.ts';

const running = (over: Partial<RuntimeContainerState> = {}): RuntimeContainerState => ({
  name: 'manager',
  image: 'op:1',
  imageID: 'sha256:abc',
  containerID: 'keo-rt-1-manager-0',
  phase: { kind: 'running', startedAtMs: T0 },
  ready: true,
  restartCount: 0,
  ...over,
});
const exited = (exitCode: number) =>
  ({ kind: 'terminated', exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAtMs: T0, finishedAtMs: T0 + 5000 }) as const;
const podState = (containers: RuntimeContainerState[], over: Partial<RuntimePodState> = {}): RuntimePodState => ({
  uid: 'uid-web-1',
  containers,
  terminating: false,
  removed: false,
  ...over,
});
const bound = (restartPolicy?: string) =>
  pod({ spec: { nodeName: 'playground-node-1', restartPolicy, containers: [{ name: 'manager', image: 'op:1' }] } });

describe('runtimePodPhase', () => {
  for (const [name, restartPolicy, state, want] of [
    [
      'creating: Pending',
      undefined,
      podState([running({ phase: { kind: 'waiting', reason: 'ContainerCreating' }, ready: false })]),
      'Pending',
    ],
    ['running: Running', undefined, podState([running()]), 'Running'],
    [
      'in crash-loop backoff under Always: Running',
      undefined,
      podState([running({ phase: { kind: 'waiting', reason: 'CrashLoopBackOff' }, lastTermination: exited(1), restartCount: 1 })]),
      'Running',
    ],
    ['exited 0 under Never: Succeeded', 'Never', podState([running({ phase: exited(0) })]), 'Succeeded'],
    ['exited 1 under OnFailure... restarting: Running', 'OnFailure', podState([running({ phase: exited(1) })]), 'Running'],
    ['exited 1 under Never: Failed', 'Never', podState([running({ phase: exited(1) })]), 'Failed'],
    [
      'exited while terminating under Always: Succeeded (exit 0)',
      'Always',
      podState([running({ phase: exited(0) })], { terminating: true }),
      'Succeeded',
    ],
  ] as const) {
    it(name, () => assert.equal(runtimePodPhase(bound(restartPolicy), state), want));
  }
});

describe('desiredRuntimeStatus', () => {
  const input = (state: RuntimePodState, p = bound()) => ({ pod: p, node: node(), ips: ['10.244.1.5'], state, nowMs: T0 + 1000 });

  it('a ready running container: Ready, its status running, started, ready, containerID runc://', () => {
    const s = desiredRuntimeStatus(input(podState([running()])));
    assert.equal(s.phase, 'Running');
    assert.equal(s.conditions.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(s.conditions.find((c) => c.type === 'ContainersReady')?.status, 'True');
    const [c] = s.containerStatuses;
    assert.deepEqual(
      { ready: c?.ready, started: c?.started, restartCount: c?.restartCount, id: c?.containerID, running: c?.state.running },
      { ready: true, started: true, restartCount: 0, id: 'runc://keo-rt-1-manager-0', running: { startedAt: iso(T0) } },
    );
    assert.equal(s.startTime, iso(T0));
  });

  it('not ready: Ready False with ContainersNotReady naming the container', () => {
    const ready = desiredRuntimeStatus(input(podState([running({ ready: false })]))).conditions.find((c) => c.type === 'Ready');
    assert.deepEqual(
      [ready?.status, ready?.reason, ready?.message],
      ['False', 'ContainersNotReady', 'containers with unready status: [manager]'],
    );
  });

  it('terminating: unready at once even if the probe still passes', () => {
    const s = desiredRuntimeStatus(input(podState([running()], { terminating: true })));
    assert.equal(s.conditions.find((c) => c.type === 'Ready')?.status, 'False');
  });

  it('crash loop: waiting CrashLoopBackOff, the last run in lastState, restartCount counted', () => {
    const s = desiredRuntimeStatus(
      input(
        podState([
          running({
            phase: { kind: 'waiting', reason: 'CrashLoopBackOff', message: 'back-off 10s' },
            ready: false,
            lastTermination: exited(1),
            restartCount: 2,
          }),
        ]),
      ),
    );
    const [c] = s.containerStatuses;
    assert.deepEqual(c?.state.waiting, { reason: 'CrashLoopBackOff', message: 'back-off 10s' });
    assert.equal(c?.lastState?.terminated.exitCode, 1);
    assert.equal(c?.restartCount, 2);
    assert.equal(c?.started, false);
  });
});

describe('runtimePodStatus (the no-op check)', () => {
  it('writes nothing when the reported status already says the same, and writes a restart', () => {
    const state = podState([running()]);
    const first = runtimePodStatus({ pod: bound(), node: node(), ips: ['10.244.1.5'], state, nowMs: T0 });
    assert.ok(first !== undefined);
    const reported = pod({
      spec: { nodeName: 'playground-node-1', containers: [{ name: 'manager', image: 'op:1' }] },
      // As the API server stores it: a merge patch's nulls remove fields.
      status: JSON.parse(JSON.stringify(first, (_k, v: unknown) => (v === null ? undefined : v))) as never,
    });
    assert.equal(runtimePodStatus({ pod: reported, node: node(), ips: ['10.244.1.5'], state, nowMs: T0 + 60_000 }), undefined);
    const restarted = podState([running({ restartCount: 1 })]);
    assert.ok(runtimePodStatus({ pod: reported, node: node(), ips: ['10.244.1.5'], state: restarted, nowMs: T0 + 60_000 }) !== undefined);
  });
});
