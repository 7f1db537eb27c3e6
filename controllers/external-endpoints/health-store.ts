import { type BackendHealth, type HealthPolicy, type HealthStep, observeProbe, UNKNOWN_HEALTH } from './health.ts';
import type { ProbeResult } from './probe/prober.ts';

// The controller's memory of backend health, between probe results (which arrive on the scheduler's timers) and
// reconciles (which read it). Probe results only fold into this memory and say whether the object needs a reconcile;
// all API writes stay in the reconcile. One instance per controller; everything runs on the event loop, so there are
// no concurrent mutations.

/** A probed backend: its object, its thresholds (from the object's latest spec) and its health. */
export interface TrackedBackend {
  readonly objectKey: string;
  readonly address: string;
  readonly policy: HealthPolicy;
  readonly health: BackendHealth;
}

/** The outcome of folding one probe result: the step, and whether status or slices may change (worth a reconcile). */
export interface ObservedProbe {
  readonly backend: TrackedBackend;
  readonly step: HealthStep;
  readonly significant: boolean;
}

/** Health of every probed backend, keyed by {@link BackendHealthStore.jobKey}. */
export class BackendHealthStore {
  readonly #backends = new Map<string, TrackedBackend>();
  readonly #byObject = new Map<string, Set<string>>();

  /** The key of a backend's probe job and health entry. Object keys contain no `|`, so it is unambiguous. */
  static jobKey(objectKey: string, address: string): string {
    return `${objectKey}|${address}`;
  }

  /**
   * Starts tracking a backend with `seed()` as its health (e.g. restored from status), or updates the thresholds of
   * one already tracked (its health is kept). Returns the current health.
   */
  track(objectKey: string, address: string, policy: HealthPolicy, seed: () => BackendHealth = () => UNKNOWN_HEALTH): BackendHealth {
    const key = BackendHealthStore.jobKey(objectKey, address);
    const existing = this.#backends.get(key);
    const health = existing?.health ?? seed();
    this.#backends.set(key, { objectKey, address, policy, health });
    let keys = this.#byObject.get(objectKey);
    if (keys === undefined) {
      keys = new Set();
      this.#byObject.set(objectKey, keys);
    }
    keys.add(key);
    return health;
  }

  /** The health of a tracked backend, or undefined. */
  get(objectKey: string, address: string): BackendHealth | undefined {
    return this.#backends.get(BackendHealthStore.jobKey(objectKey, address))?.health;
  }

  /**
   * Folds a probe result of job `jobKey` finished at `at`. Undefined for a job no longer tracked (its result is
   * stale). Significant: the state changed, or an unhealthy backend now fails for another reason (status shows it).
   */
  observe(jobKey: string, result: ProbeResult, at: number): ObservedProbe | undefined {
    const tracked = this.#backends.get(jobKey);
    if (tracked === undefined) return undefined;
    const step = observeProbe(tracked.health, result, at, tracked.policy);
    const backend = { ...tracked, health: step.health };
    this.#backends.set(jobKey, backend);
    const significant =
      step.transition !== undefined ||
      (step.health.state === 'Unhealthy' && step.health.lastError?.reason !== tracked.health.lastError?.reason);
    return { backend, step, significant };
  }

  /** Addresses tracked for `objectKey`. */
  addresses(objectKey: string): string[] {
    return [...(this.#byObject.get(objectKey) ?? [])]
      .map((k) => this.#backends.get(k)?.address)
      .filter((a): a is string => a !== undefined);
  }

  /** Stops tracking one backend. */
  untrack(objectKey: string, address: string): void {
    const key = BackendHealthStore.jobKey(objectKey, address);
    this.#backends.delete(key);
    const keys = this.#byObject.get(objectKey);
    keys?.delete(key);
    if (keys?.size === 0) this.#byObject.delete(objectKey);
  }

  /** Stops tracking every backend of `objectKey`; returns their addresses. */
  forgetObject(objectKey: string): string[] {
    const addresses = this.addresses(objectKey);
    for (const a of addresses) this.untrack(objectKey, a);
    return addresses;
  }
}
