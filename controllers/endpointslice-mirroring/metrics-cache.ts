import type { GroupEfficiency } from './plan.ts';
import type { EndpointSliceMirroringMetrics } from './metrics.ts';

// The three gauges are totals over every mirrored Endpoints object, while a sync only knows its own object. Upstream
// keeps the last figures of each object and recomputes the totals on every change (metrics/cache.go).

/**
 * Last known desired endpoints and slice counts per Endpoints key and group, feeding the `endpoints_desired`,
 * `num_endpoint_slices` and `desired_endpoint_slices` gauges. Desired slices per group = ceil(endpoints / max).
 */
export class MirroringMetricsCache {
  readonly #metrics: EndpointSliceMirroringMetrics;
  readonly #maxEndpointsPerSlice: number;
  readonly #byEndpoints = new Map<string, ReadonlyMap<string, GroupEfficiency>>();

  constructor(metrics: EndpointSliceMirroringMetrics, maxEndpointsPerSlice: number) {
    this.#metrics = metrics;
    this.#maxEndpointsPerSlice = maxEndpointsPerSlice;
  }

  /** Replaces the figures of one Endpoints object (`namespace/name`) and updates the gauges. */
  update(endpointsKey: string, groups: ReadonlyMap<string, GroupEfficiency>): void {
    this.#byEndpoints.set(endpointsKey, groups);
    this.#publish();
  }

  /** Drops one Endpoints object; the gauges change only if it was known, as upstream. */
  delete(endpointsKey: string): void {
    if (this.#byEndpoints.delete(endpointsKey)) this.#publish();
  }

  #publish(): void {
    let endpoints = 0;
    let actual = 0;
    let desired = 0;
    for (const groups of this.#byEndpoints.values()) {
      for (const g of groups.values()) {
        endpoints += g.endpoints;
        actual += g.slices;
        desired += Math.ceil(g.endpoints / this.#maxEndpointsPerSlice);
      }
    }
    this.#metrics.endpointsDesired.set(endpoints);
    this.#metrics.numEndpointSlices.set(actual);
    this.#metrics.desiredEndpointSlices.set(desired);
  }
}
