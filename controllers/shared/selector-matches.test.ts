import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectorMatches } from './pod-endpoints.ts';

describe('selectorMatches', () => {
  const cases: [string, Record<string, string> | undefined, Record<string, string> | undefined, boolean][] = [
    ['nil selector matches nothing', undefined, { app: 'a' }, false],
    ['empty selector matches everything', {}, undefined, true],
    ['every key equal', { app: 'a', tier: 'web' }, { app: 'a', tier: 'web', extra: 'x' }, true],
    ['one value differs', { app: 'a', tier: 'web' }, { app: 'a', tier: 'db' }, false],
    ['a key missing', { app: 'a' }, { tier: 'web' }, false],
    ['no labels', { app: 'a' }, undefined, false],
    ['an inherited name is no label', { constructor: 'x' }, {}, false],
  ];
  for (const [name, selector, labels, want] of cases) it(name, () => assert.equal(selectorMatches(selector, labels), want));
});
