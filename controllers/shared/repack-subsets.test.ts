import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointSubset } from '../../api/core/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { compareEndpointAddresses, compareUtf8, portIdentityByValue, regroupSubsets } from './repack-subsets.ts';

// The full canonical forms (with upstream's sort) are tested beside their users: controllers/endpoints/repack.test.ts
// against vectors from upstream's RepackSubsets, controllers/endpointslice-mirroring/repack-subsets.test.ts for the
// mirroring variant. Here: what only the shared half decides.

const http = { name: 'http', port: 80, protocol: 'TCP' };

describe('regroupSubsets', () => {
  const cases: { name: string; given: EndpointSubset[]; want: EndpointSubset[] }[] = [
    {
      name: 'subsets come in the order their first port was seen, ports in the order seen',
      given: [
        { addresses: [{ ip: '10.0.0.2' }], ports: [{ name: 'b', port: 2 }] },
        { addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'a', port: 1 }] },
        { addresses: [{ ip: '10.0.0.2' }], ports: [{ name: 'c', port: 3 }] },
      ],
      want: [
        {
          addresses: [{ ip: '10.0.0.2' }],
          ports: [
            { name: 'b', port: 2 },
            { name: 'c', port: 3 },
          ],
        },
        { addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'a', port: 1 }] },
      ],
    },
    {
      name: 'by value, equal appProtocols merge',
      given: [
        { addresses: [{ ip: '10.0.0.1' }], ports: [{ ...http, appProtocol: 'h2c' }] },
        { addresses: [{ ip: '10.0.0.2' }], ports: [{ ...http, appProtocol: 'h2c' }] },
      ],
      want: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ ...http, appProtocol: 'h2c' }] }],
    },
    {
      name: 'ports numbered 0 or below are dropped, their addresses kept',
      given: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 0 }] }],
      want: [{ addresses: [{ ip: '10.0.0.1' }] }],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(regroupSubsets(deepFreeze(c.given)), c.want));

  it('copies addresses and ports rather than sharing them with the input', () => {
    const given = deepFreeze([{ addresses: [{ ip: '10.0.0.1' }], ports: [http] }]);
    const [got] = regroupSubsets(given);
    assert.notEqual(got?.addresses?.[0], given[0]?.addresses[0]);
    assert.notEqual(got?.ports?.[0], given[0]?.ports[0]);
  });

  it('takes the port identity from the caller', () => {
    const given = deepFreeze([
      { addresses: [{ ip: '10.0.0.1' }], ports: [http] },
      { addresses: [{ ip: '10.0.0.2' }], ports: [http] },
    ]);
    assert.equal(regroupSubsets(given, portIdentityByValue).length, 1);
    assert.equal(regroupSubsets(given, (_p, subsetIndex) => String(subsetIndex)).length, 2);
  });
});

describe('compareEndpointAddresses', () => {
  const table = [
    { name: 'lower IP string first', a: { ip: '10.0.0.10' }, b: { ip: '10.0.0.2' }, want: -1 },
    { name: 'same IP: no targetRef first', a: { ip: '1.1.1.1' }, b: { ip: '1.1.1.1', targetRef: { uid: 'a' } }, want: -1 },
    { name: 'same IP: by UID', a: { ip: '1.1.1.1', targetRef: { uid: 'b' } }, b: { ip: '1.1.1.1', targetRef: { uid: 'a' } }, want: 1 },
    { name: 'equal', a: { ip: '1.1.1.1' }, b: { ip: '1.1.1.1' }, want: 0 },
  ];
  for (const c of table) {
    it(c.name, () => assert.equal(Math.sign(compareEndpointAddresses(deepFreeze(c.a), deepFreeze(c.b))), c.want));
  }
});

describe('compareUtf8', () => {
  const cases: { name: string; given: [string, string]; want: number }[] = [
    { name: 'equal', given: ['a', 'a'], want: 0 },
    { name: 'prefix first', given: ['10.0.0.1', '10.0.0.10'], want: -1 },
    { name: 'bytewise, not numeric', given: ['10.0.0.10', '10.0.0.2'], want: -1 },
    // U+FF5E is 3 UTF-8 bytes (EF BD 9E), U+1F600 is 4 (F0 ...): bytes put the emoji last, UTF-16 units first.
    { name: 'code points, not UTF-16 units', given: ['\u{1F600}', '\uFF5E'], want: 1 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(Math.sign(compareUtf8(...c.given)), c.want));
});
