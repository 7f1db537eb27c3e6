import type { ObjectReference } from '../../api/core/meta.ts';
import type { SliceEndpoint } from '../../api/discovery/v1.ts';

// Upstream's EndpointSet identifies a slice endpoint by what cannot change in place (addresses, hostname, target), so
// that a change of readiness or node is an update of the same endpoint rather than a remove plus an add, and compares
// two endpoints of one identity with EndpointsEqualBeyondHash to decide whether a slice needs writing
// (util/controller_utils.go). Used by the EndpointSlice and the mirroring controllers.

/**
 * The identity of an endpoint (upstream hashEndpoint): sorted addresses, hostname ("" when absent), and the targetRef
 * namespace and name. UID, nodeName, zone and conditions are not part of it, so their changes are in-place updates.
 * Only equality matters, so this is a canonical string rather than upstream's hash. Does not modify the endpoint.
 */
export function endpointIdentity(endpoint: Readonly<SliceEndpoint>): string {
  const addresses = endpoint.addresses;
  return JSON.stringify([
    // One address (every Pod endpoint) needs no copy to sort.
    addresses.length < 2 ? addresses : [...addresses].sort(),
    endpoint.hostname ?? '',
    endpoint.targetRef?.namespace ?? '',
    endpoint.targetRef?.name ?? '',
  ]);
}

// Each sync compares every endpoint of the Service's cached slices by identity; most slices are the same cached objects
// as in the last sync, and cached objects are never modified, so their identities are remembered per endpoint list
// (and dropped with it).
const identitiesOfLists = new WeakMap<readonly Readonly<SliceEndpoint>[], readonly string[]>();

/**
 * {@link endpointIdentity} of each endpoint of `endpoints`, in order. Remembered per list object, so only for lists no
 * one modifies afterwards: a cached slice's `endpoints`.
 */
export function cachedEndpointIdentities(endpoints: readonly Readonly<SliceEndpoint>[]): readonly string[] {
  let ids = identitiesOfLists.get(endpoints);
  if (ids === undefined) {
    ids = endpoints.map(endpointIdentity);
    identitiesOfLists.set(endpoints, ids);
  }
  return ids;
}

const REFERENCE_FIELDS = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'fieldPath'] as const;

/** Semantic equality of two targetRefs ignoring resourceVersion; both absent is equal, one absent is not. */
function targetRefsEqual(a: Readonly<ObjectReference> | undefined, b: Readonly<ObjectReference> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return REFERENCE_FIELDS.every((f) => (a[f] ?? '') === (b[f] ?? ''));
}

/**
 * Upstream EndpointsEqualBeyondHash: two endpoints of the same identity need no write. Compares nodeName and zone
 * (absent differs from ""), the three conditions (absent differs from false, so a slice written by an older controller
 * without `serving` is rewritten) and the targetRef ignoring resourceVersion. Hints are deliberately not compared.
 */
export function endpointsEqualBeyondHash(a: Readonly<SliceEndpoint>, b: Readonly<SliceEndpoint>): boolean {
  return (
    a === b ||
    (a.nodeName === b.nodeName &&
      a.zone === b.zone &&
      a.conditions?.ready === b.conditions?.ready &&
      a.conditions?.serving === b.conditions?.serving &&
      a.conditions?.terminating === b.conditions?.terminating &&
      targetRefsEqual(a.targetRef, b.targetRef))
  );
}
