// When the Endpoints and EndpointSlice desired states remember what they built per Pod object (WeakMaps keyed by the
// cached Pod, so an entry lives as long as that Pod object; docs/performance.md, "Whole reconciles during a rollout").

/**
 * Fewest Pods a Service must select for its sync to remember per-Pod results. A sync of a small Service costs little
 * either way, while the memory does not: 50,000 Pods in small Services would hold about 40 MiB of entries, which the
 * shipped 256 MiB heap cannot spare. Above this size a rollout re-syncs the same few hundred or thousand Pods many
 * times, which is what the memo is for. Results are the same either way.
 */
export const PER_POD_MEMO_MIN_PODS = 256;
