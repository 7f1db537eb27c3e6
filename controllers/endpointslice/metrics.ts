import { Counter, exponentialBuckets, Gauge, Histogram, type Metric, type Registry } from 'prom-client';
import type { SliceOperation } from '../shared/slice-writer.ts';
import type { PortGroupEfficiency } from './plan.ts';

// The EndpointSlice controller's metrics under upstream's names (subsystem endpoint_slice_controller, no namespace,
// k8s.io/endpointslice metrics/metrics.go and metrics/cache.go: Cache.updateMetrics), so dashboards built for
// kube-controller-manager read ours unchanged.

const SUBSYSTEM = 'endpoint_slice_controller';
/** Prometheus' default histogram buckets (Go's prometheus.DefBuckets), used upstream for changed-per-sync. */
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type SyncResult = 'success' | 'stale' | 'error';

// prom-client refuses to register a name twice; upstream registers its families once per process, so do the same.
function reuse<M extends Metric>(registry: Registry, name: string, type: abstract new (...args: never[]) => M, create: () => M): M {
  const existing = registry.getSingleMetric(name);
  if (existing === undefined) return create();
  if (!(existing instanceof type)) throw new TypeError(`metric ${name} is already registered with another type`);
  return existing;
}

/** Upstream numDesiredSlices: 0 for no endpoints, else ceil(endpoints / max). */
function desiredSlices(endpoints: number, maxEndpointsPerSlice: number): number {
  return endpoints === 0 ? 0 : Math.ceil(endpoints / maxEndpointsPerSlice);
}

/** Totals of one Service's port groups; desired slices are at least 1 (the placeholder). */
function totals(
  groups: readonly PortGroupEfficiency[],
  maxEndpointsPerSlice: number,
): { actual: number; desired: number; endpoints: number } {
  let actual = 0;
  let desired = 0;
  let endpoints = 0;
  for (const g of groups) {
    actual += g.slices;
    desired += desiredSlices(g.endpoints, maxEndpointsPerSlice);
    endpoints += g.endpoints;
  }
  return { actual, desired: desired === 0 ? 1 : desired, endpoints };
}

/**
 * The controller's metric families plus upstream's metrics cache (per-Service endpoint and slice counts behind the
 * three gauges, and the Services per trafficDistribution). One instance per controller; families are shared if a
 * registry is given twice. Not thread-sensitive: Node runs callers one at a time.
 */
export class EndpointSliceMetrics {
  readonly #maxEndpointsPerSlice: number;
  readonly #added: Histogram;
  readonly #removed: Histogram;
  readonly #endpointsDesired: Gauge;
  readonly #numSlices: Gauge;
  readonly #desiredSlices: Gauge;
  readonly #changes: Counter<'operation'>;
  readonly #changedPerSync: Histogram<'topology' | 'traffic_distribution'>;
  readonly #syncs: Counter<'result'>;
  readonly #byTrafficDistribution: Gauge<'traffic_distribution'>;

  readonly #portCaches = new Map<string, readonly PortGroupEfficiency[]>();
  readonly #servicesByTrafficDistribution = new Map<string, Set<string>>();
  #numEndpoints = 0;
  #numSlicesActual = 0;
  #numSlicesDesired = 0;

