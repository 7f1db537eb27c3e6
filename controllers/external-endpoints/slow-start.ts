// Slow start: a backend that is about to be published ready for the first time (new, or recovered) is admitted only
// once it has been healthy for `minReadySeconds`, and at most `maxNewReadyPerInterval` such backends are admitted per
// interval, so cold caches, JIT warm-up and connection pools are not hit by their full share of traffic at once.
// Pure; the reconciler keeps the admission times per object (lost on restart: at worst one early burst).
//
// - A backend already published ready stays ready: slow start never withdraws traffic.
// - Never applied when it would leave the Service with no ready backend: then every candidate is admitted at once
//   (a cold backend beats no backend).

/** A backend the rest of the decision would publish ready. */
export interface SlowStartCandidate {
  readonly key: string;
  /** When it became Healthy (undefined: unknown or not probed, taken as long ago). */
  readonly healthySince?: number | undefined;
  /** Published ready in the current slices. */
  readonly publishedReady: boolean;
}

/** spec.slowStart, in milliseconds; `maxNewPerInterval` 0 means no limit. */
export interface SlowStartPolicy {
  readonly minReadyMs: number;
  readonly maxNewPerInterval: number;
  readonly intervalMs: number;
}

/** Why a candidate is held back. */
export type SlowStartHold = 'MinReadySeconds' | 'SlowStart';

export interface SlowStartDecision {
  /** Candidates held back (published not ready for now), and why. */
  readonly held: ReadonlyMap<string, SlowStartHold>;
  /** Admission times within the last interval, this decision's included: the next call's `admissions`. */
  readonly admissions: readonly number[];
  /** When a held candidate may be admitted (decide again then). */
  readonly wakeAt?: number | undefined;
  /** Slow start was skipped because it would have left no ready backend. */
  readonly bypassed: boolean;
}

/** True when the policy can hold anything back. */
export function slowStartEnabled(policy: SlowStartPolicy): boolean {
  return policy.minReadyMs > 0 || policy.maxNewPerInterval > 0;
}

/**
 * Which candidates to hold back at `now`, given the admission times of earlier decisions. Candidates past their
 * minimum are admitted in the order they became healthy (then by key), up to the room left in the interval window.
 */
export function decideSlowStart(
  candidates: readonly SlowStartCandidate[],
  admissions: readonly number[],
  now: number,
  policy: SlowStartPolicy,
): SlowStartDecision {
  const recent = admissions.filter((t) => now - t < policy.intervalMs);
  if (!slowStartEnabled(policy)) return { held: new Map(), admissions: recent, bypassed: false };
  const held = new Map<string, SlowStartHold>();
  const wakes: number[] = [];
  const eligible: SlowStartCandidate[] = [];
  for (const c of candidates) {
    if (c.publishedReady) continue;
    const since = c.healthySince ?? Number.NEGATIVE_INFINITY;
    if (now - since < policy.minReadyMs) {
      held.set(c.key, 'MinReadySeconds');
      wakes.push(since + policy.minReadyMs);
    } else {
      eligible.push(c);
    }
  }
  eligible.sort((x, y) => (x.healthySince ?? -Infinity) - (y.healthySince ?? -Infinity) || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const room = policy.maxNewPerInterval === 0 ? eligible.length : Math.max(0, policy.maxNewPerInterval - recent.length);
  const admitted = eligible.slice(0, room);
  for (const c of eligible.slice(room)) held.set(c.key, 'SlowStart');
  if (eligible.length > room) {
    // Room opens when the oldest admission in the window (this decision's included) leaves it.
    const window = [...recent, ...admitted.map(() => now)].sort((x, y) => x - y);
    const oldest = window[0];
    if (oldest !== undefined) wakes.push(oldest + policy.intervalMs);
  }
  const ready = candidates.length - held.size;
  if (ready === 0 && candidates.length > 0) {
    return { held: new Map(), admissions: [...recent, ...candidates.filter((c) => !c.publishedReady).map(() => now)], bypassed: true };
  }
  return {
    held,
    admissions: [...recent, ...admitted.map(() => now)],
    wakeAt: wakes.length === 0 ? undefined : Math.min(...wakes),
    bypassed: false,
  };
}
