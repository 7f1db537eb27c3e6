import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SlicePort } from '../../api/discovery/v1.ts';
import { deepFreeze } from '../shared/deep-freeze.ts';
import { fnv128aHex } from '../shared/fnv128a.ts';
import { addressTypePortMapKey, hashSlicePort, portMapKey, sortSlicePorts, spewSlicePort } from './port-map-key.ts';

const tcp = deepFreeze<SlicePort>({ name: 'tcp', port: 80, protocol: 'TCP' });
const udp = deepFreeze<SlicePort>({ name: 'udp', port: 161, protocol: 'UDP' });
const sctp = deepFreeze<SlicePort>({ name: 'sctp', port: 3456, protocol: 'SCTP', appProtocol: 'x' });

describe('spewSlicePort', () => {
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

  it('hashes the dump with FNV-1a-128', () => assert.equal(hashSlicePort(tcp), fnv128aHex(spewSlicePort(tcp))));
});

describe('sortSlicePorts', () => {
  it('orders by port hash whatever the input order, without touching the input', () => {
    const byHash = [tcp, udp, sctp].sort((a, b) => (hashSlicePort(a) < hashSlicePort(b) ? -1 : 1));
    for (const input of [
      [tcp, udp, sctp],
      [sctp, udp, tcp],
      [udp, tcp, sctp],
    ]) {
      assert.deepEqual(sortSlicePorts(deepFreeze(input)), byHash);
    }
  });
  it('treats a missing list as empty', () => {
    assert.deepEqual(sortSlicePorts(undefined), []);
    assert.deepEqual(sortSlicePorts(null), []);
  });
});

describe('portMapKey', () => {
  const cases: { name: string; given: [SlicePort[] | null | undefined, SlicePort[] | null | undefined]; want: boolean }[] = [
    {
      name: 'order does not matter',
      given: [
        [tcp, udp],
        [udp, tcp],
      ],
      want: true,
    },
    { name: 'nil and empty are the same key', given: [null, []], want: true },
    { name: 'absent and empty are the same key', given: [undefined, []], want: true },
    { name: 'a different port number is another key', given: [[tcp], [{ ...tcp, port: 81 }]], want: false },
    { name: 'appProtocol is part of the key', given: [[tcp], [{ ...tcp, appProtocol: 'http' }]], want: false },
    { name: 'name "" differs from no name', given: [[{ port: 80 }], [{ name: '', port: 80 }]], want: false },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(portMapKey(deepFreeze(c.given[0])) === portMapKey(deepFreeze(c.given[1])), c.want));
  }

  it('prefixes the address type', () => {
    assert.equal(addressTypePortMapKey('IPv6', [tcp]), `IPv6-${portMapKey([tcp])}`);
    assert.notEqual(addressTypePortMapKey('IPv4', [tcp]), addressTypePortMapKey('IPv6', [tcp]));
  });
});
