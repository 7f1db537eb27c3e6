import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheCatchUp } from './cache-catch-up.ts';

describe('CacheCatchUp', () => {
  const cases: { name: string; steps: (c: CacheCatchUp) => boolean[]; want: boolean[]; size: number }[] = [
    { name: 'nothing waits: no wake', steps: (c) => [c.caughtUp('ns/a')], want: [false], size: 0 },
    {
      name: 'a refused sync is woken once',
      steps: (c) => (c.wait('ns/a'), [c.caughtUp('ns/a'), c.caughtUp('ns/a')]),
      want: [true, false],
      size: 0,
    },
    {
      name: 'refused twice before the echo: still one wake',
      steps: (c) => (c.wait('ns/a'), c.wait('ns/a'), [c.caughtUp('ns/a'), c.caughtUp('ns/a')]),
      want: [true, false],
      size: 0,
    },
    {
      name: 'keys are independent',
      steps: (c) => (c.wait('ns/a'), [c.caughtUp('ns/b'), c.caughtUp('ns/a')]),
      want: [false, true],
      size: 0,
    },
    {
      name: 'a forgotten Service is not woken',
      steps: (c) => (c.wait('ns/a'), c.wait('ns/b'), c.forget('ns/a'), [c.caughtUp('ns/a')]),
      want: [false],
      size: 1,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const catchUp = new CacheCatchUp();
      assert.deepEqual(c.steps(catchUp), c.want);
      assert.equal(catchUp.size, c.size);
    });
  }
});
