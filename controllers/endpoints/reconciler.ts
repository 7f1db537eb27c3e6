import { z } from 'zod';
import { objectReferenceOf, splitKey } from '../../api/core/meta.ts';
import { type Endpoints, endpointsSchema, type Pod, type Service } from '../../api/core/v1.ts';
import type { ApiClient } from '../runtime/api-client.ts';
import { describeError, isNamespaceTerminating, isNotFound } from '../runtime/api-errors.ts';
import { withoutManagedFields } from '../runtime/cache/informer.ts';
import type { Store } from '../runtime/cache/store.ts';
import type { Clock } from '../runtime/clock.ts';
import type { EventRecorder } from '../runtime/manager-types.ts';
import { done, type ReconcileContext, type Reconciler, type Request, type Result, StaleCacheError } from '../runtime/reconcile.ts';
import { ENDPOINTS } from '../runtime/resource.ts';
import { SelectedPods } from '../shared/selected-pods.ts';
import type { TriggerTimeTracker } from '../shared/trigger-time-tracker.ts';
import { desiredSubsets, serviceHasManagedEndpoints } from './desired.ts';
import { type EndpointsPlan, planEndpoints } from './plan.ts';
import type { CacheCatchUp } from '../shared/cache-catch-up.ts';
import type { StaleEndpointsTracker } from './stale-endpoints-tracker.ts';
import type { WrittenEndpoints } from './written-endpoints.ts';

// The Endpoints controller's reconcile: read the caches, compute desired subsets and a plan with the pure functions,
// then make at most one API call (upstream endpoints_controller.go: syncService).

/** Everything the reconciler reads and writes through; all injected so tests and the parity suite can substitute. */
export interface EndpointsReconcilerDeps {
  readonly services: Store<Service>;
  /** Pods, with the namespace index. */
  readonly pods: Store<Pod>;
  readonly endpoints: Store<Endpoints>;
  /** A client with the `endpoint-controller` user agent. */
  readonly client: ApiClient;
  readonly clock: Clock;
  /** Recorder with the `endpoint-controller` event source. */
  readonly events: EventRecorder;
  /** Shared with nothing else: trigger times are per controller, as upstream. */
  readonly triggerTimes: TriggerTimeTracker;
  readonly staleEndpoints: StaleEndpointsTracker;
  /** Where a sync refused as stale waits for the echo of our write (controllers/shared/cache-catch-up.ts). */
  readonly catchUp: CacheCatchUp;
  /** Our own writes, read until the cache shows them (written-endpoints.ts). */
  readonly written: WrittenEndpoints;
  /** Address cap per Endpoints. Default 1000. */
  readonly maxCapacity?: number;
}

/** A write for one Endpoints failed; `cause` is the API error. Retried by the controller. */
export class EndpointsSyncError extends Error {
  override readonly name = 'EndpointsSyncError';
  readonly key: string;

  constructor(key: string, message: string, cause: unknown) {
    super(`${message} ${key}: ${describeError(cause).message}`, { cause });
    this.key = key;
  }
}

const writtenObjectSchema = z.object({ metadata: z.object({ resourceVersion: z.string().optional() }).optional() });

/**
 * Reconciles the Endpoints of the Service named by the key. Safe to run concurrently for different keys (the work
 * queue never runs one key twice at once, which the trackers rely on). Throws {@link StaleCacheError} when the cached
 * Endpoints is one this controller already replaced, and {@link EndpointsSyncError} when a write fails.
 */
export class EndpointsReconciler implements Reconciler {
  readonly #deps: EndpointsReconcilerDeps;
  readonly #selectedPods: SelectedPods;

  constructor(deps: EndpointsReconcilerDeps) {
    this.#deps = deps;
    this.#selectedPods = new SelectedPods(deps.pods);
  }

