import { type PodBehaviour, podBehaviour } from './pod-behaviour.ts';
import { isKubeletStopped } from './simulated-node.ts';
import { isSimulatedNode, kubeTime, parseKubeTime, type SimCondition, type SimNode, type SimPod } from './simulated-objects.ts';

// What the simulated kubelet does with one bound Pod, decided from (pod, node, now) alone: start it (IPs, Running),
// flip readiness when its delay, flap period, readiness gates or annotations say so, let it exit (Failed/Succeeded),
// and on deletion turn it unready at once and delete it for good when its grace period is over. Nothing runs: the
// containers are statuses. The decision is pure and returns when it must be asked again (`requeueAfterMs`).

/** The kubelet's default terminationGracePeriodSeconds (the API server defaults the field to it, too). */
export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
/** How often a Pod that cannot get an address (CIDR exhausted or missing) is retried. */
export const NO_ADDRESS_RETRY_MS = 5_000;

// The conditions the kubelet owns. Any other condition (readiness gates, DisruptionTarget, ...) belongs to someone
// else and is never written: the status is sent as a strategic merge patch, which merges conditions by type.
const KUBELET_CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready'] as const;

/** Inputs of {@link planPodLifecycle}. */
export interface PodLifecycleInput {
  readonly pod: Readonly<SimPod>;
  /** The Node named by `pod.spec.nodeName`, if cached. */
  readonly node: Readonly<SimNode> | undefined;
  readonly nowMs: number;
  /** Addresses the simulated CNI would give the Pod's sandbox; used only when the Pod has none yet. */
  readonly allocatedIPs: readonly string[] | undefined;
  /** Readiness delay of a container without readiness probe (and without the readiness-delay annotation). */
  readonly defaultReadinessDelayMs: number;
}

/**
 * One kubelet-owned condition in a patch. Absent reason and message are sent as null: a strategic merge patch merges
 * conditions by type, so an omitted field would keep the previous transition's reason.
 */
export interface PodConditionPatch {
  readonly type: string;
  readonly status: string;
  readonly reason: string | null;
  readonly message: string | null;
  readonly lastTransitionTime: string;
}

/** A strategic-merge-patch `status` for pods/status, in wire format. */
export interface PodStatusPatch {
  readonly phase: 'Pending' | 'Running' | 'Failed' | 'Succeeded';
  readonly podIP: string;
  readonly podIPs: readonly { readonly ip: string }[];
  readonly hostIP?: string;
  readonly hostIPs?: readonly { readonly ip: string }[];
  readonly startTime: string;
  readonly conditions: readonly PodConditionPatch[];
  readonly containerStatuses: readonly ContainerStatusPatch[];
  readonly initContainerStatuses?: readonly ContainerStatusPatch[];
}

/** A container's reported state; the states not in effect are null so the merge patch removes them. */
export interface ContainerStatePatch {
  readonly running: { readonly startedAt: string } | null;
  readonly terminated: {
    readonly exitCode: number;
    readonly reason: string;
    readonly startedAt: string;
    readonly finishedAt: string;
    readonly containerID: string;
  } | null;
  readonly waiting: { readonly reason: string; readonly message: string | null } | null;
}

/** One container status in a patch (merged by name). */
export interface ContainerStatusPatch {
  readonly name: string;
  readonly image: string;
  readonly imageID: string;
  readonly containerID: string;
  readonly ready: boolean;
  readonly started: boolean;
  readonly restartCount: number;
  readonly state: ContainerStatePatch;
  /** The previous run of a restarted container (containers that really run, controllers/playground/pod-simulator/runtime-pod-status.ts). */
  readonly lastState?: { readonly terminated: NonNullable<ContainerStatePatch['terminated']> };
}

/**
 * The kubelet's next step for a Pod.
 * - `ignore`: not this simulator's Pod (yet), or its kubelet is stopped; a Node or Pod event brings it back.
 * - `sync`: write `status` when defined (else the reported status is current); ask again after `requeueAfterMs`.
 * - `delete`: the grace period is over (or nothing ever ran): delete the Pod with grace period 0, guarded by its uid.
 */
