import type { Clock } from '../clock.ts';
import { TokenBucket } from '../token-bucket.ts';
import type { RateLimiter } from './types.ts';

// client-go's composable retry policies (util/workqueue/default_rate_limiters.go: ItemExponentialFailureRateLimiter,
// BucketRateLimiter, MaxOfRateLimiter, DefaultControllerRateLimiter). All delays are in milliseconds.

/**
 * Per-key exponential backoff: the n-th `when` for a key (counting from 0) returns `baseMs * 2^n`, capped at `maxMs`
 * (also when the power overflows to Infinity). `forget` resets the key. Failure counts are kept per key until
 * forgotten, so callers must `forget` keys that succeed or are dropped.
 */
export class ItemExponentialFailureRateLimiter implements RateLimiter {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #failures = new Map<string, number>();

  /** Throws RangeError unless 0 <= baseMs <= maxMs. */
  constructor(baseMs: number, maxMs: number) {
    if (!(baseMs >= 0) || !(maxMs >= baseMs)) throw new RangeError(`exponential backoff needs 0 <= base <= max, got ${baseMs}/${maxMs}`);
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const backoff = this.#baseMs * 2 ** failures;
    // `!(<=)` also catches NaN (0 * Infinity) once 2^failures overflows.
    return !(backoff <= this.#maxMs) ? this.#maxMs : backoff;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

/**
 * One token bucket shared by every key (`qps` tokens a second, `burst` at most): `when` reserves a token and returns
 * how long until it is available, so it always consumes one, even on a key's first retry. It keeps no per-key state:
 * `numRequeues` is 0 and `forget` does nothing. Throws RangeError unless qps > 0 and burst >= 1.
 */
export class BucketRateLimiter implements RateLimiter {
  readonly #bucket: TokenBucket;

  constructor(qps: number, burst: number, clock: Clock) {
    this.#bucket = new TokenBucket(qps, burst, clock);
  }

  when(_key: string): number {
    return this.#bucket.reserve();
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/**
 * The strictest of several limiters: `when` asks every limiter (each records the failure) and returns the longest
 * delay; `forget` forgets in all of them; `numRequeues` is the largest count. With no limiter, `when` is 0.
 */
export class MaxOfRateLimiter implements RateLimiter {
  readonly #limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.#limiters = limiters;
  }

  when(key: string): number {
    let longest = 0;
    for (const limiter of this.#limiters) longest = Math.max(longest, limiter.when(key));
    return longest;
  }

  forget(key: string): void {
    for (const limiter of this.#limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    let most = 0;
    for (const limiter of this.#limiters) most = Math.max(most, limiter.numRequeues(key));
    return most;
  }
}

/** Settings of {@link defaultControllerRateLimiter}; each field documents its default. */
export interface ControllerRateLimiterOptions {
  /** First per-key retry delay. Default 5 ms. */
  readonly baseMs?: number;
  /** Cap of the per-key delay. Default 1,000,000 ms (1000 s). */
  readonly maxMs?: number;
  /** Retries a second across all keys. Default 10. */
  readonly qps?: number;
  /** Retries allowed at once across all keys. Default 100. */
  readonly burst?: number;
}

/**
 * client-go's DefaultTypedControllerRateLimiter: max(per-key `baseMs * 2^n` capped at `maxMs`, one bucket of `qps` /
 * `burst` for the whole queue). Each call returns a new limiter with its own state; never share one between queues.
 */
export function defaultControllerRateLimiter(clock: Clock, options: ControllerRateLimiterOptions = {}): RateLimiter {
  const { baseMs = 5, maxMs = 1_000_000, qps = 10, burst = 100 } = options;
  return new MaxOfRateLimiter(new ItemExponentialFailureRateLimiter(baseMs, maxMs), new BucketRateLimiter(qps, burst, clock));
}

/** The Endpoints controller's service queue (and every pod/topology queue): the client-go default, 5 ms..1000 s. */
export function endpointsControllerRateLimiter(clock: Clock): RateLimiter {
  return defaultControllerRateLimiter(clock, { baseMs: 5, maxMs: 1_000_000 });
}

/** The EndpointSlice controller's service queue: 1 s..1000 s per key, max'd with 10 qps / burst 100. */
export function endpointSliceControllerRateLimiter(clock: Clock): RateLimiter {
  return defaultControllerRateLimiter(clock, { baseMs: 1_000, maxMs: 1_000_000 });
}

/** The EndpointSliceMirroring controller's queue: 1 s..100 s per key, max'd with 10 qps / burst 100. */
export function endpointSliceMirroringControllerRateLimiter(clock: Clock): RateLimiter {
  return defaultControllerRateLimiter(clock, { baseMs: 1_000, maxMs: 100_000 });
}
