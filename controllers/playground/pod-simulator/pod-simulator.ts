import { objectKey } from '../../../api/core/meta.ts';
import type { ControllerHandle, ControllerRegistry, SharedInformer } from '../../runtime/manager-types.ts';
import { NODES, PODS } from '../../runtime/resource.ts';
import { KubeletReconciler } from './kubelet-reconciler.ts';
import { type NodeHeartbeatTiming, NodeReconciler } from './node-reconciler.ts';
import type { ContainerEngine } from './container-runtime.ts';
import { PodIpAllocator } from './pod-ip-allocator.ts';
import { PodWorkers } from './pod-workers.ts';
import { AssumedBindings, NODE_NAME_INDEX, SchedulerReconciler } from './scheduler-reconciler.ts';
import { isKubeletStopped } from './simulated-node.ts';
import { nodePodCIDRs, type SimNode, type SimPod, simNodeSchema, simPodSchema } from './simulated-objects.ts';

// A KWOK-like pod lifecycle simulator built from ordinary reconcile loops, for the local playground only: a scheduler
// (binds pending Pods), kubelets (Pod IPs, phases, readiness, graceful termination) and node heartbeats (Leases and
// conditions). Containers do not run, except those of Pods whose images the optional container engine runs (local OCI
// builds, with runc: docs/playground.md, "Running images"). It must be registered on a manager of its own, without leader election:
// its informers keep fields the operator's lean caches drop, and a kubelet does not stop when a controller loses a
// lease.

/** Controller names (logs, metrics). */
export const SCHEDULER_CONTROLLER = 'playground-scheduler';
export const KUBELET_CONTROLLER = 'playground-kubelet';
export const NODE_CONTROLLER = 'playground-node-heartbeat';

/** Settings of the simulator; every field has a default. */
export interface PodSimulatorOptions {
  /** Fake Nodes to create, `playground-node-1..N`. Default 3. Range 0..250. */
  readonly nodes?: number;
  /** Zones assigned to the Nodes round-robin. Default zone-a, zone-b, zone-c. */
  readonly zones?: readonly string[];
  /** IPv4 and IPv6 pod CIDRs per Node, so every Pod gets one address per family. Default false. */
  readonly dualStack?: boolean;
  /** Readiness delay of a container without readiness probe. Default 1 s. */
  readonly defaultReadinessDelayMs?: number;
  /** Pods naming this scheduler (or none) are bound by the simulator. Default `default-scheduler`. */
  readonly schedulerName?: string;
  /** Pod capacity per Node. Default 110, a kubelet's maxPods. */
  readonly maxPodsPerNode?: number;
  /** Reported as the Nodes' kubelet version. Default `v0.0.0-playground`. */
  readonly kubeletVersion?: string;
  /** Concurrent kubelet reconciles. Default 4. */
  readonly kubeletWorkers?: number;
  /** Heartbeat timing. Defaults: 40 s lease, renewed every 10 s, status every 60 s. */
  readonly heartbeat?: Partial<NodeHeartbeatTiming>;
  /** Runs the containers of Pods whose every image it handles; absent: every Pod is simulated. */
  readonly containerEngine?: ContainerEngine;
  /** Receives one line per container runtime problem (sandbox, probe target). Default: none. */
  readonly onRuntimeError?: (podKey: string, message: string) => void;
}

/** What {@link setupPodSimulator} registered. */
export interface PodSimulatorSetup {
  readonly scheduler: ControllerHandle;
  readonly kubelet: ControllerHandle;
  readonly nodeHeartbeat: ControllerHandle;
  readonly allocator: PodIpAllocator;
  /** The Pods whose containers really run; stop them with `stopAll` after the manager stopped. Absent without engine. */
  readonly workers: PodWorkers | undefined;
  /** The configured Node names. */
  readonly nodeNames: readonly string[];
}

/**
 * Registers the simulator's three controllers and their informers (Pods, Nodes) on `registry`. Must be called before
 * the manager starts. Throws RangeError on an invalid option.
 */
