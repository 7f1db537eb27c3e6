import { objectReferenceOf, splitKey } from '../../api/core/meta.ts';
import { type Service, serviceSchema } from '../../api/core/v1.ts';
import type { SessionAffinityPolicy } from '../../api/v1alpha1/session-affinity-policy.ts';
import type { ApiClient } from '../runtime/api-client.ts';
import { describeError, isConflict, isNotFound } from '../runtime/api-errors.ts';
import { NAMESPACE_INDEX, type Store } from '../runtime/cache/store.ts';
import type { EventRecorder } from '../runtime/manager-types.ts';
import { done, type ReconcileContext, type Reconciler, type Request, type Result, StaleCacheError } from '../runtime/reconcile.ts';
import { SERVICES } from '../runtime/resource.ts';
import type { ApplyFailures } from './apply-failures.ts';
import { affinityOwnership } from './ownership.ts';
import { FIELD_MANAGER, planService, type ServicePlan } from './plan.ts';
import { readRecord } from './record.ts';
import { governingPolicy } from './resolution.ts';

// One reconcile of one Service (key `namespace/name`): plan from the caches; when the plan depends on who owns the
// affinity fields, GET the live Service (the cache has no managedFields) and plan again from it; then write. A
// converged Service costs no API call, so a restart or a resync makes zero writes and zero reads.

/** A write of the Service reconcile failed; retried with backoff. `cause` is the API error. */
export class SessionAffinitySyncError extends Error {
  override readonly name = 'SessionAffinitySyncError';
}

/** What the Service reconciler reads and writes through; injected so tests run on in-memory stores and a fake client. */
export interface SessionAffinityReconcilerDeps {
  readonly services: Store<Service>;
  /** Must have the namespace index (every informer store has). */
  readonly policies: Store<SessionAffinityPolicy>;
  readonly client: ApiClient;
  readonly recorder: EventRecorder;
  readonly failures: ApplyFailures;
  /** Told the key of a policy whose status changes because a Service's apply failed or recovered. */
  readonly policyStatusChanged: (policyKey: string) => void;
}

/**
 * Brings one Service's session affinity to what the namespace's SessionAffinityPolicies ask (see plan.ts for the
 * semantics): applies, re-applies, restores and releases. A deleted Service needs nothing. Throws
 * {@link StaleCacheError} when a write's resourceVersion precondition fails (the cache is behind), and
 * {@link SessionAffinitySyncError} when a write fails otherwise. Safe to call concurrently for different keys.
 */
export class SessionAffinityReconciler implements Reconciler {
  readonly #deps: SessionAffinityReconcilerDeps;

  constructor(deps: SessionAffinityReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(request: Request, ctx: ReconcileContext): Promise<Result> {
    const { key } = request;
    const { namespace } = splitKey(key);
    const cached = this.#deps.services.get(key);
    if (cached === undefined) {
      this.#clearFailure(key);
      return done();
    }
    const policies = this.#deps.policies.byIndex(NAMESPACE_INDEX, namespace);
    let service: Readonly<Service> = cached;
    let plan = planService({ service, policies });
    if (plan.kind === 'inspect') {
      const live = await this.#getLive(key, ctx);
      if (live === undefined) return done();
      service = live;
      plan = planService({
        service,
        policies,
        ownership: affinityOwnership(live.metadata.managedFields, FIELD_MANAGER),
      });
      if (plan.kind === 'inspect') throw new Error(`planService asked to inspect Service ${key} again`);
    }
    if (plan.kind === 'noop') {
      if (readRecord(service).kind === 'invalid') {
        ctx.logger.warn({ annotation: 'session-affinity-policy' }, 'Ignored unreadable session affinity record');
      }
      this.#clearFailure(key);
      return done();
    }
    const policy = governingPolicy(service, policies)?.metadata.name;
    try {
      await this.#apply(service, plan, ctx);
    } catch (err) {
      if (isNotFound(err)) return done();
      if (isConflict(err))
        throw new StaleCacheError(`Service ${key} changed since it was read`, {
          cause: err,
        });
      const message = describeError(err).message;
      if (policy !== undefined) {
        this.#deps.failures.set(key, { policy, message });
        this.#deps.policyStatusChanged(`${namespace}/${policy}`);
      }
      throw new SessionAffinitySyncError(`failed to write session affinity of Service ${key}: ${message}`, { cause: err });
    }
    this.#clearFailure(key);
    return done();
  }

  async #getLive(key: string, ctx: ReconcileContext): Promise<Readonly<Service> | undefined> {
    const { namespace, name } = splitKey(key);
    try {
      return serviceSchema.parse(await this.#deps.client.get(SERVICES, namespace, name, ctx.signal));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw new SessionAffinitySyncError(`failed to read Service ${key}: ${describeError(err).message}`, { cause: err });
    }
  }

  /** The only writer: the plan's writes in order (stopping at the first failure), then its Events and one log line. */
  async #apply(service: Readonly<Service>, plan: Extract<ServicePlan, { kind: 'write' }>, ctx: ReconcileContext): Promise<void> {
    const namespace = service.metadata.namespace ?? '';
    const name = service.metadata.name ?? '';
    const { client } = this.#deps;
    for (const w of plan.writes) {
      if (w.kind === 'apply') {
        await client.patch(SERVICES, namespace, name, w.body, 'apply', {
          fieldManager: FIELD_MANAGER,
          force: w.force,
          signal: ctx.signal,
        });
      } else {
        await client.patch(SERVICES, namespace, name, w.body, 'merge', {
          fieldManager: w.fieldManager,
          signal: ctx.signal,
        });
      }
    }
    const ref = objectReferenceOf(service, 'v1', 'Service');
    for (const e of plan.events) this.#deps.recorder.event(ref, e.type, e.reason, e.message);
    ctx.logger.info({ policy: plan.policy, writes: plan.writes.length }, plan.log);
  }

  #clearFailure(key: string): void {
    const old = this.#deps.failures.delete(key);
    if (old !== undefined) this.#deps.policyStatusChanged(`${splitKey(key).namespace}/${old.policy}`);
  }
}
