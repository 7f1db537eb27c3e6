import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.ts';
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  endpointSliceControllerRateLimiter,
  endpointSliceMirroringControllerRateLimiter,
  endpointsControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
} from './rate-limiters.ts';
import type { RateLimiter } from './types.ts';

function whens(limiter: RateLimiter, key: string, n: number): number[] {
  return Array.from({ length: n }, () => limiter.when(key));
}

describe('ItemExponentialFailureRateLimiter', () => {
  it('doubles from the base on every failure and caps at the max', () => {
    const limiter = new ItemExponentialFailureRateLimiter(5, 1_000);
    assert.deepEqual(whens(limiter, 'ns/a', 10), [5, 10, 20, 40, 80, 160, 320, 640, 1_000, 1_000]);
    assert.equal(limiter.numRequeues('ns/a'), 10);
  });

  it('counts failures per key', () => {
    const limiter = new ItemExponentialFailureRateLimiter(5, 1_000);
    whens(limiter, 'ns/a', 3);
    assert.equal(limiter.when('ns/b'), 5);
    assert.equal(limiter.numRequeues('ns/a'), 3);
    assert.equal(limiter.numRequeues('ns/b'), 1);
  });

  it('forget resets the backoff and the requeue count', () => {
    const limiter = new ItemExponentialFailureRateLimiter(5, 1_000);
    whens(limiter, 'ns/a', 4);
    limiter.forget('ns/a');
    assert.equal(limiter.numRequeues('ns/a'), 0);
    assert.equal(limiter.when('ns/a'), 5);
  });

  it('an exponent past the float range returns the max, never Infinity or NaN', () => {
    const limiter = new ItemExponentialFailureRateLimiter(1e-300, 1e300);
    const delays = whens(limiter, 'ns/a', 1_200);
    assert.equal(delays.at(-1), 1e300);
    assert.ok(delays.every((d) => Number.isFinite(d) && d <= 1e300));
  });

  it('rejects a base above the max', () => {
    assert.throws(() => new ItemExponentialFailureRateLimiter(10, 5), RangeError);
  });
});

describe('BucketRateLimiter', () => {
  it('at 10 qps with burst 100 the first 100 retries are immediate, then one every 100 ms', () => {
    const limiter = new BucketRateLimiter(10, 100, new FakeClock());
    const delays = Array.from({ length: 103 }, (_, i) => limiter.when(`ns/k${i}`));
    assert.deepEqual(delays.slice(0, 100), new Array(100).fill(0));
    assert.deepEqual(delays.slice(100), [100, 200, 300]);
  });

  it('refills with time', async () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter(10, 100, clock);
    whens(limiter, 'ns/a', 100);
    await clock.advance(1_000);
    assert.deepEqual(whens(limiter, 'ns/a', 11), [...new Array(10).fill(0), 100]);
  });

  it('keeps no per-key state: numRequeues is 0 and forget changes nothing', () => {
    const limiter = new BucketRateLimiter(10, 1, new FakeClock());
    limiter.when('ns/a');
    assert.equal(limiter.numRequeues('ns/a'), 0);
    limiter.forget('ns/a');
    assert.equal(limiter.when('ns/a'), 100, 'forget must not refill the bucket');
  });
});

describe('MaxOfRateLimiter', () => {
  it('returns the longest delay, forgets in every limiter and reports the largest count', () => {
    const fast = new ItemExponentialFailureRateLimiter(1, 1_000);
    const slow = new ItemExponentialFailureRateLimiter(50, 1_000);
    const limiter = new MaxOfRateLimiter(fast, slow);
    assert.deepEqual(whens(limiter, 'ns/a', 3), [50, 100, 200]);
    assert.equal(fast.numRequeues('ns/a'), 3, 'every limiter records each failure');
    fast.when('ns/a');
    assert.equal(limiter.numRequeues('ns/a'), 4);
    limiter.forget('ns/a');
    assert.equal(fast.numRequeues('ns/a'), 0);
    assert.equal(slow.numRequeues('ns/a'), 0);
  });
});

describe('controller rate limiters', () => {
  it('the default is max(5 ms·2^n up to 1000 s, 10 qps with burst 100)', () => {
    const limiter = defaultControllerRateLimiter(new FakeClock());
    assert.deepEqual(whens(limiter, 'ns/a', 3), [5, 10, 20]);
    for (let i = 0; i < 97; i++) limiter.when(`ns/k${i}`);
    assert.equal(limiter.when('ns/fresh'), 100, 'the shared bucket is empty after 100 retries');
    assert.equal(limiter.numRequeues('ns/a'), 3);
  });

  it('the default caps a key at 1000 s', () => {
    const limiter = defaultControllerRateLimiter(new FakeClock(), { qps: 1e9, burst: 1e9 });
    assert.equal(whens(limiter, 'ns/a', 40).at(-1), 1_000_000);
  });

  const presets = [
    { name: 'Endpoints', make: endpointsControllerRateLimiter, want: { first: 5, max: 1_000_000 } },
    { name: 'EndpointSlice', make: endpointSliceControllerRateLimiter, want: { first: 1_000, max: 1_000_000 } },
    { name: 'EndpointSliceMirroring', make: endpointSliceMirroringControllerRateLimiter, want: { first: 1_000, max: 100_000 } },
  ] as const;
  for (const { name, make, want } of presets) {
    it(`the ${name} preset backs off from ${want.first} ms to ${want.max} ms and shares a 10 qps / 100 burst bucket`, () => {
      const limiter = make(new FakeClock());
      const delays = whens(limiter, 'ns/a', 40);
      assert.equal(delays[0], want.first);
      assert.equal(Math.max(...delays), want.max);
      for (let i = 0; i < 74; i++) limiter.when(`ns/k${i}`);
      // The 115th reservation of the shared bucket waits 15 × 100 ms, longer than any preset's first backoff.
      assert.equal(limiter.when('ns/fresh'), 1_500);
    });
  }
});
