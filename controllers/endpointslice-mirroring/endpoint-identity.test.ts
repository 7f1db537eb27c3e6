import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SliceEndpoint } from '../../api/discovery/v1.ts';
import { deepFreeze } from '../shared/deep-freeze.ts';
import { endpointIdentity, endpointsEqualBeyondHash } from './endpoint-identity.ts';

const base: SliceEndpoint = {
  addresses: ['10.0.0.1'],
  hostname: 'h',
  nodeName: 'n',
  conditions: { ready: true },
  targetRef: { kind: 'Pod', namespace: 'ns', name: 'p', uid: 'u', resourceVersion: '1' },
};

describe('endpointIdentity', () => {
  const cases: { name: string; given: SliceEndpoint; want: boolean }[] = [
    {
      name: 'conditions, node and uid are not identity',
      given: { ...base, nodeName: 'x', conditions: {}, targetRef: { ...base.targetRef, uid: 'v' } },
      want: true,
    },
    { name: 'another hostname is another endpoint', given: { ...base, hostname: 'other' }, want: false },
    { name: 'another target name is another endpoint', given: { ...base, targetRef: { ...base.targetRef, name: 'q' } }, want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(endpointIdentity(deepFreeze(c.given)) === endpointIdentity(base), c.want));

  it('an absent hostname equals ""', () => {
    assert.equal(endpointIdentity({ addresses: ['10.0.0.1'] }), endpointIdentity({ addresses: ['10.0.0.1'], hostname: '' }));
  });

  it('sorts addresses without modifying the endpoint', () => {
    const two = deepFreeze({ addresses: ['10.0.0.2', '10.0.0.1'] });
    assert.equal(endpointIdentity(two), endpointIdentity({ addresses: ['10.0.0.1', '10.0.0.2'] }));
  });
});

describe('endpointsEqualBeyondHash', () => {
  const cases: { name: string; given: SliceEndpoint; want: boolean }[] = [
    { name: 'identical', given: base, want: true },
    {
      name: 'targetRef resourceVersion is ignored',
      given: { ...base, targetRef: { ...base.targetRef, resourceVersion: '2' } },
      want: true,
    },
    { name: 'targetRef uid differs', given: { ...base, targetRef: { ...base.targetRef, uid: 'v' } }, want: false },
    { name: 'targetRef removed', given: { ...base, targetRef: undefined }, want: false },
    { name: 'nodeName absent differs from set', given: { ...base, nodeName: undefined }, want: false },
    { name: 'zone set', given: { ...base, zone: 'z' }, want: false },
    { name: 'ready false', given: { ...base, conditions: { ready: false } }, want: false },
    { name: 'serving set (absent differs from true)', given: { ...base, conditions: { ready: true, serving: true } }, want: false },
    {
      name: 'terminating false (absent differs from false)',
      given: { ...base, conditions: { ready: true, terminating: false } },
      want: false,
    },
    { name: 'hints are not compared', given: { ...base, hints: { forZones: [{ name: 'z' }] } }, want: true },
  ];
  for (const c of cases) it(c.name, () => assert.equal(endpointsEqualBeyondHash(deepFreeze(c.given), deepFreeze(base)), c.want));
});
