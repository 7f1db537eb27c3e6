import { z } from 'zod';
import { objectMetaSchema, objectReferenceSchema } from '../core/meta.ts';

// discovery.k8s.io/v1 EndpointSlice in wire format. Loose, because slices are read and then updated in place.

export const endpointConditionsSchema = z.looseObject({
  ready: z.boolean().optional(),
  serving: z.boolean().optional(),
  terminating: z.boolean().optional(),
});
export type EndpointConditions = z.infer<typeof endpointConditionsSchema>;

export const endpointHintsSchema = z.looseObject({
  forZones: z.array(z.looseObject({ name: z.string() })).optional(),
  forNodes: z.array(z.looseObject({ name: z.string() })).optional(),
});
export type EndpointHints = z.infer<typeof endpointHintsSchema>;

export const sliceEndpointSchema = z.looseObject({
  addresses: z.array(z.string()),
  conditions: endpointConditionsSchema.optional(),
  hostname: z.string().optional(),
  targetRef: objectReferenceSchema.optional(),
  nodeName: z.string().optional(),
  zone: z.string().optional(),
  hints: endpointHintsSchema.optional(),
});
export type SliceEndpoint = z.infer<typeof sliceEndpointSchema>;

export const slicePortSchema = z.looseObject({
  name: z.string().optional(),
  protocol: z.string().optional(),
  port: z.number().optional(),
  appProtocol: z.string().optional(),
});
export type SlicePort = z.infer<typeof slicePortSchema>;

export const addressTypeSchema = z.enum(['IPv4', 'IPv6', 'FQDN']);
export type AddressType = z.infer<typeof addressTypeSchema>;

export const endpointSliceSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: objectMetaSchema,
  addressType: addressTypeSchema,
  endpoints: z.array(sliceEndpointSchema).nullish(),
  ports: z.array(slicePortSchema).nullish(),
});
export type EndpointSlice = z.infer<typeof endpointSliceSchema>;
/** One shared parse function so informers keyed by parse function are shared between controllers. */
export const parseEndpointSlice = (raw: unknown): EndpointSlice => endpointSliceSchema.parse(raw);
