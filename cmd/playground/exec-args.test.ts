import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExecArgs } from './exec-args.ts';

describe('parseExecArgs', () => {
  for (const [argv, want] of [
    [
      ['exec', 'web-1', '--', 'curl', '-s', 'http://web'],
      { kind: 'ok', target: { kind: 'pod', namespace: 'default', name: 'web-1' }, command: ['curl', '-s', 'http://web'] },
    ],
    [
      ['exec', '-n', 'shop', 'web-1', '--', 'nslookup', 'web'],
      { kind: 'ok', target: { kind: 'pod', namespace: 'shop', name: 'web-1' }, command: ['nslookup', 'web'] },
    ],
    [
      ['exec', '--namespace=shop', 'web-1', '--', 'true'],
      { kind: 'ok', target: { kind: 'pod', namespace: 'shop', name: 'web-1' }, command: ['true'] },
    ],
    [
      ['exec', '--node', 'playground-node-2', '--', 'iptables-save'],
      { kind: 'ok', target: { kind: 'node', name: 'playground-node-2' }, command: ['iptables-save'] },
    ],
    [['exec', '--node=n1', '--', 'nft', '--', 'x'], { kind: 'ok', target: { kind: 'node', name: 'n1' }, command: ['nft', '--', 'x'] }],
  ] as const) {
    it(`accepts ${argv.join(' ')}`, () => assert.deepEqual(parseExecArgs(argv), want));
  }

  for (const [argv, why] of [
    [[], /usage/],
    [['run', 'x'], /unknown command "run"/],
    [['exec', 'web-1'], /needs "-- <command>"/],
    [['exec', 'web-1', '--'], /needs "-- <command>"/],
    [['exec', '--', 'curl'], /exactly one Pod/],
    [['exec', 'a', 'b', '--', 'curl'], /exactly one Pod/],
    [['exec', '-n', '--', 'curl'], /exactly one Pod|needs a value/],
    [['exec', '--node', 'n1', 'web-1', '--', 'curl'], /not both/],
    [['exec', '-x', 'web-1', '--', 'curl'], /unknown option -x/],
  ] as const) {
    it(`rejects ${JSON.stringify(argv)}`, () => {
      const got = parseExecArgs(argv);
      assert.equal(got.kind, 'error');
      if (got.kind === 'error') assert.match(got.message, why);
    });
  }
});
