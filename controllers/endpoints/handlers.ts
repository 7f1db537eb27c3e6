import { objectKey } from '../../api/core/meta.ts';
import type { Endpoints, Pod, Service } from '../../api/core/v1.ts';
import { ANNOTATION_LEADER } from '../../api/labels.ts';
import type { EventHandler } from '../runtime/cache/event-handler.ts';
import type { Store } from '../runtime/cache/store.ts';
import { podUpdateKey, servicesToUpdate } from '../shared/pod-service-mapping.ts';
import type { CacheCatchUp } from '../shared/cache-catch-up.ts';
import type { WrittenEndpoints } from './written-endpoints.ts';
import { candidateServices } from '../shared/service-selector-index.ts';

// Which Service keys an informer event makes the Endpoints controller sync (upstream NewEndpointController handlers in
// endpoints_controller.go: onServiceUpdate, onServiceDelete, onPodUpdate, onEndpointsDelete). Service events sync now;
// Pod events sync the affected Services after the batch period so bursts coalesce; an Endpoints delete re-syncs its
// Service so a deleted Endpoints is recreated. Endpoints adds and updates are not watched, as upstream: manual edits
// persist until the next Service or Pod event. One addition to upstream: an Endpoints add or update wakes a sync of its
// Service that was refused as stale (the cache lagged behind our own write) at once (controllers/shared/cache-catch-up.ts),
// and lets go of our own copy of a write the cache now shows (written-endpoints.ts).

/**
 * The Service keys a Pod event affects (sorted), from the Services currently cached. `oldPod` is undefined for an add,
 * `newPod` for a delete (pass the tombstone's last state). Resync updates and changes that cannot alter an address
 * give nothing (see podUpdateKey).
 */
export function podEventServiceKeys(
  services: Store<Service>,
  oldPod: Readonly<Pod> | undefined,
  newPod: Readonly<Pod> | undefined,
): string[] {
  const key = podUpdateKey(oldPod, newPod);
  if (key === undefined) return [];
  return servicesToUpdate(candidateServices(services, key), key);
}

/** Where the handlers put keys: the controller's queue. */
export interface EndpointsQueue {
  enqueue(key: string): void;
  enqueueAfter(key: string, delayMs: number): void;
}

/** The three informers' handlers of the Endpoints controller. */
export interface EndpointsEventHandlers {
  readonly service: EventHandler<Service>;
  readonly pod: EventHandler<Pod>;
  readonly endpoints: EventHandler<Endpoints>;
}

/**
 * Builds the handlers. Pod-triggered syncs are delayed by `batchPeriodMs` (`--endpoint-updates-batch-period`, default
 * 0); the queue keeps the earliest pending deadline per key, so later Pod events inside the window join the pending
 * sync instead of postponing it.
 *
 * Upstream (v1.35+) routes Pod events through a second queue whose workers look the Services up; resolving them here
 * against the Service cache gives the same keys, since the lookup reads the same cache either way and cannot fail.
 */
export function endpointsEventHandlers(
  services: Store<Service>,
  queue: EndpointsQueue,
  batchPeriodMs: number,
  catchUp: CacheCatchUp,
  written: WrittenEndpoints,
): EndpointsEventHandlers {
  const wake = (ep: Readonly<Endpoints>): void => {
    const key = objectKey(ep);
    written.observed(key, ep.metadata.resourceVersion);
    if (catchUp.caughtUp(key)) queue.enqueue(key);
  };
  const podEvent = (oldPod: Readonly<Pod> | undefined, newPod: Readonly<Pod> | undefined) => {
    for (const key of podEventServiceKeys(services, oldPod, newPod)) queue.enqueueAfter(key, batchPeriodMs);
  };
  return {
    service: {
      onAdd: (svc) => queue.enqueue(objectKey(svc)),
      // Every update, resyncs included: the periodic resync is what repairs manual edits of Endpoints upstream.
      onUpdate: (_old, svc) => queue.enqueue(objectKey(svc)),
      onDelete: (svc) => queue.enqueue(objectKey(svc)),
    },
    pod: {
      onAdd: (pod) => podEvent(undefined, pod),
      onUpdate: (oldPod, newPod) => podEvent(oldPod, newPod),
      onDelete: (pod) => podEvent(pod, undefined),
    },
    endpoints: {
      onAdd: wake,
      onUpdate: (_old, ep) => wake(ep),
      onDelete: (ep) => {
        written.forget(objectKey(ep));
        queue.enqueue(objectKey(ep));
      },
    },
  };
}

/**
 * The keys the startup scan enqueues (upstream checkLeftoverEndpoints): every cached Endpoints except leader-election
 * lock objects, so that Endpoints whose Service is gone are deleted, whoever created them.
 */
export function leftoverEndpointsKeys(endpoints: readonly Readonly<Endpoints>[]): string[] {
  return endpoints.filter((ep) => !Object.hasOwn(ep.metadata.annotations ?? {}, ANNOTATION_LEADER)).map((ep) => objectKey(ep));
}
