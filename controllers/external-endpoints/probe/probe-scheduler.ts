import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { type Clock, realClock, type Timer } from '../../runtime/clock.ts';
import { type AddressPolicy, type AddressVerdict, checkBackendAddress } from '../address-policy.ts';
import { type ProbeResult, type Prober, type ProbeSpec, type ProbeTarget, probeFailure } from './prober.ts';

// Runs the probes of every backend of every ExternalEndpoints object, on the leader only. Bounded on every axis:
// - sockets: at most `concurrency` probes run at once, and a probe holds its slot until its socket is closed (the
//   queue's own timeout/abort would free the slot while the socket lingers, so they are not used);
// - memory: each backend has at most one probe waiting or running, so the queue never outgrows the backend count;
// - time: every probe has its timeout, plus a watchdog that aborts it shortly after, and stop() aborts them all.

/** One backend to probe. `key` identifies it across updates (for example `namespace/name/address:port`). */
export interface ProbeJob {
  readonly key: string;
  readonly target: ProbeTarget;
  readonly spec: ProbeSpec;
  readonly intervalMs: number;
}

/** A finished probe, delivered to the `onResult` given to {@link ProbeScheduler.run}. Times are clock milliseconds. */
export interface ProbeReport {
  readonly key: string;
  readonly target: ProbeTarget;
  readonly result: ProbeResult;
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** Options of {@link ProbeScheduler}. */
export interface ProbeSchedulerOptions {
  readonly prober: Prober;
  /** Every address is checked against it before being scheduled. */
  readonly addressPolicy: AddressPolicy;
  /** Default: the real clock. */
  readonly clock?: Clock;
  /** Uniform in [0, 1). Default Math.random. */
  readonly random?: () => number;
  /** Probes running at once, over all backends. Default 10. */
  readonly concurrency?: number;
  /** Each interval is stretched or shrunk by up to this fraction, so backends drift apart. Default 0.1. */
  readonly jitter?: number;
  /** How long past its own timeout a probe may run before the watchdog aborts it. Default 1000 ms. */
  readonly watchdogGraceMs?: number;
  readonly logger?: Logger;
}

interface Entry {
  readonly job: ProbeJob;
  readonly fingerprint: string;
  timer: Timer | undefined;
  running: AbortController | undefined;
}

const DEFAULT_CONCURRENCY = 10;
const DEFAULT_JITTER = 0.1;
const DEFAULT_WATCHDOG_GRACE_MS = 1000;

/**
 * Schedules probes per backend: the first within one interval of being added (spread at random, so a new leader with
 * many backends does not probe them all at once), then every interval ± jitter, measured from when the previous probe
 * was due so the cadence does not drift with queueing. One term of leadership: after stop, it stays stopped.
 * Not safe for concurrent use from several threads (there are none); all methods are synchronous except run() and stop().
 */
export class ProbeScheduler {
  readonly #opts: ProbeSchedulerOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #jitter: number;
  readonly #queue: PQueue;
  readonly #entries = new Map<string, Entry>();
  /** Where results go; set by run(), so there are none before. */
  #onResult: ((report: ProbeReport) => void) | undefined;
  #stopped = false;

  constructor(options: ProbeSchedulerOptions) {
    this.#opts = options;
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? Math.random;
    this.#jitter = Math.min(1, Math.max(0, options.jitter ?? DEFAULT_JITTER));
    this.#queue = new PQueue({ concurrency: options.concurrency ?? DEFAULT_CONCURRENCY });
  }

