import { type Node, parseNode, type Pod, parsePod, type Service, parseService } from '../../api/core/v1.ts';
import { type EndpointSlice, parseEndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, MANAGED_BY_ENDPOINTSLICE_CONTROLLER } from '../../api/labels.ts';
import type { ControllerHandle, ControllerRegistry } from '../runtime/manager-types.ts';
import { endpointSliceControllerRateLimiter } from '../runtime/queue/rate-limiters.ts';
import type { RateLimiter } from '../runtime/queue/types.ts';
import { ENDPOINT_SLICES, NODES, PODS, SERVICES } from '../runtime/resource.ts';
import { TriggerTimeTracker } from '../shared/trigger-time-tracker.ts';
import { endpointSliceEventHandlers } from './handlers.ts';
import { EndpointSliceMetrics } from './metrics.ts';
import { EndpointSliceReconciler, SLICES_BY_SERVICE_INDEX, slicesByServiceIndex } from './reconciler.ts';
import { TopologyCache } from './topology-cache.ts';
import { CacheCatchUp } from '../shared/cache-catch-up.ts';
import { EndpointSliceTracker } from '../shared/endpoint-slice-tracker.ts';
import { SERVICES_BY_SELECTOR_INDEX, serviceSelectorIndex } from '../shared/service-selector-index.ts';

// Wiring of the EndpointSlice controller (upstream pkg/controller/endpointslice NewController): informers, handlers,
// reconciler, retry policy and the Node-driven topology check.

/** The controller name (logs, metrics) and the names upstream uses for its client and events
 * (endpointslice_controller.go: NewController, ControllerName). */
export const CONTROLLER_NAME = 'endpointslice-controller';
export const USER_AGENT = 'endpointslice-controller';
export const EVENT_COMPONENT = 'endpoint-slice-controller';

/** Settings of {@link setupEndpointSliceController}; each field documents its default (kube-controller-manager's). */
export interface EndpointSliceControllerOptions {
  /** `--concurrent-service-endpoint-syncs`, 1..50. Default 5. */
  readonly workers?: number;
  /** `--max-endpoints-per-slice`, 1..1000. Default 100. */
  readonly maxEndpointsPerSlice?: number;
  /** `--endpointslice-updates-batch-period` in ms: delay of Pod-triggered syncs. Default 0. */
  readonly batchPeriodMs?: number;
  /** The managed-by label value owned. Default `endpointslice-controller.k8s.io`. */
  readonly managedBy?: string;
  /** PreferSameTrafficDistribution gate (GA, locked on since v1.35). Default true. */
  readonly preferSameTrafficDistribution?: boolean;
  /** Retry backoff. Default: 1 s·2ⁿ up to 1000 s per key, max'd with 10 qps / burst 100. */
  readonly rateLimiter?: RateLimiter;
  /** Requeues before a failing key is dropped. Default 15. */
  readonly maxRetries?: number;
}

/** Thrown for option values kube-controller-manager's validation would reject. */
export class InvalidEndpointSliceOptionsError extends Error {
  override readonly name = 'InvalidEndpointSliceOptionsError';
}

function validate(options: EndpointSliceControllerOptions): void {
  const { workers = 5, maxEndpointsPerSlice = 100, batchPeriodMs = 0 } = options;
  if (!Number.isInteger(workers) || workers < 1 || workers > 50) {
    throw new InvalidEndpointSliceOptionsError(`workers must be an integer in 1..50, got ${workers}`);
  }
  if (!Number.isInteger(maxEndpointsPerSlice) || maxEndpointsPerSlice < 1 || maxEndpointsPerSlice > 1000) {
    throw new InvalidEndpointSliceOptionsError(`maxEndpointsPerSlice must be an integer in 1..1000, got ${maxEndpointsPerSlice}`);
  }
  if (!(batchPeriodMs >= 0)) throw new InvalidEndpointSliceOptionsError(`batchPeriodMs must be >= 0, got ${batchPeriodMs}`);
}

