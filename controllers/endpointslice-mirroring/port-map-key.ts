import type { AddressType, SlicePort } from '../../api/discovery/v1.ts';
import { deepHashObject, spewForHash } from '../shared/go-spew.ts';
import { type GoValue, goInt, goPointer, goSlice, goString, goStruct } from '../shared/go-value.ts';

// Upstream groups slices by a key derived from their ports and, as a side effect of computing that key, sorts the ports
// of every slice it writes by a hash of each port. Reproducing the hash (FNV-1a-128 over go-spew's `%#v` dump,
// upstream-behaviour.md §1.9) is what makes our port order byte-identical to kube-controller-manager's.
// NOTE for the lead: controllers/endpointslice/port-map-key.ts models the same type; dedupe into controllers/shared/.

/**
 * discovery/v1 EndpointPort as a Go value. Go's package for discovery/v1 is named `v1`, so reflection prints
 * `v1.EndpointPort`. Every field is a pointer; absent on the wire is nil.
 */
export function slicePortGo(port: Readonly<SlicePort>): GoValue {
  return goStruct('v1.EndpointPort', [
    ['Name', goPointer(port.name, 'string', (s) => goString(s))],
    ['Protocol', goPointer(port.protocol, 'v1.Protocol', (s) => goString(s, 'v1.Protocol'))],
    ['Port', goPointer(port.port, 'int32', (n) => goInt(n))],
    ['AppProtocol', goPointer(port.appProtocol, 'string', (s) => goString(s))],
  ]);
}

/** go-spew's ForHash dump of one port, e.g. `(v1.EndpointPort){Name:(*string)http Protocol:(*v1.Protocol)TCP ...}`. */
export function spewSlicePort(port: Readonly<SlicePort>): string {
  return spewForHash(slicePortGo(port));
}

/** Upstream's per-port hash: hex FNV-1a-128 of {@link spewSlicePort}. */
export function hashSlicePort(port: Readonly<SlicePort>): string {
  return deepHashObject(slicePortGo(port));
}

/**
 * New port objects in upstream's order: ascending by {@link hashSlicePort}, compared as hex strings. Ties are identical
 * ports (barring a hash collision), so the instability of Go's sort cannot show.
 */
export function sortSlicePorts(ports: readonly Readonly<SlicePort>[] | null | undefined): SlicePort[] {
  const keyed = (ports ?? []).map((p) => ({ port: { ...p }, hash: hashSlicePort(p) }));
  keyed.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  return keyed.map((k) => k.port);
}

/**
 * Upstream NewPortMapKey: the hash of the hash-sorted port list. A missing list counts as empty (upstream normalises
 * nil since 2026-01), so the key depends neither on port order nor on `ports: null` versus `ports: []`.
 */
export function portMapKey(ports: readonly Readonly<SlicePort>[] | null | undefined): string {
  return deepHashObject(goSlice(sortSlicePorts(ports), 'v1.EndpointPort', slicePortGo));
}

/** The mirroring controller's group key, `"<addressType>-<portMapKey>"` (upstream addrTypePortMapKey). */
export function addressTypePortMapKey(addressType: AddressType, ports: readonly Readonly<SlicePort>[] | null | undefined): string {
  return `${addressType}-${portMapKey(ports)}`;
}
