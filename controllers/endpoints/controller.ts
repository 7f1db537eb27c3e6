import { type Endpoints, parseEndpoints, type Pod, parsePod, type Service, parseService } from '../../api/core/v1.ts';
import type { ControllerHandle, ControllerRegistry } from '../runtime/manager-types.ts';
import { endpointsControllerRateLimiter } from '../runtime/queue/rate-limiters.ts';
import type { RateLimiter } from '../runtime/queue/types.ts';
import { ENDPOINTS, PODS, SERVICES } from '../runtime/resource.ts';
import { TriggerTimeTracker } from '../shared/trigger-time-tracker.ts';
import { endpointsEventHandlers, leftoverEndpointsKeys } from './handlers.ts';
import { EndpointsReconciler } from './reconciler.ts';
import { CacheCatchUp } from '../shared/cache-catch-up.ts';
import { StaleEndpointsTracker } from './stale-endpoints-tracker.ts';
import { WrittenEndpoints } from './written-endpoints.ts';
import { SERVICES_BY_SELECTOR_INDEX, serviceSelectorIndex } from '../shared/service-selector-index.ts';

// Wiring of the v1 Endpoints controller into the manager: informers, handlers, reconciler, startup scan, queue policy
// and upstream's names (endpoints_controller.go: NewEndpointController, checkLeftoverEndpoints, handleErr).

/** kube-controller-manager's name for this controller; used for logs, controller metrics and the queue. */
export const CONTROLLER_NAME = 'endpoints-controller';
/** The API client user agent, as upstream. */
export const USER_AGENT = 'endpoint-controller';
/** The `source.component` of the Events this controller records, as upstream. */
export const EVENT_COMPONENT = 'endpoint-controller';
/** Requeues before a failing key is dropped until its next event, as upstream. */
export const MAX_RETRIES = 15;

/** Settings of the Endpoints controller; each maps to a kube-controller-manager flag and keeps its default. */
export interface EndpointsControllerOptions {
  /** Concurrent syncs (`--concurrent-endpoint-syncs`). Default 5. */
  readonly workers?: number;
  /** Delay of Pod-triggered syncs in ms (`--endpoint-updates-batch-period`). Default 0. */
  readonly batchPeriodMs?: number;
  /** Retry backoff. Default: max(5 ms·2ⁿ capped at 1000 s per key, 10 qps / burst 100 overall), as upstream. */
  readonly rateLimiter?: RateLimiter;
}

/** What {@link setupEndpointsController} registered; the trackers are exposed for tests and diagnostics. */
export interface EndpointsControllerSetup {
  readonly handle: ControllerHandle;
  readonly reconciler: EndpointsReconciler;
  readonly triggerTimes: TriggerTimeTracker;
  readonly staleEndpoints: StaleEndpointsTracker;
}

/** Thrown for an option outside its range. */
export class InvalidEndpointsOptionsError extends Error {
  override readonly name = 'InvalidEndpointsOptionsError';
}

/**
 * Registers the Endpoints controller: it watches Services, Pods and Endpoints and keeps one v1 Endpoints per Service
 * with a selector. On start (caches synced) it enqueues every existing Endpoints but leader-election locks, so those
 * whose Service is gone are deleted. Must be called before the manager starts. Throws {@link InvalidEndpointsOptionsError}.
 */
export function setupEndpointsController(registry: ControllerRegistry, options: EndpointsControllerOptions = {}): EndpointsControllerSetup {
  const workers = options.workers ?? 5;
  if (!Number.isInteger(workers) || workers < 1)
    throw new InvalidEndpointsOptionsError(`workers must be a positive integer, got ${workers}`);
  const batchPeriodMs = options.batchPeriodMs ?? 0;
  if (!Number.isFinite(batchPeriodMs) || batchPeriodMs < 0)
    throw new InvalidEndpointsOptionsError(`batchPeriodMs must be >= 0, got ${batchPeriodMs}`);

  const services = registry.informer<Service>({
    resource: SERVICES,
    parse: parseService,
    parseId: 'v1.Service',
    indexers: { [SERVICES_BY_SELECTOR_INDEX]: serviceSelectorIndex },
  });
  const pods = registry.informer<Pod>({ resource: PODS, parse: parsePod, parseId: 'v1.Pod' });
  const endpoints = registry.informer<Endpoints>({ resource: ENDPOINTS, parse: parseEndpoints, parseId: 'v1.Endpoints' });

  const triggerTimes = new TriggerTimeTracker();
  const staleEndpoints = new StaleEndpointsTracker();
  const catchUp = new CacheCatchUp();
  const written = new WrittenEndpoints();
  const reconciler = new EndpointsReconciler({
    services: services.store,
    pods: pods.store,
    endpoints: endpoints.store,
    client: registry.client(USER_AGENT),
    clock: registry.clock,
    events: registry.eventRecorder(EVENT_COMPONENT),
    triggerTimes,
    staleEndpoints,
    catchUp,
    written,
  });

  const handle = registry.addController({
    name: CONTROLLER_NAME,
    reconciler,
    workers,
    rateLimiter: options.rateLimiter ?? endpointsControllerRateLimiter(registry.clock),
    maxRetries: MAX_RETRIES,
    onStart: async () => {
      for (const key of leftoverEndpointsKeys(endpoints.store.list())) handle.enqueue(key);
    },
  });

  const handlers = endpointsEventHandlers(services.store, handle, batchPeriodMs, catchUp, written);
  services.addEventHandler(handlers.service);
  pods.addEventHandler(handlers.pod);
  endpoints.addEventHandler(handlers.endpoints);
  return { handle, reconciler, triggerTimes, staleEndpoints };
}
