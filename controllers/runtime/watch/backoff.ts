// The watcher's retry policy, as a named value (kube-rs style) rather than numbers spread through the loop.
// Defaults follow client-go's reflector: 800 ms doubling to a 30 s cap, forgotten after a healthy stretch.

/** Exponential backoff with jitter. Every field is optional where it is accepted; defaults in {@link DEFAULT_BACKOFF}. */
export interface BackoffPolicy {
  /** Delay before the first retry. */
  readonly initialMs: number;
  /** Growth per consecutive failure. */
  readonly factor: number;
  /** Largest delay, jitter included. */
  readonly maxMs: number;
  /** Extra random share of the delay: 0.2 means up to +20 %, so many clients restarted together spread out. */
  readonly jitter: number;
  /** A watch that stayed up this long counts as healthy and forgets earlier failures. */
  readonly resetAfterMs: number;
}

/** 800 ms, x2, capped at 30 s, +0..20 % jitter, reset after 2 minutes of health. */
export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({
  initialMs: 800,
  factor: 2,
  maxMs: 30_000,
  jitter: 0.2,
  resetAfterMs: 120_000,
});

/**
 * The delay before retry number `failures` (1 = the first retry) for a random draw `random` in [0, 1).
 * Pure, so the curve is table-tested.
 */
export function backoffDelay(policy: BackoffPolicy, failures: number, random: number): number {
  if (failures <= 0) return 0;
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** (failures - 1));
  return Math.min(policy.maxMs, Math.round(base * (1 + policy.jitter * random)));
}

/** Counts consecutive failures and turns them into delays. Not shared: one per watcher. */
export class Backoff {
  readonly #policy: BackoffPolicy;
  readonly #random: () => number;
  #failures = 0;

  constructor(policy: BackoffPolicy, random: () => number) {
    this.#policy = policy;
    this.#random = random;
  }

  /** Consecutive failures since the last reset. */
  get failures(): number {
    return this.#failures;
  }

  /** Records one more failure and returns how long to wait before the next attempt. */
  next(): number {
    this.#failures++;
    return backoffDelay(this.#policy, this.#failures, this.#random());
  }

  /** Forgets earlier failures: the next failure waits the initial delay again. */
  reset(): void {
    this.#failures = 0;
  }
}
