import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newStyle, useColor } from './style.ts';

describe('useColor', () => {
  const table: { name: string; given: [mode: 'auto' | 'always' | 'never', tty: boolean, env: Record<string, string>]; want: boolean }[] = [
    { name: 'terminal', given: ['auto', true, {}], want: true },
    { name: 'piped', given: ['auto', false, {}], want: false },
    { name: 'NO_COLOR on a terminal', given: ['auto', true, { NO_COLOR: '1' }], want: false },
    { name: 'empty NO_COLOR does not count', given: ['auto', true, { NO_COLOR: '' }], want: true },
    { name: 'dumb terminal', given: ['auto', true, { TERM: 'dumb' }], want: false },
    { name: '--color=always when piped', given: ['always', false, { NO_COLOR: '1' }], want: true },
    { name: '--color=never on a terminal', given: ['never', true, {}], want: false },
  ];
  for (const c of table) it(c.name, () => assert.equal(useColor(...c.given), c.want));
});

describe('newStyle', () => {
  it('adds SGR codes only when colouring', () => {
    assert.equal(newStyle(false).bad('x'), 'x');
    assert.equal(newStyle(true).bad('x'), '\u001b[31mx\u001b[39m');
  });
});
