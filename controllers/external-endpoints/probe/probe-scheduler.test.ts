import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../runtime/clock.ts';
import { newAddressPolicy } from '../address-policy.ts';
import { AnswerPattern } from './answer-pattern.ts';
import { type ProbeJob, type ProbeReport, ProbeScheduler } from './probe-scheduler.ts';
import type { ProbeResult, Prober, ProbeSpec, ProbeTarget } from './prober.ts';
import { abortedError } from './socket-errors.ts';

interface Call {
  readonly key: string;
  readonly at: number;
  readonly signal: AbortSignal;
  settle(result: ProbeResult): void;
  settled: boolean;
}

/** A prober under the test's control: each call waits for `settle`, or answers at once in auto mode; honours abort. */
class FakeProber implements Prober {
  readonly calls: Call[] = [];
  auto: ProbeResult | undefined;
  maxConcurrent = 0;
  #running = 0;
  readonly #clock: FakeClock;

  constructor(clock: FakeClock, auto?: ProbeResult) {
    this.#clock = clock;
    this.auto = auto;
  }

  probe(target: ProbeTarget, _spec: ProbeSpec, signal: AbortSignal): Promise<ProbeResult> {
    this.#running++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.#running);
    return new Promise((resolve) => {
      const call: Call = {
        key: `${target.address}:${target.port}`,
        at: this.#clock.now(),
        signal,
        settled: false,
        settle: (r) => {
          if (call.settled) return;
          call.settled = true;
          this.#running--;
          resolve(r);
        },
      };
      this.calls.push(call);
      signal.addEventListener('abort', () => call.settle({ ok: false, latencyMs: 0, error: abortedError(signal, call.key) }), {
        once: true,
      });
      if (this.auto !== undefined) call.settle(this.auto);
    });
  }

  get running(): number {
    return this.#running;
  }
}

const OK: ProbeResult = Object.freeze({ ok: true, latencyMs: 3 });
const tcp: ProbeSpec = Object.freeze({ type: 'TCP', timeoutMs: 1000 });

function job(i: number, overrides: Partial<ProbeJob> = {}): ProbeJob {
  const address = `198.18.0.${i}`;
  return { key: `ns/db/${address}:5432`, target: { address, port: 5432 }, spec: tcp, intervalMs: 10_000, ...overrides };
}

function setup(options: { random?: () => number; concurrency?: number; auto?: ProbeResult } = {}) {
  const clock = new FakeClock(0);
  const prober = new FakeProber(clock, 'auto' in options ? options.auto : OK);
  const reports: ProbeReport[] = [];
  const scheduler = new ProbeScheduler({
    prober,
    clock,
    addressPolicy: newAddressPolicy(),
    random: options.random ?? (() => 0.5),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  });
  const leader = new AbortController();
  const onResult = (r: ProbeReport) => void reports.push(r);
  return { clock, prober, reports, scheduler, leader, onResult };
}

