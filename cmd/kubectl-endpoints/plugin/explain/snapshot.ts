import { z } from 'zod';
import type { Endpoints, Service } from '../../../../api/core/v1.ts';
import { podSchema } from '../../../../api/core/v1.ts';
import type { EndpointSlice } from '../../../../api/discovery/v1.ts';
import type { ExternalEndpoints } from '../../../../api/v1alpha1/external-endpoints.ts';
import type { SessionAffinityPolicy } from '../../../../api/v1alpha1/session-affinity-policy.ts';

// The input of every explanation: the live objects around one Service, read once. The controllers' caches keep a
// lossy projection of Pods and Nodes; explaining readiness needs more of them (condition reasons, container statuses,
// readiness gates), so the detail schemas below extend those projections. Their output types stay assignable to the
// projections, so the controllers' pure functions take them as they are.

const podSpecSchema = podSchema.shape.spec.unwrap();
const podStatusSchema = podSchema.shape.status.unwrap();

const containerStateSchema = z.looseObject({
  waiting: z.looseObject({ reason: z.string().optional(), message: z.string().optional() }).optional(),
  running: z.looseObject({ startedAt: z.string().nullish() }).optional(),
  terminated: z.looseObject({ reason: z.string().optional(), message: z.string().optional(), exitCode: z.number().optional() }).optional(),
});

/** One entry of `status.containerStatuses` (or `initContainerStatuses`), as far as readiness needs it. */
export const containerStatusSchema = z.looseObject({
  name: z.string(),
  ready: z.boolean(),
  started: z.boolean().optional(),
  restartCount: z.number().optional(),
  state: containerStateSchema.optional(),
});
export type ContainerStatus = z.infer<typeof containerStatusSchema>;

const podConditionDetailSchema = z.object({
  type: z.string(),
  status: z.string(),
  lastTransitionTime: z.string().nullish(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
export type PodConditionDetail = z.infer<typeof podConditionDetailSchema>;

/** A Pod with everything an explanation reads; assignable to the controllers' `Pod` projection. */
export const podDetailSchema = podSchema.extend({
  spec: podSpecSchema.extend({ readinessGates: z.array(z.object({ conditionType: z.string() })).optional() }).default({ containers: [] }),
  status: podStatusSchema
    .extend({
      conditions: z.array(podConditionDetailSchema).optional(),
      containerStatuses: z.array(containerStatusSchema).optional(),
      initContainerStatuses: z.array(containerStatusSchema).optional(),
    })
    .default({}),
});
export type PodDetail = z.infer<typeof podDetailSchema>;

const nodeConditionSchema = z.object({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastHeartbeatTime: z.string().nullish(),
  lastTransitionTime: z.string().nullish(),
});

/**
 * A Node with all its conditions (the controllers' projection keeps Ready only, without reason); assignable to the
 * controllers' `Node` projection.
 */
export const nodeDetailSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.object({
    name: z.string(),
    uid: z.string().optional(),
    resourceVersion: z.string(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  status: z
    .object({
      conditions: z.array(nodeConditionSchema).optional(),
      allocatable: z.object({ cpu: z.string().optional() }).optional(),
    })
    .optional(),
});
export type NodeDetail = z.infer<typeof nodeDetailSchema>;

/** Something read that may be missing for a reason other than absence: a CRD not installed, or access forbidden. */
export type Lookup<T> = { readonly kind: 'found'; readonly value: T } | { readonly kind: 'unavailable'; readonly reason: string };

/** The live state around one Service. Every field is what the API server returned; nothing is derived. */
export interface ServiceSnapshot {
  readonly namespace: string;
  readonly name: string;
  /** Undefined when the Service does not exist. */
  readonly service: Readonly<Service> | undefined;
  /** Every Pod of the namespace: near misses are found among those the selector does not match. */
  readonly pods: readonly Readonly<PodDetail>[];
  /** Every Node; unavailable (e.g. forbidden) means node rules are not evaluated rather than guessed. */
  readonly nodes: Lookup<readonly Readonly<NodeDetail>[]>;
  /** The Endpoints of the Service's name, if any. */
  readonly endpoints: Readonly<Endpoints> | undefined;
  /** Every EndpointSlice labelled `kubernetes.io/service-name=<name>`, whoever manages it. */
  readonly endpointSlices: readonly Readonly<EndpointSlice>[];
  /** The ExternalEndpoints of the Service's name (found with value undefined when there is none). */
  readonly externalEndpoints: Lookup<Readonly<ExternalEndpoints> | undefined>;
  /** The namespace's SessionAffinityPolicies. */
  readonly sessionAffinityPolicies: Lookup<readonly Readonly<SessionAffinityPolicy>[]>;
}

/** The controller settings an explanation depends on; each defaults to kube-controller-manager's default. */
export interface ExplainSettings {
  /** `--max-endpoints-per-slice`. Default 100. */
  readonly maxEndpointsPerSlice: number;
  /** `--mirroring-max-endpoints-per-subset`. Default 1000. */
  readonly mirroringMaxEndpointsPerSubset: number;
  /** Address cap of one Endpoints object. Default 1000 (not configurable upstream). */
  readonly maxEndpointsCapacity: number;
  /**
   * Field managers of the endpoint controllers: writes by any other manager are reported as foreign edits. Default
   * this operator's (`kube-endpoints-operator`) and kube-controller-manager's.
   */
  readonly controllerFieldManagers: readonly string[];
}

/** kube-controller-manager's defaults, and the field managers of both control planes. */
export const DEFAULT_EXPLAIN_SETTINGS: ExplainSettings = Object.freeze({
  maxEndpointsPerSlice: 100,
  mirroringMaxEndpointsPerSubset: 1000,
  maxEndpointsCapacity: 1000,
  controllerFieldManagers: Object.freeze(['kube-endpoints-operator', 'kube-controller-manager']),
});

/** The output format version of every report; bumped only for incompatible changes (see README). */
export const REPORT_API_VERSION = 'kubectl-endpoints.kube-endpoints-operator.io/v1';
