import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressAt, offsetOf, parsePodCIDR } from './pod-cidr.ts';

describe('parsePodCIDR', () => {
  const cases: { name: string; given: string; want: unknown }[] = [
    {
      name: 'an IPv4 /24 hands out .2 to .254',
      given: '10.244.1.0/24',
      want: { family: 'IPv4', prefix: 24, lastOffset: 254 },
    },
    {
      name: 'host bits are masked off',
      given: '10.244.1.77/24',
      want: { family: 'IPv4', prefix: 24, lastOffset: 254 },
    },
    {
      name: 'an IPv6 /64 is capped',
      given: 'fd00:10:244:1::/64',
      want: { family: 'IPv6', prefix: 64, lastOffset: 65_534 },
    },
    {
      name: 'an IPv6 /120 keeps its last address',
      given: 'fd00::/120',
      want: { family: 'IPv6', prefix: 120, lastOffset: 255 },
    },
    { name: 'a /31 holds no Pod', given: '10.0.0.0/31', want: undefined },
    { name: 'no prefix', given: '10.0.0.0', want: undefined },
    { name: 'a bad octet', given: '10.0.0.256/24', want: undefined },
    { name: 'a bad IPv6', given: 'fd00:::1/64', want: undefined },
    { name: 'a prefix too long', given: '10.0.0.0/33', want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = parsePodCIDR(c.given);
      assert.deepEqual(
        got === undefined
          ? undefined
          : {
              family: got.family,
              prefix: got.prefix,
              lastOffset: got.lastOffset,
            },
        c.want,
      );
    });
  }
});

describe('addressAt and offsetOf', () => {
  const cases: {
    name: string;
    given: { cidr: string; offset: number };
    want: string;
  }[] = [
    {
      name: 'IPv4',
      given: { cidr: '10.244.3.0/24', offset: 7 },
      want: '10.244.3.7',
    },
    {
      name: 'IPv4 across an octet',
      given: { cidr: '10.244.0.0/16', offset: 300 },
      want: '10.244.1.44',
    },
    {
      name: 'IPv6 compressed',
      given: { cidr: 'fd00:10:244:1::/64', offset: 7 },
      want: 'fd00:10:244:1::7',
    },
    {
      name: 'IPv6 hex host part',
      given: { cidr: 'fd00:10:244:a::/64', offset: 255 },
      want: 'fd00:10:244:a::ff',
    },
    {
      name: 'IPv6 longest zero run compressed',
      given: { cidr: 'fd00:0:0:1::/64', offset: 2 },
      want: 'fd00:0:0:1::2',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const cidr = parsePodCIDR(c.given.cidr);
      assert.ok(cidr);
      assert.equal(addressAt(cidr, c.given.offset), c.want);
      assert.equal(offsetOf(cidr, c.want), c.given.offset);
    });
  }

  it('has no offset for an address outside the CIDR or of the other family', () => {
    const cidr = parsePodCIDR('10.244.1.0/24');
    assert.ok(cidr);
    assert.equal(offsetOf(cidr, '10.244.2.5'), undefined);
    assert.equal(offsetOf(cidr, 'fd00::5'), undefined);
  });
});
