import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.ts';
import { ItemExponentialFailureRateLimiter } from './rate-limiters.ts';
import { RateLimitingQueue } from './rate-limiting-queue.ts';

/** Advances the clock 1 ms at a time until the key shows up in the queue; returns the time that took. */
async function msUntilQueued(clock: FakeClock, q: RateLimitingQueue, limitMs: number): Promise<number> {
  for (let waited = 0; waited <= limitMs; waited++) {
    if (q.len() > 0) return waited;
    await clock.advance(1);
  }
  return Number.POSITIVE_INFINITY;
}

describe('RateLimitingQueue', () => {
  it("addRateLimited adds the key after the limiter's delay and counts a requeue", async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock, rateLimiter: new ItemExponentialFailureRateLimiter(5, 1_000) });
    q.addRateLimited('ns/a');
    assert.equal(q.numRequeues('ns/a'), 1);
    assert.equal(await msUntilQueued(clock, q, 100), 5);
  });

  it('repeated failures of a key back off exponentially', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock, rateLimiter: new ItemExponentialFailureRateLimiter(5, 1_000) });
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      q.addRateLimited('ns/a');
      waits.push(await msUntilQueued(clock, q, 100));
      const key = await q.get();
      if (key !== undefined) q.done(key);
    }
    assert.deepEqual(waits, [5, 10, 20, 40]);
    assert.equal(q.numRequeues('ns/a'), 4);
  });

  it('forget resets the backoff of a key', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock, rateLimiter: new ItemExponentialFailureRateLimiter(5, 1_000) });
    q.addRateLimited('ns/a');
    q.addRateLimited('ns/a');
    q.forget('ns/a');
    assert.equal(q.numRequeues('ns/a'), 0);
    await clock.advance(5);
    assert.equal(q.len(), 1);
    await q.get();
    q.done('ns/a');
    q.addRateLimited('ns/a');
    assert.equal(await msUntilQueued(clock, q, 100), 5);
  });

  it('without a limiter it uses the controller default (5 ms first retry, 10 qps / 100 burst)', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock });
    for (let i = 0; i < 100; i++) q.addRateLimited(`ns/k${i}`);
    q.addRateLimited('ns/late');
    await clock.advance(4);
    assert.equal(q.len(), 0);
    await clock.advance(1);
    assert.equal(q.len(), 100, 'first retries wait 5 ms');
    await clock.advance(94);
    assert.equal(q.len(), 100, 'the 101st retry waits for the bucket');
    await clock.advance(1);
    assert.equal(q.len(), 101);
  });
});
