import { type Endpoints, parseEndpoints, type Service, parseService } from '../../api/core/v1.ts';
import { type EndpointSlice, parseEndpointSlice } from '../../api/discovery/v1.ts';
import type { ControllerHandle, ControllerRegistry } from '../runtime/manager-types.ts';
import { endpointSliceMirroringControllerRateLimiter } from '../runtime/queue/rate-limiters.ts';
import type { RateLimiter } from '../runtime/queue/types.ts';
import { ENDPOINT_SLICES, ENDPOINTS, SERVICES } from '../runtime/resource.ts';
import { endpointSliceEventHandler, endpointsEventHandler, serviceEventHandler } from './handlers.ts';
import { EndpointSliceMirroringMetrics } from './metrics.ts';
import { MIRRORED_SLICES_INDEX, mirroredSlicesIndexFunc } from './mirrored-slices.ts';
import { EndpointSliceMirroringReconciler } from './reconciler.ts';
import { checkRange } from '../shared/check-range.ts';
import { EndpointSliceTracker } from '../shared/endpoint-slice-tracker.ts';

// Wiring of the EndpointSlice mirroring controller into the manager: informers, handlers, reconciler, queue policy, and
// upstream's names (endpointslicemirroring_controller.go: NewController; kube-controller-manager's
// cmd/kube-controller-manager/app/discovery.go: newEndpointSliceMirroringControllerDescriptor).

/** kube-controller-manager's name for this controller; used for logs and controller metrics. */
export const CONTROLLER_NAME = 'endpointslice-mirroring-controller';
/** The API client user agent, as upstream. */
export const USER_AGENT = 'endpointslicemirroring-controller';
/** The `source.component` of the Events this controller records, as upstream. */
export const EVENT_COMPONENT = 'endpoint-slice-mirroring-controller';
/** Requeues before a failing key is dropped until its next event, as upstream. */
export const MAX_RETRIES = 15;

/** Settings of the mirroring controller; each maps to a kube-controller-manager flag and keeps its default. */
export interface EndpointSliceMirroringControllerOptions {
  /** Concurrent syncs, 1..50 (`--mirroring-concurrent-service-endpoint-syncs`). Default 5. */
  readonly workers?: number;
  /** Addresses mirrored per Endpoints subset, 1..1000 (`--mirroring-max-endpoints-per-subset`). Default 1000. */
  readonly maxEndpointsPerSubset?: number;
  /** Delay of syncs triggered by EndpointSlice events, ms (`--mirroring-endpointslice-updates-batch-period`). Default 0. */
  readonly batchPeriodMs?: number;
  /** Retry backoff. Default: max(1 s·2ⁿ capped at 100 s per key, 10 qps / burst 100 overall), as upstream. */
  readonly rateLimiter?: RateLimiter;
}

/** Thrown for an option outside its range. */
export class InvalidEndpointSliceMirroringOptionsError extends Error {
  override readonly name = 'InvalidEndpointSliceMirroringOptionsError';
}

/**
 * Registers the mirroring controller: it watches Endpoints, Services and EndpointSlices and keeps one EndpointSlice per
 * (address family, port set) of every selector-less Service's Endpoints. Must be called before the manager starts.
 * Throws {@link InvalidEndpointSliceMirroringOptionsError}.
 */
export function setupEndpointSliceMirroringController(
  registry: ControllerRegistry,
  options: EndpointSliceMirroringControllerOptions = {},
): ControllerHandle {
  const workers = checkRange('workers', options.workers ?? 5, 1, 50, true, InvalidEndpointSliceMirroringOptionsError);
  const maxEndpointsPerSubset = checkRange(
    'maxEndpointsPerSubset',
    options.maxEndpointsPerSubset ?? 1000,
    1,
    1000,
    true,
    InvalidEndpointSliceMirroringOptionsError,
  );
  const batchPeriodMs = checkRange(
    'batchPeriodMs',
    options.batchPeriodMs ?? 0,
    0,
    Number.MAX_SAFE_INTEGER,
    false,
    InvalidEndpointSliceMirroringOptionsError,
  );

  const endpoints = registry.informer<Endpoints>({ resource: ENDPOINTS, parse: parseEndpoints, parseId: 'v1.Endpoints' });
  const services = registry.informer<Service>({ resource: SERVICES, parse: parseService, parseId: 'v1.Service' });
  const endpointSlices = registry.informer<EndpointSlice>({
    resource: ENDPOINT_SLICES,
    parse: parseEndpointSlice,
    parseId: 'discovery/v1.EndpointSlice',
    indexers: { [MIRRORED_SLICES_INDEX]: mirroredSlicesIndexFunc },
  });

  const tracker = new EndpointSliceTracker();
  const reconciler = new EndpointSliceMirroringReconciler({
    endpoints: endpoints.store,
    services: services.store,
    endpointSlices: endpointSlices.store,
    client: registry.client(USER_AGENT),
    clock: registry.clock,
    recorder: registry.eventRecorder(EVENT_COMPONENT),
    tracker,
    metrics: new EndpointSliceMirroringMetrics(registry.metrics),
    maxEndpointsPerSubset,
  });

  const handle = registry.addController({
    name: CONTROLLER_NAME,
    reconciler,
    workers,
    rateLimiter: options.rateLimiter ?? endpointSliceMirroringControllerRateLimiter(registry.clock),
    maxRetries: MAX_RETRIES,
  });

  const logger = registry.logger.child({ controller: CONTROLLER_NAME });
  endpoints.addEventHandler(endpointsEventHandler(handle));
  services.addEventHandler(serviceEventHandler(handle));
  endpointSlices.addEventHandler(endpointSliceEventHandler(handle, tracker, batchPeriodMs, logger));
  return handle;
}
