import { realClock } from '../clock.ts';
import { DelayingQueue } from './delaying-queue.ts';
import { defaultControllerRateLimiter } from './rate-limiters.ts';
import type { RateLimiter, RateLimitingQueue as RateLimitingQueueContract } from './types.ts';
import type { WorkQueueOptions } from './work-queue.ts';

/** Options of {@link RateLimitingQueue}. */
export interface RateLimitingQueueOptions extends WorkQueueOptions {
  /** Retry policy, owned by this queue. Default: {@link defaultControllerRateLimiter} on the queue's clock. */
  readonly rateLimiter?: RateLimiter;
}

/**
 * client-go's rate-limiting queue: a {@link DelayingQueue} whose `addRateLimited(key)` is `addAfter(key,
 * limiter.when(key))`. The limiter counts a failure on every `addRateLimited`, even after shutdown (as client-go), and
 * keeps it until `forget`: the controller forgets a key when it succeeds or gives up on it.
 */
export class RateLimitingQueue extends DelayingQueue implements RateLimitingQueueContract {
  readonly #rateLimiter: RateLimiter;

  constructor(options: RateLimitingQueueOptions = {}) {
    super(options);
    this.#rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter(options.clock ?? realClock);
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  forget(key: string): void {
    this.#rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#rateLimiter.numRequeues(key);
  }
}
