import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.ts';
import { DelayingQueue, MAX_WAIT_MS } from './delaying-queue.ts';

/** Takes every key now waiting in the queue, marking each done, in order. */
async function takeAll(q: DelayingQueue): Promise<string[]> {
  const keys: string[] = [];
  while (q.len() > 0) {
    const key = await q.get();
    if (key === undefined) break;
    keys.push(key);
    q.done(key);
  }
  return keys;
}

function setup(): { clock: FakeClock; q: DelayingQueue } {
  const clock = new FakeClock();
  return { clock, q: new DelayingQueue({ clock }) };
}

describe('DelayingQueue', () => {
  it('addAfter with a non-positive delay is a plain add', async () => {
    const { clock, q } = setup();
    q.addAfter('ns/a', 0);
    q.addAfter('ns/b', -5);
    assert.deepEqual(await takeAll(q), ['ns/a', 'ns/b']);
    assert.equal(clock.pendingTimers(), 0);
  });

  it('addAfter adds the key when its deadline passes, not before', async () => {
    const { clock, q } = setup();
    q.addAfter('ns/a', 100);
    assert.equal(q.waitingLen(), 1);
    await clock.advance(99);
    assert.equal(q.len(), 0);
    await clock.advance(1);
    assert.deepEqual(await takeAll(q), ['ns/a']);
    assert.equal(q.waitingLen(), 0);
  });

  it('addAfter: the earliest deadline wins; a later one never postpones', async () => {
    const { clock, q } = setup();
    q.addAfter('ns/a', 100);
    q.addAfter('ns/a', 50);
    q.addAfter('ns/a', 200);
    assert.equal(q.waitingLen(), 1);
    await clock.advance(50);
    assert.deepEqual(await takeAll(q), ['ns/a']);
    await clock.advance(500);
    assert.deepEqual(await takeAll(q), [], 'the superseded deadlines must not add the key again');
  });

  it('addAfter then add: runs now and again at the deadline', async () => {
    const { clock, q } = setup();
    q.addAfter('ns/a', 100);
    q.add('ns/a');
    assert.deepEqual(await takeAll(q), ['ns/a']);
    await clock.advance(100);
    assert.deepEqual(await takeAll(q), ['ns/a']);
  });

  it('a due key that is still waiting in the queue is not queued twice', async () => {
    const { clock, q } = setup();
    q.add('ns/a');
    q.addAfter('ns/a', 10);
    await clock.advance(10);
    assert.equal(q.len(), 1);
  });

  it('due keys are added in deadline order, ties in the order they were added', async () => {
    const { clock, q } = setup();
    q.addAfter('ns/c', 30);
    q.addAfter('ns/a', 10);
    q.addAfter('ns/b2', 20);
    q.addAfter('ns/b1', 20);
    q.addAfter('ns/d', 30);
    await clock.advance(30);
    assert.deepEqual(await takeAll(q), ['ns/a', 'ns/b2', 'ns/b1', 'ns/c', 'ns/d']);
  });

  it('one clock timer covers every waiting key and is re-armed for an earlier deadline', async () => {
    const { clock, q } = setup();
    for (let i = 0; i < 100; i++) q.addAfter(`ns/k${i}`, 1_000 + ((i * 37) % 100));
    assert.equal(clock.pendingTimers(), 1);
    q.addAfter('ns/early', 5);
    assert.equal(clock.pendingTimers(), 1);
    await clock.advance(5);
    assert.deepEqual(await takeAll(q), ['ns/early']);
    assert.equal(clock.pendingTimers(), 1);
    await clock.advance(1_100);
    assert.equal((await takeAll(q)).length, 100);
    assert.equal(clock.pendingTimers(), 0, 'no timer once nothing waits');
  });

  it('a deadline beyond the 10 s heartbeat still fires exactly on time', async () => {
    const { clock, q } = setup();
    q.addAfter('ns/a', 2.5 * MAX_WAIT_MS);
    await clock.advance(2.5 * MAX_WAIT_MS - 1);
    assert.equal(q.len(), 0);
    assert.equal(clock.pendingTimers(), 1);
    await clock.advance(1);
    assert.deepEqual(await takeAll(q), ['ns/a']);
  });

  it('shutDown cancels the timer, drops waiting keys and ignores later addAfter', async () => {
    const { clock, q } = setup();
    q.addAfter('ns/a', 10);
    q.shutDown();
    assert.equal(clock.pendingTimers(), 0);
    q.addAfter('ns/b', 10);
    q.addAfter('ns/c', 0);
    await clock.advance(100);
    assert.equal(q.len(), 0);
    assert.equal(q.waitingLen(), 0);
    assert.equal(await q.get(), undefined);
  });

  it('shutDownWithDrain also cancels the timer', async () => {
    const { clock, q } = setup();
    q.addAfter('ns/a', 10);
    await q.shutDownWithDrain();
    assert.equal(clock.pendingTimers(), 0);
  });

  it('addAfter rejects a NaN delay', () => {
    const { q } = setup();
    assert.throws(() => q.addAfter('ns/a', Number.NaN), RangeError);
  });
});
