import type { SlicePort } from '../../api/discovery/v1.ts';
import { deepHashObject } from '../shared/go-spew.ts';
import { type GoValue, goInt, goPointer, goSlice, goString, goStruct } from '../shared/go-value.ts';

// Upstream groups a Service's slices by a key derived from their ports (NewPortMapKey), and computing that key sorts
// the port list in place by the hash of each port. That sort is why every slice kube-controller-manager writes lists
// its ports in hash order rather than Service order; reproducing the hash byte for byte makes our port order identical.
// Verified against k8s.io/endpointslice v0.36.4 + go-spew 1.1.2-0.20180830191138 (vectors in port-map-key.test.ts).

/**
 * discovery/v1 EndpointPort as a Go value. The Go package of discovery/v1 is named `v1`, so reflection prints the type
 * as `v1.EndpointPort` (not `discovery.EndpointPort`). Every field is a pointer: absent on the wire is nil.
 */
export function slicePortGo(port: Readonly<SlicePort>): GoValue {
  return goStruct('v1.EndpointPort', [
    ['Name', goPointer(port.name, 'string', (s) => goString(s))],
    ['Protocol', goPointer(port.protocol, 'v1.Protocol', (s) => goString(s, 'v1.Protocol'))],
    ['Port', goPointer(port.port, 'int32', (n) => goInt(n))],
    ['AppProtocol', goPointer(port.appProtocol, 'string', (s) => goString(s))],
  ]);
}

/** Upstream's per-port hash (the sort key of a port list): hex FNV-1a-128 of the port's spew dump. */
export function hashSlicePort(port: Readonly<SlicePort>): string {
  return deepHashObject(slicePortGo(port));
}

/**
 * The ports in upstream's order: ascending by {@link hashSlicePort} compared as strings. Returns new port objects; the
 * input is not modified. Equal hashes mean identical ports, so the instability of Go's sort cannot show.
 */
export function sortSlicePorts(ports: readonly Readonly<SlicePort>[] | null | undefined): SlicePort[] {
  const keyed = (ports ?? []).map((port) => ({ port: { ...port }, hash: hashSlicePort(port) }));
  keyed.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  return keyed.map((k) => k.port);
}

/**
 * Upstream NewPortMapKey: the hash of the hash-sorted port list. A missing list counts as empty (upstream normalises
 * nil since 2026-01), so a headless Service without ports does not churn between `ports: null` and `ports: []`.
 */
export function portMapKey(ports: readonly Readonly<SlicePort>[] | null | undefined): string {
  return deepHashObject(goSlice(sortSlicePorts(ports), 'v1.EndpointPort', slicePortGo));
}
