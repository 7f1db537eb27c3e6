import { isDeepStrictEqual } from 'node:util';
import { splitKey } from '../../api/core/meta.ts';
import type { Service } from '../../api/core/v1.ts';
import { API_VERSION, Kind } from '../../api/v1alpha1/group-version.ts';
import type { SessionAffinityPolicy, SessionAffinityPolicyStatus } from '../../api/v1alpha1/session-affinity-policy.ts';
import type { ApiClient } from '../runtime/api-client.ts';
import { describeError, isNotFound } from '../runtime/api-errors.ts';
import { NAMESPACE_INDEX, type Store } from '../runtime/cache/store.ts';
import type { Clock } from '../runtime/clock.ts';
import { done, type ReconcileContext, type Reconciler, type Request, type Result } from '../runtime/reconcile.ts';
import type { ApplyFailures } from './apply-failures.ts';
import { FIELD_MANAGER } from './plan.ts';
import { SESSION_AFFINITY_POLICIES } from './resources.ts';
import { desiredPolicyStatus } from './status.ts';

// One reconcile of one policy's status (key `namespace/name`): compute it from the caches and write it through the
// status subresource only when it differs from the stored one.

/** Writing a policy's status failed; retried with backoff. `cause` is the API error. */
export class PolicyStatusSyncError extends Error {
  override readonly name = 'PolicyStatusSyncError';
}

/** What the status reconciler reads and writes through. */
export interface PolicyStatusReconcilerDeps {
  readonly policies: Store<SessionAffinityPolicy>;
  /** Must have the namespace index. */
  readonly services: Store<Service>;
  readonly failures: ApplyFailures;
  readonly client: ApiClient;
  readonly clock: Clock;
}

/** The server-side apply configuration of a policy's status (the whole status: this controller is its only writer). */
export function policyStatusApplyConfiguration(policy: Readonly<SessionAffinityPolicy>, status: SessionAffinityPolicyStatus): unknown {
  return {
    apiVersion: API_VERSION,
    kind: Kind.SessionAffinityPolicy,
    metadata: {
      name: policy.metadata.name ?? '',
      namespace: policy.metadata.namespace ?? '',
    },
    status,
  };
}

/**
 * Keeps a SessionAffinityPolicy's status equal to {@link desiredPolicyStatus}: server-side apply to the status
 * subresource under the controller's field manager (forced: nothing else writes it), nothing when equal. A deleted
 * policy needs nothing. Throws {@link PolicyStatusSyncError}. Safe to call concurrently for different keys.
 */
export class PolicyStatusReconciler implements Reconciler {
  readonly #deps: PolicyStatusReconcilerDeps;

  constructor(deps: PolicyStatusReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(request: Request, ctx: ReconcileContext): Promise<Result> {
    const policy = this.#deps.policies.get(request.key);
    if (policy === undefined) return done();
    const { namespace, name } = splitKey(request.key);
    const status = desiredPolicyStatus({
      policy,
      policies: this.#deps.policies.byIndex(NAMESPACE_INDEX, namespace),
      services: this.#deps.services.byIndex(NAMESPACE_INDEX, namespace),
      failures: this.#deps.failures,
      now: this.#deps.clock.now(),
    });
    if (isDeepStrictEqual(status, policy.status)) return done();
    try {
      await this.#deps.client.patch(SESSION_AFFINITY_POLICIES, namespace, name, policyStatusApplyConfiguration(policy, status), 'apply', {
        subresource: 'status',
        fieldManager: FIELD_MANAGER,
        force: true,
        signal: ctx.signal,
      });
    } catch (err) {
      if (isNotFound(err)) return done();
      throw new PolicyStatusSyncError(`failed to update status of SessionAffinityPolicy ${request.key}: ${describeError(err).message}`, {
        cause: err,
      });
    }
    ctx.logger.debug({ matched: status.matchedServices, applied: status.appliedServices }, 'Updated SessionAffinityPolicy status');
    return done();
  }
}
