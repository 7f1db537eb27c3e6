import type { EndpointPort, EndpointSubset } from '../../api/core/v1.ts';
import { regroupSubsets } from '../shared/repack-subsets.ts';

// Upstream canonicalises Endpoints subsets (pkg/api/v1/endpoints/util.go: RepackSubsets) before mirroring them, so two
// hand-written subsets sharing an address set become one subset, and so one slice. Subset and port order are not
// reproduced here (upstream sorts them by a hash): mirroring re-sorts ports anyway and puts each subset into an
// unordered map, so only address order (which drives the per-subset cap) matters.

/**
 * The identity upstream's map gives a decoded port. Go keys its map by the EndpointPort struct, whose appProtocol is a
 * pointer: two decoded ports with equal appProtocol strings are still different keys. So a port with an appProtocol is
 * only ever merged with itself (same subset, same index); without one, equal values merge.
 */
export function mirroredPortIdentity(port: Readonly<EndpointPort>, subsetIndex: number, portIndex: number): string {
  const value = JSON.stringify([port.name ?? '', port.port, port.protocol ?? '']);
  return port.appProtocol === undefined ? value : `${value}@${subsetIndex}.${portIndex}`;
}

/**
 * Upstream RepackSubsets as the mirroring controller sees it: {@link regroupSubsets} with {@link mirroredPortIdentity}.
 * Addresses de-duplicated by IP + targetRef uid (first full address kept), not-ready winning over ready, one subset
 * per distinct address-to-readiness map, addresses sorted by IP bytes then targetRef uid. Returns new objects.
 */
export function repackSubsets(subsets: readonly Readonly<EndpointSubset>[] | null | undefined): EndpointSubset[] {
  return regroupSubsets(subsets, mirroredPortIdentity);
}
