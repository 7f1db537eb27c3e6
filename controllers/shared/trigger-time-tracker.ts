import type { Pod, Service } from '../../api/core/v1.ts';
import { podReadyTransitionTime } from './pod-endpoints.ts';

// The value of the `endpoints.kubernetes.io/last-change-trigger-time` annotation: upstream's TriggerTimeTracker,
// util/trigger_time_tracker.go: ComputeEndpointLastChangeTriggerTime. Shared by the Endpoints and EndpointSlice
// controllers. Times are epoch milliseconds; `undefined` is Go's zero time. Kubernetes timestamps carry whole seconds
// on the wire (metav1.Time drops sub-second parts in JSON and protobuf), so milliseconds lose nothing.

/** What the tracker remembers of one Service between syncs. */
export interface TriggerTimeState {
  /** The Service's creationTimestamp seen at the last sync (undefined = zero). */
  readonly serviceTriggerTime: number | undefined;
  /** Pod name → Ready-condition lastTransitionTime at the last sync; Pods without one are absent. */
  readonly podTriggerTimes: ReadonlyMap<string, number>;
}

/**
 * One tracker step, pure: the trigger time to publish and the state to keep. `previous` undefined means the Service is
 * unknown (first sync since start, or after a delete): the result is then the Service creation time, even if zero.
 * Otherwise it is the earliest of the Pod times that moved past the stored time for that Pod name (new Pods count) and
 * of the Service creation time if it advanced; undefined when nothing advanced. `pods` are all Pods selected by the
 * Service, before any eligibility filter.
 */
export function nextTriggerTime(
  previous: TriggerTimeState | undefined,
  service: Readonly<Service>,
  pods: readonly Readonly<Pod>[],
): { triggerTime: number | undefined; state: TriggerTimeState } {
  let earliest: number | undefined;
  const podTriggerTimes = new Map<string, number>();
  for (const pod of pods) {
    const t = podReadyTransitionTime(pod);
    if (t === undefined) continue;
    podTriggerTimes.set(pod.metadata.name, t);
    if (isAfter(t, previous?.podTriggerTimes.get(pod.metadata.name))) earliest = earlier(earliest, t);
  }
  const serviceTriggerTime = parseTime(service.metadata.creationTimestamp);
  if (serviceTriggerTime !== undefined && isAfter(serviceTriggerTime, previous?.serviceTriggerTime)) {
    earliest = earlier(earliest, serviceTriggerTime);
  }
  const state: TriggerTimeState = { serviceTriggerTime, podTriggerTimes };
  return { triggerTime: previous === undefined ? serviceTriggerTime : earliest, state };
}

const isAfter = (t: number, stored: number | undefined): boolean => t > (stored ?? Number.NEGATIVE_INFINITY);
const earlier = (a: number | undefined, b: number): number => (a === undefined || b < a ? b : a);

function parseTime(s: string | undefined): number | undefined {
  if (s === undefined || s === '') return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Per-Service trigger-time state across syncs. Safe for concurrent reconciles of different Services (the work queue
 * never runs one key twice at once, which is all upstream requires too). No I/O.
 */
export class TriggerTimeTracker {
  readonly #states = new Map<string, TriggerTimeState>();

  /**
   * Computes the trigger time for this sync and records the new state. Call it on every sync, even when nothing will
   * be written, so the state advances as upstream's does. Returns undefined for zero (remove the annotation).
   */
  computeEndpointLastChangeTriggerTime(namespace: string, service: Readonly<Service>, pods: readonly Readonly<Pod>[]): number | undefined {
    const key = `${namespace}/${service.metadata.name ?? ''}`;
    const { triggerTime, state } = nextTriggerTime(this.#states.get(key), service, pods);
    this.#states.set(key, state);
    return triggerTime;
  }

  /** Forgets a Service; its next sync is a first sync again. Call when the Service is gone. */
  deleteService(namespace: string, name: string): void {
    this.#states.delete(`${namespace}/${name}`);
  }

  /** Whether the tracker holds state for this Service (for tests and debugging). */
  has(namespace: string, name: string): boolean {
    return this.#states.has(`${namespace}/${name}`);
  }
}

/**
 * Formats a trigger time as upstream: UTC RFC 3339 with fractional seconds, trailing zeros (and a bare dot) trimmed,
 * `Z` suffix, e.g. `2024-05-01T10:00:00Z` or `2024-05-01T10:00:00.5Z`.
 */
export function formatTriggerTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return fraction === '' ? `${iso.slice(0, 19)}Z` : `${iso.slice(0, 19)}.${fraction}Z`;
}
