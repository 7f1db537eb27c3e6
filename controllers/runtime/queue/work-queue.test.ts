import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock, flushMicrotasks } from '../clock.ts';
import type { QueueMetrics } from './types.ts';
import { UNFINISHED_WORK_UPDATE_PERIOD_MS, WorkQueue } from './work-queue.ts';

/** Tracks whether a promise has settled, so a test can assert that a getter is still waiting. */
function track<T>(p: Promise<T>): { settled: boolean; value: T | undefined } {
  const state: { settled: boolean; value: T | undefined } = { settled: false, value: undefined };
  void p.then((v) => {
    state.settled = true;
    state.value = v;
  });
  return state;
}

/** Records every hook call, in order. */
class RecordingMetrics implements QueueMetrics {
  adds = 0;
  gets: number[] = [];
  dones: number[] = [];
  retries = 0;
  depths: number[] = [];
  unfinished: [number, number][] = [];
  add(): void {
    this.adds++;
  }
  get(queuedMs: number): void {
    this.gets.push(queuedMs);
  }
  done(workMs: number): void {
    this.dones.push(workMs);
  }
  retry(): void {
    this.retries++;
  }
  depth(n: number): void {
    this.depths.push(n);
  }
  unfinishedWork(totalSeconds: number, longestSeconds: number): void {
    this.unfinished.push([totalSeconds, longestSeconds]);
  }
}

describe('WorkQueue', () => {
  it('many adds before processing give one run', async () => {
    const q = new WorkQueue();
    for (let i = 0; i < 5; i++) q.add('ns/a');
    assert.equal(q.len(), 1);
    assert.equal(await q.get(), 'ns/a');
    q.done('ns/a');
    q.shutDown();
    assert.equal(await q.get(), undefined);
  });

  it('an add during processing runs the key exactly once more after done', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    assert.equal(await q.get(), 'ns/a');
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/a');
    assert.equal(q.len(), 0, 'a key being processed is not queued again before done');
    q.done('ns/a');
    assert.equal(q.len(), 1);
    assert.equal(await q.get(), 'ns/a');
    q.done('ns/a');
    assert.equal(q.len(), 0);
  });

  it('a key is never handed to two workers at once', async () => {
    const q = new WorkQueue();
    const first = track(q.get());
    const second = track(q.get());
    q.add('ns/a');
    await flushMicrotasks();
    assert.deepEqual(first, { settled: true, value: 'ns/a' });
    assert.equal(second.settled, false);
    q.add('ns/a');
    await flushMicrotasks();
    assert.equal(second.settled, false, 'the second worker must wait while the first holds the key');
    q.done('ns/a');
    await flushMicrotasks();
    assert.deepEqual(second, { settled: true, value: 'ns/a' });
  });

  it('FIFO across keys', async () => {
    const q = new WorkQueue();
    for (const key of ['ns/a', 'ns/b', 'ns/c', 'ns/a', 'ns/b']) q.add(key);
    const got = [await q.get(), await q.get(), await q.get()];
    assert.deepEqual(got, ['ns/a', 'ns/b', 'ns/c']);
    assert.equal(q.len(), 0);
  });

  it('a re-added key goes to the tail behind keys added while it was processed', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    assert.equal(await q.get(), 'ns/a');
    q.add('ns/a');
    q.add('ns/b');
    q.done('ns/a');
    assert.deepEqual([await q.get(), await q.get()], ['ns/b', 'ns/a']);
  });

  it('stays FIFO while the buffer wraps around and grows', async () => {
    const q = new WorkQueue();
    const got: (string | undefined)[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 7; i++) q.add(`k${next++}`);
      for (let i = 0; i < 5; i++) {
        const key = await q.get();
        got.push(key);
        if (key !== undefined) q.done(key);
      }
    }
    while (q.len() > 0) got.push(await q.get());
    assert.deepEqual(
      got,
      Array.from({ length: next }, (_, i) => `k${i}`),
    );
  });

  it('get waits while the queue is empty and resolves on the next add', async () => {
    const q = new WorkQueue();
    const getter = track(q.get());
    await flushMicrotasks();
    assert.equal(getter.settled, false);
    q.add('ns/a');
    await flushMicrotasks();
    assert.deepEqual(getter, { settled: true, value: 'ns/a' });
  });

  it('shutDown wakes blocked getters with undefined', async () => {
    const q = new WorkQueue();
    const getters = [track(q.get()), track(q.get())];
    q.shutDown();
    await flushMicrotasks();
    assert.deepEqual(getters, [
      { settled: true, value: undefined },
      { settled: true, value: undefined },
    ]);
    assert.equal(q.isShuttingDown(), true);
  });

  it('after shutDown adds are ignored but keys already waiting are still handed out', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.shutDown();
    q.add('ns/b');
    assert.equal(await q.get(), 'ns/a');
    assert.equal(await q.get(), undefined);
  });

  it('done after shutDown still re-queues a key added before it', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    assert.equal(await q.get(), 'ns/a');
    q.add('ns/a');
    q.shutDown();
    q.done('ns/a');
    assert.equal(await q.get(), 'ns/a');
  });

  it('done for a key that is not being processed is ignored', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.done('ns/a');
    assert.equal(q.len(), 1, 'a waiting key must not be queued twice');
  });

  it('shutDownWithDrain waits for in-flight items', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.add('ns/b');
    const a = await q.get();
    const b = await q.get();
    const drained = track(q.shutDownWithDrain());
    await flushMicrotasks();
    assert.equal(drained.settled, false);
    assert.equal(q.isShuttingDown(), true);
    if (a !== undefined) q.done(a);
    await flushMicrotasks();
    assert.equal(drained.settled, false, 'one key is still in flight');
    if (b !== undefined) q.done(b);
    await flushMicrotasks();
    assert.equal(drained.settled, true);
  });

  it('shutDownWithDrain also waits for a key re-queued by done', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    assert.equal(await q.get(), 'ns/a');
    q.add('ns/a');
    const drained = track(q.shutDownWithDrain());
    q.done('ns/a');
    assert.equal(await q.get(), 'ns/a');
    await flushMicrotasks();
    assert.equal(drained.settled, false);
    q.done('ns/a');
    await flushMicrotasks();
    assert.equal(drained.settled, true);
  });

  it('shutDownWithDrain resolves at once when nothing is in flight', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    const drained = track(q.shutDownWithDrain());
    await flushMicrotasks();
    assert.equal(drained.settled, true);
  });

  it('shutDown cuts a pending drain short', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    await q.get();
    const drained = track(q.shutDownWithDrain());
    q.shutDown();
    await flushMicrotasks();
    assert.equal(drained.settled, true);
  });
});

