import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { objectMetaSchema } from '../../api/core/meta.ts';
import type { ApiClient } from './api-client.ts';
import { describeError, isNotFound } from './api-errors.ts';
import type { Clock } from './clock.ts';
import { LEASES } from './resource.ts';

// Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics (tools/leaderelection): optimistic
// concurrency through resourceVersion (a 409 means another candidate won the race), expiry judged by the time WE
// last saw the lease change (never by comparing clocks across machines), and release on shutdown so a successor
// takes over at once instead of waiting out the lease.

/** Options of {@link LeaderElector}. Durations in milliseconds; defaults are kube-controller-manager's. */
export interface LeaderElectorOptions {
  readonly client: ApiClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly namespace: string;
  readonly name: string;
  /** This candidate's identity; unique per process (see {@link newLeaderIdentity}). */
  readonly identity: string;
  /** How long others wait after the last observed change before taking over. Default 15 s. */
  readonly leaseDurationMs?: number;
  /** How long the leader retries a failing renewal before giving up leadership. Default 10 s. */
  readonly renewDeadlineMs?: number;
  /** Interval between acquire/renew attempts. Default 2 s. */
  readonly retryPeriodMs?: number;
  /** Clear the holder when `run`'s signal aborts while leading. Default true. */
  readonly releaseOnCancel?: boolean;
  /** Random source in [0, 1) for the acquire jitter. Default Math.random. */
  readonly random?: () => number;
}

/** What the elector tells its owner. Callbacks run synchronously and must not throw. */
export interface LeaderCallbacks {
  /** This candidate now holds the lease. */
  onStartedLeading(): void;
  /**
   * Leadership ended: `lost` when renewal failed for the renew deadline (the owner must stop all work at once: another
   * candidate may take over when the lease expires); `released` after `run`'s signal aborted while leading.
   */
  onStoppedLeading(reason: 'lost' | 'released'): void;
  /** The observed holder changed (including to this candidate). */
  onNewLeader?(identity: string): void;
}

/** client-go's JitterFactor for the acquire loop: waits are retryPeriod x [1, 2.2). */
export const LEADER_ELECTION_JITTER_FACTOR = 1.2;

/** A unique candidate identity: `hostname_uuid`, as kube-controller-manager builds it. */
export function newLeaderIdentity(hostname: string, uuid: () => string = randomUUID): string {
  return `${hostname}_${uuid()}`;
}

/**
 * Formats a metav1.MicroTime: RFC 3339 in UTC with exactly 6 fractional digits (`2026-11-21T05:40:14.123000Z`).
 * The API server rejects Lease times with fewer digits, which is what Date#toISOString gives.
 */
export function formatMicroTime(epochMs: number): string {
  const whole = Math.floor(epochMs);
  const micros = Math.min(999, Math.floor((epochMs - whole) * 1000));
  const d = new Date(whole);
  const ms = String(d.getUTCMilliseconds()).padStart(3, '0');
  return `${d.toISOString().slice(0, 19)}.${ms}${String(micros).padStart(3, '0')}Z`;
}

const leaseSchema = z.looseObject({
  metadata: objectMetaSchema,
  spec: z
    .looseObject({
      holderIdentity: z.string().nullish(),
      leaseDurationSeconds: z.number().int().nullish(),
      acquireTime: z.string().nullish(),
      renewTime: z.string().nullish(),
      leaseTransitions: z.number().int().nullish(),
    })
    .nullish(),
});
type Lease = z.infer<typeof leaseSchema>;

/** The fields of a Lease that election reads and writes (client-go's LeaderElectionRecord). */
interface ElectionRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: string | undefined;
  readonly renewTime: string | undefined;
  readonly leaseTransitions: number;
}

const recordOf = (lease: Lease): ElectionRecord => ({
  holderIdentity: lease.spec?.holderIdentity ?? '',
  leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
  acquireTime: lease.spec?.acquireTime ?? undefined,
  renewTime: lease.spec?.renewTime ?? undefined,
  leaseTransitions: lease.spec?.leaseTransitions ?? 0,
});

const sameRecord = (a: ElectionRecord | undefined, b: ElectionRecord): boolean =>
  a !== undefined &&
  a.holderIdentity === b.holderIdentity &&
  a.leaseDurationSeconds === b.leaseDurationSeconds &&
  a.acquireTime === b.acquireTime &&
  a.renewTime === b.renewTime &&
  a.leaseTransitions === b.leaseTransitions;

const specOf = (r: ElectionRecord) => ({
  holderIdentity: r.holderIdentity,
  leaseDurationSeconds: r.leaseDurationSeconds,
  acquireTime: r.acquireTime,
  renewTime: r.renewTime,
  leaseTransitions: r.leaseTransitions,
});

/** The renew deadline passed without a successful renewal. */
class RenewDeadlineExceededError extends Error {
  override readonly name = 'RenewDeadlineExceededError';
}

