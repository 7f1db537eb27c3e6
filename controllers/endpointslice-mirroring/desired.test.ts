import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointAddress, Endpoints, EndpointSubset } from '../../api/core/v1.ts';
import type { SliceEndpoint } from '../../api/discovery/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { addressToEndpoint, desiredMirroredSlices, endpointPortsToSlicePorts } from './desired.ts';
import { addressTypePortMapKey, sortSlicePorts } from '../shared/port-map-key.ts';

describe('addressToEndpoint (upstream TestAddressToEndpoint and family handling)', () => {
  const cases: {
    name: string;
    given: { address: EndpointAddress; ready: boolean };
    want: { addressType: 'IPv4' | 'IPv6'; endpoint: SliceEndpoint } | undefined;
  }[] = [
    {
      name: 'simple: every field copied, only ready set',
      given: {
        address: {
          ip: '10.1.2.3',
          hostname: 'foo',
          nodeName: 'node-abc',
          targetRef: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'foo' },
        },
        ready: true,
      },
      want: {
        addressType: 'IPv4',
        endpoint: {
          addresses: ['10.1.2.3'],
          conditions: { ready: true },
          hostname: 'foo',
          nodeName: 'node-abc',
          targetRef: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'foo' },
        },
      },
    },
    {
      name: 'not ready; empty hostname omitted; empty nodeName kept',
      given: { address: { ip: '10.1.2.3', hostname: '', nodeName: '' }, ready: false },
      want: { addressType: 'IPv4', endpoint: { addresses: ['10.1.2.3'], conditions: { ready: false }, nodeName: '' } },
    },
    {
      name: 'leading zeros are accepted and canonicalised',
      given: { address: { ip: '010.001.002.003' }, ready: true },
      want: { addressType: 'IPv4', endpoint: { addresses: ['10.1.2.3'], conditions: { ready: true } } },
    },
    {
      name: 'IPv6 is canonicalised',
      given: { address: { ip: '2001:DB8:0:0:0:0:0:1' }, ready: true },
      want: { addressType: 'IPv6', endpoint: { addresses: ['2001:db8::1'], conditions: { ready: true } } },
    },
    {
      name: 'IPv4-mapped IPv6 is IPv4',
      given: { address: { ip: '::ffff:10.0.0.1' }, ready: true },
      want: { addressType: 'IPv4', endpoint: { addresses: ['10.0.0.1'], conditions: { ready: true } } },
    },
    { name: 'not an IP', given: { address: { ip: 'this-is-not-an-ip' }, ready: true }, want: undefined },
    { name: 'IPv6 with a zone is invalid', given: { address: { ip: 'fe80::1%eth0' }, ready: true }, want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(addressToEndpoint(deepFreeze(c.given.address), c.given.ready), c.want));
});

describe('endpointPortsToSlicePorts', () => {
  it('always sets name, port and protocol, appProtocol only when present', () => {
    assert.deepEqual(endpointPortsToSlicePorts(deepFreeze([{ port: 80 }, { name: 'h', port: 81, protocol: 'UDP', appProtocol: 'x' }])), [
      { name: '', port: 80, protocol: '' },
      { name: 'h', port: 81, protocol: 'UDP', appProtocol: 'x' },
    ]);
  });
});

const http = { name: 'http', port: 80, protocol: 'TCP' };
const ep = (subsets: EndpointSubset[]): Endpoints => deepFreeze({ metadata: { name: 'test-ep', namespace: 'test' }, subsets });
const addrs = (n: number, prefix = '10.0'): EndpointAddress[] =>
  Array.from({ length: n }, (_, i) => ({ ip: `${prefix}.${Math.floor(i / 255)}.${i % 255}` }));

interface Summary {
  groups: { addressType: string; ports: number; endpoints: number; ready: number }[];
  invalid: number;
  skipped: number;
}
const summarise = (d: ReturnType<typeof desiredMirroredSlices>): Summary => ({
  groups: [...d.groups.values()].map((g) => ({
    addressType: g.addressType,
    ports: g.ports.length,
    endpoints: g.endpoints.size,
    ready: [...g.endpoints.values()].filter((e) => e.conditions?.ready === true).length,
  })),
  invalid: d.invalidIPs.length,
  skipped: d.addressesSkipped,
});

