import { LABEL_TOPOLOGY_ZONE } from '../../../api/labels.ts';
import {
  kubeMicroTime,
  kubeTime,
  LABEL_SIMULATED_NODE,
  PLAYGROUND_PREFIX,
  parseKubeTime,
  type SimCondition,
  type SimNode,
} from './simulated-objects.ts';

// The fake Nodes: what they look like when created, and what their simulated kubelet reports afterwards (conditions
// with heartbeats, and the node Lease). Without lease renewals the node lifecycle controller marks a Node Unknown
// after its grace period and then every Pod on it NotReady, which empties the endpoints (kwok #769). Pure functions.

/**
 * Node annotation: "stopped" silences that Node's simulated kubelet: no Lease renewal, no status, no Pod updates, as
 * if the node dropped off the network (k8s #84979 / #109998 node-NotReady paths). Remove it to bring the node back.
 */
export const ANNOTATION_KUBELET = `${PLAYGROUND_PREFIX}kubelet`;
/** The namespace of node heartbeat Leases, as the kubelet uses. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** How the fake Nodes are laid out. */
export interface NodeLayout {
  /** Number of Nodes, named `playground-node-1..N`. 1..250 (one /24 per Node under 10.244.0.0/16). */
  readonly count: number;
  /** Zones assigned round-robin (`topology.kubernetes.io/zone`). */
  readonly zones: readonly string[];
  /** Also give each Node an IPv6 pod CIDR and address (IPv4 first). */
  readonly dualStack: boolean;
  /** Reported as status.nodeInfo.kubeletVersion (kubectl get nodes, VERSION). */
  readonly kubeletVersion: string;
}

/** Whether the Node's simulated kubelet was silenced with {@link ANNOTATION_KUBELET}. */
export const isKubeletStopped = (node: Readonly<SimNode>): boolean => node.metadata.annotations?.[ANNOTATION_KUBELET] === 'stopped';

/** Name of the fake Node number `index` (1-based). */
export const simulatedNodeName = (index: number): string => `playground-node-${index}`;

/** IPv4 pod CIDR of Node `index`: 10.244.<index>.0/24, as kind's default cluster CIDR slices it. */
export const podCIDRv4 = (index: number): string => `10.244.${index}.0/24`;
/** IPv6 pod CIDR of Node `index`. */
export const podCIDRv6 = (index: number): string => `fd00:10:244:${index.toString(16)}::/64`;

/**
 * The Node `index` (1-based) as created by the simulator: labels (hostname, os, arch, zone, region, the simulated
 * marker), pod CIDRs, a status with addresses, capacity and Ready conditions stamped `nowMs`. Pure.
 */
export function desiredNode(index: number, layout: NodeLayout, nowMs: number): Record<string, unknown> {
  const name = simulatedNodeName(index);
  const zone = layout.zones.length === 0 ? undefined : layout.zones[(index - 1) % layout.zones.length];
  const podCIDRs = layout.dualStack ? [podCIDRv4(index), podCIDRv6(index)] : [podCIDRv4(index)];
  const addresses = [
    { type: 'InternalIP', address: `172.18.0.${index + 1}` },
    ...(layout.dualStack
      ? [
          {
            type: 'InternalIP',
            address: `fc00:f853:ccd:e793::${(index + 1).toString(16)}`,
          },
        ]
      : []),
    { type: 'Hostname', address: name },
  ];
  const resources = {
    cpu: '4',
    memory: '16Gi',
    pods: '110',
    'ephemeral-storage': '100Gi',
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/region': 'playground',
        ...(zone === undefined ? {} : { [LABEL_TOPOLOGY_ZONE]: zone }),
        [LABEL_SIMULATED_NODE]: 'true',
      },
    },
    spec: { podCIDR: podCIDRs[0], podCIDRs },
    status: {
      addresses,
      capacity: resources,
      allocatable: resources,
      conditions: desiredNodeConditions([], nowMs),
      nodeInfo: {
        kubeletVersion: layout.kubeletVersion,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: 'amd64',
        containerRuntimeVersion: 'playground://0.0.0',
        osImage: 'kube-endpoints-operator playground',
        kernelVersion: 'simulated',
        machineID: '',
        systemUUID: '',
        bootID: '',
      },
      daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
    },
  };
}

// The conditions a healthy kubelet reports, with their kubelet reasons.
const HEALTHY: readonly {
  type: string;
  status: string;
  reason: string;
  message: string;
}[] = [
  {
    type: 'MemoryPressure',
    status: 'False',
    reason: 'KubeletHasSufficientMemory',
    message: 'kubelet has sufficient memory available',
  },
  {
    type: 'DiskPressure',
    status: 'False',
    reason: 'KubeletHasNoDiskPressure',
    message: 'kubelet has no disk pressure',
  },
  {
    type: 'PIDPressure',
    status: 'False',
    reason: 'KubeletHasSufficientPID',
    message: 'kubelet has sufficient PID available',
  },
  {
    type: 'Ready',
    status: 'True',
    reason: 'KubeletReady',
    message: 'kubelet is posting ready status (simulated)',
  },
];

/** The healthy conditions heartbeating at `nowMs`; a transition time is kept while the status does not change. Pure. */
export function desiredNodeConditions(current: readonly Readonly<SimCondition>[], nowMs: number): SimCondition[] {
  const now = kubeTime(nowMs);
  return HEALTHY.map((h) => {
    const old = current.find((c) => c.type === h.type);
    const lastTransitionTime = old !== undefined && old.status === h.status && old.lastTransitionTime ? old.lastTransitionTime : now;
    return { ...h, lastHeartbeatTime: now, lastTransitionTime };
  });
}

/** What the Node's kubelet writes now: nothing, or the full condition list (a merge patch of `status`). */
export type NodeStatusPlan = { readonly kind: 'none' } | { readonly kind: 'patch'; readonly conditions: readonly SimCondition[] };

/**
 * A kubelet posts its status when a condition changes and otherwise every `reportIntervalMs` (its
 * nodeStatusReportFrequency, 5 min by default; the Lease is the frequent heartbeat). Conditions written by others
 * (the node lifecycle controller's Unknown) count as changes, so a revived kubelet reports Ready again. Pure.
 */
export function planNodeStatus(node: Readonly<SimNode>, nowMs: number, reportIntervalMs: number): NodeStatusPlan {
  const current = node.status.conditions ?? [];
  const changed = HEALTHY.some((h) => current.find((c) => c.type === h.type)?.status !== h.status);
  const heartbeats = current.map((c) => parseKubeTime(c.lastHeartbeatTime));
  const oldest = heartbeats.some((t) => t === undefined) ? undefined : Math.min(...(heartbeats as number[]));
  const stale = oldest === undefined || nowMs - oldest >= reportIntervalMs;
  return changed || stale ? { kind: 'patch', conditions: desiredNodeConditions(current, nowMs) } : { kind: 'none' };
}

/**
 * The node Lease as a server-side apply body: held by the Node, renewed at `nowMs`, owned by the Node so the garbage
 * collector removes it with the Node (as the kubelet does). Pure.
 */
export function nodeLease(node: Readonly<SimNode>, nowMs: number, leaseDurationSeconds: number): Record<string, unknown> {
  const name = node.metadata.name;
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace: NODE_LEASE_NAMESPACE,
      ...(node.metadata.uid === undefined
        ? {}
        : {
            ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid }],
          }),
    },
    spec: {
      holderIdentity: name,
      leaseDurationSeconds,
      renewTime: kubeMicroTime(nowMs),
    },
  };
}
