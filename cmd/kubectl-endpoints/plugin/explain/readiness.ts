import type { ContainerStatus, NodeDetail, PodDetail } from './snapshot.ts';

// Why a Pod is not Ready, broken down into the facts that make the kubelet (or the node lifecycle controller) report
// Ready=False: the Node, the containers' readiness, and readiness gates. Only facts that are themselves failing are
// reported: a Node whose Ready condition is True, a ready container or a gate whose condition is True are never named,
// even when something else about them looks odd (no false positives).

/** What the Pod's own Ready condition says. `status` is `Missing` when the Pod has no Ready condition at all. */
export interface ReadyConditionSummary {
  readonly status: 'True' | 'False' | 'Unknown' | 'Missing';
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime?: string;
}

/** One failing fact behind Ready=False. */
export type ReadinessCause =
  | {
      /** The Pod's Node reports Ready False or Unknown (not reporting, unreachable, kubelet down). */
      readonly kind: 'NodeNotReady';
      readonly node: string;
      readonly status: 'False' | 'Unknown';
      readonly reason?: string;
      readonly message?: string;
      readonly lastHeartbeatTime?: string;
    }
  | {
      /** A container (or a sidecar init container) reports ready=false. */
      readonly kind: 'ContainerNotReady';
      readonly container: string;
      readonly sidecar: boolean;
      /** `running`: it runs, so its readiness probe is not passing (or its startup probe has not yet). */
      readonly state: 'waiting' | 'running' | 'terminated' | 'unknown';
      readonly started?: boolean;
      readonly reason?: string;
      readonly message?: string;
      readonly exitCode?: number;
      readonly restartCount: number;
    }
  | {
      /** A `spec.readinessGates` condition is not True (or not reported at all: `Missing`). */
      readonly kind: 'ReadinessGateNotReady';
      readonly conditionType: string;
      readonly status: 'False' | 'Unknown' | 'Missing';
      readonly reason?: string;
      readonly message?: string;
    };

/** The breakdown of a Pod that is not Ready. `causes` is empty when none of the known facts explains it. */
export interface NotReadyBreakdown {
  readonly readyCondition: ReadyConditionSummary;
  readonly causes: readonly ReadinessCause[];
}

/** The Node as far as readiness is concerned: known, absent from the cluster, or not readable. */
export type NodeKnowledge =
  { readonly kind: 'known'; readonly node: Readonly<NodeDetail> } | { readonly kind: 'absent' } | { readonly kind: 'unavailable' };

function conditionStatus(status: string): 'True' | 'False' | 'Unknown' {
  return status === 'True' || status === 'False' ? status : 'Unknown';
}

/** The Pod's first Ready condition, which is the one the controllers read (later duplicates are ignored). */
export function readyConditionSummary(pod: Readonly<PodDetail>): ReadyConditionSummary {
  const c = pod.status.conditions?.find((x) => x.type === 'Ready');
  if (c === undefined) return { status: 'Missing' };
  return {
    status: conditionStatus(c.status),
    ...(c.reason ? { reason: c.reason } : {}),
    ...(c.message ? { message: c.message } : {}),
    ...(c.lastTransitionTime ? { lastTransitionTime: c.lastTransitionTime } : {}),
  };
}

function nodeCause(pod: Readonly<PodDetail>, knowledge: NodeKnowledge): ReadinessCause | undefined {
  if (knowledge.kind !== 'known') return undefined;
  const ready = knowledge.node.status?.conditions?.find((c) => c.type === 'Ready');
  // A Node without a Ready condition has never reported; that alone is not evidence that it is down.
  if (ready === undefined || ready.status === 'True') return undefined;
  return {
    kind: 'NodeNotReady',
    node: pod.spec.nodeName ?? knowledge.node.metadata.name,
    status: ready.status === 'False' ? 'False' : 'Unknown',
    ...(ready.reason ? { reason: ready.reason } : {}),
    ...(ready.message ? { message: ready.message } : {}),
    ...(ready.lastHeartbeatTime ? { lastHeartbeatTime: ready.lastHeartbeatTime } : {}),
  };
}

function containerCause(status: Readonly<ContainerStatus>, sidecar: boolean): ReadinessCause {
  const s = status.state;
  const state = s?.waiting ? 'waiting' : s?.running ? 'running' : s?.terminated ? 'terminated' : 'unknown';
  const detail = s?.waiting ?? s?.terminated;
  return {
    kind: 'ContainerNotReady',
    container: status.name,
    sidecar,
    state,
    ...(status.started !== undefined ? { started: status.started } : {}),
    ...(detail?.reason ? { reason: detail.reason } : {}),
    ...(detail?.message ? { message: detail.message } : {}),
    ...(s?.terminated?.exitCode !== undefined ? { exitCode: s.terminated.exitCode } : {}),
    restartCount: status.restartCount ?? 0,
  };
}

function containerCauses(pod: Readonly<PodDetail>): ReadinessCause[] {
  const out: ReadinessCause[] = [];
  for (const status of pod.status.containerStatuses ?? []) if (!status.ready) out.push(containerCause(status, false));
  // Only sidecars (restartable init containers) count for readiness; ordinary init containers have finished by then.
  const sidecars = new Set((pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  for (const status of pod.status.initContainerStatuses ?? []) {
    if (sidecars.has(status.name) && !status.ready) out.push(containerCause(status, true));
  }
  return out;
}

function gateCauses(pod: Readonly<PodDetail>): ReadinessCause[] {
  const out: ReadinessCause[] = [];
  for (const gate of pod.spec.readinessGates ?? []) {
    const c = pod.status.conditions?.find((x) => x.type === gate.conditionType);
    if (c?.status === 'True') continue;
    out.push({
      kind: 'ReadinessGateNotReady',
      conditionType: gate.conditionType,
      status: c === undefined ? 'Missing' : c.status === 'False' ? 'False' : 'Unknown',
      ...(c?.reason ? { reason: c.reason } : {}),
      ...(c?.message ? { message: c.message } : {}),
    });
  }
  return out;
}

/**
 * Why `pod` is not Ready: its Ready condition plus, in this order, a Node that is NotReady or Unknown (it explains
 * everything else, since the node lifecycle controller marks the Pods of such a Node not ready), containers reporting
 * ready=false, and readiness gates whose condition is not True. Pure; call it only for Pods that are not Ready.
 */
export function notReadyBreakdown(pod: Readonly<PodDetail>, node: NodeKnowledge): NotReadyBreakdown {
  const causes: ReadinessCause[] = [];
  const n = nodeCause(pod, node);
  if (n !== undefined) causes.push(n);
  causes.push(...containerCauses(pod), ...gateCauses(pod));
  return { readyCondition: readyConditionSummary(pod), causes };
}
