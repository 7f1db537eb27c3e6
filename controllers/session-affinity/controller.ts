import { type Service, parseService } from '../../api/core/v1.ts';
import { type SessionAffinityPolicy, sessionAffinityPolicySchema } from '../../api/v1alpha1/session-affinity-policy.ts';
import type { ControllerHandle, ControllerRegistry } from '../runtime/manager-types.ts';
import { defaultControllerRateLimiter } from '../runtime/queue/rate-limiters.ts';
import type { RateLimiter } from '../runtime/queue/types.ts';
import { SERVICES } from '../runtime/resource.ts';
import { checkRange } from '../shared/check-range.ts';
import { ApplyFailures } from './apply-failures.ts';
import { policyEventHandler, serviceEventHandler } from './handlers.ts';
import { SessionAffinityReconciler } from './reconciler.ts';
import { SESSION_AFFINITY_POLICIES } from './resources.ts';
import { PolicyStatusReconciler } from './status-reconciler.ts';

// Wiring of the SessionAffinityPolicy controller: a Service queue (affinity on each Service) and a policy queue (each
// policy's status), both fed by the Service and SessionAffinityPolicy informers.

/** The name `--controllers` knows; also the Service queue's name in logs and metrics. */
export const CONTROLLER_NAME = 'session-affinity-controller';
/** The policy status queue's name in logs and metrics. */
export const STATUS_CONTROLLER_NAME = 'session-affinity-policy-status-controller';
/** API client user agent suffix. */
export const USER_AGENT = 'session-affinity-controller';
/** The `source.component` of the Events this controller records. */
export const EVENT_COMPONENT = 'session-affinity-controller';

/** Settings of the controller; each documents its default. */
export interface SessionAffinityControllerOptions {
  /** Concurrent Service reconciles, 1..50. Default 2. */
  readonly workers?: number;
  /** Concurrent status reconciles, 1..50. Default 1. */
  readonly statusWorkers?: number;
  /** Delay of status reconciles caused by Service and policy changes, so a burst gives one write, ms. Default 1000. */
  readonly statusBatchPeriodMs?: number;
  /** Retry backoff of the Service queue. Default: client-go's controller default (5 ms..1000 s per key, 10 qps/100 burst). */
  readonly rateLimiter?: RateLimiter;
  /** Retry backoff of the status queue. Default: the same policy, its own instance. */
  readonly statusRateLimiter?: RateLimiter;
}

/** Thrown for an option outside its range. */
export class InvalidSessionAffinityOptionsError extends Error {
  override readonly name = 'InvalidSessionAffinityOptionsError';
}

/** The two queues, for tests and for callers that enqueue by hand. */
export interface SessionAffinityControllerHandles {
  readonly services: ControllerHandle;
  readonly status: ControllerHandle;
}

/**
 * Registers the SessionAffinityPolicy controller: informers for Services and SessionAffinityPolicies (the CRD must be
 * installed, or the policy cache never syncs), the two reconcilers and their handlers. Must be called before the
 * manager starts. Throws {@link InvalidSessionAffinityOptionsError}.
 */
export function setupSessionAffinityController(
  registry: ControllerRegistry,
  options: SessionAffinityControllerOptions = {},
): SessionAffinityControllerHandles {
  const workers = checkRange('workers', options.workers ?? 2, 1, 50, true, InvalidSessionAffinityOptionsError);
  const statusWorkers = checkRange('statusWorkers', options.statusWorkers ?? 1, 1, 50, true, InvalidSessionAffinityOptionsError);
  const statusDelayMs = checkRange(
    'statusBatchPeriodMs',
    options.statusBatchPeriodMs ?? 1000,
    0,
    3_600_000,
    false,
    InvalidSessionAffinityOptionsError,
  );

  const services = registry.informer<Service>({
    resource: SERVICES,
    parse: parseService,
    parseId: 'v1.Service',
  });
  const policies = registry.informer<SessionAffinityPolicy>({
    resource: SESSION_AFFINITY_POLICIES,
    parse: (raw) => sessionAffinityPolicySchema.parse(raw),
    parseId: 'v1alpha1.SessionAffinityPolicy',
  });
  const client = registry.client(USER_AGENT);
  const failures = new ApplyFailures();

  const status = registry.addController({
    name: STATUS_CONTROLLER_NAME,
    reconciler: new PolicyStatusReconciler({
      policies: policies.store,
      services: services.store,
      failures,
      client,
      clock: registry.clock,
    }),
    workers: statusWorkers,
    rateLimiter: options.statusRateLimiter ?? defaultControllerRateLimiter(registry.clock),
  });
  const serviceController = registry.addController({
    name: CONTROLLER_NAME,
    reconciler: new SessionAffinityReconciler({
      services: services.store,
      policies: policies.store,
      client,
      recorder: registry.eventRecorder(EVENT_COMPONENT),
      failures,
      policyStatusChanged: (key) => status.enqueueAfter(key, statusDelayMs),
    }),
    workers,
    rateLimiter: options.rateLimiter ?? defaultControllerRateLimiter(registry.clock),
  });

  services.addEventHandler(serviceEventHandler(serviceController, status, policies.store, statusDelayMs));
  policies.addEventHandler(policyEventHandler(serviceController, status, services.store, policies.store, statusDelayMs));
  return { services: serviceController, status };
}
