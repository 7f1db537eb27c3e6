import { objectReferenceOf, splitKey } from '../../api/core/meta.ts';
import type { Node, Pod, Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../../api/labels.ts';
import type { ApiClient } from '../runtime/api-client.ts';
import { describeError } from '../runtime/api-errors.ts';
import type { Store } from '../runtime/cache/store.ts';
import type { EventRecorder } from '../runtime/manager-types.ts';
import { done, type ReconcileContext, type Reconciler, type Request, type Result, StaleCacheError } from '../runtime/reconcile.ts';
import { SelectedPods } from '../shared/selected-pods.ts';
import type { TriggerTimeTracker } from '../shared/trigger-time-tracker.ts';
import type { EndpointSliceMetrics } from './metrics.ts';
import { type AddressTypePlan, reconcileSlices, type SlicePlan, type TopologyHintsCache } from './plan.ts';
import type { CacheCatchUp } from '../shared/cache-catch-up.ts';
import type { EndpointSliceTracker } from '../shared/endpoint-slice-tracker.ts';
import { applySlicePlan, type SliceWriterContext } from '../shared/slice-writer.ts';

// The EndpointSlice controller's reconcile of one Service key: upstream Controller.syncService plus the writing half of
// Reconciler (reconciler.go: Reconciler.finalize). Reads come from the informer caches, the plan from the pure
// reconcileSlices, and finalize alone talks to the API server.

/** Index of the EndpointSlice store: `namespace/<kubernetes.io/service-name label>`. */
export const SLICES_BY_SERVICE_INDEX = 'endpointslice.kubernetes.io/service';

/** The index function behind {@link SLICES_BY_SERVICE_INDEX}; slices without the label are not indexed. */
export function slicesByServiceIndex(slice: Readonly<EndpointSlice>): readonly string[] {
  const name = slice.metadata.labels?.[LABEL_SERVICE_NAME];
  return name === undefined ? [] : [`${slice.metadata.namespace ?? ''}/${name}`];
}

/** Settings of {@link EndpointSliceReconciler}. */
export interface EndpointSliceReconcilerOptions {
  /** `--max-endpoints-per-slice`, 1..1000. */
  readonly maxEndpointsPerSlice: number;
  /** The managed-by label value this controller owns (`endpointslice-controller.k8s.io` upstream). */
  readonly managedBy: string;
  /** PreferSameTrafficDistribution gate; default true (locked on since v1.35). */
  readonly preferSameTrafficDistribution?: boolean;
}

/** Everything the reconciler reads and writes through; all injected so tests can use in-memory fakes. */
export interface EndpointSliceReconcilerDeps {
  readonly services: Store<Service>;
  /** Must have the namespace index. */
  readonly pods: Store<Pod>;
  readonly nodes: Store<Node>;
  /** Must have {@link SLICES_BY_SERVICE_INDEX}. May hold other managers' slices: they are filtered out. */
  readonly endpointSlices: Store<EndpointSlice>;
  readonly client: ApiClient;
  readonly events: EventRecorder;
  readonly tracker: EndpointSliceTracker;
  /** Where a sync refused as stale waits for the echo of our write (controllers/shared/cache-catch-up.ts). */
  readonly catchUp: CacheCatchUp;
  readonly triggerTimeTracker: TriggerTimeTracker;
  readonly metrics: EndpointSliceMetrics;
  /** Annotation-mode topology hints; absent behaves as upstream's nil cache. */
  readonly topologyCache?: TopologyHintsCache;
  readonly options: EndpointSliceReconcilerOptions;
}

/**
 * A sync that failed after writing what it could: Pods on unknown Nodes, or a failed API write. Its message follows
 * upstream's aggregate format (`a` or `[a, b]`); `errors` holds each failure, with the API error as its `cause`.
 */
export class EndpointSliceSyncError extends Error {
  override readonly name = 'EndpointSliceSyncError';
  readonly errors: readonly Error[];

  constructor(errors: readonly Error[]) {
    const messages = [...new Set(errors.map((e) => e.message))];
    super(messages.length === 1 ? (messages[0] ?? '') : `[${messages.join(', ')}]`, { cause: errors[0] });
    this.errors = errors;
  }
}

/**
 * Reconciles the EndpointSlices of one Service key. Safe to run concurrently for different keys (the work queue never
 * runs one key twice at once). Throws {@link StaleCacheError} when the slice cache lags behind this controller's own
 * writes, and {@link EndpointSliceSyncError} when any part of the sync failed; both are retried by the controller.
 */
export class EndpointSliceReconciler implements Reconciler {
  readonly #deps: EndpointSliceReconcilerDeps;
  readonly #selectedPods: SelectedPods;

  constructor(deps: EndpointSliceReconcilerDeps) {
    this.#deps = deps;
    this.#selectedPods = new SelectedPods(deps.pods);
  }

  async reconcile(request: Request, ctx: ReconcileContext): Promise<Result> {
    try {
      const result = await this.#sync(request.key, ctx);
      this.#deps.metrics.countSync('success');
      return result;
    } catch (err) {
      this.#deps.metrics.countSync(err instanceof StaleCacheError ? 'stale' : 'error');
      throw err;
    }
  }

  async #sync(key: string, ctx: ReconcileContext): Promise<Result> {
    const deps = this.#deps;
    const { namespace, name } = splitKey(key);
    const service = deps.services.get(key);
    if (service === undefined) {
      // Slices are left to the garbage collector (they carry a controller owner reference to the Service).
      deps.triggerTimeTracker.deleteService(namespace, name);
      deps.metrics.deleteService(key);
      deps.tracker.deleteService(namespace, name);
      deps.catchUp.forget(key);
      this.#selectedPods.forget(key);
      return done();
    }
    // Neither kind gets slices from this controller, and existing ones are left alone (upstream issue #118376).
    if (service.spec.type === 'ExternalName' || service.spec.selector === undefined) {
      this.#selectedPods.forget(key);
      return done();
    }

    const pods = this.#selectedPods.select(key, namespace, service.spec.selector);
    const slices = deps.endpointSlices
      .byIndex(SLICES_BY_SERVICE_INDEX, key)
      .filter(
        (s) =>
          s.metadata.labels?.[LABEL_MANAGED_BY] === deps.options.managedBy &&
          s.metadata.labels[LABEL_SERVICE_NAME] === name &&
          s.metadata.deletionTimestamp === undefined,
      );
    if (deps.tracker.staleSlices(namespace, name, slices)) {
      deps.catchUp.wait(key);
      throw new StaleCacheError('EndpointSlice informer cache is out of date');
    }

    // Computed on every sync, even one that writes nothing, so the tracker's state advances as upstream's does.
    const triggerTime = deps.triggerTimeTracker.computeEndpointLastChangeTriggerTime(namespace, service, pods);
    const plan = reconcileSlices({
      service,
      pods,
      nodes: deps.nodes,
      existingSlices: slices,
      maxEndpointsPerSlice: deps.options.maxEndpointsPerSlice,
      triggerTime,
      managedBy: deps.options.managedBy,
      preferSameTrafficDistribution: deps.options.preferSameTrafficDistribution ?? true,
      ...(deps.topologyCache === undefined ? {} : { topologyCache: deps.topologyCache }),
    });
    const errors = await this.#finalize(service, plan, ctx);
    if (errors.length > 0) {
      const err = new EndpointSliceSyncError(errors);
      deps.events.event(
        objectReferenceOf(service, 'v1', 'Service'),
        'Warning',
        'FailedToUpdateEndpointSlices',
        `Error updating Endpoint Slices for Service ${key}: ${err.message}`,
      );
      throw err;
    }
    return done();
  }

  /**
   * Applies the plan: per address type creates (skipped while the Service is being deleted, so as not to race the
   * garbage collector), updates and deletes, stopping that address type at its first failure; then the deletes of
   * unsupported address types. Returns every failure. An empty plan makes no call.
   */
  async #finalize(service: Readonly<Service>, plan: SlicePlan, ctx: ReconcileContext): Promise<Error[]> {
    const deps = this.#deps;
    const key = `${service.metadata.namespace ?? ''}/${service.metadata.name ?? ''}`;
    const errors: Error[] = [];
    for (const typePlan of plan.addressTypes) {
      deps.metrics.observeEndpointChanges(typePlan.endpointsAdded, typePlan.endpointsRemoved);
      deps.metrics.updateServicePortCache(key, typePlan.portGroups);
      deps.metrics.updateTrafficDistribution(key, plan.trafficDistribution);
      errors.push(...typePlan.errors.map((m) => new Error(m)));
      const failure = await this.#applyAddressType(service, typePlan, ctx);
      if (failure === undefined) {
        const changed = typePlan.toCreate.length + typePlan.toUpdate.length + typePlan.toDelete.length;
        deps.metrics.observeSlicesChanged(plan.topologyLabel, plan.trafficDistribution, changed);
      } else if (failure !== 'namespace-terminating') {
        errors.push(failure);
      }
      for (const event of typePlan.events)
        deps.events.event(objectReferenceOf(service, 'v1', 'Service'), event.type, event.reason, event.message);
    }
    for (const slice of plan.toDeleteUnsupported) {
      const err = await this.#delete(service, slice, ctx);
      if (err !== undefined) {
        errors.push(
          new Error(`error deleting ${slice.metadata.name} EndpointSlice for Service ${key}: ${describeError(err).message}`, {
            cause: err,
          }),
        );
      }
    }
    return errors;
  }

  /** Upstream finalize for one address type, after recycling. Returns the failure that stopped it, if any. */
  async #applyAddressType(
    service: Readonly<Service>,
    plan: AddressTypePlan,
    ctx: ReconcileContext,
  ): Promise<Error | 'namespace-terminating' | undefined> {
    const outcome = await applySlicePlan(this.#writer(service, ctx), plan, {
      skipCreates: service.metadata.deletionTimestamp !== undefined,
    });
    switch (outcome.kind) {
      case 'applied':
        return undefined;
      case 'namespace-terminating':
        return 'namespace-terminating';
      case 'failed':
        return new Error(outcome.message, { cause: outcome.cause });
      case 'stale':
        return outcome.error;
    }
  }

  /** Upstream deleteEndpointSlice: an already deleted slice is fine (and then neither tracked nor counted). */
  async #delete(service: Readonly<Service>, slice: Readonly<EndpointSlice>, ctx: ReconcileContext): Promise<unknown> {
    const outcome = await applySlicePlan(this.#writer(service, ctx), { toCreate: [], toUpdate: [], toDelete: [slice] });
    return outcome.kind === 'failed' ? outcome.cause : undefined;
  }

  #writer(service: Readonly<Service>, ctx: ReconcileContext): SliceWriterContext {
    const namespace = service.metadata.namespace ?? '';
    const { client, tracker, metrics } = this.#deps;
    const owner = `Service ${namespace}/${service.metadata.name ?? ''}`;
    return { ...ctx, client, tracker, namespace, owner, onWrite: (operation) => metrics.countChange(operation) };
  }
}
