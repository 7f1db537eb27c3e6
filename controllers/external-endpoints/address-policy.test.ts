import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSpecialEndpointIP } from '../../api/v1alpha1/ip-address.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import {
  type AddressPolicy,
  type AddressRefusalReason,
  type AddressRule,
  checkBackendAddress,
  InvalidCidrError,
  newAddressPolicy,
  parseCidr,
} from './address-policy.ts';

const defaults = newAddressPolicy();
const onlyTen = newAddressPolicy({ allowedCIDRs: ['10.0.0.0/8', 'fd12::/16'] });

type Want = { allowed: true } | { allowed: false; rule: AddressRule; reason: AddressRefusalReason; messageIncludes: string };

const cases: { name: string; given: { address: string; policy: AddressPolicy }; want: Want }[] = [
  { name: 'public IPv4 under the default policy', given: { address: '203.0.113.7', policy: defaults }, want: { allowed: true } },
  { name: 'private IPv4 under the default policy', given: { address: '10.1.2.3', policy: defaults }, want: { allowed: true } },
  { name: 'benchmark range (test hosts)', given: { address: '198.18.0.2', policy: defaults }, want: { allowed: true } },
  { name: 'public IPv6', given: { address: '2001:db8::1', policy: defaults }, want: { allowed: true } },
  { name: 'ULA IPv6 outside the metadata addresses', given: { address: 'fd00:ec2::253', policy: defaults }, want: { allowed: true } },
  {
    name: 'not an IP',
    given: { address: 'db.example.com', policy: defaults },
    want: { allowed: false, rule: 'EndpointValidation', reason: 'InvalidAddress', messageIncludes: 'not a valid IP address' },
  },
  {
    name: 'IPv4 with leading zeros',
    given: { address: '10.01.2.3', policy: defaults },
    want: { allowed: false, rule: 'EndpointValidation', reason: 'InvalidAddress', messageIncludes: 'not a valid IP address' },
  },
  {
    name: 'IPv6 with a zone',
    given: { address: 'fe80::1%eth0', policy: defaults },
    want: { allowed: false, rule: 'EndpointValidation', reason: 'InvalidAddress', messageIncludes: 'not a valid' },
  },
  {
    name: 'IPv4-mapped IPv6 loopback',
    given: { address: '::ffff:127.0.0.1', policy: defaults },
    want: { allowed: false, rule: 'EndpointValidation', reason: 'InvalidAddress', messageIncludes: 'not a valid' },
  },
  {
    name: 'non-canonical IPv6',
    given: { address: '2001:DB8:0:0:0:0:0:1', policy: defaults },
    want: { allowed: false, rule: 'EndpointValidation', reason: 'NonCanonicalAddress', messageIncludes: 'write it as 2001:db8::1' },
  },
  {
    name: 'unspecified IPv4',
    given: { address: '0.0.0.0', policy: defaults },
    want: { allowed: false, rule: 'EndpointValidation', reason: 'UnspecifiedAddress', messageIncludes: 'unspecified' },
  },
  {
    name: 'unspecified IPv6',
    given: { address: '::', policy: defaults },
    want: { allowed: false, rule: 'EndpointValidation', reason: 'UnspecifiedAddress', messageIncludes: 'Kubernetes refuses' },
  },
  {
    name: 'loopback 127.0.0.1',
    given: { address: '127.0.0.1', policy: defaults },
    want: { allowed: false, rule: 'EndpointValidation', reason: 'LoopbackAddress', messageIncludes: '127.0.0.0/8' },
  },
  {
    name: 'loopback anywhere in 127/8',
    given: { address: '127.255.0.9', policy: defaults },
    want: { allowed: false, rule: 'EndpointValidation', reason: 'LoopbackAddress', messageIncludes: 'loopback' },
  },
  {
    name: 'IPv6 loopback',
    given: { address: '::1', policy: defaults },
    want: { allowed: false, rule: 'EndpointValidation', reason: 'LoopbackAddress', messageIncludes: '::1/128' },
  },
  {
    name: 'IPv4 link-local (the metadata address)',
    given: { address: '169.254.169.254', policy: defaults },
    want: { allowed: false, rule: 'EndpointValidation', reason: 'LinkLocalAddress', messageIncludes: '169.254.0.0/16' },
  },
  {
    name: 'IPv6 link-local',
    given: { address: 'febf::1', policy: defaults },
    want: { allowed: false, rule: 'EndpointValidation', reason: 'LinkLocalAddress', messageIncludes: 'fe80::/10' },
  },
  {
    name: 'IPv4 link-local multicast',
    given: { address: '224.0.0.251', policy: defaults },
    want: { allowed: false, rule: 'EndpointValidation', reason: 'LinkLocalMulticastAddress', messageIncludes: '224.0.0.0/24' },
  },
  {
    name: 'IPv6 link-local multicast with flags',
    given: { address: 'ff12::1', policy: defaults },
    want: { allowed: false, rule: 'EndpointValidation', reason: 'LinkLocalMulticastAddress', messageIncludes: 'multicast' },
  },
  {
    name: 'global IPv4 multicast (the API server allows it; probing cannot)',
    given: { address: '239.1.2.3', policy: defaults },
    want: { allowed: false, rule: 'ProbePolicy', reason: 'NotUnicastAddress', messageIncludes: 'cannot be probed' },
  },
  {
    name: 'global IPv6 multicast',
    given: { address: 'ff0e::1', policy: defaults },
    want: { allowed: false, rule: 'ProbePolicy', reason: 'NotUnicastAddress', messageIncludes: 'multicast' },
  },
  {
    name: 'limited broadcast',
    given: { address: '255.255.255.255', policy: defaults },
    want: { allowed: false, rule: 'ProbePolicy', reason: 'NotUnicastAddress', messageIncludes: 'broadcast' },
  },
  {
    name: 'AWS metadata over IPv6',
    given: { address: 'fd00:ec2::254', policy: defaults },
    want: { allowed: false, rule: 'ProbePolicy', reason: 'DeniedAddress', messageIncludes: 'fd00:ec2::254/128' },
  },
  {
    name: 'GCP metadata over IPv6',
    given: { address: 'fd20:ce::254', policy: defaults },
    want: { allowed: false, rule: 'ProbePolicy', reason: 'DeniedAddress', messageIncludes: 'never probes' },
  },
  {
    name: 'Alibaba metadata',
    given: { address: '100.100.100.200', policy: defaults },
    want: { allowed: false, rule: 'ProbePolicy', reason: 'DeniedAddress', messageIncludes: '100.100.100.200/32' },
  },
  {
    name: 'Azure WireServer',
    given: { address: '168.63.129.16', policy: defaults },
    want: { allowed: false, rule: 'ProbePolicy', reason: 'DeniedAddress', messageIncludes: '168.63.129.16/32' },
  },
  {
    name: '"this network" 0/8 beyond the unspecified address',
    given: { address: '0.1.2.3', policy: defaults },
    want: { allowed: false, rule: 'ProbePolicy', reason: 'DeniedAddress', messageIncludes: '0.0.0.0/8' },
  },
  {
    name: 'the metadata address through NAT64 names the exact block',
    given: { address: '64:ff9b::a9fe:a9fe', policy: defaults },
    want: {
      allowed: false,
      rule: 'ProbePolicy',
      reason: 'DeniedAddress',
      messageIncludes: 'reaches 169.254.169.254 through NAT64) is in 169.254.169.254/32',
    },
  },
  {
    name: 'loopback through NAT64',
    given: { address: '64:ff9b::7f00:1', policy: defaults },
    want: { allowed: false, rule: 'ProbePolicy', reason: 'DeniedAddress', messageIncludes: 'reaches 127.0.0.1 through NAT64' },
  },
  { name: 'a public address through NAT64', given: { address: '64:ff9b::cb00:7107', policy: defaults }, want: { allowed: true } },
  { name: 'inside the allow-list', given: { address: '10.200.0.1', policy: onlyTen }, want: { allowed: true } },
  { name: 'inside the IPv6 allow-list', given: { address: 'fd12:3::4', policy: onlyTen }, want: { allowed: true } },
  {
    name: 'outside the allow-list',
    given: { address: '192.168.1.1', policy: onlyTen },
    want: {
      allowed: false,
      rule: 'ProbePolicy',
      reason: 'AddressNotAllowed',
      messageIncludes: 'outside the networks this operator may probe (10.0.0.0/8, fd12::/16)',
    },
  },
  {
    name: 'an IPv6 address against an IPv4-only allow-list',
    given: { address: '2001:db8::1', policy: newAddressPolicy({ allowedCIDRs: ['10.0.0.0/8'] }) },
    want: { allowed: false, rule: 'ProbePolicy', reason: 'AddressNotAllowed', messageIncludes: '(10.0.0.0/8)' },
  },
  {
    name: 'the deny-list wins over a more specific allow entry',
    given: { address: '100.100.100.200', policy: newAddressPolicy({ allowedCIDRs: ['100.100.100.200/32'] }) },
    want: { allowed: false, rule: 'ProbePolicy', reason: 'DeniedAddress', messageIncludes: '100.100.100.200/32' },
  },
  {
    name: 'a custom deny-list replaces the default one',
    given: { address: '10.9.9.9', policy: newAddressPolicy({ deniedCIDRs: ['10.9.0.0/16'] }) },
    want: { allowed: false, rule: 'ProbePolicy', reason: 'DeniedAddress', messageIncludes: '10.9.0.0/16' },
  },
  {
    name: 'an empty allow-list allows nothing',
    given: { address: '10.0.0.1', policy: newAddressPolicy({ allowedCIDRs: [] }) },
    want: { allowed: false, rule: 'ProbePolicy', reason: 'AddressNotAllowed', messageIncludes: '(none)' },
  },
];