/** Values handed out in order, then the last one forever. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)] ?? 0;
}

describe('ProbeScheduler', () => {
  it('probes a backend first within one interval, then every interval with jitter from when it was due', async () => {
    // first delay 0.25 * 10s; then jitter factors 1 + 0.1 * (2r - 1) for r = 0, 1 (almost), 0.5
    const { clock, prober, reports, scheduler, leader, onResult } = setup({ random: sequence(0.25, 0, 0.9999, 0.5) });
    scheduler.upsert(job(1));
    void scheduler.run(leader.signal, onResult);
    await clock.advance(40_000);
    assert.deepEqual(
      prober.calls.map((c) => c.at),
      [2500, 2500 + 9000, 2500 + 9000 + 10_999.8, 2500 + 9000 + 10_999.8 + 10_000],
    );
    assert.equal(reports.length, 4);
    assert.deepEqual(reports[0], {
      key: 'ns/db/198.18.0.1:5432',
      target: { address: '198.18.0.1', port: 5432 },
      result: OK,
      startedAt: 2500,
      finishedAt: 2500,
    });
    await scheduler.stop();
  });

  it('does nothing before start', async () => {
    const { clock, prober, scheduler } = setup();
    scheduler.upsert(job(1));
    await clock.advance(60_000);
    assert.equal(prober.calls.length, 0);
  });

  it('runs at most `concurrency` probes at once, the rest wait their turn', async () => {
    const { clock, prober, reports, scheduler, leader, onResult } = setup({ random: () => 0, concurrency: 3, auto: undefined });
    for (let i = 1; i <= 25; i++) scheduler.upsert(job(i));
    void scheduler.run(leader.signal, onResult);
    await clock.advance(0);
    assert.deepEqual(
      { calls: prober.calls.length, running: scheduler.running, waiting: scheduler.waiting },
      { calls: 3, running: 3, waiting: 22 },
    );
    for (let round = 0; round < 30 && prober.calls.some((c) => !c.settled); round++) {
      for (const c of prober.calls) c.settle(OK);
      await clock.advance(0);
    }
    assert.equal(reports.length, 25);
    assert.equal(prober.maxConcurrent, 3);
    await scheduler.stop();
  });

  it('defaults to 10 probes at once', async () => {
    const { clock, prober, scheduler, leader, onResult } = setup({ random: () => 0, auto: undefined });
    for (let i = 1; i <= 15; i++) scheduler.upsert(job(i));
    void scheduler.run(leader.signal, onResult);
    await clock.advance(0);
    assert.equal(prober.running, 10);
    await scheduler.stop();
  });

  it('never overlaps two probes of one backend, and the watchdog aborts one that overruns its timeout', async () => {
    const { clock, prober, reports, scheduler, leader, onResult } = setup({ random: () => 0.5, auto: undefined });
    scheduler.upsert(job(1, { intervalMs: 1000, spec: { type: 'TCP', timeoutMs: 500 } }));
    void scheduler.run(leader.signal, onResult);
    await clock.advance(500); // first probe due at 500
    assert.equal(prober.calls.length, 1);
    await clock.advance(1499); // past the next due time (1500), but the first probe still runs
    assert.equal(prober.calls.length, 1, 'a second probe started while the first ran');
    await clock.advance(1); // 500 + 500 timeout + 1000 grace
    assert.equal(prober.calls[0]?.signal.aborted, true);
    assert.equal(reports.length, 1);
    const first = reports[0]?.result;
    assert.equal(first === undefined || first.ok ? 'ok' : first.error.reason, 'Timeout');
    await clock.advance(0);
    assert.equal(prober.calls.length, 2, 'the overdue next probe runs at once');
    await scheduler.stop();
  });

  it('stops when leadership is lost: running probes aborted, waiting ones dropped, no timers, no more results', async () => {
    const { clock, prober, reports, scheduler, leader, onResult } = setup({ random: () => 0, concurrency: 2, auto: undefined });
    for (let i = 1; i <= 5; i++) scheduler.upsert(job(i));
    void scheduler.run(leader.signal, onResult);
    await clock.advance(0);
    assert.equal(prober.running, 2);
    leader.abort();
    await scheduler.stop();
    assert.deepEqual(
      prober.calls.map((c) => c.signal.aborted),
      [true, true],
    );
    assert.equal(prober.running, 0);
    assert.equal(scheduler.waiting, 0);
    assert.equal(clock.pendingTimers(), 0);
    await clock.advance(60_000);
    assert.equal(prober.calls.length, 2);
    assert.equal(reports.length, 0);
    scheduler.upsert(job(9));
    await clock.advance(60_000);
    assert.equal(prober.calls.length, 2, 'a stopped scheduler stays stopped');
  });

  it('starts stopped when leadership was already lost', async () => {
    const { clock, prober, scheduler, leader, onResult } = setup();
    scheduler.upsert(job(1));
    leader.abort();
    void scheduler.run(leader.signal, onResult);
    await clock.advance(60_000);
    assert.equal(prober.calls.length, 0);
  });

  it('remove() aborts the running probe, drops its result and probes no more', async () => {
    const { clock, prober, reports, scheduler, leader, onResult } = setup({ random: () => 0, auto: undefined });
    scheduler.upsert(job(1));
    scheduler.upsert(job(2));
    void scheduler.run(leader.signal, onResult);
    await clock.advance(0);
    scheduler.remove(job(1).key);
    assert.equal(prober.calls[0]?.signal.aborted, true);
    prober.calls[1]?.settle(OK);
    prober.auto = OK;
    await clock.advance(30_000);
    assert.deepEqual(new Set(reports.map((r) => r.key)), new Set([job(2).key]));
    assert.ok(prober.calls.slice(2).every((c) => c.key === '198.18.0.2:5432'));
    assert.deepEqual(scheduler.keys(), [job(2).key]);
    await scheduler.stop();
  });

  it('keeps the schedule of an unchanged job, and restarts a changed one, dropping the old result', async () => {
    const { clock, prober, reports, scheduler, leader, onResult } = setup({ random: () => 0.5, auto: undefined });
    scheduler.upsert(job(1));
    void scheduler.run(leader.signal, onResult);
    await clock.advance(5000);
    assert.equal(prober.calls.length, 1);
    for (let i = 0; i < 5; i++) scheduler.upsert(job(1)); // every reconcile re-declares the job
    assert.equal(prober.calls[0]?.signal.aborted, false);
    scheduler.upsert(job(1, { spec: { type: 'TCP', timeoutMs: 2000 } }));
    assert.equal(prober.calls[0]?.signal.aborted, true);
    prober.auto = OK;
    await clock.advance(5000); // the changed job is due half an interval after the change
    assert.equal(prober.calls.length, 2);
    assert.deepEqual(
      reports.map((r) => r.startedAt),
      [10_000],
    );
    await scheduler.stop();
  });

  it('restarts a TCP send/expect job whose pattern or bytes changed', async () => {
    const { clock, prober, scheduler, leader, onResult } = setup({ random: () => 0.5, auto: undefined });
    const exchange = (expect: RegExp, send: number[]): ProbeSpec => ({
      type: 'TCP',
      timeoutMs: 1000,
      exchange: { send: Uint8Array.from(send), expect: AnswerPattern.compile(expect.source), maxReadBytes: 64 },
    });
    scheduler.upsert(job(1, { spec: exchange(/^\+PONG/, [1]) }));
    void scheduler.run(leader.signal, onResult);
    await clock.advance(5000);
    assert.equal(prober.calls.length, 1);
    scheduler.upsert(job(1, { spec: exchange(/^\+PONG/, [1]) }));
    assert.equal(prober.calls[0]?.signal.aborted, false, 'an equal job keeps its running probe');
    scheduler.upsert(job(1, { spec: exchange(/^-ERR/, [1]) }));
    assert.equal(prober.calls[0]?.signal.aborted, true, 'a changed expect restarts the job');
    await clock.advance(5000);
    assert.equal(prober.calls.length, 2);
    scheduler.upsert(job(1, { spec: exchange(/^-ERR/, [2]) }));
    assert.equal(prober.calls[1]?.signal.aborted, true, 'changed bytes restart the job');
    await scheduler.stop();
  });

  it('refuses an address the policy denies, never probing it, and drops an older job under the key', async () => {
    const { clock, prober, scheduler, leader, onResult } = setup({ random: () => 0 });
    void scheduler.run(leader.signal, onResult);
    const verdict = scheduler.upsert(job(1, { target: { address: '169.254.169.254', port: 80 } }));
    assert.equal(verdict.allowed ? 'allowed' : verdict.reason, 'LinkLocalAddress');
    scheduler.upsert(job(2, { key: 'k' }));
    const later = scheduler.upsert(job(2, { key: 'k', target: { address: '100.100.100.200', port: 80 } }));
    assert.equal(later.allowed ? 'allowed' : later.reason, 'DeniedAddress');
    await clock.advance(60_000);
    assert.deepEqual(prober.calls, []);
    assert.deepEqual(scheduler.keys(), []);
    await scheduler.stop();
  });

  it('reports a prober that throws as a failed probe and keeps probing', async () => {
    const clock = new FakeClock(0);
    const reports: ProbeReport[] = [];
    let calls = 0;
    const scheduler = new ProbeScheduler({
      prober: {
        probe: () => {
          calls++;
          return Promise.reject(new Error('boom'));
        },
      },
      clock,
      addressPolicy: newAddressPolicy(),
      random: () => 0.5,
    });
    scheduler.upsert(job(1));
    void scheduler.run(new AbortController().signal, (r) => reports.push(r));
    await clock.advance(20_000); // due at 5s and 15s
    assert.equal(calls, 2);
    assert.deepEqual(
      reports.map((r) => (r.result.ok ? 'ok' : `${r.result.error.reason}: ${r.result.error.message}`)),
      ['Error: prober failed: boom', 'Error: prober failed: boom'],
    );
    await scheduler.stop();
  });
});
