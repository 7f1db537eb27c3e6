import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from '../../api/core/v1.ts';
import type { SessionAffinityPolicy } from '../../api/v1alpha1/session-affinity-policy.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import type { Affinity } from './affinity.ts';
import { type AffinityOwnership, affinityOwnership } from './ownership.ts';
import { FALLBACK_RESTORE_MANAGER, FIELD_MANAGER, planService, type ServicePlan, type ServiceWrite } from './plan.ts';
import { type AffinityRecord, ANNOTATION_SESSION_AFFINITY_POLICY, formatRecord } from './record.ts';
import { CLIENT_IP, managedField, NONE, NS, policy, service } from './test-fixtures.ts';

// The decision table of the Service reconciler: which writes, in which order, under which field manager, for every
// combination of governing policy, mode, record and ownership that matters.

const RV = '100';
const SVC = 'web';

function apply(opts: { record?: AffinityRecord; affinity?: Affinity; force?: boolean; rv?: boolean }): ServiceWrite {
  const spec =
    opts.affinity === undefined
      ? undefined
      : opts.affinity.sessionAffinity === 'None'
        ? { sessionAffinity: 'None' }
        : {
            sessionAffinity: 'ClientIP',
            sessionAffinityConfig: {
              clientIP: { timeoutSeconds: opts.affinity.timeoutSeconds },
            },
          };
  return {
    kind: 'apply',
    force: opts.force ?? false,
    body: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: SVC,
        namespace: NS,
        ...(opts.rv === false ? {} : { resourceVersion: RV }),
        ...(opts.record === undefined
          ? {}
          : {
              annotations: {
                [ANNOTATION_SESSION_AFFINITY_POLICY]: formatRecord(opts.record),
              },
            }),
      },
      ...(spec === undefined ? {} : { spec }),
    },
  };
}

function restore(target: Affinity, fieldManager: string, rv: boolean): ServiceWrite {
  const spec =
    target.sessionAffinity === 'None'
      ? { sessionAffinity: 'None', sessionAffinityConfig: null }
      : {
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: {
            clientIP: { timeoutSeconds: target.timeoutSeconds },
          },
        };
  return {
    kind: 'restore',
    fieldManager,
    body: { ...(rv ? { metadata: { resourceVersion: RV } } : {}), spec },
  };
}

const held = (over: Partial<Extract<AffinityRecord, { kind: 'held' }>> = {}): AffinityRecord => ({
  kind: 'held',
  policy: 'sticky',
  applied: CLIENT_IP(3600),
  previous: NONE,
  previousManager: 'kubectl-create',
  previousOwnerSet: false,
  ...over,
});

const ownership = (...entries: unknown[]): AffinityOwnership => affinityOwnership(entries, FIELD_MANAGER);
const ours = (a: boolean, c: boolean) => managedField(FIELD_MANAGER, 'Apply', { a, c });

const enforce = policy('sticky', { mode: 'Enforce' });
const byDefault = policy('sticky', { mode: 'Default' });

interface Want {
  readonly kind: ServicePlan['kind'];
  readonly writes?: readonly ServiceWrite[];
  readonly events?: readonly string[];
}

interface Case {
  readonly name: string;
  readonly given: {
    service: Service;
    policies: SessionAffinityPolicy[];
    ownership?: AffinityOwnership;
  };
  readonly want: Want;
}

function check(c: Case): void {
  const given = deepFreeze(c.given);
  const got = planService(given);
  assert.equal(got.kind, c.want.kind);
  if (got.kind !== 'write') return;
  assert.deepEqual(got.writes, c.want.writes);
  assert.deepEqual(
    got.events.map((e) => e.reason),
    c.want.events,
  );
}

