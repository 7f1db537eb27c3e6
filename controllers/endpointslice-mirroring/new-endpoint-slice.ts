import type { Endpoints } from '../../api/core/v1.ts';
import type { AddressType, EndpointSlice, SlicePort } from '../../api/discovery/v1.ts';
import {
  ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  MANAGED_BY_MIRRORING_CONTROLLER,
} from '../../api/labels.ts';

// The shape of a mirrored slice (utils.go: newEndpointSlice). Updates send this whole object too, so what is left out
// here (the trigger-time and kubectl last-applied annotations) is removed from existing slices on their next write.

/** kubectl's client-side-apply record: mirroring it would copy an Endpoints manifest into every slice. */
export const ANNOTATION_LAST_APPLIED_CONFIGURATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** Endpoints annotations that are never copied to mirrored slices. */
export const ANNOTATIONS_NOT_MIRRORED: readonly string[] = Object.freeze([
  ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
  ANNOTATION_LAST_APPLIED_CONFIGURATION,
]);

/** Labels the controller sets on every mirrored slice, overriding any Endpoints label of the same key. */
export const LABELS_SET_BY_MIRRORING: readonly string[] = Object.freeze([LABEL_SERVICE_NAME, LABEL_MANAGED_BY]);

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Whether `prefix` is acceptable as a generateName, as apimachinery's NameIsDNSSubdomain with prefix=true. Its trailing
 * dash is masked the way upstream does it (dropping the last two characters and appending "a"), quirk included.
 */
export function isValidGenerateNamePrefix(prefix: string): boolean {
  const masked = prefix.length > 1 && prefix.endsWith('-') ? `${prefix.slice(0, -2)}a` : prefix;
  return masked.length <= 253 && DNS1123_SUBDOMAIN.test(masked);
}

/** Upstream getEndpointSlicePrefix: `"<name>-"` when valid as a generateName, else the bare name. */
export function endpointSlicePrefix(name: string): string {
  const prefix = `${name}-`;
  return isValidGenerateNamePrefix(prefix) ? prefix : name;
}

/** Endpoints labels with the two mirroring labels forced; a new object. */
export function mirroredLabels(endpoints: Readonly<Endpoints>): Record<string, string> {
  return {
    ...endpoints.metadata.labels,
    [LABEL_SERVICE_NAME]: endpoints.metadata.name ?? '',
    [LABEL_MANAGED_BY]: MANAGED_BY_MIRRORING_CONTROLLER,
  };
}

/** Endpoints annotations minus {@link ANNOTATIONS_NOT_MIRRORED}; a new object. */
export function mirroredAnnotations(endpoints: Readonly<Endpoints>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(endpoints.metadata.annotations ?? {})) {
    if (!ANNOTATIONS_NOT_MIRRORED.includes(k)) out[k] = v;
  }
  return out;
}

/**
 * Upstream newEndpointSlice for mirroring: an empty slice (no endpoints yet) owned by the Endpoints object (controller
 * ownerReference, so it is garbage-collected with it), carrying its labels and annotations as above, with
 * `generateName` when `sliceName` is undefined (a create) or `name` (an update that replaces that slice wholesale).
 */
export function newMirroredEndpointSlice(
  endpoints: Readonly<Endpoints>,
  ports: readonly Readonly<SlicePort>[],
  addressType: AddressType,
  sliceName?: string,
): EndpointSlice {
  const name = endpoints.metadata.name ?? '';
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      ...(sliceName === undefined ? { generateName: endpointSlicePrefix(name) } : { name: sliceName }),
      namespace: endpoints.metadata.namespace ?? '',
      labels: mirroredLabels(endpoints),
      annotations: mirroredAnnotations(endpoints),
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Endpoints',
          name,
          uid: endpoints.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    addressType,
    endpoints: [],
    ports: ports.map((p) => ({ ...p })),
  };
}
