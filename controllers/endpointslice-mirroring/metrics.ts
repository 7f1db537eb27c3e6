import { Counter, exponentialBuckets, Gauge, Histogram, type Registry } from 'prom-client';

// kube-controller-manager's mirroring metrics under their upstream names (endpointslicemirroring metrics/metrics.go),
// so dashboards and alerts written for it work unchanged.

const SUBSYSTEM = 'endpoint_slice_mirroring_controller';

function reuse<T>(registry: Registry, name: string, make: () => T, guard: (m: unknown) => m is T): T {
  const existing = registry.getSingleMetric(name);
  if (existing !== undefined) {
    if (!guard(existing)) throw new Error(`metric ${name} is already registered with another type`);
    return existing;
  }
  return make();
}

const isHistogram = (m: unknown): m is Histogram => m instanceof Histogram;
const isGauge = (m: unknown): m is Gauge => m instanceof Gauge;
const isCounter = (m: unknown): m is Counter<'operation'> => m instanceof Counter;

/**
 * The mirroring controller's metrics, registered on the given registry. Constructing it twice on one registry returns
 * views of the same series (so a restarted controller in one process does not throw "already registered").
 */
export class EndpointSliceMirroringMetrics {
  /** Endpoints added per sync. */
  readonly endpointsAddedPerSync: Histogram;
  /** Endpoints whose fields changed per sync. */
  readonly endpointsUpdatedPerSync: Histogram;
  /** Endpoints removed per sync. */
  readonly endpointsRemovedPerSync: Histogram;
  /** Addresses not mirrored per sync: invalid, or over the per-subset cap. */
  readonly addressesSkippedPerSync: Histogram;
  /** Duration of one sync, seconds (millisecond resolution, as upstream). */
  readonly endpointsSyncDuration: Histogram;
  /** Endpoints desired across all mirrored Endpoints objects. */
  readonly endpointsDesired: Gauge;
  /** Mirrored EndpointSlices. */
  readonly numEndpointSlices: Gauge;
  /** Mirrored EndpointSlices with perfect packing. */
  readonly desiredEndpointSlices: Gauge;
  /** Slice writes by operation; every label value starts at 0. */
  readonly changes: Counter<'operation'>;

  constructor(registry: Registry) {
    const histogram = (name: string, help: string, buckets: number[]) => {
      const full = `${SUBSYSTEM}_${name}`;
      return reuse(registry, full, () => new Histogram({ name: full, help, buckets, registers: [registry] }), isHistogram);
    };
    const gauge = (name: string, help: string) => {
      const full = `${SUBSYSTEM}_${name}`;
      return reuse(registry, full, () => new Gauge({ name: full, help, registers: [registry] }), isGauge);
    };
    const counts = exponentialBuckets(2, 2, 15);
    this.endpointsAddedPerSync = histogram('endpoints_added_per_sync', 'Number of endpoints added on each Endpoints sync', counts);
    this.endpointsUpdatedPerSync = histogram('endpoints_updated_per_sync', 'Number of endpoints updated on each Endpoints sync', counts);
    this.endpointsRemovedPerSync = histogram('endpoints_removed_per_sync', 'Number of endpoints removed on each Endpoints sync', counts);
    this.addressesSkippedPerSync = histogram(
      'addresses_skipped_per_sync',
      'Number of addresses skipped on each Endpoints sync due to being invalid or exceeding MaxEndpointsPerSubset',
      counts,
    );
    this.endpointsSyncDuration = histogram(
      'endpoints_sync_duration',
      'Duration of syncEndpoints() in seconds',
      exponentialBuckets(0.001, 2, 15),
    );
    this.endpointsDesired = gauge('endpoints_desired', 'Number of endpoints desired');
    this.numEndpointSlices = gauge('num_endpoint_slices', 'Number of EndpointSlices');
    this.desiredEndpointSlices = gauge(
      'desired_endpoint_slices',
      'Number of EndpointSlices that would exist with perfect endpoint allocation',
    );
    const changesName = `${SUBSYSTEM}_changes`;
    this.changes = reuse(
      registry,
      changesName,
      () => new Counter({ name: changesName, help: 'Number of EndpointSlice changes', labelNames: ['operation'], registers: [registry] }),
      isCounter,
    );
    for (const operation of ['create', 'update', 'delete'] as const) this.changes.inc({ operation }, 0);
  }
}