describe('planService: nothing governs the Service', () => {
  const cases: Case[] = [
    {
      name: 'no record: nothing to do',
      given: { service: service(SVC), policies: [] },
      want: { kind: 'noop' },
    },
    {
      name: 'a policy that selects other labels does not govern',
      given: {
        service: service(SVC, { labels: { tier: 'backend' } }),
        policies: [enforce],
      },
      want: { kind: 'noop' },
    },
    {
      name: 'an unreadable record is left alone',
      given: { service: service(SVC, { record: '{"policy":' }), policies: [] },
      want: { kind: 'noop' },
    },
    {
      name: 'an ownerSet record is removed by an empty apply',
      given: {
        service: service(SVC, {
          record: { kind: 'ownerSet' },
          affinity: CLIENT_IP(600),
        }),
        policies: [],
      },
      want: { kind: 'write', writes: [apply({})], events: [] },
    },
    {
      name: 'a held record needs the live ownership before releasing',
      given: {
        service: service(SVC, { record: held(), affinity: CLIENT_IP(3600) }),
        policies: [],
      },
      want: { kind: 'inspect' },
    },
    {
      name: 'previous default None: releasing our fields alone restores it (one write)',
      given: {
        service: service(SVC, { record: held(), affinity: CLIENT_IP(3600) }),
        policies: [],
        ownership: ownership(managedField('kubectl-create', 'Update', {}), ours(true, true)),
      },
      want: {
        kind: 'write',
        writes: [apply({})],
        events: ['SessionAffinityRestored'],
      },
    },
    {
      name: 'previous ClientIP 600 by helm, policy set None: written back under helm, then released',
      given: {
        service: service(SVC, {
          record: held({
            applied: NONE,
            previous: CLIENT_IP(600),
            previousManager: 'helm',
            previousOwnerSet: true,
          }),
          affinity: NONE,
        }),
        policies: [],
        ownership: ownership(ours(true, false)),
      },
      want: {
        kind: 'write',
        writes: [restore(CLIENT_IP(600), 'helm', true), apply({ rv: false })],
        events: ['SessionAffinityRestored'],
      },
    },
    {
      name: 'previous ClientIP 600 co-owned by helm: only the timeout is written back, then released',
      given: {
        service: service(SVC, {
          record: held({
            previous: CLIENT_IP(600),
            previousManager: 'helm',
            previousOwnerSet: true,
          }),
          affinity: CLIENT_IP(3600),
        }),
        policies: [],
        ownership: ownership(managedField('helm', 'Update', { a: true }), ours(true, true)),
      },
      want: {
        kind: 'write',
        writes: [restore(CLIENT_IP(600), 'helm', true), apply({ rv: false })],
        events: ['SessionAffinityRestored'],
      },
    },
    {
      name: 'the owner changed the affinity to None meanwhile: kept, our fields released',
      given: {
        service: service(SVC, { record: held(), affinity: NONE }),
        policies: [],
        ownership: ownership(managedField('kubectl-edit', 'Update', { a: true })),
      },
      want: {
        kind: 'write',
        writes: [apply({})],
        events: ['SessionAffinityOwnerKept'],
      },
    },
    {
      name: 'the owner changed only the timeout: release recording a handback, write it back under the owner, drop the record',
      given: {
        service: service(SVC, { record: held(), affinity: CLIENT_IP(700) }),
        policies: [],
        ownership: ownership(ours(true, false), managedField('kubectl-edit', 'Update', { c: true })),
      },
      want: {
        kind: 'write',
        writes: [
          apply({
            record: {
              kind: 'handback',
              target: CLIENT_IP(700),
              manager: 'kubectl-edit',
            },
          }),
          restore(CLIENT_IP(700), 'kubectl-edit', false),
          apply({ rv: false }),
        ],
        events: ['SessionAffinityOwnerKept'],
      },
    },
    {
      name: 'the owner server-side applied our very value meanwhile: it is theirs now and stays',
      given: {
        service: service(SVC, { record: held(), affinity: CLIENT_IP(3600) }),
        policies: [],
        ownership: ownership(ours(true, true), managedField('owner', 'Apply', { a: true, c: true })),
      },
      want: {
        kind: 'write',
        writes: [apply({})],
        events: ['SessionAffinityOwnerKept'],
      },
    },
    {
      name: 'an ExternalName Service is never governed: a held record is released',
      given: {
        service: service(SVC, {
          record: held(),
          affinity: CLIENT_IP(3600),
          type: 'ExternalName',
        }),
        policies: [enforce],
        ownership: ownership(ours(true, true)),
      },
      want: {
        kind: 'write',
        writes: [apply({})],
        events: ['SessionAffinityRestored'],
      },
    },
    {
      name: 'a policy being deleted no longer governs',
      given: {
        service: service(SVC, { record: held(), affinity: CLIENT_IP(3600) }),
        policies: [policy('sticky', { mode: 'Enforce' }, { deletionTimestamp: '2026-02-01T00:00:00Z' })],
        ownership: ownership(ours(true, true)),
      },
      want: {
        kind: 'write',
        writes: [apply({})],
        events: ['SessionAffinityRestored'],
      },
    },
    {
      name: 'no previous manager known and a write needed: the fallback manager restores',
      given: {
        service: service(SVC, {
          record: held({
            applied: NONE,
            previous: CLIENT_IP(600),
            previousManager: undefined,
          }),
          affinity: NONE,
        }),
        policies: [],
        ownership: ownership(ours(true, false)),
      },
      want: {
        kind: 'write',
        writes: [restore(CLIENT_IP(600), FALLBACK_RESTORE_MANAGER, true), apply({ rv: false })],
        events: ['SessionAffinityRestored'],
      },
    },
  ];
  for (const c of cases) it(c.name, () => check(c));
});

