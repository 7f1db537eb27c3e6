import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SlicePort } from '../../api/discovery/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { fnv128aHex } from './fnv128a.ts';
import { spewForHash } from './go-spew.ts';
import { goSlice } from './go-value.ts';
import { addressTypePortMapKey, hashSlicePort, portMapKey, slicePortGo, sortSlicePorts, spewSlicePort } from './port-map-key.ts';

// Expected values were produced by k8s.io/endpointslice v0.36.4 (util.NewPortMapKey) and k8s.io/utils/dump.ForHash
// with hash/fnv New128a, run with Go 1.26 against the module cache of this workspace.

const tcp = (name: string, port: number): SlicePort => ({ name, port, protocol: 'TCP' });
const tcp80 = deepFreeze<SlicePort>({ name: 'tcp', port: 80, protocol: 'TCP' });
const udp = deepFreeze<SlicePort>({ name: 'udp', port: 161, protocol: 'UDP' });
const sctp = deepFreeze<SlicePort>({ name: 'sctp', port: 3456, protocol: 'SCTP', appProtocol: 'x' });

describe('slice port dump', () => {
  const cases: { name: string; given: SlicePort[]; want: string }[] = [
    {
      name: 'named TCP port, nil appProtocol',
      given: [tcp('http', 80)],
      want: '([]v1.EndpointPort)[{Name:(*string)http Protocol:(*v1.Protocol)TCP Port:(*int32)80 AppProtocol:(*string)<nil>}]',
    },
    {
      name: 'unnamed port is a pointer to the empty string',
      given: [tcp('', 80)],
      want: '([]v1.EndpointPort)[{Name:(*string) Protocol:(*v1.Protocol)TCP Port:(*int32)80 AppProtocol:(*string)<nil>}]',
    },
    {
      name: 'absent fields are nil pointers',
      given: [{}],
      want: '([]v1.EndpointPort)[{Name:(*string)<nil> Protocol:(*v1.Protocol)<nil> Port:(*int32)<nil> AppProtocol:(*string)<nil>}]',
    },
    {
      name: 'strings are not quoted',
      given: [{ name: 'é"q', port: 1, protocol: 'TCP' }],
      want: '([]v1.EndpointPort)[{Name:(*string)é"q Protocol:(*v1.Protocol)TCP Port:(*int32)1 AppProtocol:(*string)<nil>}]',
    },
    { name: 'empty list', given: [], want: '([]v1.EndpointPort)[]' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(spewForHash(goSlice(deepFreeze(c.given), 'v1.EndpointPort', slicePortGo)), c.want));
  }
});

describe('hashSlicePort', () => {
  const cases: { name: string; given: SlicePort; want: string }[] = [
    { name: 'http/TCP/80', given: tcp('http', 80), want: 'b6c4d325122a5ba6f795b0bbffcebb6f' },
    {
      name: 'dns/UDP/53 with appProtocol',
      given: { name: 'dns', port: 53, protocol: 'UDP', appProtocol: 'dns' },
      want: '15a9e479eacbc31865ba1cae80873d20',
    },
    { name: 'sctp/SCTP/3456', given: { name: 'sctp', port: 3456, protocol: 'SCTP' }, want: '1896c28403833cb81b3c256ed31ffb12' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(hashSlicePort(deepFreeze(c.given)), c.want));
});

describe('portMapKey and sortSlicePorts', () => {
  const cases: { name: string; given: SlicePort[] | null | undefined; wantKey: string; wantOrder: string[] }[] = [
    {
      name: 'TestSyncService ports (tcp, udp, sctp) sort to udp, tcp, sctp under FNV',
      given: [
        tcp('tcp-example', 80),
        { name: 'udp-example', port: 161, protocol: 'UDP' },
        { name: 'sctp-example', port: 3456, protocol: 'SCTP' },
      ],
      wantKey: 'f5ebada0ff5e4e36605c05e8976a5343',
      wantOrder: ['udp-example', 'tcp-example', 'sctp-example'],
    },
    {
      name: 'http and https sort to https, http',
      given: [tcp('http', 80), tcp('https', 443)],
      wantKey: 'c82e3286db58c28adf997223e60089d3',
      wantOrder: ['https', 'http'],
    },
    {
      name: 'three ports with appProtocol',
      given: [
        tcp('http', 80),
        { name: 'dns', port: 53, protocol: 'UDP', appProtocol: 'dns' },
        { name: 'sctp', port: 3456, protocol: 'SCTP' },
      ],
      wantKey: '03066d7131ecb7bae3d3da9119a6054d',
      wantOrder: ['dns', 'sctp', 'http'],
    },
    { name: 'unnamed port', given: [tcp('', 80)], wantKey: '7069dc359c91d7ceee7e7fb1b1f45657', wantOrder: [''] },
    { name: 'empty list', given: [], wantKey: 'b823fa277840572f948b7ebdb09f7a1d', wantOrder: [] },
    {
      name: 'nil list hashes as empty (no churn for port-less headless slices)',
      given: null,
      wantKey: 'b823fa277840572f948b7ebdb09f7a1d',
      wantOrder: [],
    },
    { name: 'absent list hashes as empty', given: undefined, wantKey: 'b823fa277840572f948b7ebdb09f7a1d', wantOrder: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const given = c.given == null ? c.given : deepFreeze(c.given);
      assert.equal(portMapKey(given), c.wantKey);
      assert.deepEqual(
        sortSlicePorts(given).map((p) => p.name),
        c.wantOrder,
      );
    });
  }

  it('is independent of the input order', () => {
    const a = [tcp('a', 1), tcp('b', 2), tcp('c', 3)];
    assert.equal(portMapKey(a), portMapKey([...a].reverse()));
  });

  it('distinguishes an unnamed port from one without a name field', () => {
    assert.notEqual(portMapKey([tcp('', 80)]), portMapKey([{ port: 80, protocol: 'TCP' }]));
  });
});