  async reconcile(request: Request, ctx: ReconcileContext): Promise<Result> {
    const deps = this.#deps;
    const started = deps.clock.now();
    const { namespace, name } = splitKey(request.key);
    const service = deps.services.get(request.key);

    if (service === undefined) {
      await this.#apply({ kind: 'delete', namespace, name }, request.key, ctx);
      deps.triggerTimes.deleteService(namespace, name);
      deps.staleEndpoints.delete(namespace, name);
      deps.catchUp.forget(request.key);
      deps.written.forget(request.key);
      this.#selectedPods.forget(request.key);
      return done();
    }
    // Checked before touching the trigger-time tracker, as upstream: these Services are not synced at all.
    if (!serviceHasManagedEndpoints(service)) {
      this.#selectedPods.forget(request.key);
      ctx.logger.debug(
        { type: service.spec.type, hasSelector: service.spec.selector !== undefined },
        'Skipped Service without managed Endpoints',
      );
      return done();
    }

    // selectPods (desired.ts): the Service's namespace and selector. A cached Service's namespace is its key's.
    const pods = service.metadata.namespace === namespace ? this.#selectedPods.select(request.key, namespace, service.spec.selector) : [];
    // Always called, even when nothing will be written, so the tracker's state advances as upstream's does.
    const triggerTime = deps.triggerTimes.computeEndpointLastChangeTriggerTime(namespace, service, pods);

    // Upstream computes the subsets before this check; they are pure, so computing them only when the sync goes on
    // changes nothing but the cost of a stale sync, which during a rollout is most syncs (docs/performance.md).
    // Our own last write while the cache has not shown it yet (written-endpoints.ts); then the check below passes.
    const existing = deps.written.current(request.key, deps.endpoints.get(request.key));
    if (existing !== undefined && deps.staleEndpoints.isStale(namespace, name, existing.metadata.resourceVersion)) {
      deps.catchUp.wait(request.key);
      throw new StaleCacheError(
        `endpoints informer cache is out of date, resource version ${existing.metadata.resourceVersion} already processed for endpoints ${request.key}`,
      );
    }
    const desired = desiredSubsets(service, pods);
    if (desired.skippedPods.length > 0) ctx.logger.trace({ skippedPods: desired.skippedPods }, 'Skipped Pods without an address');

    const plan = planEndpoints({
      namespace,
      name,
      service,
      existing,
      desiredSubsets: desired.subsets,
      triggerTime,
      ...(deps.maxCapacity !== undefined ? { maxCapacity: deps.maxCapacity } : {}),
    });
    await this.#apply(plan, request.key, ctx);
    ctx.logger.debug(
      {
        plan: plan.kind,
        readyEndpoints: desired.readyCount,
        notReadyEndpoints: desired.notReadyCount,
        durationMs: deps.clock.now() - started,
      },
      'Finished syncing Service endpoints',
    );
    return done();
  }

  // The only place that writes. At most one call per sync; `none` makes no call.
  async #apply(plan: EndpointsPlan, key: string, ctx: ReconcileContext): Promise<void> {
    const { client, events, staleEndpoints, written: ownWrites } = this.#deps;
    const { signal, logger } = ctx;
    switch (plan.kind) {
      case 'none':
        return;
      case 'delete':
        try {
          await client.delete(ENDPOINTS, plan.namespace, plan.name, { signal });
          logger.info('Deleted Endpoints');
        } catch (err) {
          if (isNotFound(err)) return;
          throw new EndpointsSyncError(key, 'Failed to delete endpoints', err);
        }
        return;
      case 'create': {
        const namespace = plan.object.metadata.namespace ?? '';
        try {
          await client.create(ENDPOINTS, namespace, plan.object, { signal });
          logger.info({ truncated: plan.truncated }, 'Created Endpoints');
        } catch (err) {
          // The namespace is going away with everything in it; retrying cannot succeed and is not needed.
          if (isNamespaceTerminating(err)) {
            logger.debug({ err: describeError(err) }, 'Skipped Endpoints create in terminating namespace');
            return;
          }
          events.event(
            objectReferenceOf(plan.object, 'v1', 'Endpoints'),
            'Warning',
            'FailedToCreateEndpoint',
            `Failed to create endpoint for service ${key}: ${describeError(err).message}`,
          );
          throw new EndpointsSyncError(key, 'Failed to create endpoints', err);
        }
        return;
      }
      case 'update': {
        const namespace = plan.object.metadata.namespace ?? '';
        const name = plan.object.metadata.name ?? '';
        let written: unknown;
        try {
          written = await client.update(ENDPOINTS, namespace, name, plan.object, { signal });
        } catch (err) {
          // The object this update started from is not the newest (a conflict) or may not be: read the cache again.
          ownWrites.forget(key);
          events.event(
            objectReferenceOf(plan.object, 'v1', 'Endpoints'),
            'Warning',
            'FailedToUpdateEndpoint',
            `Failed to update endpoint ${key}: ${describeError(err).message}`,
          );
          throw new EndpointsSyncError(key, 'Failed to update endpoints', err);
        }
        // Only a write that produced a new version makes the cached one stale: the API server answers a no-op update
        // (e.g. the truncated object it already has) with the same resourceVersion, and marking that would block the
        // key until the retry budget runs out.
        const newResourceVersion = writtenObjectSchema.safeParse(written).data?.metadata?.resourceVersion;
        if (newResourceVersion !== undefined && newResourceVersion !== plan.previousResourceVersion) {
          staleEndpoints.markStale(namespace, name, plan.previousResourceVersion);
          // Parsed as the informer parses it. An answer that does not parse is not kept: the next sync then waits for
          // the watch, as upstream's always does.
          const parsed = endpointsSchema.safeParse(
            typeof written === 'object' && written !== null ? withoutManagedFields(written as Record<string, unknown>) : written,
          );
          if (parsed.success) ownWrites.remember(key, plan.previousResourceVersion, parsed.data);
        }
        logger.info({ truncated: plan.truncated, resourceVersion: newResourceVersion }, 'Updated Endpoints');
        return;
      }
      default: {
        const exhaustive: never = plan;
        throw new Error(`unexpected plan ${JSON.stringify(exhaustive)}`);
      }
    }
  }
}
