import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME, MANAGED_BY_MIRRORING_CONTROLLER } from '../../api/labels.ts';
import type { IndexFunc } from '../runtime/cache/store.ts';

// Which slices belong to the mirroring controller. Like upstream's label-selector list
// (`kubernetes.io/service-name=<name>,endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io`),
// ownership is by labels only: slices of any other manager are invisible to this controller and never touched.

/** Name of the EndpointSlice store index that maps mirrored slices to their Endpoints key. */
export const MIRRORED_SLICES_INDEX = 'endpointslice-mirroring/endpoints-key';

/** The slice carries this controller's managed-by label. */
export function isManagedByMirroring(slice: Readonly<EndpointSlice>): boolean {
  return slice.metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY_MIRRORING_CONTROLLER;
}

/**
 * Upstream endpointsControllerKey: `namespace/<kubernetes.io/service-name>` of a slice, or undefined when the label is
 * missing or empty (upstream logs that as an error and enqueues nothing).
 */
export function endpointsKeyForSlice(slice: Readonly<EndpointSlice>): string | undefined {
  const name = slice.metadata.labels?.[LABEL_SERVICE_NAME];
  if (name === undefined || name === '') return undefined;
  return `${slice.metadata.namespace ?? ''}/${name}`;
}

/** Index function for {@link MIRRORED_SLICES_INDEX}: mirrored slices by Endpoints key; others are not indexed. */
export const mirroredSlicesIndexFunc: IndexFunc<EndpointSlice> = (slice) => {
  if (!isManagedByMirroring(slice)) return [];
  const name = slice.metadata.labels?.[LABEL_SERVICE_NAME];
  return name === undefined ? [] : [`${slice.metadata.namespace ?? ''}/${name}`];
};

/** Sorts slices by name: which existing slice of a group is kept must not depend on cache iteration order. */
export function byName(a: Readonly<EndpointSlice>, b: Readonly<EndpointSlice>): number {
  const an = a.metadata.name ?? '';
  const bn = b.metadata.name ?? '';
  return an < bn ? -1 : an > bn ? 1 : 0;
}
