import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import type { NameResolution } from './dns/resolver.ts';
import { dueNames, NameResolutions } from './name-resolutions.ts';

const resolved = (name: string, nextRefreshAt: number): NameResolution => ({
  name,
  addresses: [],
  errors: [],
  consecutiveFailures: 0,
  attemptedAt: 0,
  nextRefreshAt,
});

describe('dueNames', () => {
  const known = deepFreeze(
    new Map([
      ['a.test', resolved('a.test', 1000)],
      ['b.test', resolved('b.test', 5000)],
    ]),
  );
  const cases = [
    { name: 'a name never resolved is due', given: { names: ['c.test'], now: 0 }, want: ['c.test'] },
    { name: 'a name before its refresh time is not due', given: { names: ['a.test', 'b.test'], now: 999 }, want: [] },
    { name: 'a name at its refresh time is due', given: { names: ['a.test', 'b.test'], now: 1000 }, want: ['a.test'] },
  ];
  for (const { name, given, want } of cases) it(name, () => assert.deepEqual(dueNames(known, given.names, given.now), want));
});

describe('NameResolutions', () => {
  it('forgets undeclared names and knows the earliest refresh', () => {
    const n = new NameResolutions();
    n.set(resolved('a.test', 3000));
    n.set(resolved('b.test', 2000));
    assert.equal(n.nextRefreshAt(), 2000);
    n.retain(['a.test']);
    assert.deepEqual([...n.all().keys()], ['a.test']);
    assert.equal(n.nextRefreshAt(), 3000);
    n.clear();
    assert.equal(n.nextRefreshAt(), undefined);
  });
});
