import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import {
  type Affinity,
  affinityApplySpec,
  affinityMergePatchSpec,
  describeAffinity,
  policyAffinity,
  sameAffinity,
  serviceAffinity,
} from './affinity.ts';
import { CLIENT_IP, NONE, service } from './test-fixtures.ts';

describe('serviceAffinity (the API server defaulting of sessionAffinityConfig)', () => {
  const base = service('web');
  const cases: {
    name: string;
    given: Record<string, unknown>;
    want: Affinity;
  }[] = [
    { name: 'unset is None', given: {}, want: NONE },
    {
      name: 'None is None, whatever config is left over',
      given: {
        sessionAffinity: 'None',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } },
      },
      want: NONE,
    },
    {
      name: 'an unknown type counts as None',
      given: { sessionAffinity: 'Cookie' },
      want: NONE,
    },
    {
      name: 'ClientIP without config gets 10800',
      given: { sessionAffinity: 'ClientIP' },
      want: CLIENT_IP(10800),
    },
    {
      name: 'ClientIP without timeout gets 10800',
      given: {
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: {} },
      },
      want: CLIENT_IP(10800),
    },
    {
      name: 'ClientIP keeps its timeout',
      given: {
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
      },
      want: CLIENT_IP(60),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { sessionAffinity: _a, sessionAffinityConfig: _c, ...spec } = base.spec;
      assert.deepEqual(serviceAffinity(deepFreeze({ ...base, spec: { ...spec, ...c.given } })), c.want);
    });
  }
});

describe('policyAffinity', () => {
  const cases: {
    name: string;
    given: { sessionAffinity: 'ClientIP' | 'None'; timeoutSeconds?: number };
    want: Affinity;
  }[] = [
    {
      name: 'ClientIP with a timeout',
      given: { sessionAffinity: 'ClientIP', timeoutSeconds: 5 },
      want: CLIENT_IP(5),
    },
    {
      name: 'ClientIP without a timeout uses the Service default',
      given: { sessionAffinity: 'ClientIP' },
      want: CLIENT_IP(10800),
    },
    { name: 'None', given: { sessionAffinity: 'None' }, want: NONE },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(policyAffinity(deepFreeze(c.given)), c.want));
});

describe('sameAffinity', () => {
  const cases: { name: string; given: [Affinity, Affinity]; want: boolean }[] = [
    { name: 'None and None', given: [NONE, NONE], want: true },
    {
      name: 'equal timeouts',
      given: [CLIENT_IP(5), CLIENT_IP(5)],
      want: true,
    },
    {
      name: 'different timeouts',
      given: [CLIENT_IP(5), CLIENT_IP(6)],
      want: false,
    },
    { name: 'None and ClientIP', given: [NONE, CLIENT_IP(5)], want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(sameAffinity(...c.given), c.want));
});

describe('affinity write forms', () => {
  it('an apply of None leaves the config out, so we never own a field defaulting clears', () => {
    assert.deepEqual(affinityApplySpec(NONE), { sessionAffinity: 'None' });
  });
  it('an apply of ClientIP sets the whole config', () => {
    assert.deepEqual(affinityApplySpec(CLIENT_IP(60)), {
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
    });
  });
  it('a merge patch of None deletes a leftover config', () => {
    assert.deepEqual(affinityMergePatchSpec(NONE), {
      sessionAffinity: 'None',
      sessionAffinityConfig: null,
    });
  });
  it('describes values for humans', () => {
    assert.deepEqual([describeAffinity(NONE), describeAffinity(CLIENT_IP(60))], ['None', 'ClientIP (timeout 60s)']);
  });
});
