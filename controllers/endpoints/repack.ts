import type { EndpointAddress, EndpointPort, EndpointSubset } from '../../api/core/v1.ts';
import { deepHashObject } from '../shared/go-spew.ts';
import { endpointPortGo, endpointSubsetGo } from './go-types.ts';

// The canonical form of Endpoints subsets: upstream's RepackSubsets/SortSubsets (pkg/api/v1/endpoints),
// upstream-behaviour.md §2.6. The controller builds one single-address subset per (pod, port) and relies on this to
// merge them, so the result (and its order) is what ends up in the API and what the no-op check compares against.

// Port-less subsets (headless Services without ports) are carried through the grouping under this sentinel port;
// any port <= 0 counts as a sentinel and is dropped from the output, as upstream.
const SENTINEL_PORT: EndpointPort = { port: -1 };

/** An address's identity for de-duplication: IP plus targetRef UID ("" without a targetRef). */
const addressKey = (a: Readonly<EndpointAddress>): string => `${a.ip}\u0000${a.targetRef?.uid ?? ''}`;

// Equality of ports as Go map keys. Upstream keys by the struct value, whose AppProtocol is a pointer; within one
// controller sync all pods share the ServicePort's pointer, so comparing the pointed-to value is the same thing.
const portKey = (p: Readonly<EndpointPort>): string =>
  JSON.stringify([p.name ?? '', p.port, p.protocol ?? '', p.appProtocol === undefined ? null : p.appProtocol]);

/**
 * Repacks subsets into the canonical layout: addresses de-duplicated by IP + targetRef UID (the first occurrence is
 * kept whole), not-ready winning over ready for the same port, ports sharing an identical address→readiness set merged
 * into one subset, then {@link sortSubsets}. Subsets without ports survive with `ports` absent (nil). Absent
 * `addresses`/`notReadyAddresses` mean none, as Go's nil slices. Pure: returns new arrays, shares address objects.
 */
export function repackSubsets(subsets: readonly Readonly<EndpointSubset>[] | undefined): EndpointSubset[] {
  const addresses = new Map<string, Readonly<EndpointAddress>>();
  const byPort = new Map<string, { port: Readonly<EndpointPort>; ready: Map<string, boolean> }>();
  const record = (addr: Readonly<EndpointAddress>, port: Readonly<EndpointPort>, ready: boolean) => {
    const key = addressKey(addr);
    if (!addresses.has(key)) addresses.set(key, addr);
    const pk = portKey(port);
    let entry = byPort.get(pk);
    if (entry === undefined) {
      entry = { port, ready: new Map() };
      byPort.set(pk, entry);
    }
    if (entry.ready.get(key) !== false) entry.ready.set(key, ready);
  };
  for (const subset of subsets ?? []) {
    const ports = subset.ports !== undefined && subset.ports.length > 0 ? subset.ports : [SENTINEL_PORT];
    for (const port of ports) {
      for (const a of subset.addresses ?? []) record(a, port, true);
      for (const a of subset.notReadyAddresses ?? []) record(a, port, false);
    }
  }

  // Group ports by their address→readiness set. Upstream keys the groups by a hash of the sorted set; any canonical
  // serialisation gives the same grouping.
  const groups = new Map<string, { ready: Map<string, boolean>; ports: Readonly<EndpointPort>[] | undefined }>();
  for (const { port, ready } of byPort.values()) {
    const key = [...ready.entries()]
      .map(([k, r]) => [addresses.get(k) as Readonly<EndpointAddress>, r] as const)
      .sort(([a], [b]) => compareEndpointAddresses(a, b))
      .map(([a, r]) => `${addressKey(a)}\u0000${r ? 1 : 0}`)
      .join('\u0001');
    let group = groups.get(key);
    if (group === undefined) {
      group = { ready, ports: undefined };
      groups.set(key, group);
    }
    if (port.port > 0) group.ports = [...(group.ports ?? []), port];
  }

  const result: EndpointSubset[] = [];
  for (const { ready, ports } of groups.values()) {
    const readyAddrs: Readonly<EndpointAddress>[] = [];
    const notReadyAddrs: Readonly<EndpointAddress>[] = [];
    for (const [key, isReady] of ready) (isReady ? readyAddrs : notReadyAddrs).push(addresses.get(key) as Readonly<EndpointAddress>);
    result.push({
      ...(readyAddrs.length > 0 ? { addresses: readyAddrs } : {}),
      ...(notReadyAddrs.length > 0 ? { notReadyAddresses: notReadyAddrs } : {}),
      ...(ports !== undefined ? { ports } : {}),
    });
  }
  return sortSubsets(result);
}

/**
 * Upstream SortSubsets, on copies: addresses and notReadyAddresses by IP then targetRef UID, ports by the hash of each
 * port's go-spew dump, then subsets by the hash of each (sorted) subset's dump (FNV-1a-128 since v1.35).
 */
export function sortSubsets(subsets: readonly Readonly<EndpointSubset>[]): EndpointSubset[] {
  const sorted = subsets.map(
    (s): EndpointSubset => ({
      ...s,
      ...(s.addresses !== undefined ? { addresses: [...s.addresses].sort(compareEndpointAddresses) } : {}),
      ...(s.notReadyAddresses !== undefined ? { notReadyAddresses: [...s.notReadyAddresses].sort(compareEndpointAddresses) } : {}),
      ...(s.ports !== undefined ? { ports: sortByHash(s.ports, endpointPortHash) } : {}),
    }),
  );
  return sortByHash(sorted, endpointSubsetHash);
}

/** Hash that orders ports: DeepHashObject of v1.EndpointPort. */
export const endpointPortHash = (p: Readonly<EndpointPort>): string => deepHashObject(endpointPortGo(p));
/** Hash that orders subsets: DeepHashObject of v1.EndpointSubset. */
export const endpointSubsetHash = (s: Readonly<EndpointSubset>): string => deepHashObject(endpointSubsetGo(s));

// Hashes are computed once per element (upstream recomputes them per comparison; the order is the same). A single
// element needs no hash at all, which keeps the common one-subset case cheap.
function sortByHash<T>(items: readonly T[], hash: (item: T) => string): T[] {
  if (items.length < 2) return [...items];
  return items
    .map((item) => ({ item, h: hash(item) }))
    .sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0))
    .map(({ item }) => item);
}

/** Upstream LessEndpointAddress as a comparator: IP bytewise, then targetRef UID, an address without targetRef first. */
export function compareEndpointAddresses(a: Readonly<EndpointAddress>, b: Readonly<EndpointAddress>): number {
  const byIP = compareBytes(a.ip, b.ip);
  if (byIP !== 0) return byIP;
  if (a.targetRef === undefined || b.targetRef === undefined) {
    return (a.targetRef === undefined ? 0 : 1) - (b.targetRef === undefined ? 0 : 1);
  }
  return compareBytes(a.targetRef.uid ?? '', b.targetRef.uid ?? '');
}

// Go compares strings as UTF-8 bytes, i.e. by code point; JS `<` compares UTF-16 units, which differs only when
// surrogate pairs meet characters above U+E000. Fall back to a byte comparison only then.
function compareBytes(a: string, b: string): number {
  if (/[\uD800-\uDFFF]/.test(a) || /[\uD800-\uDFFF]/.test(b)) return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return a < b ? -1 : a > b ? 1 : 0;
}