describe('spewSlicePort (one port)', () => {
  const cases: { name: string; given: SlicePort; want: string }[] = [
    {
      name: 'all pointers set except appProtocol',
      given: { name: 'http', port: 80, protocol: 'TCP' },
      want: '(v1.EndpointPort){Name:(*string)http Protocol:(*v1.Protocol)TCP Port:(*int32)80 AppProtocol:(*string)<nil>}',
    },
    {
      name: 'empty strings are non-nil pointers',
      given: { name: '', port: 80, protocol: '', appProtocol: 'h2c' },
      want: '(v1.EndpointPort){Name:(*string) Protocol:(*v1.Protocol) Port:(*int32)80 AppProtocol:(*string)h2c}',
    },
    {
      name: 'everything nil',
      given: {},
      want: '(v1.EndpointPort){Name:(*string)<nil> Protocol:(*v1.Protocol)<nil> Port:(*int32)<nil> AppProtocol:(*string)<nil>}',
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(spewSlicePort(deepFreeze(c.given)), c.want));

  it('hashes the dump with FNV-1a-128', () => assert.equal(hashSlicePort(tcp80), fnv128aHex(spewSlicePort(tcp80))));
});

describe('sortSlicePorts (properties)', () => {
  it('orders by port hash whatever the input order, without touching the input', () => {
    const byHash = [tcp80, udp, sctp].sort((a, b) => (hashSlicePort(a) < hashSlicePort(b) ? -1 : 1));
    for (const input of [
      [tcp80, udp, sctp],
      [sctp, udp, tcp80],
      [udp, tcp80, sctp],
    ]) {
      assert.deepEqual(sortSlicePorts(deepFreeze(input)), byHash);
    }
  });
});

describe('portMapKey equality', () => {
  const cases: { name: string; given: [SlicePort[] | null | undefined, SlicePort[] | null | undefined]; want: boolean }[] = [
    { name: 'a different port number is another key', given: [[tcp80], [{ ...tcp80, port: 81 }]], want: false },
    { name: 'appProtocol is part of the key', given: [[tcp80], [{ ...tcp80, appProtocol: 'http' }]], want: false },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(portMapKey(deepFreeze(c.given[0])) === portMapKey(deepFreeze(c.given[1])), c.want));
  }

  it('prefixes the address type', () => {
    assert.equal(addressTypePortMapKey('IPv6', [tcp80]), `IPv6-${portMapKey([tcp80])}`);
    assert.notEqual(addressTypePortMapKey('IPv4', [tcp80]), addressTypePortMapKey('IPv6', [tcp80]));
  });
});