export type PodLifecyclePlan =
  | {
      readonly kind: 'ignore';
      readonly reason: 'NotBound' | 'NodeNotFound' | 'NodeNotSimulated' | 'KubeletStopped';
    }
  | {
      readonly kind: 'sync';
      readonly status: PodStatusPatch | undefined;
      readonly requeueAfterMs: number | undefined;
      /** Set when the Pod cannot start: no address could be allocated on its Node. */
      readonly problem?: 'NoPodIP';
    }
  | { readonly kind: 'delete'; readonly uid: string };

/** Decides the kubelet's next step for `input.pod`. Pure; never reads the clock. */
export function planPodLifecycle(input: PodLifecycleInput): PodLifecyclePlan {
  const { pod, node, nowMs } = input;
  if ((pod.spec.nodeName ?? '') === '') return { kind: 'ignore', reason: 'NotBound' };
  if (node === undefined) return { kind: 'ignore', reason: 'NodeNotFound' };
  if (!isSimulatedNode(node)) return { kind: 'ignore', reason: 'NodeNotSimulated' };
  if (isKubeletStopped(node)) return { kind: 'ignore', reason: 'KubeletStopped' };

  const { behaviour } = podBehaviour(pod);
  const phase = pod.status.phase;
  const terminal = phase === 'Failed' || phase === 'Succeeded';
  const startMs = parseKubeTime(pod.status.startTime);
  const deletion = terminationDeadline(pod);

  if (deletion !== undefined) {
    // Nothing to stop (never started, or already exited): a kubelet finishes such a Pod at once.
    if (terminal || startMs === undefined || nowMs >= deletion) return { kind: 'delete', uid: pod.metadata.uid };
  } else if (terminal) {
    return { kind: 'sync', status: undefined, requeueAfterMs: undefined };
  }

  const ips = reportedIPs(pod) ?? input.allocatedIPs;
  if (ips === undefined || ips.length === 0)
    return {
      kind: 'sync',
      status: undefined,
      requeueAfterMs: NO_ADDRESS_RETRY_MS,
      problem: 'NoPodIP',
    };
  const start = startMs ?? nowMs;
  const readyAt = start + readinessDelayMs(pod, behaviour, input.defaultReadinessDelayMs);
  const exitAt = behaviour.exit === undefined ? undefined : start + behaviour.exitAfterMs;
  const wakeUps: number[] = [];
  if (deletion !== undefined) wakeUps.push(deletion);

  let state: ContainerState;
  if (exitAt !== undefined && nowMs >= exitAt && deletion === undefined) {
    state = {
      kind: 'exited',
      outcome: behaviour.exit === 'failure' ? 'failure' : 'success',
      atMs: exitAt,
    };
  } else {
    if (exitAt !== undefined && deletion === undefined) wakeUps.push(exitAt);
    const probeReady = readinessAt(nowMs, readyAt, behaviour, wakeUps);
    const ready = probeReady && (deletion === undefined || behaviour.serveWhileTerminating);
    state = { kind: 'running', ready };
  }

  const desired = desiredStatus(pod, node, ips, start, state, nowMs);
  const future = wakeUps.filter((t) => t > nowMs);
  const requeueAfterMs = future.length === 0 ? undefined : Math.min(...future) - nowMs;
  return {
    kind: 'sync',
    status: statusChanged(pod, desired) ? desired : undefined,
    requeueAfterMs,
  };
}

/**
 * When a terminating Pod is deleted for good (ms), or undefined when it is not terminating: the deletion was requested
 * at deletionTimestamp - deletionGracePeriodSeconds, and the containers get min(terminationGracePeriodSeconds,
 * deletionGracePeriodSeconds) from then. Pure.
 */
export function terminationDeadline(pod: Readonly<SimPod>): number | undefined {
  const deletionMs = parseKubeTime(pod.metadata.deletionTimestamp);
  if (deletionMs === undefined) return undefined;
  const spec = pod.spec.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
  const requested = pod.metadata.deletionGracePeriodSeconds ?? spec;
  return deletionMs - requested * 1000 + Math.min(spec, requested) * 1000;
}

