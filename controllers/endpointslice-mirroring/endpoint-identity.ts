import type { ObjectReference } from '../../api/core/meta.ts';
import type { SliceEndpoint } from '../../api/discovery/v1.ts';

// Upstream's EndpointSet identifies an endpoint by what cannot change in place (addresses, hostname, target), so that
// a change of readiness or node is an update of the same endpoint rather than a remove plus an add (§1.9).

/**
 * The identity of a slice endpoint: its sorted addresses, hostname (absent = ""), and targetRef namespace and name.
 * UID, nodeName, zone and conditions are not part of it. Only equality matters, so this is a canonical string rather
 * than upstream's hash.
 */
export function endpointIdentity(endpoint: Readonly<SliceEndpoint>): string {
  return JSON.stringify([
    [...endpoint.addresses].sort(),
    endpoint.hostname ?? '',
    endpoint.targetRef?.namespace ?? '',
    endpoint.targetRef?.name ?? '',
  ]);
}

const REFERENCE_FIELDS = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'fieldPath'] as const;

/** Semantic equality of two object references ignoring resourceVersion; an absent field equals "". */
export function objectReferencesEqualIgnoringResourceVersion(
  a: Readonly<ObjectReference> | undefined,
  b: Readonly<ObjectReference> | undefined,
): boolean {
  if (a === undefined || b === undefined) return a === b;
  return REFERENCE_FIELDS.every((f) => (a[f] ?? '') === (b[f] ?? ''));
}

/**
 * Upstream EndpointsEqualBeyondHash: true when two endpoints with the same identity need no update. Compares nodeName
 * and zone (absent differs from ""), ready, serving and terminating (absent differs from false) and the targetRef
 * ignoring its resourceVersion. Hints are not compared.
 */
export function endpointsEqualBeyondHash(a: Readonly<SliceEndpoint>, b: Readonly<SliceEndpoint>): boolean {
  return (
    a.nodeName === b.nodeName &&
    a.zone === b.zone &&
    a.conditions?.ready === b.conditions?.ready &&
    a.conditions?.serving === b.conditions?.serving &&
    a.conditions?.terminating === b.conditions?.terminating &&
    objectReferencesEqualIgnoringResourceVersion(a.targetRef, b.targetRef)
  );
}
