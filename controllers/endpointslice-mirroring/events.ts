// Event reasons of the mirroring controller (endpointslicemirroring events.go) and the warnings a sync emits about
// addresses it could not mirror. Only the last two reasons are emitted; the first two are defined upstream and kept for
// parity.

/** Defined upstream for a failed slice list; never emitted (listing reads the cache). */
export const REASON_FAILED_TO_LIST_ENDPOINT_SLICES = 'FailedToListEndpointSlices';
/** Defined upstream for failed slice writes; never emitted (failures are logged and retried). */
export const REASON_FAILED_TO_UPDATE_ENDPOINT_SLICES = 'FailedToUpdateEndpointSlices';
/** Warning: some addresses of the Endpoints object are not IPs and were not mirrored. */
export const REASON_INVALID_IP_ADDRESS = 'InvalidIPAddress';
/** Warning: a subset had more addresses than the per-subset cap; the rest were not mirrored. */
export const REASON_TOO_MANY_ADDRESSES_TO_MIRROR = 'TooManyAddressesToMirror';

/** A Warning event to record on the Endpoints object. */
export interface MirroringWarning {
  readonly reason: typeof REASON_INVALID_IP_ADDRESS | typeof REASON_TOO_MANY_ADDRESSES_TO_MIRROR;
  readonly message: string;
}

/**
 * The warnings for one sync, in upstream's order: one for invalid IPs if any, and one for the cap when more addresses
 * were skipped than were invalid. The cap message reports the total skipped count, invalid ones included, as upstream.
 */
export function skippedAddressWarnings(invalid: number, skipped: number, maxEndpointsPerSubset: number): MirroringWarning[] {
  const out: MirroringWarning[] = [];
  if (invalid > 0) {
    out.push({
      reason: REASON_INVALID_IP_ADDRESS,
      message: `Skipped ${invalid} invalid IP addresses when mirroring to EndpointSlices`,
    });
  }
  if (skipped > invalid) {
    out.push({
      reason: REASON_TOO_MANY_ADDRESSES_TO_MIRROR,
      message: `A max of ${maxEndpointsPerSubset} addresses can be mirrored to EndpointSlices per Endpoints subset. ${skipped} addresses were skipped`,
    });
  }
  return out;
}
