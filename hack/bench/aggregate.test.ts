import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aggregateRuns, median } from './aggregate.ts';

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });
});

describe('aggregateRuns', () => {
  it('reduces every number leaf-wise, skips missing figures, keeps strings and tags errors with their run', () => {
    const runs = [
      { name: 'a', x: 1, nested: { y: 10, z: undefined as number | undefined }, errors: [] as string[] },
      { name: 'a', x: 5, nested: { y: 30, z: 7 }, errors: ['slow'] },
      { name: 'a', x: 3, nested: { y: 20, z: 9 }, errors: [] },
    ];
    const a = aggregateRuns(runs);
    assert.deepEqual(a.median, { name: 'a', x: 3, nested: { y: 20, z: 8 }, errors: ['run 2: slow'] });
    assert.deepEqual(a.min, { name: 'a', x: 1, nested: { y: 10, z: 7 }, errors: ['run 2: slow'] });
    assert.deepEqual(a.max.nested, { y: 30, z: 9 });
  });

  it('leaves a single run as it is', () => {
    const one = { x: 2, errors: ['e'] };
    assert.deepEqual(aggregateRuns([one]).median, one);
  });
});
