import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SliceEndpoint } from '../../api/discovery/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { cachedEndpointIdentities, endpointIdentity, endpointsEqualBeyondHash } from './endpoint-identity.ts';

describe('endpointIdentity', () => {
  const base: SliceEndpoint = { addresses: ['10.0.0.2', '10.0.0.1'], targetRef: { kind: 'Pod', namespace: 'ns', name: 'p', uid: 'u1' } };
  const cases: { name: string; given: SliceEndpoint; wantSame: boolean }[] = [
    { name: 'address order does not matter', given: { ...base, addresses: ['10.0.0.1', '10.0.0.2'] }, wantSame: true },
    {
      name: 'uid, node, zone and conditions are not identity',
      given: { ...base, targetRef: { ...base.targetRef, uid: 'u2' }, nodeName: 'n', zone: 'z', conditions: { ready: false } },
      wantSame: true,
    },
    { name: 'an absent hostname equals ""', given: { ...base, hostname: '' }, wantSame: true },
    { name: 'hostname is identity', given: { ...base, hostname: 'h' }, wantSame: false },
    { name: 'target name is identity', given: { ...base, targetRef: { ...base.targetRef, name: 'q' } }, wantSame: false },
    { name: 'target namespace is identity', given: { ...base, targetRef: { ...base.targetRef, namespace: 'other' } }, wantSame: false },
    { name: 'addresses are identity', given: { ...base, addresses: ['10.0.0.3'] }, wantSame: false },
  ];
  for (const c of cases)
    it(c.name, () => assert.equal(endpointIdentity(deepFreeze(c.given)) === endpointIdentity(deepFreeze(base)), c.wantSame));
});

describe('endpointsEqualBeyondHash (upstream TestEndpointsEqualBeyondHash)', () => {
  const ep: SliceEndpoint = {
    addresses: ['10.0.0.1'],
    conditions: { ready: true, serving: true, terminating: false },
    nodeName: 'node-1',
    zone: 'zone-a',
    targetRef: { kind: 'Pod', namespace: 'default', name: 'pod0', uid: 'u', resourceVersion: '1' },
  };
  const cases: { name: string; given: SliceEndpoint; want: boolean }[] = [
    { name: 'identical', given: ep, want: true },
    { name: 'different addresses are covered by the hash, not here', given: { ...ep, addresses: ['10.0.0.2'] }, want: true },
    { name: 'ready changed', given: { ...ep, conditions: { ...ep.conditions, ready: false } }, want: false },
    { name: 'serving nil → true counts as a change', given: { ...ep, conditions: { ready: true, terminating: false } }, want: false },
    { name: 'terminating nil → false counts as a change', given: { ...ep, conditions: { ready: true, serving: true } }, want: false },
    { name: 'terminating changed', given: { ...ep, conditions: { ...ep.conditions, terminating: true } }, want: false },
    { name: 'zone changed', given: { ...ep, zone: 'zone-b' }, want: false },
    { name: 'zone removed', given: { ...ep, zone: undefined }, want: false },
    { name: 'nodeName changed', given: { ...ep, nodeName: 'node-2' }, want: false },
    { name: 'nodeName removed', given: { ...ep, nodeName: undefined }, want: false },
    { name: 'targetRef uid changed', given: { ...ep, targetRef: { ...ep.targetRef, uid: 'v' } }, want: false },
    { name: 'targetRef removed', given: { ...ep, targetRef: undefined }, want: false },
    {
      name: 'targetRef resourceVersion changed is ignored',
      given: { ...ep, targetRef: { ...ep.targetRef, resourceVersion: '2' } },
      want: true,
    },
    {
      name: 'targetRef resourceVersion removed is ignored',
      given: { ...ep, targetRef: { kind: 'Pod', namespace: 'default', name: 'pod0', uid: 'u' } },
      want: true,
    },
    { name: 'hints are ignored', given: { ...ep, hints: { forZones: [{ name: 'zone-a' }] } }, want: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const given = deepFreeze(JSON.parse(JSON.stringify(c.given)) as SliceEndpoint);
      assert.equal(endpointsEqualBeyondHash(given, deepFreeze(ep)), c.want);
      assert.equal(endpointsEqualBeyondHash(deepFreeze(ep), given), c.want);
    });
  }
});

describe('cachedEndpointIdentities', () => {
  const ep = (ip: string, name: string): SliceEndpoint => ({ addresses: [ip], targetRef: { kind: 'Pod', namespace: 'ns', name } });
  const lists: readonly SliceEndpoint[][] = [
    deepFreeze([ep('10.0.0.1', 'a'), ep('10.0.0.2', 'b')]),
    deepFreeze([ep('10.0.0.1', 'a'), ep('10.0.0.3', 'c')]),
    deepFreeze([]),
  ];
  it('gives endpointIdentity of each endpoint, per list object, also when asked again', () => {
    for (let round = 0; round < 2; round++) {
      for (const list of lists) assert.deepEqual(cachedEndpointIdentities(list), list.map(endpointIdentity));
    }
  });
});