/**
 * Registers the EndpointSlice controller on the manager: the Pod, Service and Node informers (shared with other
 * controllers) and an EndpointSlice informer limited server-side to slices carrying our managed-by label (upstream
 * watches every slice and filters when listing; other managers' slices are invisible to it either way, and the
 * selector keeps them out of memory). Must be called before the manager starts. Throws
 * {@link InvalidEndpointSliceOptionsError} for out-of-range options.
 */
export function setupEndpointSliceController(registry: ControllerRegistry, options: EndpointSliceControllerOptions = {}): ControllerHandle {
  validate(options);
  const managedBy = options.managedBy ?? MANAGED_BY_ENDPOINTSLICE_CONTROLLER;
  const maxEndpointsPerSlice = options.maxEndpointsPerSlice ?? 100;
  const logger = registry.logger.child({ controller: CONTROLLER_NAME });

  const pods = registry.informer<Pod>({ resource: PODS, parse: parsePod, parseId: 'v1.Pod' });
  const services = registry.informer<Service>({
    resource: SERVICES,
    parse: parseService,
    parseId: 'v1.Service',
    indexers: { [SERVICES_BY_SELECTOR_INDEX]: serviceSelectorIndex },
  });
  const nodes = registry.informer<Node>({ resource: NODES, parse: parseNode, parseId: 'v1.Node' });
  const slices = registry.informer<EndpointSlice>({
    resource: ENDPOINT_SLICES,
    parse: parseEndpointSlice,
    parseId: 'discovery/v1.EndpointSlice',
    labelSelector: `${LABEL_MANAGED_BY}=${managedBy}`,
    indexers: { [SLICES_BY_SERVICE_INDEX]: slicesByServiceIndex },
  });

  const tracker = new EndpointSliceTracker();
  const catchUp = new CacheCatchUp();
  const topologyCache = new TopologyCache();
  const reconciler = new EndpointSliceReconciler({
    services: services.store,
    pods: pods.store,
    nodes: nodes.store,
    endpointSlices: slices.store,
    client: registry.client(USER_AGENT),
    events: registry.eventRecorder(EVENT_COMPONENT),
    tracker,
    catchUp,
    triggerTimeTracker: new TriggerTimeTracker(),
    metrics: new EndpointSliceMetrics(registry.metrics, maxEndpointsPerSlice),
    topologyCache,
    options: {
      maxEndpointsPerSlice,
      managedBy,
      preferSameTrafficDistribution: options.preferSameTrafficDistribution ?? true,
    },
  });

  const handle = registry.addController({
    name: CONTROLLER_NAME,
    reconciler,
    workers: options.workers ?? 5,
    rateLimiter: options.rateLimiter ?? endpointSliceControllerRateLimiter(registry.clock),
    maxRetries: options.maxRetries ?? 15,
  });

  // Upstream's topology queue holds one fixed key, so a burst of Node events (e.g. the initial list) runs one check.
  let topologyCheckPending = false;
  const checkNodeTopology = (): void => {
    topologyCheckPending = false;
    topologyCache.setNodes(nodes.store.list());
    for (const key of topologyCache.getOverloadedServices()) {
      logger.debug({ key }, 'Queued Service after Node change due to overloading');
      handle.enqueue(key);
    }
  };
  const handlers = endpointSliceEventHandlers({
    queue: handle,
    services: services.store,
    tracker,
    catchUp,
    managedBy,
    batchPeriodMs: options.batchPeriodMs ?? 0,
    sliceInformerSelectsManagedBy: true,
    onNodeTopologyChange: () => {
      if (topologyCheckPending) return;
      topologyCheckPending = true;
      registry.clock.setTimer(0, checkNodeTopology);
    },
    logger,
  });
  services.addEventHandler(handlers.services);
  pods.addEventHandler(handlers.pods);
  slices.addEventHandler(handlers.endpointSlices);
  nodes.addEventHandler(handlers.nodes);
  return handle;
}