describe('planService: handback in progress', () => {
  const handback: AffinityRecord = {
    kind: 'handback',
    target: CLIENT_IP(700),
    manager: 'kubectl-edit',
  };
  const cases: Case[] = [
    {
      name: 'value not back yet: written under the recorded manager, then the record dropped',
      given: {
        service: service(SVC, { record: handback, affinity: NONE }),
        policies: [enforce],
      },
      want: {
        kind: 'write',
        writes: [restore(CLIENT_IP(700), 'kubectl-edit', true), apply({ rv: false })],
        events: ['SessionAffinityRestored'],
      },
    },
    {
      name: 'value already back: only the record dropped',
      given: {
        service: service(SVC, { record: handback, affinity: CLIENT_IP(700) }),
        policies: [],
      },
      want: {
        kind: 'write',
        writes: [apply({})],
        events: ['SessionAffinityRestored'],
      },
    },
  ];
  for (const c of cases) it(c.name, () => check(c));
});

describe('planService: an Enforce policy governs', () => {
  const cases: Case[] = [
    {
      name: 'no record: needs the live ownership first',
      given: { service: service(SVC), policies: [enforce] },
      want: { kind: 'inspect' },
    },
    {
      name: 'takes over a defaulted None from its creator, with force, recording it',
      given: {
        service: service(SVC),
        policies: [enforce],
        ownership: ownership(managedField('kubectl-create', 'Update', { a: true })),
      },
      want: {
        kind: 'write',
        writes: [apply({ record: held(), affinity: CLIENT_IP(3600), force: true })],
        events: ['SessionAffinityApplied'],
      },
    },
    {
      name: "takes over the owner's ClientIP 600, remembering it was set by the owner",
      given: {
        service: service(SVC, { affinity: CLIENT_IP(600) }),
        policies: [enforce],
        ownership: ownership(managedField('helm', 'Update', { a: true, c: true })),
      },
      want: {
        kind: 'write',
        writes: [
          apply({
            record: held({
              previous: CLIENT_IP(600),
              previousManager: 'helm',
              previousOwnerSet: true,
            }),
            affinity: CLIENT_IP(3600),
            force: true,
          }),
        ],
        events: ['SessionAffinityApplied'],
      },
    },
    {
      name: 'takes over a Service a Default policy had left to its owner',
      given: {
        service: service(SVC, { record: { kind: 'ownerSet' } }),
        policies: [enforce],
        ownership: ownership(managedField('kubectl-edit', 'Update', { a: true })),
      },
      want: {
        kind: 'write',
        writes: [
          apply({
            record: held({
              previousManager: 'kubectl-edit',
              previousOwnerSet: true,
            }),
            affinity: CLIENT_IP(3600),
            force: true,
          }),
        ],
        events: ['SessionAffinityApplied'],
      },
    },
    {
      name: 'converged: no write and no read',
      given: {
        service: service(SVC, { record: held(), affinity: CLIENT_IP(3600) }),
        policies: [enforce],
      },
      want: { kind: 'noop' },
    },
    {
      name: 'the policy timeout changed: re-applied from the cache, previous kept',
      given: {
        service: service(SVC, { record: held(), affinity: CLIENT_IP(3600) }),
        policies: [policy('sticky', { mode: 'Enforce', timeoutSeconds: 60 })],
      },
      want: {
        kind: 'write',
        writes: [
          apply({
            record: held({ applied: CLIENT_IP(60) }),
            affinity: CLIENT_IP(60),
            force: true,
          }),
        ],
        events: ['SessionAffinityApplied'],
      },
    },
    {
      name: 'a higher-priority policy takes over: its affinity and name, previous kept',
      given: {
        service: service(SVC, { record: held(), affinity: CLIENT_IP(3600) }),
        policies: [
          enforce,
          policy('urgent', {
            mode: 'Enforce',
            priority: 5,
            sessionAffinity: 'None',
            timeoutSeconds: undefined,
          }),
        ],
      },
      want: {
        kind: 'write',
        writes: [
          apply({
            record: held({ policy: 'urgent', applied: NONE }),
            affinity: NONE,
            force: true,
          }),
        ],
        events: ['SessionAffinityApplied'],
      },
    },
    {
      name: 'the owner edited the value meanwhile: needs to know who',
      given: {
        service: service(SVC, { record: held(), affinity: NONE }),
        policies: [enforce],
      },
      want: { kind: 'inspect' },
    },
    {
      name: "the owner's edit becomes the value to restore, and the policy is enforced again",
      given: {
        service: service(SVC, { record: held(), affinity: NONE }),
        policies: [enforce],
        ownership: ownership(managedField('kubectl-edit', 'Update', { a: true })),
      },
      want: {
        kind: 'write',
        writes: [
          apply({
            record: held({
              previousManager: 'kubectl-edit',
              previousOwnerSet: true,
            }),
            affinity: CLIENT_IP(3600),
            force: true,
          }),
        ],
        events: ['SessionAffinityEnforced'],
      },
    },
  ];
  for (const c of cases) it(c.name, () => check(c));
});

