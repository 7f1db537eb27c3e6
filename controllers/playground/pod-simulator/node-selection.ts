import { isKubeletStopped } from './simulated-node.ts';
import { isSimulatedNode, nodePodCIDRs, type SimNode, type SimPod, type SimTaint, type SimToleration } from './simulated-objects.ts';

// The simulated scheduler's decision: the filters a default scheduler applies that matter without real resources
// (nodeSelector, taints and tolerations, unschedulable, readiness, Pod capacity), then the least-loaded Node. With
// equal load the name decides, so a burst of Pods spreads round-robin over the Nodes, and therefore over the zones.

// Taints the node lifecycle controller derives from the Ready condition. The simulator judges the condition itself:
// without kube-controller-manager (--playground-kube-controller-manager=false) the not-ready taint that admission puts
// on every new Node would otherwise never be lifted, and nothing would ever be scheduled.
const CONDITION_TAINTS = new Set(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);

/** Why a Pod cannot go to a Node; the scheduler logs the reasons when no Node fits. */
export type NodeRejection =
  | 'NotSimulated'
  | 'KubeletStopped'
  | 'NotReady'
  | 'Unschedulable'
  | 'NoPodCIDR'
  | 'NodeSelectorMismatch'
  | 'UntoleratedTaint'
  | 'TooManyPods';

/** The scheduler's answer: a Node, or the reason each Node was rejected. */
export type NodeChoice =
  | { readonly kind: 'node'; readonly nodeName: string }
  | {
      readonly kind: 'unschedulable';
      readonly rejections: Readonly<Record<string, NodeRejection>>;
    };

/**
 * Chooses a Node for `pod`: the feasible Node with the fewest active Pods (`load`, by Node name), ties broken by name.
 * `maxPods` is the per-Node Pod capacity. Pure.
 */
export function chooseNode(
  pod: Readonly<SimPod>,
  nodes: readonly Readonly<SimNode>[],
  load: ReadonlyMap<string, number>,
  maxPods: number,
): NodeChoice {
  const rejections: Record<string, NodeRejection> = {};
  let best: { name: string; load: number } | undefined;
  for (const node of nodes) {
    const name = node.metadata.name;
    const n = load.get(name) ?? 0;
    const rejection = rejectNode(pod, node, n, maxPods);
    if (rejection !== undefined) {
      rejections[name] = rejection;
      continue;
    }
    if (best === undefined || n < best.load || (n === best.load && name < best.name)) best = { name, load: n };
  }
  return best === undefined ? { kind: 'unschedulable', rejections } : { kind: 'node', nodeName: best.name };
}

/** Why `pod` cannot run on `node`, or undefined when it can. Pure. */
export function rejectNode(pod: Readonly<SimPod>, node: Readonly<SimNode>, load: number, maxPods: number): NodeRejection | undefined {
  if (!isSimulatedNode(node)) return 'NotSimulated';
  if (isKubeletStopped(node)) return 'KubeletStopped';
  if (node.status.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') return 'NotReady';
  if (node.spec.unschedulable === true) return 'Unschedulable';
  if (nodePodCIDRs(node).length === 0) return 'NoPodCIDR';
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec.nodeSelector ?? {})) if (labels[k] !== v) return 'NodeSelectorMismatch';
  for (const taint of node.spec.taints ?? []) {
    if (taint.effect === 'PreferNoSchedule' || CONDITION_TAINTS.has(taint.key)) continue;
    if (!(pod.spec.tolerations ?? []).some((t) => tolerates(t, taint))) return 'UntoleratedTaint';
  }
  if (load >= maxPods) return 'TooManyPods';
  return undefined;
}

/** The API's toleration rule: empty key with Exists matches every key; empty effect matches every effect. Pure. */
export function tolerates(toleration: Readonly<SimToleration>, taint: Readonly<SimTaint>): boolean {
  if ((toleration.effect ?? '') !== '' && toleration.effect !== taint.effect) return false;
  const key = toleration.key ?? '';
  if (key !== '' && key !== taint.key) return false;
  const operator = toleration.operator ?? 'Equal';
  if (operator === 'Exists') return true;
  return key !== '' && (toleration.value ?? '') === (taint.value ?? '');
}
