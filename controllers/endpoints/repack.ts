import type { EndpointPort, EndpointSubset } from '../../api/core/v1.ts';
import { deepHashObject } from '../shared/go-spew.ts';
import { compareEndpointAddresses, regroupSubsets } from '../shared/repack-subsets.ts';
import { endpointPortGo, endpointSubsetGo } from './go-types.ts';

// The canonical form of Endpoints subsets: upstream's RepackSubsets/SortSubsets (pkg/api/v1/endpoints/util.go). The
// controller builds one single-address subset per (pod, port) and relies on this to merge them, so the result (and its
// order) is what ends up in the API and what the no-op check compares against.

/**
 * Repacks subsets into the canonical layout ({@link regroupSubsets} with ports equal by value: addresses de-duplicated
 * by IP + targetRef UID, not-ready winning over ready for the same port, ports sharing an identical address→readiness
 * set merged into one subset), then {@link sortSubsets}. Subsets without ports survive with `ports` absent (nil).
 * Absent `addresses`/`notReadyAddresses` mean none, as Go's nil slices. Pure: returns new arrays.
 */
export function repackSubsets(subsets: readonly Readonly<EndpointSubset>[] | undefined): EndpointSubset[] {
  return sortRegrouped(regroupSubsets(subsets));
}

/**
 * {@link sortSubsets} of what {@link regroupSubsets} (or a SubsetRegrouper) returned, which already sorts each subset's
 * addresses with the same comparator: only ports and subsets are sorted (a stable sort of a sorted list is the list).
 * Takes over the subsets it is given.
 */
export function sortRegrouped(subsets: EndpointSubset[]): EndpointSubset[] {
  return sortByHash(
    subsets.map((s) => (s.ports !== undefined ? { ...s, ports: sortByHash(s.ports, endpointPortHash) } : s)),
    endpointSubsetHash,
  );
}

/**
 * Upstream SortSubsets, on copies: addresses and notReadyAddresses by IP then targetRef UID, ports by the hash of each
 * port's go-spew dump, then subsets by the hash of each (sorted) subset's dump (FNV-1a-128 since v1.35).
 */
export function sortSubsets(subsets: readonly Readonly<EndpointSubset>[]): EndpointSubset[] {
  const sorted = subsets.map((s): EndpointSubset => ({
    ...s,
    ...(s.addresses !== undefined ? { addresses: [...s.addresses].sort(compareEndpointAddresses) } : {}),
    ...(s.notReadyAddresses !== undefined ? { notReadyAddresses: [...s.notReadyAddresses].sort(compareEndpointAddresses) } : {}),
    ...(s.ports !== undefined ? { ports: sortByHash(s.ports, endpointPortHash) } : {}),
  }));
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
