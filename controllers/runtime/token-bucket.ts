import type { Clock } from './clock.ts';

/**
 * A token bucket with reservations, as golang.org/x/time/rate's Limiter: `reserve()` always succeeds and returns how
 * long the caller must wait before acting, consuming a (possibly future) token. client-go's BucketRateLimiter and
 * its client-side QPS limiter both use it this way. Starts full (`burst` tokens).
 */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(qps: number, burst: number, clock: Clock) {
    if (!(qps > 0) || !(burst >= 1)) throw new RangeError(`token bucket needs qps > 0 and burst >= 1, got ${qps}/${burst}`);
    this.#qps = qps;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  /** Takes one token and returns the delay in ms until it is really available (0 when one was in the bucket). */
  reserve(): number {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#qps) / 1000);
    this.#tokens -= 1;
    if (this.#tokens >= 0) return 0;
    return Math.ceil((-this.#tokens * 1000) / this.#qps);
  }
}
