import type { Logger } from 'pino';
import { objectKey } from '../../api/core/meta.ts';
import type { Node, Pod, Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_TOPOLOGY_ZONE } from '../../api/labels.ts';
import type { EventHandler } from '../runtime/cache/event-handler.ts';
import type { Store } from '../runtime/cache/store.ts';
import { podUpdateKey, servicesToUpdate } from '../shared/pod-service-mapping.ts';
import { candidateServices } from '../shared/service-selector-index.ts';
import { serviceKeyForSlice } from './endpoint-slice.ts';
import type { EndpointSliceTracker } from '../shared/endpoint-slice-tracker.ts';
import type { CacheCatchUp } from '../shared/cache-catch-up.ts';

// Informer events → Service keys, as upstream's NewController handlers (endpointslice_controller.go: onServiceUpdate,
// onPodUpdate, onEndpointSliceUpdate, queueServiceForEndpointSlice). Service events enqueue at once; Pod events after
// the batch period; slice events after max(1 s, batch period) and only when they are not the echo of our own write;
// Node events only feed the topology hints. One addition to upstream: any event of one of our slices wakes a sync of its
// Service that was refused as stale at once (controllers/shared/cache-catch-up.ts).

/** Upstream endpointSliceChangeMinSyncDelay: slice-triggered syncs wait at least this long, to batch slice churn. */
export const ENDPOINT_SLICE_CHANGE_MIN_SYNC_DELAY_MS = 1000;

/** Where the handlers put Service keys (a ControllerHandle fits). */
export interface ServiceKeyQueue {
  enqueue(key: string): void;
  /** The earliest pending deadline for a key wins. */
  enqueueAfter(key: string, delayMs: number): void;
}

/** Settings and collaborators of {@link endpointSliceEventHandlers}. */
export interface EndpointSliceHandlerOptions {
  readonly queue: ServiceKeyQueue;
  /** The Service cache (namespace index), to map Pod events to Services. */
  readonly services: Store<Service>;
  readonly tracker: EndpointSliceTracker;
  /** Syncs refused as stale, woken by the slice events they wait for. */
  readonly catchUp: CacheCatchUp;
  /** The managed-by value this controller owns. */
  readonly managedBy: string;
  /** `--endpointslice-updates-batch-period` in ms (default 0). */
  readonly batchPeriodMs: number;
  /**
   * True when the slice informer lists only slices labelled with our managed-by value. A slice whose label moves away
   * then arrives as a delete carrying the foreign value; upstream (which watches all slices) sees that as an update
   * that changed managed-by and syncs the Service without touching the tracker, so the handlers do the same.
   */
  readonly sliceInformerSelectsManagedBy: boolean;
  /** Called when Node readiness or zones may have changed (upstream's topology queue). */
  readonly onNodeTopologyChange?: () => void;
  readonly logger?: Logger;
}

/** The handlers of the four informers the controller watches. */
export interface EndpointSliceEventHandlers {
  readonly services: EventHandler<Service>;
  readonly pods: EventHandler<Pod>;
  readonly endpointSlices: EventHandler<EndpointSlice>;
  readonly nodes: EventHandler<Node>;
}

function nodeReady(node: Readonly<Node>): boolean {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}

/** Builds the handlers. They only compute keys and enqueue; they never read more than the Service cache. */
export function endpointSliceEventHandlers(options: EndpointSliceHandlerOptions): EndpointSliceEventHandlers {
  const { queue, tracker, catchUp, managedBy } = options;
  const sliceDelay = Math.max(ENDPOINT_SLICE_CHANGE_MIN_SYNC_DELAY_MS, options.batchPeriodMs);
  const ours = (slice: Readonly<EndpointSlice>): boolean => slice.metadata.labels?.[LABEL_MANAGED_BY] === managedBy;
  const enqueueForSlice = (slice: Readonly<EndpointSlice>): void => {
    const key = serviceKeyForSlice(slice);
    if (key === undefined) {
      options.logger?.warn({ endpointSlice: objectKey(slice) }, `Skipped EndpointSlice without ${LABEL_SERVICE_NAME} label`);
      return;
    }
    queue.enqueueAfter(key, sliceDelay);
  };
  // Our slice reached the cache (the echo of our write, or news): a sync of its Service refused as stale runs now.
  const wakeForSlice = (slice: Readonly<EndpointSlice>): void => {
    const key = serviceKeyForSlice(slice);
    if (key !== undefined && catchUp.caughtUp(key)) queue.enqueue(key);
  };
  const onPodEvent = (oldPod: Readonly<Pod> | undefined, newPod: Readonly<Pod> | undefined): void => {
    // Upstream hands the projection key to a pod queue whose workers do this lookup; doing it here gives the same
    // Service keys with the same delay, minus one queue hop.
    const key = podUpdateKey(oldPod, newPod);
    if (key === undefined) return;
    for (const svc of servicesToUpdate(candidateServices(options.services, key), key)) {
      queue.enqueueAfter(svc, options.batchPeriodMs);
    }
  };
  const topologyChanged = (): void => options.onNodeTopologyChange?.();

  return {
    services: {
      onAdd: (svc) => queue.enqueue(objectKey(svc)),
      // Every update counts, resyncs included: the periodic full resync of upstream depends on it.
      onUpdate: (_old, svc) => queue.enqueue(objectKey(svc)),
      onDelete: (svc) => queue.enqueue(objectKey(svc)),
    },
    pods: {
      onAdd: (pod) => onPodEvent(undefined, pod),
      onUpdate: (oldPod, newPod) => onPodEvent(oldPod, newPod),
      onDelete: (pod) => onPodEvent(pod, undefined),
    },
    endpointSlices: {
      onAdd: (slice) => {
        if (!ours(slice)) return;
        wakeForSlice(slice);
        if (tracker.shouldSync(slice)) enqueueForSlice(slice);
      },
      onUpdate: (oldSlice, slice) => {
        // Label changes do not bump the generation on older API servers, so a moved slice is caught here.
        if (oldSlice.metadata.labels?.[LABEL_SERVICE_NAME] !== slice.metadata.labels?.[LABEL_SERVICE_NAME]) {
          enqueueForSlice(slice);
          enqueueForSlice(oldSlice);
          return;
        }
        if (ours(slice)) wakeForSlice(slice);
        if (ours(oldSlice) !== ours(slice) || (ours(slice) && tracker.shouldSync(slice))) enqueueForSlice(slice);
      },
      onDelete: (slice) => {
        if (!ours(slice)) {
          if (options.sliceInformerSelectsManagedBy) enqueueForSlice(slice);
          return;
        }
        // Only a delete we did not make ourselves needs a sync (to replace the slice).
        if (tracker.has(slice) && !tracker.handleDeletion(slice)) enqueueForSlice(slice);
        wakeForSlice(slice);
      },
    },
    nodes: {
      onAdd: topologyChanged,
      onUpdate: (oldNode, node) => {
        // A cloud provider may add the zone label after the Node registered.
        const zone = (n: Readonly<Node>): string => n.metadata.labels?.[LABEL_TOPOLOGY_ZONE] ?? '';
        if (nodeReady(oldNode) !== nodeReady(node) || zone(oldNode) !== zone(node)) {
          topologyChanged();
        }
      },
      onDelete: topologyChanged,
    },
  };
}
