import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Flags, renderFlags } from './flags.ts';

const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
};

describe('renderFlags', () => {
  const cases: { name: string; given: { defaults: Flags; overrides: Flags }; want: string[] }[] = [
    { name: 'renders defaults in order', given: { defaults: { a: '1', b: '2' }, overrides: {} }, want: ['--a=1', '--b=2'] },
    {
      name: 'an override replaces a default in place instead of repeating the flag',
      given: { defaults: { a: '1', b: '2' }, overrides: { a: '9' } },
      want: ['--a=9', '--b=2'],
    },
    { name: 'an unknown override is appended', given: { defaults: { a: '1' }, overrides: { v: '4' } }, want: ['--a=1', '--v=4'] },
  ];
  for (const c of deepFreeze(cases)) it(c.name, () => assert.deepEqual(renderFlags(c.given.defaults, c.given.overrides), c.want));
});
