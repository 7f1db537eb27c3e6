import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionAffinityPolicy } from '../../api/v1alpha1/session-affinity-policy.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { governingPolicy, selectingPolicies } from './resolution.ts';
import { policy, service } from './test-fixtures.ts';

const T1 = '2026-01-01T00:00:00Z';
const T2 = '2026-01-02T00:00:00Z';

describe('governingPolicy: priority, then age, then name', () => {
  const cases: {
    name: string;
    given: SessionAffinityPolicy[];
    want: string | undefined;
  }[] = [
    { name: 'no policies', given: [], want: undefined },
    {
      name: 'the higher priority wins over an older policy',
      given: [policy('old', { priority: 1 }, { creationTimestamp: T1 }), policy('new', { priority: 2 }, { creationTimestamp: T2 })],
      want: 'new',
    },
    {
      name: 'a negative priority loses to the default 0',
      given: [policy('neg', { priority: -1 }, { creationTimestamp: T1 }), policy('zero', {}, { creationTimestamp: T2 })],
      want: 'zero',
    },
    {
      name: 'equal priority: the older policy wins',
      given: [policy('a-new', {}, { creationTimestamp: T2 }), policy('z-old', {}, { creationTimestamp: T1 })],
      want: 'z-old',
    },
    {
      name: 'equal priority and age: the lower name wins',
      given: [policy('beta'), policy('alpha')],
      want: 'alpha',
    },
    {
      name: 'a policy whose selector does not match is ignored',
      given: [
        policy('other', {
          priority: 9,
          serviceSelector: { matchLabels: { tier: 'backend' } },
        }),
        policy('mine'),
      ],
      want: 'mine',
    },
    {
      name: 'matchExpressions count',
      given: [
        policy('notin', {
          priority: 9,
          serviceSelector: {
            matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['frontend'] }],
          },
        }),
        policy('exists', {
          serviceSelector: {
            matchExpressions: [{ key: 'tier', operator: 'Exists' }],
          },
        }),
      ],
      want: 'exists',
    },
    {
      name: 'a policy of another namespace is ignored',
      given: [policy('elsewhere', {}, { namespace: 'other' })],
      want: undefined,
    },
    {
      name: 'a policy being deleted is ignored',
      given: [policy('going', { priority: 9 }, { deletionTimestamp: T2 }), policy('staying')],
      want: 'staying',
    },
    {
      name: 'an empty selector selects every Service',
      given: [policy('all', { serviceSelector: {} })],
      want: 'all',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const given = deepFreeze(c.given);
      const svc = deepFreeze(service('web'));
      assert.equal(governingPolicy(svc, given)?.metadata.name, c.want);
      assert.equal(governingPolicy(svc, [...given].reverse())?.metadata.name, c.want, 'independent of input order');
    });
  }

  it('never governs an ExternalName Service', () => {
    assert.equal(governingPolicy(deepFreeze(service('db', { type: 'ExternalName' })), deepFreeze([policy('all')])), undefined);
  });

  it('lists every selecting policy in precedence order', () => {
    const given = deepFreeze([policy('c'), policy('a', { priority: 1 }), policy('b')]);
    assert.deepEqual(
      selectingPolicies(deepFreeze(service('web')), given).map((p) => p.metadata.name),
      ['a', 'b', 'c'],
    );
  });
});
