import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../testing/deep-freeze.ts';
import { Backoff, type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';

const policy: BackoffPolicy = deepFreeze({ initialMs: 800, factor: 2, maxMs: 30_000, jitter: 0.2, resetAfterMs: 120_000 });

describe('backoffDelay', () => {
  const cases: { name: string; given: { failures: number; random: number }; want: number }[] = [
    { name: 'no failure waits nothing', given: { failures: 0, random: 0.5 }, want: 0 },
    { name: 'first retry waits the initial delay', given: { failures: 1, random: 0 }, want: 800 },
    { name: 'second retry doubles', given: { failures: 2, random: 0 }, want: 1600 },
    { name: 'jitter adds up to its share', given: { failures: 2, random: 0.5 }, want: 1760 },
    { name: 'sixth retry is 25.6 s', given: { failures: 6, random: 0 }, want: 25_600 },
    { name: 'seventh retry is capped', given: { failures: 7, random: 0 }, want: 30_000 },
    { name: 'jitter never exceeds the cap', given: { failures: 6, random: 0.99 }, want: 30_000 },
    { name: 'far past the cap stays finite', given: { failures: 5000, random: 0.3 }, want: 30_000 },
  ];
  for (const { name, given, want } of cases) {
    it(name, () => assert.equal(backoffDelay(policy, given.failures, given.random), want));
  }

  it('has client-go-like defaults', () => {
    assert.deepEqual({ ...DEFAULT_BACKOFF }, { initialMs: 800, factor: 2, maxMs: 30_000, jitter: 0.2, resetAfterMs: 120_000 });
  });
});

describe('Backoff', () => {
  it('grows with consecutive failures and starts over after a reset', () => {
    const b = new Backoff(policy, () => 0);
    assert.deepEqual([b.next(), b.next(), b.next()], [800, 1600, 3200]);
    assert.equal(b.failures, 3);
    b.reset();
    assert.equal(b.failures, 0);
    assert.equal(b.next(), 800);
  });
});
