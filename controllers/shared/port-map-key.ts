import type { AddressType, SlicePort } from '../../api/discovery/v1.ts';
import { deepHashObject, spewForHash } from './go-spew.ts';
import { type GoValue, goInt, goPointer, goSlice, goString, goStruct } from './go-value.ts';

// Upstream groups a Service's (or mirrored Endpoints') slices by a key derived from their ports (NewPortMapKey), and
// computing that key sorts the port list in place by the hash of each port. That sort is why every slice
// kube-controller-manager writes lists its ports in hash order rather than Service order; reproducing the hash byte for
// byte (FNV-1a-128 over go-spew's dump; k8s.io/endpointslice util/controller_utils.go: NewPortMapKey, deepHashObject)
// makes our port order identical. Used by the EndpointSlice and the mirroring controllers. Verified against
// k8s.io/endpointslice v0.36.4 + go-spew 1.1.2-0.20180830191138 (vectors in port-map-key.test.ts).

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

/** go-spew's ForHash dump of one port, e.g. `(v1.EndpointPort){Name:(*string)http Protocol:(*v1.Protocol)TCP ...}`. */
export function spewSlicePort(port: Readonly<SlicePort>): string {
  return spewForHash(slicePortGo(port));
}

// The hashes are pure functions of a port's four fields, and a sync of a Service computes them for every Pod (a
// 5,000-Pod Service: 15,000 go-spew dumps and FNV-128 digests per sync, half of a sync's CPU; docs/performance.md).
// A Service has a handful of distinct port lists, so they are remembered by a cheap exact key of those fields. The
// memo is cleared when it grows past MEMO_LIMIT entries (port lists are few; this only bounds a pathological cluster).
const MEMO_LIMIT = 4096;
const portHashMemo = new Map<string, string>();
const portMapKeyMemo = new Map<string, string>();

/** An exact key of the fields the Go value of a port is built from (absent and "" differ, as nil and a pointer to ""). */
const fieldsKey = (port: Readonly<SlicePort>): string =>
  JSON.stringify([port.name ?? null, port.protocol ?? null, port.port ?? null, port.appProtocol ?? null]);

function remember(memo: Map<string, string>, key: string, compute: () => string): string {
  let value = memo.get(key);
  if (value === undefined) {
    if (memo.size >= MEMO_LIMIT) memo.clear();
    value = compute();
    memo.set(key, value);
  }
  return value;
}

/** Upstream's per-port hash (the sort key of a port list): hex FNV-1a-128 of {@link spewSlicePort}. */
export function hashSlicePort(port: Readonly<SlicePort>): string {
  return remember(portHashMemo, fieldsKey(port), () => deepHashObject(slicePortGo(port)));
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
 * nil since 2026-01), so the key depends neither on port order nor on `ports: null` versus `ports: []`, and a headless
 * Service without ports does not churn between the two.
 */
export function portMapKey(ports: readonly Readonly<SlicePort>[] | null | undefined): string {
  const list = ports ?? [];
  return remember(portMapKeyMemo, list.map(fieldsKey).join('\n'), () =>
    deepHashObject(goSlice(sortSlicePorts(list), 'v1.EndpointPort', slicePortGo)),
  );
}

/** The mirroring controller's group key, `"<addressType>-<portMapKey>"` (upstream addrTypePortMapKey). */
export function addressTypePortMapKey(addressType: AddressType, ports: readonly Readonly<SlicePort>[] | null | undefined): string {
  return `${addressType}-${portMapKey(ports)}`;
}
