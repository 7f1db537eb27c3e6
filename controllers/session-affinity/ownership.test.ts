import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import type { Affinity } from './affinity.ts';
import { affinityAfterRelease, affinityOwnership, ownerSetByOwnership, ownerSetByService, restoreManager } from './ownership.ts';
import { FIELD_MANAGER } from './plan.ts';
import { CLIENT_IP, managedField, NONE, service } from './test-fixtures.ts';

describe('affinityOwnership', () => {
  it('separates our Apply entry from other managers, in managedFields order', () => {
    const got = affinityOwnership(
      deepFreeze([
        managedField('kubectl-create', 'Update', { a: true }),
        managedField(FIELD_MANAGER, 'Apply', { a: true, c: true }),
        managedField('helm', 'Update', { c: true }),
        managedField('gitops', 'Apply', { a: true }),
      ]),
      FIELD_MANAGER,
    );
    assert.deepEqual(got, {
      sessionAffinity: [
        { manager: 'kubectl-create', operation: 'Update' },
        { manager: 'gitops', operation: 'Apply' },
      ],
      timeoutSeconds: [{ manager: 'helm', operation: 'Update' }],
      ours: { sessionAffinity: true, timeoutSeconds: true },
    });
  });

  it('ignores subresource entries, malformed entries, and our name under Update', () => {
    const got = affinityOwnership(
      deepFreeze([
        managedField('status-writer', 'Update', {
          a: true,
          subresource: 'status',
        }),
        'garbage',
        { manager: 'no-operation', fieldsV1: {} },
        managedField(FIELD_MANAGER, 'Update', { a: true }),
      ]),
      FIELD_MANAGER,
    );
    assert.deepEqual(got, {
      sessionAffinity: [{ manager: FIELD_MANAGER, operation: 'Update' }],
      timeoutSeconds: [],
      ours: { sessionAffinity: false, timeoutSeconds: false },
    });
  });

  it('reads no managedFields as nobody owning anything', () => {
    assert.deepEqual(affinityOwnership(undefined, FIELD_MANAGER), {
      sessionAffinity: [],
      timeoutSeconds: [],
      ours: { sessionAffinity: false, timeoutSeconds: false },
    });
  });
});

describe('did the owner set the affinity? (mode Default)', () => {
  const lastApplied = (spec: unknown) => ({
    'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
      spec,
    }),
  });
  const byService: {
    name: string;
    given: ReturnType<typeof service>;
    want: true | undefined;
  }[] = [
    {
      name: 'ClientIP is always set by someone',
      given: service('a', { affinity: CLIENT_IP(5) }),
      want: true,
    },
    {
      name: 'None: the cache cannot tell',
      given: service('a'),
      want: undefined,
    },
    {
      name: 'None listed by client-side apply',
      given: service('a', {
        annotations: lastApplied({ sessionAffinity: 'None' }),
      }),
      want: true,
    },
    {
      name: 'a config listed by client-side apply',
      given: service('a', {
        annotations: lastApplied({ sessionAffinityConfig: {} }),
      }),
      want: true,
    },
    {
      name: 'client-side apply without affinity',
      given: service('a', { annotations: lastApplied({ ports: [] }) }),
      want: undefined,
    },
    {
      name: 'an unreadable client-side apply record',
      given: service('a', {
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{',
        },
      }),
      want: undefined,
    },
  ];
  for (const c of byService) it(`from the Service: ${c.name}`, () => assert.equal(ownerSetByService(deepFreeze(c.given)), c.want));

  const byOwnership: { name: string; given: unknown[]; want: boolean }[] = [
    { name: 'nobody owns it', given: [], want: false },
    {
      name: "only the creator's Update (defaulting)",
      given: [managedField('kubectl-create', 'Update', { a: true })],
      want: false,
    },
    {
      name: 'a server-side apply declares it',
      given: [managedField('argocd', 'Apply', { a: true })],
      want: true,
    },
    {
      name: 'only we own it',
      given: [managedField(FIELD_MANAGER, 'Apply', { a: true })],
      want: false,
    },
  ];
  for (const c of byOwnership) {
    it(`from managedFields: ${c.name}`, () =>
      assert.equal(ownerSetByOwnership(affinityOwnership(deepFreeze(c.given), FIELD_MANAGER)), c.want));
  }
});

describe('restoreManager', () => {
  const cases: { name: string; given: unknown[]; want: string | undefined }[] = [
    { name: 'nobody', given: [], want: undefined },
    {
      name: 'an Update owner of the type first',
      given: [managedField('gitops', 'Apply', { a: true }), managedField('helm', 'Update', { a: true })],
      want: 'helm',
    },
    {
      name: 'else an Apply owner of the type',
      given: [managedField('gitops', 'Apply', { a: true }), managedField('helm', 'Update', { c: true })],
      want: 'gitops',
    },
    {
      name: 'else an owner of the timeout',
      given: [managedField('kubectl-edit', 'Update', { c: true })],
      want: 'kubectl-edit',
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(restoreManager(affinityOwnership(deepFreeze(c.given), FIELD_MANAGER)), c.want));
});

describe('affinityAfterRelease (what the API server leaves when our Apply entry drops the fields)', () => {
  type Owned = Parameters<typeof affinityAfterRelease>[1];
  const own = (oursA: boolean, oursC: boolean, othersA: boolean, othersC: boolean): Owned => ({ oursA, oursC, othersA, othersC });
  const cases: { name: string; given: [Affinity, Owned]; want: Affinity }[] = [
    {
      name: 'None stays None',
      given: [NONE, own(true, false, false, false)],
      want: NONE,
    },
    {
      name: 'ClientIP only we own goes back to None',
      given: [CLIENT_IP(60), own(true, true, false, false)],
      want: NONE,
    },
    {
      name: 'ClientIP co-owned, timeout only ours: default timeout',
      given: [CLIENT_IP(60), own(true, true, true, false)],
      want: CLIENT_IP(10800),
    },
    {
      name: 'both co-owned: unchanged',
      given: [CLIENT_IP(60), own(true, true, true, true)],
      want: CLIENT_IP(60),
    },
    {
      name: 'we own nothing: unchanged',
      given: [CLIENT_IP(60), own(false, false, true, true)],
      want: CLIENT_IP(60),
    },
    {
      name: "type only ours, timeout the owner's: None (the owner's timeout is lost)",
      given: [CLIENT_IP(700), own(true, false, false, true)],
      want: NONE,
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(affinityAfterRelease(...deepFreeze(c.given)), c.want));
});
