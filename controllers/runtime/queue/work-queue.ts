import { type Clock, realClock, type Timer } from '../clock.ts';
import type { QueueMetrics, WorkQueue as WorkQueueContract } from './types.ts';

// client-go's work queue (util/workqueue/queue.go: Typed.Add, Get, Done): a FIFO, a dirty set and a processing set.
// Node is single-threaded, so "blocking" Get becomes a promise, and the hand-off to a waiting getter is done
// synchronously inside add/done: the key is in the processing set before any other code can run, which is what keeps a
// key from ever reaching two workers.

/** How often the unfinished-work gauges are refreshed while keys are being processed (client-go's period). */
export const UNFINISHED_WORK_UPDATE_PERIOD_MS = 500;

/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** Source of time for the queue metrics (and the delays of subclasses). Default: the real clock. */
  readonly clock?: Clock;
  /** Metric hooks, already bound to this queue's name. Default: none (no clock reads, no timers). */
  readonly metrics?: QueueMetrics;
}

/**
 * A growable ring buffer. `Array.prototype.shift` is O(n) on large arrays, and a queue of 100k keys is drained one
 * key at a time, so the head moves by index instead.
 */
class Fifo<T> {
  #items: (T | undefined)[] = new Array(16);
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) & (this.#items.length - 1)] = item;
    this.#size++;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    // Drop the reference so a drained queue does not pin its keys in memory.
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#size--;
    return item;
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }

  #grow(): void {
    const next: (T | undefined)[] = new Array(this.#items.length * 2);
    for (let i = 0; i < this.#size; i++) next[i] = this.#items[(this.#head + i) & (this.#items.length - 1)];
    this.#items = next;
    this.#head = 0;
  }
}

/**
 * The client-go work queue: fair (FIFO across keys) and stingy (a waiting key is stored once; a key is never handed to
 * two workers; adds while a key is processed make it run exactly once more after `done`). All operations are O(1)
 * amortised.
 *
 * Shutdown follows client-go: `add` is ignored from then on, `get` still hands out keys that were already waiting and
 * resolves `undefined` once none are left, and `done` still re-queues a key that was added before the shutdown.
 * `shutDown` after `shutDownWithDrain` releases the drain wait at once.
 *
 * Metrics (when `metrics` is given), as client-go: `add` counts only keys that were not already dirty; the depth is
 * the number of dirty keys (so it includes keys re-added while being processed); queue latency runs from the first
 * add to `get`, work duration from `get` to `done`. While keys are being processed, the queue itself refreshes the
 * unfinished-work gauges every {@link UNFINISHED_WORK_UPDATE_PERIOD_MS} on its clock; the timer runs only while work
 * is in flight (one last refresh reports zero after it ends) and stops at shutdown, so an idle queue holds no timer.
 */
export class WorkQueue implements WorkQueueContract {
  readonly #clock: Clock;
  readonly #metrics: QueueMetrics | undefined;
  readonly #queue = new Fifo<string>();
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  /** Getters waiting for a key. Invariant: non-empty only while `#queue` is empty. */
  readonly #waiters = new Fifo<(key: string | undefined) => void>();
  #drainWaiters: (() => void)[] = [];
  #shuttingDown = false;
  /** First-add time per dirty key and start time per processing key; filled only when metrics are on. */
  readonly #addTimes = new Map<string, number>();
  readonly #startTimes = new Map<string, number>();
  #unfinishedWorkTimer: Timer | undefined;

  constructor(options: WorkQueueOptions = {}) {
    this.#clock = options.clock ?? realClock;
    this.#metrics = options.metrics;
  }

  /** Marks `key` as needing processing. No-op when it is already waiting, or after shutdown. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    const metrics = this.#metrics;
    if (metrics !== undefined) {
      metrics.add();
      metrics.depth(this.#dirty.size);
      if (!this.#addTimes.has(key)) this.#addTimes.set(key, this.#clock.now());
    }
    // A key being processed goes back in line only when its worker calls done().
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  /**
   * The next key, moved to the processing set; waits while the queue is empty. Resolves `undefined` once the queue
   * is shut down and no key is waiting. The caller must call {@link done} with the key.
   */
  get(): Promise<string | undefined> {
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#startProcessing(key);
      return Promise.resolve(key);
    }
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Ends the processing of `key`; re-queues it once if it was added meanwhile. Ignored for a key not in process. */
  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    const metrics = this.#metrics;
    if (metrics !== undefined) {
      const start = this.#startTimes.get(key);
      this.#startTimes.delete(key);
      if (start !== undefined) metrics.done(this.#clock.now() - start);
    }
    if (this.#dirty.has(key)) this.#push(key);
    else if (this.#processing.size === 0) this.#releaseDrainWaiters();
  }

  /** Keys waiting to be handed out (not those being processed, nor a subclass's delayed keys). */
  len(): number {
    return this.#queue.size;
  }

  /** Stops intake and wakes every waiting getter with `undefined`. Idempotent. */
  shutDown(): void {
    this.#beginShutdown();
    // client-go lets shutDown cut a pending drain short.
    this.#releaseDrainWaiters();
  }

  /**
   * Stops intake like {@link shutDown}, then resolves once no key is being processed. Workers must keep calling
   * `done` (and may still `get` keys that were waiting), or this never resolves; call `shutDown` to stop waiting.
   */
  shutDownWithDrain(): Promise<void> {
    this.#beginShutdown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  #beginShutdown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#unfinishedWorkTimer?.cancel();
    this.#unfinishedWorkTimer = undefined;
    // Waiters exist only while the FIFO is empty, so none of them can be owed a key.
    for (const resolve of this.#waiters.drain()) resolve(undefined);
  }

  #releaseDrainWaiters(): void {
    if (this.#drainWaiters.length === 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #push(key: string): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      this.#queue.push(key);
      return;
    }
    this.#startProcessing(key);
    waiter(key);
  }

  #startProcessing(key: string): void {
    this.#processing.add(key);
    this.#dirty.delete(key);
    const metrics = this.#metrics;
    if (metrics === undefined) return;
    const now = this.#clock.now();
    metrics.depth(this.#dirty.size);
    const added = this.#addTimes.get(key);
    this.#addTimes.delete(key);
    if (added !== undefined) metrics.get(now - added);
    this.#startTimes.set(key, now);
    if (this.#unfinishedWorkTimer === undefined && !this.#shuttingDown) this.#armUnfinishedWork();
  }

  #armUnfinishedWork(): void {
    this.#unfinishedWorkTimer = this.#clock.setTimer(UNFINISHED_WORK_UPDATE_PERIOD_MS, () => {
      this.#unfinishedWorkTimer = undefined;
      this.#reportUnfinishedWork();
      if (this.#processing.size > 0 && !this.#shuttingDown) this.#armUnfinishedWork();
    });
  }

  #reportUnfinishedWork(): void {
    const now = this.#clock.now();
    let totalMs = 0;
    let longestMs = 0;
    for (const start of this.#startTimes.values()) {
      const ms = now - start;
      totalMs += ms;
      if (ms > longestMs) longestMs = ms;
    }
    this.#metrics?.unfinishedWork(totalMs / 1000, longestMs / 1000);
  }
}
