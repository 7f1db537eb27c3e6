// Contracts of the work queue family, with client-go's semantics (util/workqueue/queue.go, delaying_queue.go,
// rate_limiting_queue.go).

/**
 * A FIFO of keys that is fair (first in, first out across keys) and stingy: a key waiting in the queue is stored once
 * however often it is added, a key is never handed to two workers at once, and adding a key while it is being
 * processed makes it run exactly once more after `done`.
 */
export interface WorkQueue {
  add(key: string): void;
  /** Next key, waiting while the queue is empty. Resolves `undefined` once shut down and drained of intake. */
  get(): Promise<string | undefined>;
  /** Marks the end of processing `key`; re-queues it once if it was added meanwhile. */
  done(key: string): void;
  /** Keys waiting (not counting those being processed or delayed). */
  len(): number;
  /** Stops intake; `get` resolves `undefined` for waiting callers. In-flight keys may still call `done`. */
  shutDown(): void;
  /** Stops intake and resolves when every key being processed has called `done`. */
  shutDownWithDrain(): Promise<void>;
  isShuttingDown(): boolean;
}

/** A work queue that can also add a key after a delay. The earliest pending deadline for a key wins. */
export interface DelayingQueue extends WorkQueue {
  addAfter(key: string, delayMs: number): void;
}

/** Decides how long to wait before retrying a key. */
export interface RateLimiter {
  /** Delay before the next retry of `key`; counts a failure. */
  when(key: string): number;
  /** Clears the failure history of `key`. */
  forget(key: string): void;
  /** Failures recorded for `key` since the last `forget`. */
  numRequeues(key: string): number;
}

/** A delaying queue with per-key retry backoff. */
export interface RateLimitingQueue extends DelayingQueue {
  addRateLimited(key: string): void;
  forget(key: string): void;
  numRequeues(key: string): number;
}

/** Hooks for client-go's workqueue metrics; every method is optional to call and cheap. */
export interface QueueMetrics {
  add(): void;
  get(queuedMs: number): void;
  done(workMs: number): void;
  retry(): void;
  depth(n: number): void;
  /** Sum of how long the keys now being processed have been running, and the longest of them (seconds). */
  unfinishedWork(totalSeconds: number, longestSeconds: number): void;
}