  /** Registers (or reuses) the families on `registry`. `maxEndpointsPerSlice` sizes the desired-slices gauge. */
  constructor(registry: Registry, maxEndpointsPerSlice: number) {
    this.#maxEndpointsPerSlice = maxEndpointsPerSlice;
    const registers = [registry];
    const name = (n: string) => `${SUBSYSTEM}_${n}`;
    const perSyncHistogram = (n: string, help: string) =>
      reuse(registry, name(n), Histogram, () => new Histogram({ name: name(n), help, buckets: exponentialBuckets(2, 2, 15), registers }));
    this.#added = perSyncHistogram('endpoints_added_per_sync', 'Number of endpoints added on each Service sync');
    this.#removed = perSyncHistogram('endpoints_removed_per_sync', 'Number of endpoints removed on each Service sync');
    const gauge = (n: string, help: string) => reuse(registry, name(n), Gauge, () => new Gauge({ name: name(n), help, registers }));
    this.#endpointsDesired = gauge('endpoints_desired', 'Number of endpoints desired');
    this.#numSlices = gauge('num_endpoint_slices', 'Number of EndpointSlices');
    this.#desiredSlices = gauge('desired_endpoint_slices', 'Number of EndpointSlices that would exist with perfect endpoint allocation');
    this.#changes = reuse(
      registry,
      name('changes'),
      Counter,
      () => new Counter({ name: name('changes'), help: 'Number of EndpointSlice changes', labelNames: ['operation'], registers }),
    );
    this.#changedPerSync = reuse(
      registry,
      name('endpointslices_changed_per_sync'),
      Histogram,
      () =>
        new Histogram({
          name: name('endpointslices_changed_per_sync'),
          help: 'Number of EndpointSlices changed on each Service sync',
          labelNames: ['topology', 'traffic_distribution'],
          buckets: DEFAULT_BUCKETS,
          registers,
        }),
    );
    this.#syncs = reuse(
      registry,
      name('syncs'),
      Counter,
      () => new Counter({ name: name('syncs'), help: 'Number of EndpointSlice syncs', labelNames: ['result'], registers }),
    );
    this.#byTrafficDistribution = reuse(
      registry,
      name('services_count_by_traffic_distribution'),
      Gauge,
      () =>
        new Gauge({
          name: name('services_count_by_traffic_distribution'),
          help: 'Number of Services using some specific trafficDistribution',
          labelNames: ['traffic_distribution'],
          registers,
        }),
    );
    for (const op of ['create', 'update', 'delete'] as const) this.#changes.inc({ operation: op }, 0);
    for (const result of ['success', 'stale', 'error'] as const) this.#syncs.inc({ result }, 0);
  }

  /** Observes the endpoints added and removed by one address type's reconcile (upstream observes per address type). */
  observeEndpointChanges(added: number, removed: number): void {
    this.#added.observe(added);
    this.#removed.observe(removed);
  }

  /**
   * Replaces the Service's entry of the metrics cache and refreshes the three gauges. Upstream keys the cache by
   * Service only, so for a dual-stack Service the last address type reconciled wins; kept for parity.
   */
  updateServicePortCache(serviceKey: string, groups: readonly PortGroupEfficiency[]): void {
    const previous = this.#portCaches.get(serviceKey);
    const before = previous === undefined ? { actual: 0, desired: 0, endpoints: 0 } : totals(previous, this.#maxEndpointsPerSlice);
    const now = totals(groups, this.#maxEndpointsPerSlice);
    this.#numEndpoints += now.endpoints - before.endpoints;
    this.#numSlicesDesired += now.desired - before.desired;
    this.#numSlicesActual += now.actual - before.actual;
    this.#portCaches.set(serviceKey, groups);
    this.#refreshGauges();
  }

  /** Records which trafficDistribution (if any) the Service uses for hints. */
  updateTrafficDistribution(serviceKey: string, trafficDistribution: string | undefined): void {
    for (const services of this.#servicesByTrafficDistribution.values()) services.delete(serviceKey);
    if (trafficDistribution !== undefined) {
      const services = this.#servicesByTrafficDistribution.get(trafficDistribution) ?? new Set<string>();
      services.add(serviceKey);
      this.#servicesByTrafficDistribution.set(trafficDistribution, services);
    }
    this.#refreshGauges();
  }

  /** Forgets a deleted Service and subtracts its counts. */
  deleteService(serviceKey: string): void {
    for (const services of this.#servicesByTrafficDistribution.values()) services.delete(serviceKey);
    const previous = this.#portCaches.get(serviceKey);
    if (previous === undefined) return;
    const before = totals(previous, this.#maxEndpointsPerSlice);
    this.#numEndpoints -= before.endpoints;
    this.#numSlicesDesired -= before.desired;
    this.#numSlicesActual -= before.actual;
    this.#portCaches.delete(serviceKey);
    this.#refreshGauges();
  }

  /** Counts one successful write. */
  countChange(operation: SliceOperation): void {
    this.#changes.inc({ operation });
  }

  /** Observes the slices written by one address type's finalize (creates, updates and deletes of the plan). */
  observeSlicesChanged(topology: 'Auto' | 'Disabled', trafficDistribution: string | undefined, count: number): void {
    this.#changedPerSync.observe({ topology, traffic_distribution: trafficDistribution ?? '' }, count);
  }

  /** Counts one sync by outcome. */
  countSync(result: SyncResult): void {
    this.#syncs.inc({ result });
  }

  #refreshGauges(): void {
    this.#numSlices.set(this.#numSlicesActual);
    this.#desiredSlices.set(this.#numSlicesDesired);
    this.#endpointsDesired.set(this.#numEndpoints);
    this.#byTrafficDistribution.reset();
    for (const [value, services] of this.#servicesByTrafficDistribution)
      this.#byTrafficDistribution.set({ traffic_distribution: value }, services.size);
  }
}
