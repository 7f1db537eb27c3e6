import { objectKey, splitKey } from '../../api/core/meta.ts';
import type { Endpoints, Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import type { ExternalEndpoints } from '../../api/v1alpha1/external-endpoints.ts';
import type { EventHandler } from '../runtime/cache/event-handler.ts';
import type { Store } from '../runtime/cache/store.ts';
import type { BackendHealthStore } from './health-store.ts';
import type { ExternalEndpointsMetrics } from './metrics.ts';
import type { ProbeReport } from './probe/probe-scheduler.ts';
import { slicesByObjectIndex } from './reconciler.ts';
import type { EndpointSliceTracker } from '../shared/endpoint-slice-tracker.ts';

// Informer events to work-queue keys. Every key is an ExternalEndpoints `namespace/name`, which is also the key of the
// Service it feeds, of its legacy Endpoints, and the service-name label of its slices.

/** What the handlers enqueue into (a ControllerHandle). */
export interface ExternalEndpointsQueue {
  enqueue(key: string): void;
}

/** Every change of an ExternalEndpoints object (spec, status written by others, deletion) reconciles it. */
export function externalEndpointsEventHandler(queue: ExternalEndpointsQueue): EventHandler<ExternalEndpoints> {
  return {
    onAdd: (obj) => queue.enqueue(objectKey(obj)),
    onUpdate: (_old, obj) => queue.enqueue(objectKey(obj)),
    onDelete: (obj) => queue.enqueue(objectKey(obj)),
  };
}

// The fields of a Service that decide whether and how we publish: a change elsewhere (labels, status) is ignored.
function serviceShape(service: Readonly<Service>): string {
  const s = service.spec;
  return JSON.stringify([s.type, s.selector, s.ports, s.clusterIP, service.metadata.uid]);
}

/**
 * Service events reconcile the same-named ExternalEndpoints object, when one exists: a Service created after its
 * object, a selector added, ports changed, or the Service deleted. Other Services cost nothing.
 */
export function serviceEventHandler(queue: ExternalEndpointsQueue, objects: Store<ExternalEndpoints>): EventHandler<Service> {
  const enqueueIfDeclared = (service: Readonly<Service>) => {
    const key = objectKey(service);
    if (objects.get(key) !== undefined) queue.enqueue(key);
  };
  return {
    onAdd: enqueueIfDeclared,
    onUpdate: (old, service) => {
      if (serviceShape(old) !== serviceShape(service)) enqueueIfDeclared(service);
    },
    onDelete: enqueueIfDeclared,
  };
}

/**
 * Events of our slices (the informer selects on our managed-by label) reconcile their object, so a foreign edit or
 * deletion is repaired and orphans of a deleted object are removed. Deletions also clear the write tracker.
 */
export function endpointSliceEventHandler(queue: ExternalEndpointsQueue, tracker: EndpointSliceTracker): EventHandler<EndpointSlice> {
  const enqueue = (slice: Readonly<EndpointSlice>) => {
    for (const key of slicesByObjectIndex(slice)) queue.enqueue(key);
  };
  return {
    onAdd: enqueue,
    onUpdate: (_old, slice) => enqueue(slice),
    onDelete: (slice) => {
      tracker.handleDeletion(slice);
      enqueue(slice);
    },
  };
}

/** Events of our legacy Endpoints objects reconcile their object (repair of foreign edits, removal of orphans). */
export function endpointsEventHandler(queue: ExternalEndpointsQueue): EventHandler<Endpoints> {
  return {
    onAdd: (obj) => queue.enqueue(objectKey(obj)),
    onUpdate: (_old, obj) => queue.enqueue(objectKey(obj)),
    onDelete: (obj) => queue.enqueue(objectKey(obj)),
  };
}

/** What {@link probeResultHandler} needs. */
export interface ProbeResultHandlerDeps {
  readonly health: BackendHealthStore;
  readonly metrics: ExternalEndpointsMetrics;
  readonly queue: ExternalEndpointsQueue;
}

/**
 * The probe scheduler's `onResult`: folds the result into the health memory, records the metrics, and enqueues the
 * object only when the result changes something status or slices show (a state change, or a new failure reason of an
 * unhealthy backend). It never writes to the API. Results of aborted probes are not evidence and record nothing.
 */
export function probeResultHandler(deps: ProbeResultHandlerDeps): (report: ProbeReport) => void {
  return (report) => {
    const observed = deps.health.observe(report.key, report.result, report.finishedAt);
    if (observed === undefined) return;
    const { objectKey: key, address } = observed.backend;
    const { namespace, name } = splitKey(key);
    const { result } = report;
    if (result.ok || result.error.reason !== 'Aborted') {
      deps.metrics.observeProbe(namespace, name, address, result.ok, result.latencyMs / 1000);
    }
    const to = observed.step.transition?.to;
    if (to === 'Healthy' || to === 'Unhealthy') deps.metrics.observeTransition(namespace, name, address, to);
    if (observed.significant) deps.queue.enqueue(key);
  };
}
