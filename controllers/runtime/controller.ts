import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import type { ControllerMetrics, ControllerMetricsHandle } from './controller-metrics.ts';
import type { ControllerHandle, ControllerOptions } from './manager-types.ts';
import { defaultControllerRateLimiter } from './queue/rate-limiters.ts';
import { RateLimitingQueue } from './queue/rate-limiting-queue.ts';
import type { QueueMetrics } from './queue/types.ts';
import { type Reconciler, type Result, StaleCacheError, TerminalError } from './reconcile.ts';

// A queue plus N workers that apply the reconcile contract (reconcile.ts). The queue guarantees a key is never
// reconciled by two workers at once; this file decides what each outcome does to the key afterwards.

/** client-go controllers give a failing key this many rate-limited requeues before dropping it. */
export const DEFAULT_MAX_RETRIES = 15;

/** What a controller needs from the manager. */
export interface ControllerDeps {
  readonly clock: Clock;
  /** The root logger; the controller logs under a child with `controller`. */
  readonly logger: Logger;
  /** Shared controller metric families (one per registry). */
  readonly metrics: ControllerMetrics;
  /** Workqueue metrics bound to this controller's queue name. Default: none. */
  readonly queueMetrics?: QueueMetrics;
  /** Source of reconcile ids (log correlation). Default: random UUIDs. */
  readonly newReconcileId?: () => string;
}

type Outcome = { readonly ok: true; readonly result: Result } | { readonly ok: false; readonly error: unknown };

/**
 * One controller. Keys may be enqueued at any time (before `start` they wait). `start(signal)` runs the workers;
 * `shutDown()` stops graceful: no new reconcile starts and it resolves when the in-flight ones have returned.
 * Aborting `start`'s signal is the hard stop: the signal reaches every in-flight reconcile through its context.
 */
export class Controller implements ControllerHandle {
  readonly name: string;
  readonly #options: ControllerOptions;
  readonly #reconciler: Reconciler;
  readonly #workers: number;
  readonly #maxRetries: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ControllerMetricsHandle;
  readonly #queue: RateLimitingQueue;
  readonly #newReconcileId: () => string;
  #running: Promise<void> | undefined;
  #stopping = false;

