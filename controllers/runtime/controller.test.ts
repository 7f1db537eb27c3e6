import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { FakeClock, flushMicrotasks } from './clock.ts';
import { Controller } from './controller.ts';
import { ControllerMetrics } from './controller-metrics.ts';
import type { RateLimiter } from './queue/types.ts';
import { done, type ReconcileContext, type Reconciler, type Result, requeueAfter, StaleCacheError, TerminalError } from './reconcile.ts';
import { captureLogger, deferred, LEVEL, type LogLine, metricValue } from './runtime-test-helpers.ts';

type Behaviour = (key: string, attempt: number, ctx: ReconcileContext) => Promise<Result> | Result;

/** A reconciler driven by a script, recording every call and the concurrency it saw. */
class ScriptedReconciler implements Reconciler {
  readonly calls: { key: string; ctx: ReconcileContext; at: number }[] = [];
  readonly #behave: Behaviour;
  readonly #clock: FakeClock;
  readonly #inFlight = new Map<string, number>();
  maxSameKey = 0;
  maxTotal = 0;
  #total = 0;

  constructor(clock: FakeClock, behave: Behaviour) {
    this.#clock = clock;
    this.#behave = behave;
  }

  attempts(key: string): number {
    return this.calls.filter((c) => c.key === key).length;
  }

