import type { Pod, Service } from '../../api/core/v1.ts';
import { podReadyTransitionTime } from './pod-endpoints.ts';

// The value of the `endpoints.kubernetes.io/last-change-trigger-time` annotation: upstream's TriggerTimeTracker,
// util/trigger_time_tracker.go: ComputeEndpointLastChangeTriggerTime. Shared by the Endpoints and EndpointSlice
// controllers. Times are epoch milliseconds; `undefined` is Go's zero time. Kubernetes timestamps carry whole seconds
// on the wire (metav1.Time drops sub-second parts in JSON and protobuf), so milliseconds lose nothing.

// Upstream rebuilds a map of every selected Pod's time on every sync. Here each Service's state is one map mutated in
// place, and a Pod's time is read again only when the cached Pod object changed: informer objects are replaced on
// every update and never mutated, so the same object has the same Ready condition. During a rollout that saves a
// condition lookup, a timestamp parse and a map entry per Pod per sync (docs/performance.md).

/** What the tracker remembers of one Pod name between syncs. */
interface PodEntry {
  /** The cached Pod object `time` was read from. */
  pod: Readonly<Pod>;
  /** Its Ready-condition lastTransitionTime; undefined (zero) counts as absent, as upstream's map leaves such Pods out. */
  time: number | undefined;
  /** `time` before the sync that last saw the Pod, to compare a Pod listed twice in one sync as upstream does. */
  previous: number | undefined;
  /** The sync that last saw this Pod name. */
  seen: number;
}

/** What the tracker remembers of one Service between syncs. */
interface ServiceState {
  /** The Service's creationTimestamp seen at the last sync (undefined = zero). */
  serviceTriggerTime: number | undefined;
  /** Pod name → what the last sync saw; exactly the Pods of the last sync once a sync returns. */
  readonly pods: Map<string, PodEntry>;
  /** Syncs so far, numbering {@link PodEntry.seen}. */
  syncs: number;
}

/**
 * One tracker step: advances `state` to this sync and returns the trigger time to publish. `isNew` means the Service
 * was unknown (first sync since start, or after a delete): the result is then the Service creation time, even if zero.
 * Otherwise it is the earliest of the Pod times that moved past the stored time for that Pod name (new Pods count) and
 * of the Service creation time if it advanced; undefined when nothing advanced. `pods` are all Pods selected by the
 * Service, before any eligibility filter.
 */
function advance(state: ServiceState, isNew: boolean, service: Readonly<Service>, pods: readonly Readonly<Pod>[]): number | undefined {
  const sync = ++state.syncs;
  let earliest: number | undefined;
  let seen = 0;
  for (const pod of pods) {
    const name = pod.metadata.name;
    const entry = state.pods.get(name);
    let t: number | undefined;
    let stored: number | undefined;
    if (entry === undefined) {
      t = podReadyTransitionTime(pod);
      state.pods.set(name, { pod, time: t, previous: undefined, seen: sync });
      seen++;
    } else {
      if (entry.seen === sync) {
        stored = entry.previous;
        t = podReadyTransitionTime(pod);
      } else {
        stored = entry.time;
        t = entry.pod === pod ? entry.time : podReadyTransitionTime(pod);
        entry.previous = stored;
        entry.seen = sync;
        seen++;
      }
      entry.pod = pod;
      entry.time = t;
    }
    if (t !== undefined && isAfter(t, stored)) earliest = earlier(earliest, t);
  }
  // Pods gone since the last sync are forgotten, so one that comes back counts as new.
  // forEach rather than for-of over entries: no [name, entry] pair per Pod.
  if (state.pods.size > seen) {
    state.pods.forEach((entry, name, pods) => {
      if (entry.seen !== sync) pods.delete(name);
    });
  }
  const serviceTriggerTime = parseTime(service.metadata.creationTimestamp);
  if (serviceTriggerTime !== undefined && isAfter(serviceTriggerTime, state.serviceTriggerTime)) {
    earliest = earlier(earliest, serviceTriggerTime);
  }
  state.serviceTriggerTime = serviceTriggerTime;
  return isNew ? serviceTriggerTime : earliest;
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
  readonly #states = new Map<string, ServiceState>();

  /**
   * Computes the trigger time for this sync and records the new state. Call it on every sync, even when nothing will
   * be written, so the state advances as upstream's does. Returns undefined for zero (remove the annotation).
   */
  computeEndpointLastChangeTriggerTime(namespace: string, service: Readonly<Service>, pods: readonly Readonly<Pod>[]): number | undefined {
    const key = `${namespace}/${service.metadata.name ?? ''}`;
    let state = this.#states.get(key);
    const isNew = state === undefined;
    if (state === undefined) {
      state = { serviceTriggerTime: undefined, pods: new Map(), syncs: 0 };
      this.#states.set(key, state);
    }
    return advance(state, isNew, service, pods);
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