  /** Throws RangeError for workers < 1 or maxRetries < 0. */
  constructor(options: ControllerOptions, deps: ControllerDeps) {
    const workers = options.workers ?? 1;
    const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`controller ${options.name}: workers must be >= 1, got ${workers}`);
    if (!Number.isInteger(maxRetries) || maxRetries < 0)
      throw new RangeError(`controller ${options.name}: maxRetries must be >= 0, got ${maxRetries}`);
    this.name = options.name;
    this.#options = options;
    this.#reconciler = options.reconciler;
    this.#workers = workers;
    this.#maxRetries = maxRetries;
    this.#clock = deps.clock;
    this.#log = deps.logger.child({ controller: options.name });
    this.#metrics = deps.metrics.forController(options.name, workers);
    this.#newReconcileId = deps.newReconcileId ?? randomUUID;
    this.#queue = new RateLimitingQueue({
      clock: deps.clock,
      metrics: deps.queueMetrics,
      rateLimiter: options.rateLimiter ?? defaultControllerRateLimiter(deps.clock),
    });
  }

  enqueue(key: string): void {
    this.#queue.add(key);
  }

  enqueueAfter(key: string, delayMs: number): void {
    this.#queue.addAfter(key, delayMs);
  }

  /** Runs the controller's `onStart` hook, if any (after caches synced, before workers). Rejects with its error. */
  async runOnStart(signal: AbortSignal): Promise<void> {
    await this.#options.onStart?.(signal);
  }

  /** Starts the workers; resolves once all of them have exited (after `shutDown` or `signal` abort). Call once. */
  start(signal: AbortSignal): Promise<void> {
    if (this.#running !== undefined) throw new Error(`controller ${this.name} started twice`);
    const onAbort = () => this.#queue.shutDown();
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    this.#log.info({ workers: this.#workers }, 'Started workers');
    const workers = Array.from({ length: this.#workers }, () => this.#worker(signal));
    this.#running = Promise.all(workers).then(() => {
      signal.removeEventListener('abort', onAbort);
      this.#log.info('Stopped workers');
    });
    return this.#running;
  }

  /** Graceful stop: stops intake and resolves when every in-flight reconcile has returned and the workers exited. */
  async shutDown(): Promise<void> {
    this.#stopping = true;
    await this.#queue.shutDownWithDrain();
    await this.#running;
  }

  async #worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (key === undefined) return;
      // After a stop, the queue still hands out keys that were waiting (client-go's semantics); they are dropped
      // unprocessed so shutdown waits only for reconciles already running.
      if (this.#stopping || signal.aborted) {
        this.#queue.done(key);
        continue;
      }
      try {
        await this.#process(key, signal);
      } finally {
        this.#queue.done(key);
      }
    }
  }

  async #process(key: string, signal: AbortSignal): Promise<void> {
    const reconcileId = this.#newReconcileId();
    const logger = this.#log.child({ key, reconcileId });
    const started = this.#clock.now();
    this.#metrics.activeWorkers(1);
    let outcome: Outcome;
    try {
      const result = await this.#reconciler.reconcile({ key }, { logger, reconcileId, signal });
      outcome = isResult(result)
        ? { ok: true, result }
        : { ok: false, error: new TypeError(`reconciler returned ${JSON.stringify(result)}, not a Result`) };
    } catch (error) {
      outcome = { ok: false, error };
    } finally {
      this.#metrics.activeWorkers(-1);
    }
    const seconds = Math.max(0, this.#clock.now() - started) / 1000;
    try {
      this.#handle(key, outcome, logger, seconds, signal);
    } catch (err) {
      // Only a bug here (e.g. a NaN delay) could throw; it must not kill the worker.
      logger.error({ err }, 'Failed to handle reconcile outcome');
    }
  }

  #handle(key: string, outcome: Outcome, logger: Logger, seconds: number, signal: AbortSignal): void {
    const q = this.#queue;
    if (outcome.ok) {
      const { result } = outcome;
      switch (result.kind) {
        case 'done':
          q.forget(key);
          this.#metrics.reconciled('success', seconds);
          return;
        case 'requeueAfter':
          q.forget(key);
          q.addAfter(key, Number.isFinite(result.ms) ? Math.max(0, result.ms) : 0);
          this.#metrics.reconciled('requeue_after', seconds);
          return;
        default:
          assertNever(result);
      }
    }

    const error = outcome.error;
    if (signal.aborted) {
      // Cut short by the hard stop: not a failure of the object, and nothing will run it again in this process.
      logger.debug({ err: error }, 'Reconcile aborted by shutdown');
      return;
    }
    this.#metrics.errored();
    if (isPanic(error)) {
      this.#metrics.panicked();
    }
    if (inCauseChain(error, TerminalError)) {
      q.forget(key);
      this.#metrics.terminalError();
      this.#metrics.reconciled('terminal_error', seconds);
      logger.error({ err: error }, 'Reconcile failed with a terminal error; not retrying');
      return;
    }
    this.#metrics.reconciled('error', seconds);
    const retries = q.numRequeues(key);
    if (retries >= this.#maxRetries) {
      q.forget(key);
      this.#metrics.dropped();
      logger.error({ err: error, retries }, 'Dropped key after exhausting retries');
      return;
    }
    q.addRateLimited(key);
    if (inCauseChain(error, StaleCacheError)) {
      logger.debug({ err: error, retries }, 'Requeued key: cache older than our own writes');
    } else {
      logger.error({ err: error, retries, panic: isPanic(error) || undefined }, 'Reconcile failed; requeued with backoff');
    }
  }
}

function isResult(value: unknown): value is Result {
  if (typeof value !== 'object' || value === null) return false;
  const kind = (value as { kind?: unknown }).kind;
  return kind === 'done' || (kind === 'requeueAfter' && typeof (value as { ms?: unknown }).ms === 'number');
}

/** True when `error` or any error in its `cause` chain is a `type`, so wrapping never hides the outcome. */
function inCauseChain(error: unknown, type: abstract new (...args: never[]) => Error): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 16 && e instanceof Error; depth++) {
    if (e instanceof type) return true;
    e = (e as Error).cause;
  }
  return false;
}

// JavaScript's equivalent of a Go panic: a programming error rather than a failure the reconciler reported.
function isPanic(error: unknown): boolean {
  return (
    !(error instanceof Error) ||
    error instanceof TypeError ||
    error instanceof ReferenceError ||
    error instanceof RangeError ||
    error instanceof SyntaxError
  );
}

function assertNever(x: never): never {
  throw new TypeError(`unexpected result ${JSON.stringify(x)}`);
}