describe('checkBackendAddress', () => {
  for (const { name, given, want } of deepFreeze(cases)) {
    it(name, () => {
      const got = checkBackendAddress(given.address, given.policy);
      assert.equal(got.address, given.address);
      if (want.allowed) {
        assert.deepEqual(got, { allowed: true, address: given.address });
        return;
      }
      assert.equal(got.allowed, false);
      if (got.allowed) return;
      assert.equal(got.rule, want.rule);
      assert.equal(got.reason, want.reason);
      assert.ok(got.message.includes(want.messageIncludes), `message: ${got.message}`);
    });
  }

  it('agrees with the CRD validation on which addresses the API server refuses', () => {
    for (const { given } of cases) {
      const got = checkBackendAddress(given.address, given.policy);
      const special =
        !got.allowed && got.rule === 'EndpointValidation' && got.reason !== 'InvalidAddress' && got.reason !== 'NonCanonicalAddress';
      assert.equal(special, isSpecialEndpointIP(given.address), given.address);
    }
  });
});

describe('parseCidr', () => {
  const good: { name: string; given: string; want: string }[] = [
    { name: 'IPv4 block', given: '10.0.0.0/8', want: '10.0.0.0/8' },
    { name: 'single IPv4 address', given: '169.254.169.254/32', want: '169.254.169.254/32' },
    { name: 'everything IPv4', given: '0.0.0.0/0', want: '0.0.0.0/0' },
    { name: 'IPv6 block written long', given: 'FD00:0EC2:0:0:0:0:0:0/32', want: 'fd00:ec2::/32' },
    { name: 'IPv6 prefix not on a byte boundary', given: 'fe80::/10', want: 'fe80::/10' },
  ];
  for (const { name, given, want } of good) it(name, () => assert.equal(parseCidr(given).text, want));

  const bad: { name: string; given: string; want: RegExp }[] = [
    { name: 'no prefix', given: '10.0.0.0', want: /not a CIDR/ },
    { name: 'prefix too long', given: '10.0.0.0/33', want: /0 to 32/ },
    { name: 'non-numeric prefix', given: '::/x', want: /0 to 128/ },
    { name: 'not an address', given: 'metadata/32', want: /not an IP address/ },
    { name: 'host bits set', given: '10.0.0.1/8', want: /did you mean 10\.0\.0\.0\/8/ },
    { name: 'host bits set inside a byte', given: '10.192.0.0/9', want: /did you mean 10\.128\.0\.0\/9/ },
  ];
  for (const { name, given, want } of bad) {
    it(`refuses ${name}`, () =>
      assert.throws(
        () => parseCidr(given),
        (e: unknown) => e instanceof InvalidCidrError && want.test(e.message),
      ));
  }

  it('rejects a bad flag entry when building the policy', () => {
    assert.throws(() => newAddressPolicy({ allowedCIDRs: ['10.0.0.0/8', 'nope'] }), InvalidCidrError);
  });
});