/** The readiness delay: the annotation, else the first container's probe initialDelaySeconds, else the default. */
export function readinessDelayMs(pod: Readonly<SimPod>, behaviour: PodBehaviour, defaultMs: number): number {
  if (behaviour.readinessDelayMs !== undefined) return behaviour.readinessDelayMs;
  const probe = pod.spec.containers[0]?.readinessProbe;
  if (probe != null) return (probe.initialDelaySeconds ?? 0) * 1000;
  return defaultMs;
}

// Whether the containers pass readiness at `now`; pushes the next instant that answer changes onto `wakeUps`.
function readinessAt(nowMs: number, readyAtMs: number, behaviour: PodBehaviour, wakeUps: number[]): boolean {
  if (behaviour.neverReady) return false;
  if (nowMs < readyAtMs) {
    wakeUps.push(readyAtMs);
    return false;
  }
  if (behaviour.flapMs === undefined) return true;
  // Ready for one period, unready for the next, from the first time it became ready.
  const period = Math.floor((nowMs - readyAtMs) / behaviour.flapMs);
  wakeUps.push(readyAtMs + (period + 1) * behaviour.flapMs);
  return period % 2 === 0;
}

type ContainerState =
  | { readonly kind: 'running'; readonly ready: boolean }
  | {
      readonly kind: 'exited';
      readonly outcome: 'failure' | 'success';
      readonly atMs: number;
    };

/** The addresses the Pod reports, or undefined when it has none yet. Pure. */
export function reportedIPs(pod: Readonly<SimPod>): readonly string[] | undefined {
  const ips = pod.status.podIPs?.map((p) => p.ip) ?? (pod.status.podIP ? [pod.status.podIP] : []);
  return ips.length === 0 ? undefined : ips;
}

function desiredStatus(
  pod: Readonly<SimPod>,
  node: Readonly<SimNode>,
  ips: readonly string[],
  startMs: number,
  state: ContainerState,
  nowMs: number,
): PodStatusPatch {
  const startedAt = pod.status.startTime ?? kubeTime(startMs);
  const running = state.kind === 'running';
  const containersReady = running && state.ready;
  const gates = unmetReadinessGates(pod);
  const hostIPs = (node.status.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => ({ ip: a.address }));
  const names = pod.spec.containers.map((c) => c.name);

  const ready: Omit<SimCondition, 'lastTransitionTime'> = !running
    ? { type: 'Ready', status: 'False', reason: 'PodCompleted' }
    : !containersReady
      ? {
          type: 'Ready',
          status: 'False',
          reason: 'ContainersNotReady',
          message: `containers with unready status: [${names.join(' ')}]`,
        }
      : gates.length > 0
        ? {
            type: 'Ready',
            status: 'False',
            reason: 'ReadinessGatesNotReady',
            message: `readiness gates not True: [${gates.join(' ')}]`,
          }
        : { type: 'Ready', status: 'True' };
  const conditions: Omit<SimCondition, 'lastTransitionTime'>[] = [
    { type: 'PodReadyToStartContainers', status: running ? 'True' : 'False' },
    { type: 'Initialized', status: 'True' },
    containersReady
      ? { type: 'ContainersReady', status: 'True' }
      : {
          type: 'ContainersReady',
          status: 'False',
          reason: running ? 'ContainersNotReady' : 'PodCompleted',
          ...(running
            ? {
                message: `containers with unready status: [${names.join(' ')}]`,
              }
            : {}),
        },
    ready,
  ];
  const now = kubeTime(nowMs);
  const withTimes = conditions.map((c) => {
    const old = pod.status.conditions?.find((x) => x.type === c.type);
    const lastTransitionTime = old !== undefined && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : now;
    return {
      type: c.type,
      status: c.status,
      reason: c.reason ?? null,
      message: c.message ?? null,
      lastTransitionTime,
    };
  });

  const containerId = (name: string) => `playground://${pod.metadata.uid.slice(0, 8)}-${name}`;
  const stateOf = (name: string): ContainerStatePatch =>
    state.kind === 'running'
      ? { running: { startedAt }, terminated: null, waiting: null }
      : {
          running: null,
          waiting: null,
          terminated: {
            exitCode: state.outcome === 'failure' ? 1 : 0,
            reason: state.outcome === 'failure' ? 'Error' : 'Completed',
            startedAt,
            finishedAt: kubeTime(state.atMs),
            containerID: containerId(name),
          },
        };
  const containerStatuses = pod.spec.containers.map((c): ContainerStatusPatch => ({
    name: c.name,
    image: c.image ?? '',
    imageID: `playground://${c.image ?? ''}`,
    containerID: containerId(c.name),
    ready: containersReady,
    started: running,
    restartCount: 0,
    state: stateOf(c.name),
  }));
  // Regular init containers ran to completion before the Pod started; sidecars (restartPolicy Always) keep running.
  const initContainerStatuses = (pod.spec.initContainers ?? []).map((c): ContainerStatusPatch => {
    const sidecar = c.restartPolicy === 'Always';
    return {
      name: c.name,
      image: c.image ?? '',
      imageID: `playground://${c.image ?? ''}`,
      containerID: containerId(c.name),
      ready: sidecar ? running : false,
      started: sidecar ? running : false,
      restartCount: 0,
      state:
        sidecar && running
          ? { running: { startedAt }, terminated: null, waiting: null }
          : {
              running: null,
              waiting: null,
              terminated: {
                exitCode: 0,
                reason: 'Completed',
                startedAt,
                finishedAt: startedAt,
                containerID: containerId(c.name),
              },
            },
    };
  });

  return {
    phase: running ? 'Running' : state.outcome === 'failure' ? 'Failed' : 'Succeeded',
    podIP: ips[0] ?? '',
    podIPs: ips.map((ip) => ({ ip })),
    ...(hostIPs.length === 0 ? {} : { hostIP: hostIPs[0]?.ip ?? '', hostIPs }),
    startTime: startedAt,
    conditions: withTimes,
    containerStatuses,
    ...(initContainerStatuses.length === 0 ? {} : { initContainerStatuses }),
  };
}