  async reconcile(request: { key: string }, ctx: ReconcileContext): Promise<Result> {
    const key = request.key;
    this.calls.push({ key, ctx, at: this.#clock.now() });
    const n = (this.#inFlight.get(key) ?? 0) + 1;
    this.#inFlight.set(key, n);
    this.#total++;
    this.maxSameKey = Math.max(this.maxSameKey, n);
    this.maxTotal = Math.max(this.maxTotal, this.#total);
    try {
      return await this.#behave(key, this.attempts(key), ctx);
    } finally {
      this.#inFlight.set(key, (this.#inFlight.get(key) ?? 1) - 1);
      this.#total--;
    }
  }
}

/** A rate limiter with a fixed delay that records forget calls. */
class RecordingRateLimiter implements RateLimiter {
  readonly forgotten: string[] = [];
  readonly #failures = new Map<string, number>();
  readonly #delayMs: number;
  constructor(delayMs: number) {
    this.#delayMs = delayMs;
  }
  when(key: string): number {
    this.#failures.set(key, (this.#failures.get(key) ?? 0) + 1);
    return this.#delayMs;
  }
  forget(key: string): void {
    this.forgotten.push(key);
    this.#failures.delete(key);
  }
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

function setup(behave: Behaviour, opts: { workers?: number; maxRetries?: number; rateLimiter?: RateLimiter } = {}) {
  const clock = new FakeClock();
  const registry = new Registry();
  const { logger, lines } = captureLogger();
  const reconciler = new ScriptedReconciler(clock, behave);
  let ids = 0;
  const controller = new Controller(
    { name: 'test', reconciler, workers: opts.workers, maxRetries: opts.maxRetries, rateLimiter: opts.rateLimiter },
    { clock, logger, metrics: new ControllerMetrics(registry), newReconcileId: () => `rid-${++ids}` },
  );
  const stop = new AbortController();
  const running = controller.start(stop.signal);
  const total = (result: string) => metricValue(registry, 'controller_runtime_reconcile_total', { controller: 'test', result });
  const teardown = async () => {
    stop.abort();
    await running;
  };
  return { clock, registry, lines, reconciler, controller, stop, running, total, teardown };
}

const byMsg = (lines: readonly LogLine[], msg: string) => lines.filter((l) => l.msg === msg);

describe('Controller', () => {
  it('initialises every reconcile result series to zero before any reconcile', async () => {
    const t = setup(() => done());
    for (const result of ['success', 'error', 'requeue_after', 'terminal_error']) assert.equal(await t.total(result), 0, result);
    assert.equal(await metricValue(t.registry, 'controller_runtime_max_concurrent_reconciles', { controller: 'test' }), 1);
    await t.teardown();
  });

  it('forgets the key and counts success when the reconcile is done', async () => {
    const limiter = new RecordingRateLimiter(10);
    const t = setup(() => done(), { rateLimiter: limiter });
    t.controller.enqueue('ns/a');
    await t.clock.advance(0);
    assert.equal(t.reconciler.attempts('ns/a'), 1);
    assert.deepEqual(limiter.forgotten, ['ns/a']);
    assert.equal(await t.total('success'), 1);
    assert.equal(
      await metricValue(
        t.registry,
        'controller_runtime_reconcile_time_seconds',
        { controller: 'test' },
        'controller_runtime_reconcile_time_seconds_count',
      ),
      1,
    );
    await t.teardown();
  });

  it('passes a child logger carrying controller, key and the injected reconcile id', async () => {
    const t = setup((_key, _n, ctx) => {
      ctx.logger.info('Reconciled thing');
      return done();
    });
    t.controller.enqueue('ns/a');
    t.controller.enqueue('ns/b');
    await t.clock.advance(0);
    const logged = byMsg(t.lines, 'Reconciled thing');
    assert.deepEqual(
      logged.map((l) => [l.controller, l.key, l.reconcileId]),
      [
        ['test', 'ns/a', 'rid-1'],
        ['test', 'ns/b', 'rid-2'],
      ],
    );
    assert.deepEqual(
      t.reconciler.calls.map((c) => c.ctx.reconcileId),
      ['rid-1', 'rid-2'],
    );
    await t.teardown();
  });

  it('reconciles again exactly after requeueAfter, having forgotten the failure history', async () => {
    const limiter = new RecordingRateLimiter(10);
    const t = setup((_k, n) => (n === 1 ? requeueAfter(30_000) : done()), { rateLimiter: limiter });
    t.controller.enqueue('ns/a');
    await t.clock.advance(29_999);
    assert.equal(t.reconciler.attempts('ns/a'), 1);
    assert.deepEqual(limiter.forgotten, ['ns/a']);
    await t.clock.advance(1);
    assert.equal(t.reconciler.attempts('ns/a'), 2);
    assert.equal(t.reconciler.calls[1]?.at, (t.reconciler.calls[0]?.at ?? 0) + 30_000);
    assert.equal(await t.total('requeue_after'), 1);
    assert.equal(await t.total('success'), 1);
    await t.teardown();
  });

  it('retries a StaleCacheError with the rate limiter and logs it at debug only', async () => {
    const limiter = new RecordingRateLimiter(50);
    const t = setup(
      (_k, n) => {
        if (n === 1) throw new StaleCacheError('slice generation 3 not yet observed');
        return done();
      },
      { rateLimiter: limiter },
    );
    t.controller.enqueue('ns/a');
    await t.clock.advance(49);
    assert.equal(t.reconciler.attempts('ns/a'), 1);
    await t.clock.advance(1);
    assert.equal(t.reconciler.attempts('ns/a'), 2);
    assert.equal(t.lines.filter((l) => l.level >= LEVEL.warn).length, 0, 'no warn or error lines');
    assert.equal(t.lines.filter((l) => l.level === LEVEL.debug && l.key === 'ns/a').length, 1);
    assert.equal(await t.total('error'), 1);
    await t.teardown();
  });

  it('does not retry a TerminalError (even wrapped), logs it at error and counts it', async () => {
    const limiter = new RecordingRateLimiter(10);
    const t = setup(
      (key) => {
        if (key === 'ns/wrapped') throw new Error('apply failed', { cause: new TerminalError('invalid port') });
        throw new TerminalError('invalid port');
      },
      { rateLimiter: limiter },
    );
    t.controller.enqueue('ns/a');
    t.controller.enqueue('ns/wrapped');
    await t.clock.advance(3_600_000);
    assert.equal(t.reconciler.attempts('ns/a'), 1);
    assert.equal(t.reconciler.attempts('ns/wrapped'), 1);
    assert.deepEqual(limiter.forgotten, ['ns/a', 'ns/wrapped']);
    assert.equal(t.lines.filter((l) => l.level === LEVEL.error).length, 2);
    assert.equal(await t.total('terminal_error'), 2);
    assert.equal(await metricValue(t.registry, 'controller_runtime_terminal_reconcile_errors_total', { controller: 'test' }), 2);
    assert.equal(await metricValue(t.registry, 'controller_runtime_reconcile_errors_total', { controller: 'test' }), 2);
    await t.teardown();
  });

  it('requeues a failing key 15 times with backoff, then drops it with an error log and a metric', async () => {
    // The real default limiter: 5 ms doubling, so the 15 retries take 5 ms x (2^15 - 1) ~ 164 s.
    const t = setup(() => {
      throw new Error('API server said no');
    });
    t.controller.enqueue('ns/a');
    await t.clock.advance(0);
    assert.equal(t.reconciler.attempts('ns/a'), 1);
    await t.clock.advance(4);
    assert.equal(t.reconciler.attempts('ns/a'), 1, 'first retry waits the 5 ms base delay');
    await t.clock.advance(1);
    assert.equal(t.reconciler.attempts('ns/a'), 2);
    await t.clock.advance(200_000);
    assert.equal(t.reconciler.attempts('ns/a'), 16, 'one first try plus 15 retries');
    await t.clock.advance(2_000_000);
    assert.equal(t.reconciler.attempts('ns/a'), 16, 'nothing after the drop');
    assert.equal(byMsg(t.lines, 'Dropped key after exhausting retries').length, 1);
    assert.equal(byMsg(t.lines, 'Reconcile failed; requeued with backoff').length, 15);
    assert.equal(await metricValue(t.registry, 'controller_runtime_reconcile_dropped_total', { controller: 'test' }), 1);
    assert.equal(await t.total('error'), 16);
    // A new event after the drop starts from a clean budget: the next failure is retried after the base delay again.
    t.controller.enqueue('ns/a');
    await t.clock.advance(0);
    await t.clock.advance(5);
    assert.equal(t.reconciler.attempts('ns/a'), 18);
    await t.teardown();
  });

  it('honours a custom retry budget', async () => {
    const t = setup(
      () => {
        throw new Error('nope');
      },
      { maxRetries: 2, rateLimiter: new RecordingRateLimiter(1) },
    );
    t.controller.enqueue('k');
    await t.clock.advance(100);
    assert.equal(t.reconciler.attempts('k'), 3);
    await t.teardown();
  });

  it('catches a thrown non-Error or TypeError, counts it as a panic and retries it', async () => {
    const t = setup(
      (key, n) => {
        if (n > 1) return done();
        if (key === 'str') throw 'boom';
        const missing: { x?: { y: number } } = {};
        return requeueAfter((missing.x as { y: number }).y);
      },
      { rateLimiter: new RecordingRateLimiter(10) },
    );
    t.controller.enqueue('str');
    t.controller.enqueue('type');
    await t.clock.advance(10);
    assert.equal(t.reconciler.attempts('str'), 2);
    assert.equal(t.reconciler.attempts('type'), 2);
    assert.equal(await metricValue(t.registry, 'controller_runtime_reconcile_panics_total', { controller: 'test' }), 2);
    await t.teardown();
  });

  it('treats a reconciler that returns no Result as a failure', async () => {
    const t = setup(() => undefined as unknown as Result, { rateLimiter: new RecordingRateLimiter(10), maxRetries: 0 });
    t.controller.enqueue('k');
    await t.clock.advance(0);
    assert.equal(await t.total('error'), 1);
    assert.equal(await t.total('success'), 0);
    await t.teardown();
  });

  it('runs different keys concurrently up to the worker count but never one key twice at once', async () => {
    const gates = new Map<string, ReturnType<typeof deferred<void>>>();
    const t = setup(
      async (key, n) => {
        const gate = deferred();
        gates.set(`${key}#${n}`, gate);
        await gate.promise;
        return done();
      },
      { workers: 3 },
    );
    for (const k of ['a', 'b', 'c', 'd']) t.controller.enqueue(k);
    await t.clock.advance(0);
    assert.deepEqual([...gates.keys()].sort(), ['a#1', 'b#1', 'c#1'], 'three workers busy, d waits');
    assert.equal(await metricValue(t.registry, 'controller_runtime_active_workers', { controller: 'test' }), 3);
    t.controller.enqueue('a'); // while a is being processed
    t.controller.enqueue('a');
    gates.get('b#1')?.resolve();
    await t.clock.advance(0);
    assert.ok(gates.has('d#1'), 'the freed worker takes d, not a second a');
    assert.ok(!gates.has('a#2'));
    gates.get('a#1')?.resolve();
    await t.clock.advance(0);
    assert.ok(gates.has('a#2'), 'a runs once more after its first run finished');
    for (const g of gates.values()) g.resolve();
    await t.clock.advance(0);
    assert.equal(t.reconciler.attempts('a'), 2, 'two adds during processing give one more run');
    assert.equal(t.reconciler.maxSameKey, 1);
    assert.equal(t.reconciler.maxTotal, 3);
    assert.equal(await metricValue(t.registry, 'controller_runtime_active_workers', { controller: 'test' }), 0);
    await t.teardown();
  });

  it('shutDown waits for in-flight reconciles, starts no waiting key, and does not abort the context', async () => {
    const gate = deferred();
    let sawAbort: boolean | undefined;
    const t = setup(
      async (_key, _n, ctx) => {
        await gate.promise;
        sawAbort = ctx.signal.aborted;
        return done();
      },
      { workers: 1 },
    );
    t.controller.enqueue('busy');
    t.controller.enqueue('waiting');
    await t.clock.advance(0);
    let stopped = false;
    const stopping = t.controller.shutDown().then(() => {
      stopped = true;
    });
    await t.clock.advance(60_000);
    assert.equal(stopped, false, 'still waiting for the in-flight reconcile');
    t.controller.enqueue('late');
    gate.resolve();
    await stopping;
    await t.running;
    assert.equal(sawAbort, false);
    assert.deepEqual(
      t.reconciler.calls.map((c) => c.key),
      ['busy'],
    );
    assert.equal(await t.total('success'), 1);
  });

  it('aborting the start signal reaches in-flight reconciles and does not count or requeue them', async () => {
    const t = setup(
      (_key, _n, ctx) =>
        new Promise<Result>((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        }),
    );
    t.controller.enqueue('k');
    await t.clock.advance(0);
    t.stop.abort(new Error('lost leadership'));
    await t.running;
    assert.equal(t.reconciler.calls[0]?.ctx.signal.aborted, true);
    assert.equal(await t.total('error'), 0);
    assert.equal(await metricValue(t.registry, 'controller_runtime_reconcile_errors_total', { controller: 'test' }), 0);
    await t.clock.advance(10_000);
    assert.equal(t.reconciler.attempts('k'), 1);
  });

  it('keeps keys enqueued before start and reconciles them once started', async () => {
    const clock = new FakeClock();
    const { logger } = captureLogger();
    const calls: string[] = [];
    const c = new Controller(
      {
        name: 'early',
        reconciler: {
          reconcile: async (r) => {
            calls.push(r.key);
            return done();
          },
        },
      },
      { clock, logger, metrics: new ControllerMetrics(new Registry()) },
    );
    c.enqueue('x');
    c.enqueueAfter('y', 1000);
    await flushMicrotasks();
    assert.deepEqual(calls, []);
    const stop = new AbortController();
    const running = c.start(stop.signal);
    await clock.advance(0);
    assert.deepEqual(calls, ['x']);
    await clock.advance(1000);
    assert.deepEqual(calls, ['x', 'y']);
    stop.abort();
    await running;
  });

  it('rejects a worker count below 1', () => {
    const { logger } = captureLogger();
    assert.throws(
      () =>
        new Controller(
          { name: 'bad', workers: 0, reconciler: { reconcile: async () => done() } },
          { clock: new FakeClock(), logger, metrics: new ControllerMetrics(new Registry()) },
        ),
      RangeError,
    );
  });
});
