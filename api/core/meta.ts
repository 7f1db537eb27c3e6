import { z } from 'zod';

// Wire-format object metadata. Timestamps stay RFC 3339 strings exactly as the API server sent them: the same shape
// whether an object arrived from a list or a watch, and safe to send back unchanged.
// Loose objects keep every field we do not model, so an object read here can be written back without loss.

export const ownerReferenceSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});
export type OwnerReference = z.infer<typeof ownerReferenceSchema>;

export const objectMetaSchema = z.looseObject({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  ownerReferences: z.array(ownerReferenceSchema).optional(),
  finalizers: z.array(z.string()).optional(),
  managedFields: z.array(z.unknown()).optional(),
});
export type ObjectMeta = z.infer<typeof objectMetaSchema>;

/** Any object with metadata, the minimum every cache and key function needs. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** Object reference as used by Endpoints and EndpointSlice targetRef. */
export const objectReferenceSchema = z.looseObject({
  kind: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  uid: z.string().optional(),
  apiVersion: z.string().optional(),
  resourceVersion: z.string().optional(),
  fieldPath: z.string().optional(),
});
export type ObjectReference = z.infer<typeof objectReferenceSchema>;

/** The metadata fields a reference copies. */
interface ReferencedMeta {
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
  readonly uid?: string | undefined;
  readonly resourceVersion?: string | undefined;
}

/**
 * A reference to `object` (e.g. an Event's involvedObject): the given apiVersion and kind, its namespace (`""` when
 * cluster-scoped) and, when set, name, uid and resourceVersion (ref.go: GetReference).
 */
export function objectReferenceOf(object: { readonly metadata: ReferencedMeta }, apiVersion: string, kind: string): ObjectReference {
  const m = object.metadata;
  return {
    apiVersion,
    kind,
    namespace: m.namespace ?? '',
    ...(m.name === undefined ? {} : { name: m.name }),
    ...(m.uid === undefined ? {} : { uid: m.uid }),
    ...(m.resourceVersion === undefined ? {} : { resourceVersion: m.resourceVersion }),
  };
}

/** `namespace/name` (or `name` for cluster-scoped objects): the work item key, as client-go's MetaNamespaceKeyFunc. */
export function objectKey(obj: { metadata?: { namespace?: string | undefined; name?: string | undefined } | undefined }): string {
  const ns = obj.metadata?.namespace ?? '';
  const name = obj.metadata?.name ?? '';
  return ns === '' ? name : `${ns}/${name}`;
}

/** Splits a key made by {@link objectKey}. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