/** Readiness gates whose condition is not True in the Pod's status (upstream: Ready needs all of them True). */
export function unmetReadinessGates(pod: Readonly<SimPod>): string[] {
  return (pod.spec.readinessGates ?? [])
    .map((g) => g.conditionType)
    .filter((type) => pod.status.conditions?.find((c) => c.type === type)?.status !== 'True');
}

/** The no-op check: only what the kubelet reports and what consumers read; transition times and messages follow them. */
export function statusChanged(pod: Readonly<SimPod>, desired: PodStatusPatch): boolean {
  const s = pod.status;
  if (s.phase !== desired.phase || s.podIP !== desired.podIP || s.startTime === undefined) return true;
  if ((s.podIPs ?? []).map((p) => p.ip).join(',') !== desired.podIPs.map((p) => p.ip).join(',')) return true;
  if (desired.hostIP !== undefined && s.hostIP !== desired.hostIP) return true;
  for (const type of KUBELET_CONDITIONS) {
    const want = desired.conditions.find((c) => c.type === type);
    const have = s.conditions?.find((c) => c.type === type);
    if (want?.status !== have?.status || (want?.reason ?? '') !== (have?.reason ?? '') || (want?.message ?? '') !== (have?.message ?? ''))
      return true;
  }
  const containers = (have: typeof s.containerStatuses, want: readonly ContainerStatusPatch[] | undefined): boolean => {
    if ((have?.length ?? 0) !== (want?.length ?? 0)) return true;
    return (want ?? []).some((w, i) => {
      const h = have?.[i];
      return (
        h === undefined ||
        h.name !== w.name ||
        (h.ready ?? false) !== w.ready ||
        (h.started ?? false) !== w.started ||
        (h.restartCount ?? 0) !== w.restartCount ||
        stateKind(h.state) !== stateKind(w.state)
      );
    });
  };
  return containers(s.containerStatuses, desired.containerStatuses) || containers(s.initContainerStatuses, desired.initContainerStatuses);
}

function stateKind(
  state:
    | {
        readonly running?: unknown;
        readonly terminated?: unknown;
        readonly waiting?: unknown;
      }
    | undefined,
): string {
  if (state?.running != null) return 'running';
  if (state?.terminated != null) return 'terminated';
  if (state?.waiting != null) return 'waiting';
  return 'none';
}
