import { z } from 'zod';
import { objectMetaSchema, objectReferenceSchema } from './meta.ts';

// core/v1 kinds the endpoint controllers read or write, in wire format (see meta.ts for why).

// ---- Pod ------------------------------------------------------------------------------------------------------------
// Pods dominate memory (one per backend, tens of thousands), so the cache keeps a projection of exactly the fields the
// controllers read. This is deliberately lossy and safe because Pods are never written back by this operator.

const containerPortSchema = z.object({
  name: z.string().optional(),
  containerPort: z.number(),
  protocol: z.string().optional(),
});
const containerSchema = z.object({
  name: z.string(),
  ports: z.array(containerPortSchema).optional(),
  restartPolicy: z.string().optional(),
});
const podConditionSchema = z.object({
  type: z.string(),
  status: z.string(),
  lastTransitionTime: z.string().nullish(),
});

export const podSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.object({
    name: z.string(),
    namespace: z.string(),
    uid: z.string(),
    resourceVersion: z.string(),
    creationTimestamp: z.string().optional(),
    deletionTimestamp: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  spec: z
    .object({
      nodeName: z.string().optional(),
      hostname: z.string().optional(),
      subdomain: z.string().optional(),
      containers: z.array(containerSchema).default([]),
      initContainers: z.array(containerSchema).optional(),
    })
    .default({ containers: [] }),
  status: z
    .object({
      phase: z.string().optional(),
      podIP: z.string().optional(),
      podIPs: z.array(z.object({ ip: z.string() })).optional(),
      // Only the Ready condition is ever read; the transform keeps just that one (a Pod carries five: about 250 bytes
      // of cache per Pod for nothing).
      conditions: z
        .array(podConditionSchema)
        .transform((cs) => cs.filter((c) => c.type === 'Ready'))
        .optional(),
    })
    .default({}),
});
export type Pod = z.infer<typeof podSchema>;
/** The Pod projection of a raw object; one shared function so informers keyed by parse function are shared. */
export const parsePod = (raw: unknown): Pod => podSchema.parse(raw);
export type ContainerPort = z.infer<typeof containerPortSchema>;
export type PodCondition = z.infer<typeof podConditionSchema>;

// ---- Service --------------------------------------------------------------------------------------------------------

export const servicePortSchema = z.looseObject({
  name: z.string().optional(),
  protocol: z.string().optional(),
  appProtocol: z.string().optional(),
  port: z.number(),
  targetPort: z.union([z.number(), z.string()]).optional(),
  nodePort: z.number().optional(),
});
export type ServicePort = z.infer<typeof servicePortSchema>;

export const sessionAffinityConfigSchema = z.looseObject({
  clientIP: z.looseObject({ timeoutSeconds: z.number().optional() }).optional(),
});

export const serviceSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: objectMetaSchema,
  spec: z
    .looseObject({
      type: z.string().optional(),
      selector: z.record(z.string(), z.string()).optional(),
      ports: z.array(servicePortSchema).optional(),
      clusterIP: z.string().optional(),
      clusterIPs: z.array(z.string()).optional(),
      ipFamilies: z.array(z.string()).optional(),
      ipFamilyPolicy: z.string().optional(),
      publishNotReadyAddresses: z.boolean().optional(),
      externalName: z.string().optional(),
      sessionAffinity: z.string().optional(),
      sessionAffinityConfig: sessionAffinityConfigSchema.optional(),
      trafficDistribution: z.string().optional(),
      externalTrafficPolicy: z.string().optional(),
    })
    .default({}),
  status: z.unknown().optional(),
});
export type Service = z.infer<typeof serviceSchema>;
export const parseService = (raw: unknown): Service => serviceSchema.parse(raw);

// ---- Endpoints ------------------------------------------------------------------------------------------------------

export const endpointAddressSchema = z.looseObject({
  ip: z.string(),
  hostname: z.string().optional(),
  nodeName: z.string().optional(),
  targetRef: objectReferenceSchema.optional(),
});
export type EndpointAddress = z.infer<typeof endpointAddressSchema>;

export const endpointPortSchema = z.looseObject({
  name: z.string().optional(),
  port: z.number(),
  protocol: z.string().optional(),
  appProtocol: z.string().optional(),
});
export type EndpointPort = z.infer<typeof endpointPortSchema>;

export const endpointSubsetSchema = z.looseObject({
  addresses: z.array(endpointAddressSchema).optional(),
  notReadyAddresses: z.array(endpointAddressSchema).optional(),
  ports: z.array(endpointPortSchema).optional(),
});
export type EndpointSubset = z.infer<typeof endpointSubsetSchema>;

export const endpointsSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: objectMetaSchema,
  subsets: z.array(endpointSubsetSchema).optional(),
});
export type Endpoints = z.infer<typeof endpointsSchema>;
export const parseEndpoints = (raw: unknown): Endpoints => endpointsSchema.parse(raw);

// ---- Node -----------------------------------------------------------------------------------------------------------
// Nodes are read only for their name, labels (zone, control-plane role), readiness and allocatable CPU (the last two
// by the EndpointSlice controller's topology hints); projected like Pods.

export const nodeSchema = z.object({
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
      // Only the Ready condition is ever read; the transform keeps just that one.
      conditions: z
        .array(z.object({ type: z.string(), status: z.string() }))
        .transform((cs) => cs.filter((c) => c.type === 'Ready'))
        .optional(),
      allocatable: z.object({ cpu: z.string().optional() }).optional(),
    })
    .optional(),
});
export type Node = z.infer<typeof nodeSchema>;
export const parseNode = (raw: unknown): Node => nodeSchema.parse(raw);

// ---- Event (written by the recorder) --------------------------------------------------------------------------------
export interface CoreEvent {
  apiVersion: 'v1';
  kind: 'Event';
  metadata: { name?: string; generateName?: string; namespace: string; resourceVersion?: string };
  involvedObject: z.infer<typeof objectReferenceSchema>;
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  source: { component: string; host?: string };
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
  reportingComponent?: string;
  reportingInstance?: string;
}
