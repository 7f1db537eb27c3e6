import type { RuntimeContainerPhase, RuntimeContainerState, RuntimePodState } from './container-runtime.ts';
import type { ContainerStatePatch, ContainerStatusPatch, PodConditionPatch, PodStatusPatch } from './pod-lifecycle.ts';
import { statusChanged, unmetReadinessGates } from './pod-lifecycle.ts';
import { shouldRestart } from './restart-backoff.ts';
import { kubeTime, type SimNode, type SimPod } from './simulated-objects.ts';

// The status of a Pod whose containers really run: phase, conditions and containerStatuses from what the runtime
// observed (pkg/kubelet/kubelet_pods.go: getPhase, generateAPIPodStatus; pkg/kubelet/status/generate.go:
// GeneratePodReadyCondition). Pure.

/** Inputs of {@link runtimePodStatus}. */
export interface RuntimePodStatusInput {
  readonly pod: Readonly<SimPod>;
  readonly node: Readonly<SimNode>;
  readonly ips: readonly string[];
  readonly state: RuntimePodState;
  readonly nowMs: number;
}

/**
 * The phase: Pending until a container first started; Succeeded or Failed once every container has exited for good
 * (its restartPolicy does not start it again, or the Pod is terminating); Running otherwise.
 */
export function runtimePodPhase(pod: Readonly<SimPod>, state: RuntimePodState): PodStatusPatch['phase'] {
  const containers = state.containers;
  const everStarted = containers.some((c) => c.phase.kind !== 'waiting' || c.restartCount > 0 || c.lastTermination !== undefined);
  if (!everStarted) return 'Pending';
  const finished = containers.map((c) =>
    c.phase.kind === 'terminated' && (state.terminating || !shouldRestart(pod.spec.restartPolicy, c.phase.exitCode)) ? c.phase : undefined,
  );
  if (containers.length > 0 && finished.every((f) => f !== undefined))
    return finished.every((f) => f?.exitCode === 0) ? 'Succeeded' : 'Failed';
  return 'Running';
}

/** The status to write, or undefined when the reported one is current. Pure. */
export function runtimePodStatus(input: RuntimePodStatusInput): PodStatusPatch | undefined {
  const desired = desiredRuntimeStatus(input);
  return statusChanged(input.pod, desired) ? desired : undefined;
}

/** The full desired status (exported for tests). Pure. */
export function desiredRuntimeStatus(input: RuntimePodStatusInput): PodStatusPatch {
  const { pod, node, ips, state, nowMs } = input;
  const phase = runtimePodPhase(pod, state);
  const now = kubeTime(nowMs);
  const containersReady = state.containers.length > 0 && state.containers.every((c) => c.ready) && !state.terminating;
  const unready = state.containers.filter((c) => !c.ready || state.terminating).map((c) => c.name);
  const gates = unmetReadinessGates(pod);
  const finished = phase === 'Succeeded' || phase === 'Failed';
  const notReady = (reason: string, message?: string) => ({ status: 'False', reason, message: message ?? null });
  const readyCond = finished
    ? notReady('PodCompleted')
    : !containersReady
      ? notReady('ContainersNotReady', `containers with unready status: [${unready.join(' ')}]`)
      : gates.length > 0
        ? notReady('ReadinessGatesNotReady', `readiness gates not True: [${gates.join(' ')}]`)
        : { status: 'True', reason: null, message: null };
  const conditions: Omit<PodConditionPatch, 'lastTransitionTime'>[] = [
    { type: 'PodReadyToStartContainers', status: state.removed ? 'False' : 'True', reason: null, message: null },
    { type: 'Initialized', status: 'True', reason: null, message: null },
    containersReady
      ? { type: 'ContainersReady', status: 'True', reason: null, message: null }
      : { type: 'ContainersReady', ...notReady(finished ? 'PodCompleted' : 'ContainersNotReady') },
    { type: 'Ready', ...readyCond },
  ];
  const withTimes = conditions.map((c): PodConditionPatch => {
    const old = pod.status.conditions?.find((x) => x.type === c.type);
    const lastTransitionTime = old !== undefined && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : now;
    return { ...c, lastTransitionTime };
  });
  const firstStart = state.containers
    .map((c) => (c.phase.kind === 'waiting' ? c.lastTermination?.startedAtMs : c.phase.startedAtMs))
    .filter((t) => t !== undefined);
  const startTime = pod.status.startTime ?? kubeTime(firstStart.length > 0 ? Math.min(...firstStart) : nowMs);
  const hostIPs = (node.status.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => ({ ip: a.address }));
  return {
    phase,
    podIP: ips[0] ?? '',
    podIPs: ips.map((ip) => ({ ip })),
    ...(hostIPs.length === 0 ? {} : { hostIP: hostIPs[0]?.ip ?? '', hostIPs }),
    startTime,
    conditions: withTimes,
    containerStatuses: state.containers.map(containerStatus),
  };
}

function terminatedPatch(t: Extract<RuntimeContainerPhase, { kind: 'terminated' }>, containerID: string) {
  return {
    exitCode: t.exitCode,
    reason: t.reason,
    startedAt: kubeTime(t.startedAtMs),
    finishedAt: kubeTime(t.finishedAtMs),
    containerID,
  };
}

function containerStatus(c: RuntimeContainerState): ContainerStatusPatch {
  const containerID = c.containerID === '' ? '' : `runc://${c.containerID}`;
  const state: ContainerStatePatch =
    c.phase.kind === 'running'
      ? { running: { startedAt: kubeTime(c.phase.startedAtMs) }, terminated: null, waiting: null }
      : c.phase.kind === 'terminated'
        ? { running: null, terminated: terminatedPatch(c.phase, containerID), waiting: null }
        : { running: null, terminated: null, waiting: { reason: c.phase.reason, message: c.phase.message ?? null } };
  return {
    name: c.name,
    image: c.image,
    imageID: c.imageID,
    containerID,
    ready: c.ready,
    started: c.phase.kind === 'running',
    restartCount: c.restartCount,
    state,
    ...(c.lastTermination === undefined ? {} : { lastState: { terminated: terminatedPatch(c.lastTermination, containerID) } }),
  };
}