  /**
   * One term of leadership: probes the jobs added so far and any added later, handing each finished probe of a current
   * job to `onResult` (never after remove/stop; it must not throw), until `signal` aborts (leadership lost or the
   * manager stopping). Resolves once every probe's socket is closed. A second call does nothing.
   */
  async run(signal: AbortSignal, onResult: (report: ProbeReport) => void): Promise<void> {
    if (this.#onResult !== undefined || this.#stopped) return;
    this.#onResult = onResult;
    if (!signal.aborted) {
      for (const entry of this.#entries.values()) this.#scheduleFirst(entry);
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    await this.stop();
  }

  /**
   * Adds or updates a job. An unchanged job keeps its schedule (reconciles call this repeatedly); a changed one
   * starts over, cancelling its running probe, whose result would describe the old settings. A refused address is
   * not scheduled (any previous job under the key is removed) and the verdict says why.
   */
  upsert(job: ProbeJob): AddressVerdict {
    const verdict = checkBackendAddress(job.target.address, this.#opts.addressPolicy);
    if (!verdict.allowed) {
      this.remove(job.key);
      return verdict;
    }
    // Byte fields (TCP send) have no JSON form of their own: spelled out, so a changed one counts (the expect pattern
    // spells itself out through its toJSON).
    const fingerprint = JSON.stringify([job.target, job.spec, job.intervalMs], (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
    );
    const existing = this.#entries.get(job.key);
    if (existing?.fingerprint === fingerprint) return verdict;
    if (existing !== undefined) this.#cancel(existing);
    const entry: Entry = { job, fingerprint, timer: undefined, running: undefined };
    this.#entries.set(job.key, entry);
    if (this.#onResult !== undefined && !this.#stopped) this.#scheduleFirst(entry);
    return verdict;
  }

  /** Stops probing `key`: its timer is cancelled, its running probe aborted and its result dropped. No-op if unknown. */
  remove(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#cancel(entry);
  }

  /** Keys of the jobs currently scheduled. */
  keys(): string[] {
    return [...this.#entries.keys()];
  }

  /** Probes running now (each holds one socket at most). */
  get running(): number {
    return this.#queue.pending;
  }

  /** Probes due and waiting for a free slot. */
  get waiting(): number {
    return this.#queue.size;
  }

  /** Stops for good: cancels every timer and waiting probe, aborts running ones and resolves once their sockets closed. */
  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      for (const entry of this.#entries.values()) this.#cancel(entry);
      this.#queue.clear();
    }
    await this.#queue.onIdle();
  }

  #cancel(entry: Entry): void {
    entry.timer?.cancel();
    entry.timer = undefined;
    entry.running?.abort();
  }

  #current(entry: Entry): boolean {
    return !this.#stopped && this.#entries.get(entry.job.key) === entry;
  }

  #scheduleFirst(entry: Entry): void {
    this.#arm(entry, this.#clock.now() + this.#random() * entry.job.intervalMs);
  }

  #arm(entry: Entry, dueAt: number): void {
    entry.timer = this.#clock.setTimer(dueAt - this.#clock.now(), () => {
      entry.timer = undefined;
      if (!this.#current(entry)) return;
      // clear() on stop rejects the waiting tasks; nothing else awaits them.
      this.#queue.add(() => this.#run(entry, dueAt)).catch(() => {});
    });
  }

  async #run(entry: Entry, dueAt: number): Promise<void> {
    if (!this.#current(entry)) return;
    const { job } = entry;
    const ac = new AbortController();
    entry.running = ac;
    const watchdog = this.#clock.setTimer(job.spec.timeoutMs + (this.#opts.watchdogGraceMs ?? DEFAULT_WATCHDOG_GRACE_MS), () =>
      ac.abort(new DOMException(`probe of ${job.key} overran its timeout`, 'TimeoutError')),
    );
    const startedAt = this.#clock.now();
    let result: ProbeResult;
    try {
      result = await this.#opts.prober.probe(job.target, job.spec, ac.signal);
    } catch (err) {
      // Probers resolve every outcome; a throw is a bug, reported as a failed probe rather than lost.
      result = probeFailure('Error', `prober failed: ${err instanceof Error ? err.message : String(err)}`, this.#clock.now() - startedAt);
    } finally {
      watchdog.cancel();
      entry.running = undefined;
    }
    if (!this.#current(entry)) return;
    try {
      this.#onResult?.({ key: job.key, target: job.target, result, startedAt, finishedAt: this.#clock.now() });
    } catch (err) {
      this.#opts.logger?.error({ err, key: job.key }, 'Failed to handle probe result');
    }
    if (this.#current(entry)) this.#arm(entry, Math.max(this.#clock.now(), dueAt + this.#jittered(job.intervalMs)));
  }

  #jittered(intervalMs: number): number {
    return intervalMs * (1 + this.#jitter * (2 * this.#random() - 1));
  }
}