describe('planService: a Default policy governs', () => {
  const cases: Case[] = [
    {
      name: 'ClientIP set by the owner: an ownerSet record only, no read',
      given: {
        service: service(SVC, { affinity: CLIENT_IP(600) }),
        policies: [byDefault],
      },
      want: {
        kind: 'write',
        writes: [apply({ record: { kind: 'ownerSet' } })],
        events: ['SessionAffinityOwnerSet'],
      },
    },
    {
      name: 'None declared in the client-side apply record: owner set',
      given: {
        service: service(SVC, {
          annotations: {
            'kubectl.kubernetes.io/last-applied-configuration': '{"spec":{"sessionAffinity":"None"}}',
          },
        }),
        policies: [byDefault],
      },
      want: {
        kind: 'write',
        writes: [apply({ record: { kind: 'ownerSet' } })],
        events: ['SessionAffinityOwnerSet'],
      },
    },
    {
      name: 'None: needs the live ownership',
      given: { service: service(SVC), policies: [byDefault] },
      want: { kind: 'inspect' },
    },
    {
      name: 'None declared by a server-side apply: owner set',
      given: {
        service: service(SVC),
        policies: [byDefault],
        ownership: ownership(managedField('argocd-controller', 'Apply', { a: true })),
      },
      want: {
        kind: 'write',
        writes: [apply({ record: { kind: 'ownerSet' } })],
        events: ['SessionAffinityOwnerSet'],
      },
    },
    {
      name: "None owned only through the creator's Update (defaulted): taken over with force",
      given: {
        service: service(SVC),
        policies: [byDefault],
        ownership: ownership(managedField('kubectl-create', 'Update', { a: true })),
      },
      want: {
        kind: 'write',
        writes: [apply({ record: held(), affinity: CLIENT_IP(3600), force: true })],
        events: ['SessionAffinityApplied'],
      },
    },
    {
      name: 'None owned by nobody (created by server-side apply without it): taken over without force',
      given: {
        service: service(SVC),
        policies: [byDefault],
        ownership: ownership(managedField('owner', 'Apply', {})),
      },
      want: {
        kind: 'write',
        writes: [
          apply({
            record: held({ previousManager: undefined }),
            affinity: CLIENT_IP(3600),
            force: false,
          }),
        ],
        events: ['SessionAffinityApplied'],
      },
    },
    {
      name: 'an ownerSet record: stays yielded, no read',
      given: {
        service: service(SVC, { record: { kind: 'ownerSet' }, affinity: NONE }),
        policies: [byDefault],
      },
      want: { kind: 'noop' },
    },
    {
      name: 'converged: no write and no read',
      given: {
        service: service(SVC, { record: held(), affinity: CLIENT_IP(3600) }),
        policies: [byDefault],
      },
      want: { kind: 'noop' },
    },
    {
      name: 'the owner edited the value to None: kept, our fields released, ownerSet recorded',
      given: {
        service: service(SVC, { record: held(), affinity: NONE }),
        policies: [byDefault],
        ownership: ownership(managedField('kubectl-edit', 'Update', { a: true })),
      },
      want: {
        kind: 'write',
        writes: [apply({ record: { kind: 'ownerSet' } })],
        events: ['SessionAffinityOwnerKept'],
      },
    },
    {
      name: 'the owner edited only the timeout: handed back without losing ClientIP',
      given: {
        service: service(SVC, { record: held(), affinity: CLIENT_IP(700) }),
        policies: [byDefault],
        ownership: ownership(ours(true, false), managedField('kubectl-edit', 'Update', { c: true })),
      },
      want: {
        kind: 'write',
        writes: [
          apply({
            record: {
              kind: 'handback',
              target: CLIENT_IP(700),
              manager: 'kubectl-edit',
            },
          }),
          restore(CLIENT_IP(700), 'kubectl-edit', false),
          apply({ record: { kind: 'ownerSet' }, rv: false }),
        ],
        events: ['SessionAffinityOwnerKept'],
      },
    },
    {
      name: "after a switch from Enforce, the owner's earlier value is given back",
      given: {
        service: service(SVC, {
          record: held({
            previous: CLIENT_IP(600),
            previousManager: 'helm',
            previousOwnerSet: true,
          }),
          affinity: CLIENT_IP(3600),
        }),
        policies: [byDefault],
        ownership: ownership(managedField('helm', 'Update', { a: true }), ours(true, true)),
      },
      want: {
        kind: 'write',
        writes: [restore(CLIENT_IP(600), 'helm', true), apply({ record: { kind: 'ownerSet' }, rv: false })],
        events: ['SessionAffinityRestored'],
      },
    },
    {
      name: 'the policy timeout changed: needs to know whether the owner declared our value',
      given: {
        service: service(SVC, { record: held(), affinity: CLIENT_IP(3600) }),
        policies: [policy('sticky', { timeoutSeconds: 60 })],
      },
      want: { kind: 'inspect' },
    },
    {
      name: 'the policy timeout changed and only we own the fields: re-applied without force',
      given: {
        service: service(SVC, { record: held(), affinity: CLIENT_IP(3600) }),
        policies: [policy('sticky', { timeoutSeconds: 60 })],
        ownership: ownership(ours(true, true)),
      },
      want: {
        kind: 'write',
        writes: [
          apply({
            record: held({ applied: CLIENT_IP(60) }),
            affinity: CLIENT_IP(60),
            force: false,
          }),
        ],
        events: ['SessionAffinityApplied'],
      },
    },
    {
      name: 'the policy changed but the owner has server-side applied our value: theirs now, kept',
      given: {
        service: service(SVC, { record: held(), affinity: CLIENT_IP(3600) }),
        policies: [policy('sticky', { timeoutSeconds: 60 })],
        ownership: ownership(ours(true, true), managedField('owner', 'Apply', { a: true, c: true })),
      },
      want: {
        kind: 'write',
        writes: [apply({ record: { kind: 'ownerSet' } })],
        events: ['SessionAffinityOwnerKept'],
      },
    },
  ];
  for (const c of cases) it(c.name, () => check(c));
});

