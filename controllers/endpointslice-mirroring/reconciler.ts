import { objectReferenceOf, splitKey } from '../../api/core/meta.ts';
import type { Endpoints, Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import type { ApiClient } from '../runtime/api-client.ts';
import { describeError } from '../runtime/api-errors.ts';
import type { Store } from '../runtime/cache/store.ts';
import type { Clock } from '../runtime/clock.ts';
import type { EventRecorder } from '../runtime/manager-types.ts';
import { done, type ReconcileContext, type Reconciler, type Request, type Result, StaleCacheError } from '../runtime/reconcile.ts';
import { ENDPOINT_SLICES } from '../runtime/resource.ts';
import { desiredMirroredSlices } from './desired.ts';
import { skippedAddressWarnings } from './events.ts';
import type { EndpointSliceMirroringMetrics } from './metrics.ts';
import { MirroringMetricsCache } from './metrics-cache.ts';
import { byName, MIRRORED_SLICES_INDEX } from './mirrored-slices.ts';
import { type MirroringPlan, planMirroredSlices } from './plan.ts';
import { mirroringDecision, type NotMirroredReason } from './should-mirror.ts';
import type { EndpointSliceTracker } from '../shared/endpoint-slice-tracker.ts';
import { applySlicePlanOrThrow, type SliceOperation } from '../shared/slice-writer.ts';

// One sync of one Endpoints object (endpointslicemirroring_controller.go: syncEndpoints + reconciler.go:
// reconciler.reconcile): read the caches, decide, compute the plan with pure functions, then write in one place. A sync
// whose plan is empty makes no API call at all.

/** A write of the sync failed; the key is retried with backoff. `cause` is the API error. */
export class EndpointSliceMirroringSyncError extends Error {
  override readonly name = 'EndpointSliceMirroringSyncError';
}

/** What the reconciler reads and writes through; all injected so tests run on in-memory stores and a fake client. */
export interface EndpointSliceMirroringReconcilerDeps {
  readonly endpoints: Store<Endpoints>;
  readonly services: Store<Service>;
  /** Must have the {@link MIRRORED_SLICES_INDEX} index. */
  readonly endpointSlices: Store<EndpointSlice>;
  readonly client: ApiClient;
  readonly clock: Clock;
  readonly recorder: EventRecorder;
  readonly tracker: EndpointSliceTracker;
  readonly metrics: EndpointSliceMirroringMetrics;
  /** Addresses mirrored per Endpoints subset, 1..1000 (`--mirroring-max-endpoints-per-subset`, default 1000). */
  readonly maxEndpointsPerSubset: number;
}

/**
 * Reconciles the EndpointSlices mirrored from one selector-less Service's Endpoints. Key: the Endpoints (and Service)
 * `namespace/name`. Deletes every mirrored slice as soon as mirroring stops applying (Endpoints or Service gone,
 * skip-mirror label, leader-election lock, Service selector set). Throws {@link StaleCacheError} when the slice cache is
 * behind this controller's own writes, {@link EndpointSliceMirroringSyncError} when a write fails. Safe to call
 * concurrently for different keys.
 */
export class EndpointSliceMirroringReconciler implements Reconciler {
  readonly #deps: EndpointSliceMirroringReconcilerDeps;
  readonly #metricsCache: MirroringMetricsCache;

  constructor(deps: EndpointSliceMirroringReconcilerDeps) {
    if (!Number.isInteger(deps.maxEndpointsPerSubset) || deps.maxEndpointsPerSubset < 1 || deps.maxEndpointsPerSubset > 1000) {
      throw new RangeError(`maxEndpointsPerSubset must be an integer in 1..1000, got ${deps.maxEndpointsPerSubset}`);
    }
    this.#deps = deps;
    this.#metricsCache = new MirroringMetricsCache(deps.metrics, deps.maxEndpointsPerSubset);
  }

  async reconcile(request: Request, ctx: ReconcileContext): Promise<Result> {
    const started = this.#deps.clock.now();
    try {
      await this.#sync(request.key, ctx);
      return done();
    } finally {
      // Upstream truncates to whole milliseconds before converting to seconds.
      this.#deps.metrics.endpointsSyncDuration.observe(Math.floor(this.#deps.clock.now() - started) / 1000);
    }
  }

  async #sync(key: string, ctx: ReconcileContext): Promise<void> {
    const { namespace, name } = splitKey(key);
    const decision = mirroringDecision(this.#deps.endpoints.get(key), this.#deps.services.get(key));
    if (!decision.mirror) {
      this.#deps.tracker.deleteService(namespace, name);
      await this.#deleteMirroredSlices(key, decision.reason, ctx);
      return;
    }
    const endpoints = decision.endpoints;

    const existing = [...this.#deps.endpointSlices.byIndex(MIRRORED_SLICES_INDEX, key)].sort(byName);
    if (this.#deps.tracker.staleSlices(namespace, name, existing)) {
      throw new StaleCacheError(`EndpointSlice informer cache is out of date for Endpoints ${key}`);
    }

    const max = this.#deps.maxEndpointsPerSubset;
    const desired = desiredMirroredSlices(endpoints, max);
    this.#deps.metrics.addressesSkippedPerSync.observe(desired.addressesSkipped);
    if (desired.invalidIPs.length > 0) {
      ctx.logger.info(
        { count: desired.invalidIPs.length, sample: desired.invalidIPs.slice(0, 10) },
        'Skipped invalid IP addresses in Endpoints',
      );
    }
    if (desired.addressesSkipped > desired.invalidIPs.length) {
      ctx.logger.info({ skippedAddresses: desired.addressesSkipped }, 'Skipped addresses over MaxEndpointsPerSubset');
    }
    const ref = objectReferenceOf(endpoints, 'v1', 'Endpoints');
    for (const w of skippedAddressWarnings(desired.invalidIPs.length, desired.addressesSkipped, max)) {
      this.#deps.recorder.event(ref, 'Warning', w.reason, w.message);
    }

    const plan = planMirroredSlices(endpoints, existing, desired, max);
    this.#deps.metrics.endpointsAddedPerSync.observe(plan.totals.added);
    this.#deps.metrics.endpointsUpdatedPerSync.observe(plan.totals.updated);
    this.#deps.metrics.endpointsRemovedPerSync.observe(plan.totals.removed);
    this.#metricsCache.update(key, plan.efficiency);

    await this.#apply(key, plan, ctx);
  }

  /**
   * Writes the plan through the shared slice writer (endpointslicemirroring reconciler.go: finalize): stops at the first
   * failure, and a NotFound delete is a failure too, as upstream's finalize makes it.
   */
  async #apply(key: string, plan: MirroringPlan, ctx: ReconcileContext): Promise<void> {
    const { client, tracker, metrics } = this.#deps;
    const writer = { ...ctx, client, tracker, namespace: splitKey(key).namespace, owner: `Endpoints ${key}` };
    const onWrite = (operation: SliceOperation) => metrics.changes.inc({ operation });
    await applySlicePlanOrThrow(
      { ...writer, onWrite },
      plan,
      { deleteNotFound: 'fail' },
      (m, o) => new EndpointSliceMirroringSyncError(m, o),
    );
  }

  /**
   * Upstream deleteMirroredSlices: deletes every slice this controller mirrored for `key`, trying all of them and
   * reporting the failures together. The tracker entry was dropped before, so the resulting delete events are ignored;
   * these deletes are not counted in the changes metric, as upstream.
   */
  async #deleteMirroredSlices(key: string, reason: NotMirroredReason, ctx: ReconcileContext): Promise<void> {
    const { namespace, name } = splitKey(key);
    const slices = [...this.#deps.endpointSlices.byIndex(MIRRORED_SLICES_INDEX, key)].sort(byName);
    this.#metricsCache.delete(key);
    const errors: unknown[] = [];
    for (const slice of slices) {
      const sliceName = slice.metadata.name ?? '';
      try {
        await this.#deps.client.delete(ENDPOINT_SLICES, namespace, sliceName, { signal: ctx.signal });
        ctx.logger.info({ endpointSlice: sliceName, reason }, 'Deleted mirrored EndpointSlice');
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) {
      throw new EndpointSliceMirroringSyncError(
        `error(s) deleting ${errors.length}/${slices.length} EndpointSlices for ${namespace}/${name} Endpoints, including: ${describeError(errors[0]).message}`,
        { cause: errors.length === 1 ? errors[0] : new AggregateError(errors) },
      );
    }
  }
}
