import type { EndpointSubset } from '../../api/core/v1.ts';

// The 1000-address cap of the Endpoints controller (endpoints_controller.go: truncateEndpoints, addressSubset).
// Endpoints are deprecated and capped; consumers that need more read EndpointSlices.

/** Most addresses (ready + not ready) one Endpoints object carries. */
export const MAX_ENDPOINTS_CAPACITY = 1000;

/** Total ready + not-ready addresses over all subsets. */
export function countAddresses(subsets: readonly Readonly<EndpointSubset>[] | undefined): number {
  let n = 0;
  for (const s of subsets ?? []) n += (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0);
  return n;
}

/**
 * Truncates subsets that together hold more than `max` addresses. Ready addresses win: when they fit, all are kept and
 * the remaining room is shared among not-ready addresses; otherwise every not-ready address goes and `max` is shared
 * among ready ones. Each subset, in order, gets ceil(its share × room), capped by what is left, and keeps the first
 * addresses in its (sorted) order, so later subsets may get less than their share. Pure; `truncated` is false (and the
 * input returned as is) when nothing had to go.
 */
export function truncateSubsets(
  subsets: readonly Readonly<EndpointSubset>[],
  max: number = MAX_ENDPOINTS_CAPACITY,
): { subsets: readonly Readonly<EndpointSubset>[]; truncated: boolean } {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const s of subsets) {
    totalReady += s.addresses?.length ?? 0;
    totalNotReady += s.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= max) return { subsets, truncated: false };

  const truncateReady = totalReady > max;
  const room = truncateReady ? max : max - totalReady;
  const total = truncateReady ? totalReady : totalNotReady;
  let left = room;
  const out = subsets.map((s): EndpointSubset => {
    const candidates = (truncateReady ? s.addresses : s.notReadyAddresses) ?? [];
    // Same float arithmetic as upstream (float64 division, then multiplication) so the rounding matches.
    const share = Math.min(Math.ceil((candidates.length / total) * room), left);
    const kept = candidates.length <= share ? candidates : candidates.slice(0, share);
    left -= kept.length;
    // Emptied lists are left out rather than sent as []: Go's encoder omits empty slices, so the wire body is the same.
    const { addresses: _ready, notReadyAddresses: _notReady, ...rest } = s;
    const ready = truncateReady ? kept : (s.addresses ?? []);
    const notReady = truncateReady ? [] : kept;
    return {
      ...rest,
      ...(ready.length > 0 ? { addresses: [...ready] } : {}),
      ...(notReady.length > 0 ? { notReadyAddresses: [...notReady] } : {}),
    };
  });
  return { subsets: out, truncated: true };
}