describe('planService: never asks to inspect twice', () => {
  it('returns a write or noop for every record state once ownership is given', () => {
    const records: (AffinityRecord | string | undefined)[] = [
      undefined,
      '{bad',
      { kind: 'ownerSet' },
      held(),
      { kind: 'handback', target: NONE },
    ];
    const affinities = [NONE, CLIENT_IP(3600), CLIENT_IP(600)];
    for (const pol of [[], [enforce], [byDefault]]) {
      for (const record of records) {
        for (const affinity of affinities) {
          const given = deepFreeze({
            service: service(SVC, {
              ...(record === undefined ? {} : { record }),
              affinity,
            }),
            policies: pol,
            ownership: ownership(ours(true, true)),
          });
          assert.notEqual(planService(given).kind, 'inspect', JSON.stringify({ record, affinity, policies: pol.length }));
        }
      }
    }
  });
});

describe('planService: event messages', () => {
  it('names the owner, the policy and both values when enforcing over an edit', () => {
    const got = planService(
      deepFreeze({
        service: service(SVC, { record: held(), affinity: NONE }),
        policies: [enforce],
        ownership: ownership(managedField('kubectl-edit', 'Update', { a: true })),
      }),
    );
    assert.equal(got.kind, 'write');
    assert.deepEqual(got.kind === 'write' ? got.events : [], [
      {
        type: 'Warning',
        reason: 'SessionAffinityEnforced',
        message:
          "Overwrote sessionAffinity None set by kubectl-edit: SessionAffinityPolicy sticky enforces ClientIP (timeout 3600s); the owner's value returns when the policy stops applying",
      },
    ]);
  });
});
