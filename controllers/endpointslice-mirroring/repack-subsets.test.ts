import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointSubset } from '../../api/core/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { repackSubsets } from './repack-subsets.ts';

const http = { name: 'http', port: 80, protocol: 'TCP' };
const https = { name: 'https', port: 443, protocol: 'TCP' };

// Output order of subsets is not part of the contract (upstream sorts them by hash); compare as a set.
const canon = (subsets: EndpointSubset[]) => subsets.map((s) => JSON.stringify(s)).sort();

describe('repackSubsets', () => {
  const cases: { name: string; given: EndpointSubset[] | undefined; want: EndpointSubset[] }[] = [
    { name: 'nothing', given: undefined, want: [] },
    { name: 'a subset without addresses disappears', given: [{ ports: [http] }], want: [] },
    {
      name: 'different ports, same address: one subset with both ports',
      given: [
        { addresses: [{ ip: '10.0.0.1' }], ports: [http] },
        { addresses: [{ ip: '10.0.0.1' }], ports: [https] },
      ],
      want: [{ addresses: [{ ip: '10.0.0.1' }], ports: [http, https] }],
    },
    {
      name: 'same port, different addresses: one subset with both addresses, sorted by IP bytes',
      given: [
        { addresses: [{ ip: '10.0.0.2' }], ports: [http] },
        { addresses: [{ ip: '10.0.0.10' }], ports: [http] },
      ],
      want: [{ addresses: [{ ip: '10.0.0.10' }, { ip: '10.0.0.2' }], ports: [http] }],
    },
    {
      name: 'not-ready wins over ready for the same address and port',
      given: [
        { addresses: [{ ip: '10.0.0.1' }], ports: [http] },
        { notReadyAddresses: [{ ip: '10.0.0.1' }], ports: [http] },
      ],
      want: [{ notReadyAddresses: [{ ip: '10.0.0.1' }], ports: [http] }],
    },
    {
      name: 'addresses deduplicate by IP + targetRef uid; the first full address is kept',
      given: [
        {
          addresses: [
            { ip: '10.0.0.1', hostname: 'first', targetRef: { kind: 'Pod', name: 'a', uid: 'u1' } },
            { ip: '10.0.0.1', hostname: 'second', targetRef: { kind: 'Pod', name: 'a', uid: 'u1' } },
            { ip: '10.0.0.1', hostname: 'other-uid', targetRef: { kind: 'Pod', name: 'b', uid: 'u0' } },
            { ip: '10.0.0.1', hostname: 'no-ref' },
          ],
          ports: [http],
        },
      ],
      want: [
        {
          addresses: [
            { ip: '10.0.0.1', hostname: 'no-ref' },
            { ip: '10.0.0.1', hostname: 'other-uid', targetRef: { kind: 'Pod', name: 'b', uid: 'u0' } },
            { ip: '10.0.0.1', hostname: 'first', targetRef: { kind: 'Pod', name: 'a', uid: 'u1' } },
          ],
          ports: [http],
        },
      ],
    },
    {
      name: 'a port-less subset survives without ports',
      given: [{ addresses: [{ ip: '10.0.0.1' }] }],
      want: [{ addresses: [{ ip: '10.0.0.1' }] }],
    },
    {
      name: 'ports served by different address sets stay apart',
      given: [
        { addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [http] },
        { addresses: [{ ip: '10.0.0.2' }], ports: [https] },
      ],
      want: [
        { addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [http] },
        { addresses: [{ ip: '10.0.0.2' }], ports: [https] },
      ],
    },
    {
      // Go keys ports by struct value with an appProtocol *pointer*, so equal appProtocol strings from two decoded
      // subsets are different keys: the two subsets are not merged (and land in one slice later, by port-map key).
      name: 'ports with appProtocol from different subsets are not merged',
      given: [
        { addresses: [{ ip: '10.0.0.1' }], ports: [{ ...http, appProtocol: 'h2c' }] },
        { addresses: [{ ip: '10.0.0.2' }], ports: [{ ...http, appProtocol: 'h2c' }] },
      ],
      want: [
        { addresses: [{ ip: '10.0.0.1' }], ports: [{ ...http, appProtocol: 'h2c' }] },
        { addresses: [{ ip: '10.0.0.2' }], ports: [{ ...http, appProtocol: 'h2c' }] },
      ],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(canon(repackSubsets(deepFreeze(c.given))), canon(c.want)));
});
