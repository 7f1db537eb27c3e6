import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIP } from './pod-endpoints.ts';

// Go's ParseIPSloppy + ip.String(), as the endpoint controllers see Pod IPs.
describe('parseIP', () => {
  const cases: [string, ReturnType<typeof parseIP>][] = [
    ['10.64.1.2', { family: 'IPv4', canonical: '10.64.1.2' }],
    ['010.001.000.255', { family: 'IPv4', canonical: '10.1.0.255' }],
    ['0.0.0.0', { family: 'IPv4', canonical: '0.0.0.0' }],
    ['1.2.3.256', undefined],
    ['1.2.3.0255', undefined],
    ['1.2.3', undefined],
    ['1.2.3.4.5', undefined],
    ['1..3.4', undefined],
    ['1.2.3.', undefined],
    ['.1.2.3', undefined],
    ['1.2.3.4 ', undefined],
    ['1.2.3.-4', undefined],
    ['', undefined],
    ['::ffff:1.2.3.4', { family: 'IPv4', canonical: '1.2.3.4' }],
    ['fd00::0001', { family: 'IPv6', canonical: 'fd00::1' }],
    ['fd00::1.2.3', undefined],
  ];
  for (const [raw, want] of cases) it(JSON.stringify(raw), () => assert.deepEqual(parseIP(raw), want));
});
