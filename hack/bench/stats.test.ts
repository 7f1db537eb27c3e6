import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quantile, summarize } from './stats.ts';

describe('quantile (nearest rank)', () => {
  const hundred = Object.freeze(Array.from({ length: 100 }, (_, i) => i + 1));
  const cases = [
    { name: 'p50 of 1..100 is 50', given: { xs: hundred, q: 0.5 }, want: 50 },
    { name: 'p99 of 1..100 is 99, an observed value', given: { xs: hundred, q: 0.99 }, want: 99 },
    { name: 'p100 is the maximum', given: { xs: hundred, q: 1 }, want: 100 },
    { name: 'p0 is the minimum', given: { xs: hundred, q: 0 }, want: 1 },
    { name: 'p99 of a single sample is that sample', given: { xs: Object.freeze([7]), q: 0.99 }, want: 7 },
    { name: 'empty gives undefined', given: { xs: Object.freeze([]), q: 0.5 }, want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.equal(quantile(c.given.xs, c.given.q), c.want));
});

describe('summarize', () => {
  it('sorts before taking quantiles', () => {
    assert.deepEqual(summarize(Object.freeze([30, 10, 20])), { count: 3, p50Ms: 20, p99Ms: 30, maxMs: 30 });
  });
});
