import type { Logger } from 'pino';
import { objectKey } from '../../api/core/meta.ts';
import type { Endpoints, Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_SERVICE_NAME } from '../../api/labels.ts';
import type { EventHandler } from '../runtime/cache/event-handler.ts';
import { endpointsKeyForSlice, isManagedByMirroring } from './mirrored-slices.ts';
import { shouldMirror } from './should-mirror.ts';
import type { EndpointSliceTracker } from '../shared/endpoint-slice-tracker.ts';

// Informer events to work-queue keys, as upstream's handlers do it (endpointslicemirroring_controller.go:
// NewController, onServiceAdd, onEndpointsUpdate, onEndpointSliceUpdate, ...). Endpoints and Service events enqueue at
// once; slice events are delayed by the batch period so a burst of slice changes gives one sync.

/** Where the handlers put keys: the controller's queue. */
export interface MirroringQueue {
  enqueue(key: string): void;
  /** Adds after `delayMs`; the earliest pending deadline for a key wins. */
  enqueueAfter(key: string, delayMs: number): void;
}

/**
 * Endpoints events: add and delete enqueue when the object is mirrorable ({@link shouldMirror}); update enqueues when the
 * old or the new version is, so adding or removing the skip-mirror label both lead to a sync.
 */
export function endpointsEventHandler(queue: MirroringQueue): EventHandler<Endpoints> {
  return {
    onAdd: (obj) => {
      if (shouldMirror(obj)) queue.enqueue(objectKey(obj));
    },
    onUpdate: (oldObj, newObj) => {
      if (shouldMirror(oldObj) || shouldMirror(newObj)) queue.enqueue(objectKey(newObj));
    },
    onDelete: (obj) => {
      if (shouldMirror(obj)) queue.enqueue(objectKey(obj));
    },
  };
}

/**
 * Service events: add and delete enqueue only selector-less Services; update only when the selector appears or
 * disappears (its content does not matter to mirroring). Resyncs therefore never enqueue.
 */
export function serviceEventHandler(queue: MirroringQueue): EventHandler<Service> {
  return {
    onAdd: (obj) => {
      if (obj.spec.selector === undefined) queue.enqueue(objectKey(obj));
    },
    onUpdate: (oldObj, newObj) => {
      if ((oldObj.spec.selector === undefined) !== (newObj.spec.selector === undefined)) queue.enqueue(objectKey(newObj));
    },
    onDelete: (obj) => {
      if (obj.spec.selector === undefined) queue.enqueue(objectKey(obj));
    },
  };
}

/**
 * EndpointSlice events, keyed by the slice's `kubernetes.io/service-name` label and delayed by `batchPeriodMs`:
 * - add: a mirrored slice the tracker does not know at this generation (not our own echo);
 * - update: both the old and the new Endpoints when the service-name label changed; else when the slice moved to or from
 *   this controller, or is mirrored and newer than tracked;
 * - delete: a mirrored, tracked slice whose deletion this controller did not make.
 * A slice without the label cannot be mapped and is dropped with an error log.
 */
export function endpointSliceEventHandler(
  queue: MirroringQueue,
  tracker: EndpointSliceTracker,
  batchPeriodMs: number,
  logger: Logger,
): EventHandler<EndpointSlice> {
  const enqueueFor = (slice: Readonly<EndpointSlice>) => {
    const key = endpointsKeyForSlice(slice);
    if (key === undefined) {
      logger.error(
        { endpointSlice: objectKey(slice), label: LABEL_SERVICE_NAME },
        'Dropped EndpointSlice event without service-name label',
      );
      return;
    }
    queue.enqueueAfter(key, batchPeriodMs);
  };
  return {
    onAdd: (slice) => {
      if (isManagedByMirroring(slice) && tracker.shouldSync(slice)) enqueueFor(slice);
    },
    onUpdate: (oldSlice, newSlice) => {
      // A relabel moves the slice between two Endpoints objects: both must re-sync.
      if ((oldSlice.metadata.labels?.[LABEL_SERVICE_NAME] ?? '') !== (newSlice.metadata.labels?.[LABEL_SERVICE_NAME] ?? '')) {
        enqueueFor(newSlice);
        enqueueFor(oldSlice);
        return;
      }
      const managedByChanged = isManagedByMirroring(oldSlice) !== isManagedByMirroring(newSlice);
      if (managedByChanged || (isManagedByMirroring(newSlice) && tracker.shouldSync(newSlice))) enqueueFor(newSlice);
    },
    onDelete: (slice) => {
      if (isManagedByMirroring(slice) && tracker.has(slice) && !tracker.handleDeletion(slice)) enqueueFor(slice);
    },
  };
}