describe('desiredMirroredSlices', () => {
  const cases: { name: string; given: { subsets: EndpointSubset[]; max?: number }; want: Summary }[] = [
    { name: 'no subsets', given: { subsets: [] }, want: { groups: [], invalid: 0, skipped: 0 } },
    { name: 'no addresses', given: { subsets: [{ ports: [http] }] }, want: { groups: [], invalid: 0, skipped: 0 } },
    {
      name: 'one subset makes an IPv4 and an (empty) IPv6 group',
      given: { subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [http] }] },
      want: {
        groups: [
          { addressType: 'IPv4', ports: 1, endpoints: 1, ready: 1 },
          { addressType: 'IPv6', ports: 1, endpoints: 0, ready: 0 },
        ],
        invalid: 0,
        skipped: 0,
      },
    },
    {
      name: 'dual-stack addresses split by family',
      given: {
        subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '2001:db8::1' }], notReadyAddresses: [{ ip: '2001:db8::2' }], ports: [http] }],
      },
      want: {
        groups: [
          { addressType: 'IPv4', ports: 1, endpoints: 1, ready: 1 },
          { addressType: 'IPv6', ports: 1, endpoints: 2, ready: 1 },
        ],
        invalid: 0,
        skipped: 0,
      },
    },
    {
      name: 'invalid addresses are skipped and counted',
      given: { subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: 'not-an-ip' }], notReadyAddresses: [{ ip: 'nope' }], ports: [http] }] },
      want: {
        groups: [
          { addressType: 'IPv4', ports: 1, endpoints: 1, ready: 1 },
          { addressType: 'IPv6', ports: 1, endpoints: 0, ready: 0 },
        ],
        invalid: 2,
        skipped: 2,
      },
    },
    {
      name: '1000 addresses fit the default cap',
      given: { subsets: [{ addresses: addrs(1000), ports: [http] }], max: 1000 },
      want: {
        groups: [
          { addressType: 'IPv4', ports: 1, endpoints: 1000, ready: 1000 },
          { addressType: 'IPv6', ports: 1, endpoints: 0, ready: 0 },
        ],
        invalid: 0,
        skipped: 0,
      },
    },
    {
      name: '1001 addresses: one is skipped',
      given: { subsets: [{ addresses: addrs(1001), ports: [http] }], max: 1000 },
      want: {
        groups: [
          { addressType: 'IPv4', ports: 1, endpoints: 1000, ready: 1000 },
          { addressType: 'IPv6', ports: 1, endpoints: 0, ready: 0 },
        ],
        invalid: 0,
        skipped: 1,
      },
    },
    {
      name: 'the cap prefers ready addresses and counts only valid ones',
      given: {
        subsets: [
          { addresses: [{ ip: 'bad' }, { ip: '10.0.0.1' }], notReadyAddresses: [{ ip: '10.0.0.2' }, { ip: '10.0.0.3' }], ports: [http] },
        ],
        max: 2,
      },
      want: {
        groups: [
          { addressType: 'IPv4', ports: 1, endpoints: 2, ready: 1 },
          { addressType: 'IPv6', ports: 1, endpoints: 0, ready: 0 },
        ],
        invalid: 1,
        skipped: 2,
      },
    },
    {
      name: 'the cap applies per repacked subset',
      given: {
        subsets: [
          { addresses: addrs(2), ports: [http] },
          { addresses: addrs(3, '10.1'), ports: [{ ...http, port: 3000 }] },
        ],
        max: 2,
      },
      want: {
        groups: [
          { addressType: 'IPv4', ports: 1, endpoints: 2, ready: 2 },
          { addressType: 'IPv6', ports: 1, endpoints: 0, ready: 0 },
          { addressType: 'IPv4', ports: 1, endpoints: 2, ready: 2 },
          { addressType: 'IPv6', ports: 1, endpoints: 0, ready: 0 },
        ],
        invalid: 0,
        skipped: 1,
      },
    },
    {
      name: 'a port-less subset becomes a port-less group',
      given: { subsets: [{ addresses: [{ ip: '10.0.0.1' }] }] },
      want: {
        groups: [
          { addressType: 'IPv4', ports: 0, endpoints: 1, ready: 1 },
          { addressType: 'IPv6', ports: 0, endpoints: 0, ready: 0 },
        ],
        invalid: 0,
        skipped: 0,
      },
    },
  ];
  for (const c of cases)
    it(c.name, () => assert.deepEqual(summarise(desiredMirroredSlices(ep(c.given.subsets), c.given.max ?? 1000)), c.want));

  it('keys groups by address type and hash-sorted ports', () => {
    const ports = [http, { name: 'b', port: 1, protocol: 'UDP' }, { name: 'c', port: 2, protocol: 'SCTP' }];
    const d = desiredMirroredSlices(ep([{ addresses: [{ ip: '10.0.0.1' }], ports }]), 1000);
    const v4 = [...d.groups.values()][0];
    assert.ok(v4);
    assert.deepEqual(v4.ports, sortSlicePorts(endpointPortsToSlicePorts(ports)));
    assert.equal(v4.key, addressTypePortMapKey('IPv4', ports));
  });

  it('a later endpoint with the same identity replaces the earlier one (not-ready after ready)', () => {
    const ref = (uid: string) => ({ kind: 'Pod', namespace: 'test', name: 'pod', uid });
    const d = desiredMirroredSlices(
      ep([
        {
          addresses: [{ ip: '10.0.0.1', targetRef: ref('a') }],
          notReadyAddresses: [{ ip: '10.0.0.1', targetRef: ref('b') }],
          ports: [http],
        },
      ]),
      1000,
    );
    const v4 = [...d.groups.values()][0];
    assert.deepEqual([...(v4?.endpoints.values() ?? [])], [{ addresses: ['10.0.0.1'], conditions: { ready: false }, targetRef: ref('b') }]);
    assert.equal(d.addressesSkipped, 0, 'both addresses were added, one replaced the other');
  });
});
