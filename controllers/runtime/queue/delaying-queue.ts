import { type Clock, realClock, type Timer } from '../clock.ts';
import type { DelayingQueue as DelayingQueueContract, QueueMetrics } from './types.ts';
import { WorkQueue, type WorkQueueOptions } from './work-queue.ts';

// client-go's delaying queue (util/workqueue/delaying_queue.go: AddAfter, waitingLoop): keys wait in a min-heap by
// ready time and are added to the work queue when due. One clock timer covers the whole heap, armed for the earliest
// deadline.

/**
 * Longest a single timer is armed for, as client-go's 10 s heartbeat: the clock's `now` is wall time while timers run
 * on a monotonic clock, so after a wall-clock jump an entry is still released within this bound.
 */
export const MAX_WAIT_MS = 10_000;

interface WaitingEntry {
  readonly key: string;
  readyAt: number;
  /** Insertion order: equal deadlines are released first-come first-served. */
  readonly seq: number;
  index: number;
}

/** A binary min-heap by (readyAt, seq) that tracks each entry's index, so a deadline can be moved earlier in O(log n). */
class DeadlineHeap {
  readonly #entries: WaitingEntry[] = [];

  get size(): number {
    return this.#entries.length;
  }

  peek(): WaitingEntry | undefined {
    return this.#entries[0];
  }

  push(entry: WaitingEntry): void {
    entry.index = this.#entries.length;
    this.#entries.push(entry);
    this.#up(entry.index);
  }

  pop(): WaitingEntry | undefined {
    const top = this.#entries[0];
    const last = this.#entries.pop();
    if (top === undefined || last === undefined) return undefined;
    if (last !== top) {
      last.index = 0;
      this.#entries[0] = last;
      this.#down(0);
    }
    return top;
  }

  /** Restores order after `entry.readyAt` decreased. */
  decreased(entry: WaitingEntry): void {
    this.#up(entry.index);
  }

  clear(): void {
    this.#entries.length = 0;
  }

  #less(a: WaitingEntry, b: WaitingEntry): boolean {
    return a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq);
  }

  #swap(i: number, j: number): void {
    const a = this.#entries[i];
    const b = this.#entries[j];
    if (a === undefined || b === undefined) return;
    this.#entries[i] = b;
    this.#entries[j] = a;
    b.index = i;
    a.index = j;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const child = this.#entries[i];
      const above = this.#entries[parent];
      if (child === undefined || above === undefined || !this.#less(child, above)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#entries.length;
    for (;;) {
      let smallest = i;
      for (let c = 2 * i + 1; c <= 2 * i + 2 && c < n; c++) {
        const child = this.#entries[c];
        const best = this.#entries[smallest];
        if (child !== undefined && best !== undefined && this.#less(child, best)) smallest = c;
      }
      if (smallest === i) return;
      this.#swap(i, smallest);
      i = smallest;
    }
  }
}

/**
 * A {@link WorkQueue} that can also add a key after a delay, with client-go's semantics:
 * - `addAfter(key, d <= 0)` is a plain `add`;
 * - while a key is waiting, the earliest deadline wins and a later one never postpones it;
 * - a waiting entry is independent of the queue: an `add` in the meantime runs the key now, and the entry still adds
 *   it again when due (deduplicated only if the key is still waiting in the queue then);
 * - every `addAfter` before shutdown counts as a retry in the metrics (client-go counts retries here);
 * - shutdown (either kind) drops the waiting entries and cancels the timer.
 * Exactly one clock timer is pending while entries wait, none otherwise.
 */
export class DelayingQueue extends WorkQueue implements DelayingQueueContract {
  readonly #clock: Clock;
  readonly #metrics: QueueMetrics | undefined;
  readonly #heap = new DeadlineHeap();
  readonly #waiting = new Map<string, WaitingEntry>();
  #seq = 0;
  #timer: Timer | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(options: WorkQueueOptions = {}) {
    super(options);
    this.#clock = options.clock ?? realClock;
    this.#metrics = options.metrics;
  }

  /**
   * Adds `key` once `delayMs` has passed on the clock. `Infinity` waits until an earlier deadline or shutdown.
   * Ignored after shutdown. Throws RangeError for NaN.
   */
  addAfter(key: string, delayMs: number): void {
    if (Number.isNaN(delayMs)) throw new RangeError(`addAfter(${JSON.stringify(key)}): delay is NaN`);
    if (this.isShuttingDown()) return;
    this.#metrics?.retry();
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.#clock.now() + delayMs;
    const existing = this.#waiting.get(key);
    if (existing !== undefined) {
      if (readyAt >= existing.readyAt) return;
      existing.readyAt = readyAt;
      this.#heap.decreased(existing);
    } else {
      const entry: WaitingEntry = { key, readyAt, seq: this.#seq++, index: -1 };
      this.#waiting.set(key, entry);
      this.#heap.push(entry);
    }
    if (readyAt < this.#timerAt) this.#arm();
  }

  /** Keys waiting for their deadline (not yet in the queue). */
  waitingLen(): number {
    return this.#heap.size;
  }

  override shutDown(): void {
    super.shutDown();
    this.#stop();
  }

  override shutDownWithDrain(): Promise<void> {
    const drained = super.shutDownWithDrain();
    this.#stop();
    return drained;
  }

  #stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#heap.clear();
    this.#waiting.clear();
  }

  /** (Re-)arms the single timer for the earliest deadline, capped at {@link MAX_WAIT_MS}. */
  #arm(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const next = this.#heap.peek();
    if (next === undefined) return;
    const now = this.#clock.now();
    const wait = Math.min(Math.max(0, next.readyAt - now), MAX_WAIT_MS);
    this.#timerAt = now + wait;
    this.#timer = this.#clock.setTimer(wait, () => this.#release());
  }

  #release(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.isShuttingDown()) return;
    const now = this.#clock.now();
    for (let entry = this.#heap.peek(); entry !== undefined && entry.readyAt <= now; entry = this.#heap.peek()) {
      this.#heap.pop();
      this.#waiting.delete(entry.key);
      this.add(entry.key);
    }
    this.#arm();
  }
}
