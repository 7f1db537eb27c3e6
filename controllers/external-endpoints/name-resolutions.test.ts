import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../shared/deep-freeze.ts';
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
  it('keeps names per object, forgets undeclared ones, and knows the earliest refresh', () => {
    const n = new NameResolutions();
    n.set('prod/db', resolved('a.test', 3000));
    n.set('prod/db', resolved('b.test', 2000));
    n.set('prod/web', resolved('a.test', 1000));
    assert.equal(n.nextRefreshAt('prod/db'), 2000);
    n.retain('prod/db', ['a.test']);
    assert.deepEqual([...n.get('prod/db').keys()], ['a.test']);
    assert.equal(n.nextRefreshAt('prod/db'), 3000);
    n.forget('prod/db');
    assert.equal(n.nextRefreshAt('prod/db'), undefined);
    assert.equal(n.nextRefreshAt('prod/web'), 1000);
  });
});
