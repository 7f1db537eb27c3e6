import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderBar } from './progress-bar.ts';

describe('renderBar', () => {
  const cases = [
    { name: 'empty at the start', given: { done: 0, total: 10 }, want: '[----------]   0% x (0/10) 0.0s' },
    { name: 'half way', given: { done: 5, total: 10 }, want: '[#####-----]  50% x (5/10) 0.0s' },
    { name: 'never past full', given: { done: 12, total: 10 }, want: '[##########] 100% x (12/10) 0.0s' },
    { name: 'a phase without units', given: { done: 0, total: 0 }, want: '[----------]   0% x (0/0) 0.0s' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(renderBar('x', c.given.done, c.given.total, 0, 10), c.want));
});