/**
 * One candidate in a Lease-based election. `run` campaigns until it leads, keeps renewing, and returns when
 * leadership is lost or its signal aborts (after releasing the lease). Not reusable: a lost elector does not campaign
 * again, as client-go's; the process is expected to exit and restart.
 */
export class LeaderElector {
  readonly #o: Required<Omit<LeaderElectorOptions, 'random'>> & { random: () => number };
  readonly #log: Logger;
  #observed: ElectionRecord | undefined;
  #observedAt = 0;
  /** The last Lease object read or written: its resourceVersion makes our next write conditional. */
  #lease: Lease | undefined;

  constructor(options: LeaderElectorOptions) {
    // Field by field with ??, not a spread over defaults: callers forward optional settings as explicit undefined
    // (the Manager does), and a spread would turn those into NaN timings, under which every candidate leads.
    this.#o = {
      ...options,
      leaseDurationMs: options.leaseDurationMs ?? 15_000,
      renewDeadlineMs: options.renewDeadlineMs ?? 10_000,
      retryPeriodMs: options.retryPeriodMs ?? 2_000,
      releaseOnCancel: options.releaseOnCancel ?? true,
      random: options.random ?? Math.random,
    };
    for (const [name, ms] of [
      ['leaseDuration', this.#o.leaseDurationMs],
      ['renewDeadline', this.#o.renewDeadlineMs],
      ['retryPeriod', this.#o.retryPeriodMs],
    ] as const) {
      if (!(Number.isFinite(ms) && ms > 0)) throw new RangeError(`${name} must be a positive number of milliseconds, got ${ms}`);
    }
    if (this.#o.leaseDurationMs <= this.#o.renewDeadlineMs) throw new RangeError('leaseDuration must be greater than renewDeadline');
    if (this.#o.renewDeadlineMs <= LEADER_ELECTION_JITTER_FACTOR * this.#o.retryPeriodMs) {
      throw new RangeError(`renewDeadline must be greater than retryPeriod x ${LEADER_ELECTION_JITTER_FACTOR}`);
    }
    this.#log = options.logger.child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
  }

  /** True while the last observed holder is this candidate. */
  isLeader(): boolean {
    return this.#observed?.holderIdentity === this.#o.identity;
  }

  /** The identity of the last observed holder ('' when none). */
  observedLeader(): string {
    return this.#observed?.holderIdentity ?? '';
  }

  /**
   * Campaigns, then leads until the renew deadline passes without a renewal (`onStoppedLeading('lost')`, returns at
   * once without touching the lease) or `signal` aborts (releases the lease if leading, then
   * `onStoppedLeading('released')`). Never rejects.
   */
  async run(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<void> {
    const { clock, retryPeriodMs } = this.#o;
    this.#log.info('Started leader election');
    // Acquire: retry with jitter so candidates that start together do not hit the API server in lockstep.
    for (;;) {
      if (signal.aborted) return;
      if (await this.#tryAcquireOrRenew(signal, callbacks)) break;
      const wait = retryPeriodMs * (1 + this.#o.random() * LEADER_ELECTION_JITTER_FACTOR);
      if (!(await sleepOrAbort(clock, wait, signal))) return;
    }
    this.#log.info('Acquired lease');
    callbacks.onStartedLeading();

    for (;;) {
      if (!(await sleepOrAbort(clock, retryPeriodMs, signal))) break;
      const renewed = await this.#renewWithinDeadline(signal, callbacks);
      if (signal.aborted) break;
      if (!renewed) {
        this.#log.error({ renewDeadlineMs: this.#o.renewDeadlineMs }, 'Lost lease');
        this.#observed = undefined;
        callbacks.onStoppedLeading('lost');
        return;
      }
    }
    if (this.#o.releaseOnCancel) await this.#release();
    callbacks.onStoppedLeading('released');
  }

  // client-go polls every retryPeriod until the renew deadline; every attempt is cut off at the deadline too, so a
  // hung request cannot keep a stale leader working past the point where others may take over.
  async #renewWithinDeadline(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<boolean> {
    const { clock, renewDeadlineMs, retryPeriodMs } = this.#o;
    const deadline = new AbortController();
    const timer = clock.setTimer(renewDeadlineMs, () => deadline.abort(new RenewDeadlineExceededError('renew deadline exceeded')));
    const attemptSignal = AbortSignal.any([signal, deadline.signal]);
    try {
      for (;;) {
        if (await this.#tryAcquireOrRenew(attemptSignal, callbacks)) return true;
        if (!(await sleepOrAbort(clock, retryPeriodMs, attemptSignal))) return false;
      }
    } finally {
      timer.cancel();
    }
  }

  async #tryAcquireOrRenew(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<boolean> {
    if (signal.aborted) return false;
    const { client, clock, namespace, name, identity } = this.#o;
    const leaseDurationSeconds = Math.ceil(this.#o.leaseDurationMs / 1000);
    const now = clock.now();
    const nowText = formatMicroTime(now);

    // Fast path while leading and the lease is still ours by our own observation: write without reading first.
    const cached = this.#lease;
    const observed = this.#observed;
    if (
      cached !== undefined &&
      observed !== undefined &&
      this.isLeader() &&
      this.#observedAt + observed.leaseDurationSeconds * 1000 > now
    ) {
      const renewed: ElectionRecord = { ...observed, leaseDurationSeconds, renewTime: nowText };
      try {
        const written = await client.update(
          LEASES,
          namespace,
          name,
          { ...cached, spec: { ...cached.spec, ...specOf(renewed) } },
          { signal },
        );
        this.#remember(leaseSchema.parse(written), now, callbacks);
        return true;
      } catch (err) {
        this.#log.debug({ err: describeError(err) }, 'Failed to renew lease without a read; retrying with a read');
        if (signal.aborted) return false;
      }
    }

    let current: Lease;
    try {
      current = leaseSchema.parse(await client.get(LEASES, namespace, name, signal));
    } catch (err) {
      if (!isNotFound(err)) {
        this.#log.warn({ err: describeError(err) }, 'Failed to read lease');
        return false;
      }
      const fresh: ElectionRecord = {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: nowText,
        renewTime: nowText,
        leaseTransitions: 0,
      };
      try {
        const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { namespace, name }, spec: specOf(fresh) };
        const created = await client.create(LEASES, namespace, body, { signal });
        this.#remember(leaseSchema.parse(created), now, callbacks);
        return true;
      } catch (createErr) {
        // AlreadyExists: another candidate created it first; we will see it on the next attempt.
        this.#log.debug({ err: describeError(createErr) }, 'Failed to create lease');
        return false;
      }
    }

    const old = recordOf(current);
    if (!sameRecord(this.#observed, old)) this.#observe(old, now, callbacks);
    this.#lease = current;
    if (old.holderIdentity !== '' && old.holderIdentity !== identity && this.#observedAt + old.leaseDurationSeconds * 1000 > now) {
      return false; // held by someone else and, as far as we have seen, still being renewed
    }
    const ours = old.holderIdentity === identity;
    const next: ElectionRecord = {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: ours ? (old.acquireTime ?? nowText) : nowText,
      renewTime: nowText,
      leaseTransitions: ours ? old.leaseTransitions : old.leaseTransitions + 1,
    };
    try {
      const written = await client.update(LEASES, namespace, name, { ...current, spec: { ...current.spec, ...specOf(next) } }, { signal });
      this.#remember(leaseSchema.parse(written), now, callbacks);
      return true;
    } catch (err) {
      // A 409 Conflict means another candidate wrote first: it won this round.
      this.#log.debug({ err: describeError(err) }, 'Failed to update lease');
      return false;
    }
  }

  #remember(lease: Lease, now: number, callbacks: LeaderCallbacks): void {
    this.#lease = lease;
    this.#observe(recordOf(lease), now, callbacks);
  }

  #observe(record: ElectionRecord, now: number, callbacks: LeaderCallbacks): void {
    const previousHolder = this.#observed?.holderIdentity;
    this.#observed = record;
    this.#observedAt = now;
    if (record.holderIdentity !== previousHolder && record.holderIdentity !== '') {
      this.#log.info({ leader: record.holderIdentity }, 'Observed new leader');
      callbacks.onNewLeader?.(record.holderIdentity);
    }
  }

  // Clearing the holder (client-go's ReleaseOnCancel) lets a standby acquire on its next attempt instead of waiting a
  // whole lease duration. A 1 s lease duration covers candidates that ignore an empty holder.
  async #release(): Promise<void> {
    const lease = this.#lease;
    const observed = this.#observed;
    if (lease === undefined || observed === undefined || !this.isLeader()) return;
    const now = formatMicroTime(this.#o.clock.now());
    const released: ElectionRecord = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: observed.leaseTransitions,
    };
    const timeout = new AbortController();
    const timer = this.#o.clock.setTimer(this.#o.renewDeadlineMs, () => timeout.abort(new RenewDeadlineExceededError('release timed out')));
    try {
      await this.#o.client.update(
        LEASES,
        this.#o.namespace,
        this.#o.name,
        { ...lease, spec: { ...lease.spec, ...specOf(released) } },
        { signal: timeout.signal },
      );
      this.#observed = released;
      this.#log.info('Released lease');
    } catch (err) {
      this.#log.warn({ err: describeError(err) }, 'Failed to release lease');
    } finally {
      timer.cancel();
    }
  }
}

/** Sleeps on the clock; false when the signal aborted first. */
async function sleepOrAbort(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    await clock.sleep(ms, signal);
    return true;
  } catch {
    return false;
  }
}