describe('WorkQueue metrics hooks', () => {
  it('queue latency runs from the first add to get, work duration from get to done', async () => {
    const clock = new FakeClock();
    const metrics = new RecordingMetrics();
    const q = new WorkQueue({ clock, metrics });
    q.add('ns/a');
    await clock.advance(30);
    q.add('ns/a');
    await clock.advance(20);
    const key = await q.get();
    await clock.advance(7);
    if (key !== undefined) q.done(key);
    assert.equal(metrics.adds, 1, 'a repeat add of a waiting key is not counted');
    assert.deepEqual(metrics.gets, [50]);
    assert.deepEqual(metrics.dones, [7]);
    q.shutDown();
  });

  it('depth counts dirty keys, including one re-added while processed', async () => {
    const metrics = new RecordingMetrics();
    const q = new WorkQueue({ clock: new FakeClock(), metrics });
    q.add('ns/a');
    q.add('ns/b');
    await q.get();
    q.add('ns/a');
    assert.deepEqual(metrics.depths, [1, 2, 1, 2]);
    q.shutDown();
  });

  it('unfinished work is reported every 500 ms while keys run, ends with zero, and leaves no timer', async () => {
    const clock = new FakeClock();
    const metrics = new RecordingMetrics();
    const q = new WorkQueue({ clock, metrics });
    q.add('ns/a');
    await q.get();
    await clock.advance(UNFINISHED_WORK_UPDATE_PERIOD_MS * 3);
    q.add('ns/b');
    await q.get();
    await clock.advance(UNFINISHED_WORK_UPDATE_PERIOD_MS);
    q.done('ns/a');
    q.done('ns/b');
    await clock.advance(UNFINISHED_WORK_UPDATE_PERIOD_MS * 4);
    assert.deepEqual(metrics.unfinished, [
      [0.5, 0.5],
      [1, 1],
      [1.5, 1.5],
      [2.5, 2],
      [0, 0],
    ]);
    assert.equal(clock.pendingTimers(), 0);
  });

  it('shutDown stops the unfinished-work timer', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, metrics: new RecordingMetrics() });
    q.add('ns/a');
    await q.get();
    assert.equal(clock.pendingTimers(), 1);
    q.shutDown();
    assert.equal(clock.pendingTimers(), 0);
  });

  it('a queue without metrics arms no timer', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.add('ns/a');
    await q.get();
    assert.equal(clock.pendingTimers(), 0);
  });
});