export function setupPodSimulator(registry: ControllerRegistry, options: PodSimulatorOptions = {}): PodSimulatorSetup {
  const count = options.nodes ?? 3;
  if (!Number.isInteger(count) || count < 0 || count > 250) throw new RangeError(`nodes must be an integer in 0..250, got ${count}`);
  const delay = options.defaultReadinessDelayMs ?? 1_000;
  if (!Number.isFinite(delay) || delay < 0) throw new RangeError(`defaultReadinessDelayMs must be >= 0, got ${delay}`);
  const clock = registry.clock;

  const pods = registry.informer<SimPod>({
    resource: PODS,
    parse: (raw) => simPodSchema.parse(raw),
    parseId: 'playground.SimPod',
    indexers: { [NODE_NAME_INDEX]: (p) => [p.spec.nodeName ?? ''] },
  });
  const nodes = registry.informer<SimNode>({
    resource: NODES,
    parse: (raw) => simNodeSchema.parse(raw),
    parseId: 'playground.SimNode',
  });

  const allocator = new PodIpAllocator();
  const assumed = new AssumedBindings();
  const client = registry.client(KUBELET_CONTROLLER);
  const late: { kubelet?: ControllerHandle } = {};
  const engine = options.containerEngine;
  const workers =
    engine === undefined
      ? undefined
      : new PodWorkers({
          engine,
          clock,
          onChange: (key) => late.kubelet?.enqueue(key),
          ...(options.onRuntimeError === undefined ? {} : { onError: options.onRuntimeError }),
        });
  const schedulerReconciler = new SchedulerReconciler({
    pods: pods.store,
    nodes: nodes.store,
    client: registry.client(SCHEDULER_CONTROLLER),
    assumed,
    events: registry.eventRecorder('default-scheduler'),
    schedulerName: options.schedulerName ?? 'default-scheduler',
    maxPodsPerNode: options.maxPodsPerNode ?? 110,
  });
  const kubeletReconciler = new KubeletReconciler({
    pods: pods.store,
    nodes: nodes.store,
    client,
    clock,
    allocator,
    events: registry.eventRecorder('kubelet'),
    defaultReadinessDelayMs: delay,
    ...(workers === undefined ? {} : { workers }),
  });
  const nodeReconciler = new NodeReconciler({
    nodes: nodes.store,
    client: registry.client(NODE_CONTROLLER),
    clock,
    layout: {
      count,
      zones: options.zones ?? ['zone-a', 'zone-b', 'zone-c'],
      dualStack: options.dualStack ?? false,
      kubeletVersion: options.kubeletVersion ?? 'v0.0.0-playground',
    },
    timing: {
      leaseDurationSeconds: options.heartbeat?.leaseDurationSeconds ?? 40,
      leaseRenewIntervalMs: options.heartbeat?.leaseRenewIntervalMs ?? 10_000,
      statusReportIntervalMs: options.heartbeat?.statusReportIntervalMs ?? 60_000,
    },
  });

  // One worker: each binding must see the assumption of the one before, or a burst would pile onto one Node.
  const scheduler = registry.addController({
    name: SCHEDULER_CONTROLLER,
    reconciler: schedulerReconciler,
    workers: 1,
  });
  const kubelet = registry.addController({
    name: KUBELET_CONTROLLER,
    reconciler: kubeletReconciler,
    workers: options.kubeletWorkers ?? 4,
    // Before any kubelet worker runs: rebuild the IPAM from the addresses Pods already report (a restart).
    onStart: async () => {
      for (const pod of pods.store.list()) {
        const node = nodes.store.get(pod.spec.nodeName ?? '');
        const ips = pod.status.podIPs?.map((p) => p.ip) ?? [];
        if (node !== undefined) allocator.record(pod.metadata.uid, node.metadata.name, nodePodCIDRs(node), ips);
      }
    },
  });
  late.kubelet = kubelet;
  const nodeHeartbeat = registry.addController({
    name: NODE_CONTROLLER,
    reconciler: nodeReconciler,
    workers: 1,
    onStart: async () => {
      for (const name of nodeReconciler.configuredNodeNames()) nodeHeartbeat.enqueue(name);
    },
  });

  wireHandlers(pods, nodes, { scheduler, kubelet, nodeHeartbeat }, allocator, assumed);
  return {
    scheduler,
    kubelet,
    nodeHeartbeat,
    allocator,
    workers,
    nodeNames: nodeReconciler.configuredNodeNames(),
  };
}

function wireHandlers(
  pods: SharedInformer<SimPod>,
  nodes: SharedInformer<SimNode>,
  queues: {
    scheduler: ControllerHandle;
    kubelet: ControllerHandle;
    nodeHeartbeat: ControllerHandle;
  },
  allocator: PodIpAllocator,
  assumed: AssumedBindings,
): void {
  const routePod = (pod: Readonly<SimPod>) => {
    const key = objectKey(pod);
    if ((pod.spec.nodeName ?? '') === '') {
      queues.scheduler.enqueue(key);
    } else {
      assumed.forget(key);
      queues.kubelet.enqueue(key);
    }
  };
  pods.addEventHandler({
    onAdd: routePod,
    onUpdate: (_old, pod) => routePod(pod),
    onDelete: (pod) => {
      assumed.forget(objectKey(pod));
      allocator.release(pod.metadata.uid);
    },
  });

  // A Node change can free pending Pods (new, ready, untainted Node) or wake or silence a kubelet: both queues hear of
  // it, but only when something the simulator reads changed (heartbeats rewrite every Node each minute).
  const wakePods = (nodeName: string) => {
    for (const pod of pods.store.byIndex(NODE_NAME_INDEX, nodeName)) queues.kubelet.enqueue(objectKey(pod));
    for (const pod of pods.store.byIndex(NODE_NAME_INDEX, '')) queues.scheduler.enqueue(objectKey(pod));
  };
  nodes.addEventHandler({
    onAdd: (node) => {
      queues.nodeHeartbeat.enqueue(node.metadata.name);
      wakePods(node.metadata.name);
    },
    onUpdate: (old, node) => {
      if (schedulingView(old) === schedulingView(node)) return;
      queues.nodeHeartbeat.enqueue(node.metadata.name);
      wakePods(node.metadata.name);
    },
  });
}

// The parts of a Node the scheduler and kubelets react to, as a comparable string.
function schedulingView(node: Readonly<SimNode>): string {
  return JSON.stringify([
    isKubeletStopped(node),
    node.status.conditions?.find((c) => c.type === 'Ready')?.status,
    node.spec.unschedulable,
    node.spec.taints,
    node.metadata.labels,
    nodePodCIDRs(node),
  ]);
}
