import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRange } from './check-range.ts';

class OptionsError extends Error {
  override readonly name = 'OptionsError';
}

describe('checkRange', () => {
  const cases: { name: string; value: number; integer: boolean; want: number | RegExp }[] = [
    { name: 'lower bound', value: 1, integer: true, want: 1 },
    { name: 'upper bound', value: 50, integer: true, want: 50 },
    { name: 'below', value: 0, integer: true, want: /^workers must be an integer in 1\.\.50, got 0$/ },
    { name: 'above', value: 51, integer: true, want: /^workers must be an integer in 1\.\.50, got 51$/ },
    { name: 'fraction of an integer option', value: 1.5, integer: true, want: /an integer in 1\.\.50, got 1\.5$/ },
    { name: 'fraction allowed', value: 1.5, integer: false, want: 1.5 },
    { name: 'NaN', value: Number.NaN, integer: false, want: /^workers must be in 1\.\.50, got NaN$/ },
    { name: 'Infinity', value: Number.POSITIVE_INFINITY, integer: false, want: /got Infinity$/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (typeof c.want === 'number') assert.equal(checkRange('workers', c.value, 1, 50, c.integer), c.want);
      else
        assert.throws(
          () => checkRange('workers', c.value, 1, 50, c.integer),
          (e) => e instanceof RangeError && (c.want as RegExp).test(e.message),
        );
    });
  }

  it('throws the error class it is given', () => {
    assert.throws(() => checkRange('workers', 0, 1, 50, true, OptionsError), OptionsError);
  });
});
