import { z } from 'zod';

// The simulator's own projections of Pods and Nodes. They differ from api/core/v1.ts on purpose: a kubelet and a
// scheduler read fields the endpoint controllers never do (annotations, probes, readiness gates, grace periods, taints,
// podCIDRs), and the simulator runs its informers in a manager of its own, so the endpoint controllers' lean caches
// stay lean.

/** Label on every Node the simulator plays the kubelet for. Nodes without it are never touched. */
export const LABEL_SIMULATED_NODE = 'playground.kube-endpoints-operator.io/simulated';
/** Prefix of the annotations that drive the simulator (see pod-behaviour.ts and simulated-node.ts). */
export const PLAYGROUND_PREFIX = 'playground.kube-endpoints-operator.io/';

const conditionSchema = z.object({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().nullish(),
  lastHeartbeatTime: z.string().nullish(),
});
export type SimCondition = z.infer<typeof conditionSchema>;

const portRefSchema = z.union([z.number(), z.string()]);
const probeSchema = z.object({
  httpGet: z.object({ path: z.string().optional(), port: portRefSchema, scheme: z.string().optional() }).nullish(),
  tcpSocket: z.object({ port: portRefSchema }).nullish(),
  initialDelaySeconds: z.number().optional(),
  periodSeconds: z.number().optional(),
  timeoutSeconds: z.number().optional(),
  successThreshold: z.number().optional(),
  failureThreshold: z.number().optional(),
});
export type SimProbe = z.infer<typeof probeSchema>;

const securityContextSchema = z.object({
  runAsUser: z.number().optional(),
  runAsGroup: z.number().optional(),
  runAsNonRoot: z.boolean().optional(),
  readOnlyRootFilesystem: z.boolean().optional(),
  allowPrivilegeEscalation: z.boolean().optional(),
  capabilities: z.object({ add: z.array(z.string()).nullish(), drop: z.array(z.string()).nullish() }).nullish(),
});
export type SimSecurityContext = z.infer<typeof securityContextSchema>;

// What a container runtime needs besides name and image (controllers/playground/pod-simulator/runc-spec.ts); the simulated
// kubelet reads only the readiness probe's delay.
const containerSchema = z.object({
  name: z.string(),
  image: z.string().optional(),
  restartPolicy: z.string().optional(),
  command: z.array(z.string()).nullish(),
  args: z.array(z.string()).nullish(),
  workingDir: z.string().optional(),
  env: z
    .array(
      z.object({
        name: z.string(),
        value: z.string().optional(),
        valueFrom: z.object({ fieldRef: z.object({ fieldPath: z.string() }).nullish() }).nullish(),
      }),
    )
    .nullish(),
  ports: z.array(z.object({ name: z.string().optional(), containerPort: z.number(), protocol: z.string().optional() })).nullish(),
  readinessProbe: probeSchema.nullish(),
  livenessProbe: probeSchema.nullish(),
  resources: z
    .object({
      limits: z.record(z.string(), z.union([z.string(), z.number()])).nullish(),
      requests: z.record(z.string(), z.union([z.string(), z.number()])).nullish(),
    })
    .nullish(),
  securityContext: securityContextSchema.nullish(),
});
export type SimContainer = z.infer<typeof containerSchema>;

const containerStatusSchema = z.object({
  name: z.string(),
  ready: z.boolean().optional(),
  started: z.boolean().optional(),
  restartCount: z.number().optional(),
  // Only which state the container is in matters for the no-op check.
  state: z
    .object({
      running: z.unknown().optional(),
      terminated: z.unknown().optional(),
      waiting: z.unknown().optional(),
    })
    .optional(),
});

const tolerationSchema = z.object({
  key: z.string().optional(),
  operator: z.string().optional(),
  value: z.string().optional(),
  effect: z.string().optional(),
});
export type SimToleration = z.infer<typeof tolerationSchema>;

const taintSchema = z.object({
  key: z.string(),
  value: z.string().optional(),
  effect: z.string(),
});
export type SimTaint = z.infer<typeof taintSchema>;

/** What the simulated scheduler and kubelet read of a Pod. */
export const simPodSchema = z.object({
  metadata: z.object({
    name: z.string(),
    namespace: z.string(),
    uid: z.string(),
    resourceVersion: z.string().optional(),
    creationTimestamp: z.string().optional(),
    deletionTimestamp: z.string().optional(),
    deletionGracePeriodSeconds: z.number().optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z
    .object({
      nodeName: z.string().optional(),
      schedulerName: z.string().optional(),
      nodeSelector: z.record(z.string(), z.string()).optional(),
      tolerations: z.array(tolerationSchema).optional(),
      terminationGracePeriodSeconds: z.number().optional(),
      readinessGates: z.array(z.object({ conditionType: z.string() })).optional(),
      restartPolicy: z.string().optional(),
      serviceAccountName: z.string().optional(),
      automountServiceAccountToken: z.boolean().optional(),
      securityContext: securityContextSchema.nullish(),
      containers: z.array(containerSchema).default([]),
      initContainers: z.array(containerSchema).optional(),
    })
    .default({ containers: [] }),
  status: z
    .object({
      phase: z.string().optional(),
      podIP: z.string().optional(),
      podIPs: z.array(z.object({ ip: z.string() })).optional(),
      hostIP: z.string().optional(),
      startTime: z.string().optional(),
      conditions: z.array(conditionSchema).optional(),
      containerStatuses: z.array(containerStatusSchema).optional(),
      initContainerStatuses: z.array(containerStatusSchema).optional(),
    })
    .default({}),
});
export type SimPod = z.infer<typeof simPodSchema>;

/** What the simulator reads of a Node. */
export const simNodeSchema = z.object({
  metadata: z.object({
    name: z.string(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z
    .object({
      podCIDR: z.string().optional(),
      podCIDRs: z.array(z.string()).optional(),
      unschedulable: z.boolean().optional(),
      taints: z.array(taintSchema).optional(),
    })
    .default({}),
  status: z
    .object({
      conditions: z.array(conditionSchema).optional(),
      addresses: z.array(z.object({ type: z.string(), address: z.string() })).optional(),
      capacity: z.record(z.string(), z.string()).optional(),
    })
    .default({}),
});
export type SimNode = z.infer<typeof simNodeSchema>;

/** Whether the simulator plays the kubelet for this Node. */
export const isSimulatedNode = (node: Readonly<SimNode>): boolean => node.metadata.labels?.[LABEL_SIMULATED_NODE] === 'true';

/** The Node's pod CIDRs, IPv4 and IPv6 in the order the Node lists them. */
export const nodePodCIDRs = (node: Readonly<SimNode>): readonly string[] =>
  node.spec.podCIDRs !== undefined && node.spec.podCIDRs.length > 0 ? node.spec.podCIDRs : node.spec.podCIDR ? [node.spec.podCIDR] : [];

/** A Kubernetes timestamp (RFC 3339, whole seconds, as metav1.Time marshals) of `ms`. */
export const kubeTime = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** A Kubernetes MicroTime (RFC 3339 with microseconds), as Lease renewTime requires. */
export const kubeMicroTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** Parses a wire timestamp to ms; undefined when absent or unparsable. */
export function parseKubeTime(value: string | null | undefined): number | undefined {
  if (value == null) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}
