import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from '../../api/core/v1.ts';
import type { SessionAffinityPolicy, SessionAffinityPolicyStatus } from '../../api/v1alpha1/session-affinity-policy.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import type { ApplyFailure } from './apply-failures.ts';
import type { AffinityRecord } from './record.ts';
import { desiredPolicyStatus } from './status.ts';
import { CLIENT_IP, NONE, policy, service } from './test-fixtures.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const NOW_TEXT = '2026-03-01T12:00:00Z';
const held = (p: string, applied = CLIENT_IP(3600)): AffinityRecord => ({
  kind: 'held',
  policy: p,
  applied,
  previous: NONE,
  previousOwnerSet: false,
});
const appliedBy = (name: string, p = 'sticky', extra: Parameters<typeof service>[1] = {}) =>
  service(name, { record: held(p), affinity: CLIENT_IP(3600), ...extra });

function status(given: {
  policy: SessionAffinityPolicy;
  policies?: SessionAffinityPolicy[];
  services: Service[];
  failures?: Record<string, ApplyFailure>;
}): SessionAffinityPolicyStatus {
  const frozen = deepFreeze(given);
  return desiredPolicyStatus({
    policy: frozen.policy,
    policies: frozen.policies ?? [frozen.policy],
    services: frozen.services,
    failures: { get: (k) => frozen.failures?.[k] },
    now: NOW,
  });
}

const ready = (status: 'True' | 'False', reason: string, message: string, generation = 1) => ({
  type: 'Ready',
  status,
  observedGeneration: generation,
  lastTransitionTime: NOW_TEXT,
  reason,
  message,
});
const noConflict = (generation = 1) => ({
  type: 'Conflict',
  status: 'False',
  observedGeneration: generation,
  lastTransitionTime: NOW_TEXT,
  reason: 'NoConflict',
  message: 'No selected Service is governed by another policy',
});

describe('desiredPolicyStatus', () => {
  const sticky = policy('sticky', { mode: 'Enforce' }, { generation: 3 });

  it('nothing selected: Ready with NoMatchingServices, zero counts, no lists', () => {
    assert.deepEqual(
      status({
        policy: sticky,
        services: [service('api', { labels: { tier: 'backend' } })],
      }),
      {
        observedGeneration: 3,
        conditions: [ready('True', 'NoMatchingServices', 'No Service in namespace shop matches the selector', 3), noConflict(3)],
        matchedServices: 0,
        appliedServices: 0,
        conflictingServices: 0,
      },
    );
  });

  it('every state, with counts, names, governing policy and conditions', () => {
    const urgent = policy('urgent', {
      priority: 5,
      serviceSelector: { matchLabels: { urgent: 'yes' } },
    });
    const got = status({
      policy: sticky,
      policies: [sticky, urgent],
      services: [
        appliedBy('web'),
        service('cart', { labels: { tier: 'frontend', urgent: 'yes' } }),
        service('db', { type: 'ExternalName' }),
        service('new'),
        appliedBy('broken'),
      ],
      failures: {
        'shop/broken': {
          policy: 'sticky',
          message: 'admission webhook denied',
        },
      },
    });
    assert.deepEqual(got.services, [
      { name: 'broken', state: 'Failed', message: 'admission webhook denied' },
      {
        name: 'cart',
        state: 'Overridden',
        governedBy: 'urgent',
        message: 'SessionAffinityPolicy urgent takes precedence',
      },
      {
        name: 'db',
        state: 'Unsupported',
        message: 'ExternalName Services are not proxied: session affinity does not apply',
      },
      { name: 'new', state: 'Pending' },
      { name: 'web', state: 'Applied' },
    ]);
    assert.deepEqual([got.matchedServices, got.appliedServices, got.conflictingServices], [5, 1, 1]);
    assert.deepEqual(got.conditions, [
      ready('False', 'ApplyFailed', 'Failed to apply to 1 Service; broken: admission webhook denied', 3),
      {
        type: 'Conflict',
        status: 'True',
        observedGeneration: 3,
        lastTransitionTime: NOW_TEXT,
        reason: 'OverriddenByOtherPolicy',
        message: '1 selected Service governed by other policies: cart (by urgent)',
      },
    ]);
  });

  it('a failure recorded for another policy does not count against this one', () => {
    const got = status({
      policy: sticky,
      services: [appliedBy('web')],
      failures: { 'shop/web': { policy: 'old', message: 'x' } },
    });
    assert.deepEqual(got.services, [{ name: 'web', state: 'Applied' }]);
  });

  it('pending Services make Ready False with PartiallyApplied', () => {
    const got = status({
      policy: sticky,
      services: [appliedBy('web'), service('new')],
    });
    assert.deepEqual(got.conditions?.[0], ready('False', 'PartiallyApplied', 'Applied to 1 of 2 Services; waiting for 1', 3));
  });

  it('a record of this policy with an older affinity is Pending, not Applied', () => {
    const got = status({
      policy: policy('sticky', { timeoutSeconds: 60 }),
      services: [appliedBy('web')],
    });
    assert.deepEqual(got.services, [{ name: 'web', state: 'Pending' }]);
  });

  it('Default mode: an ownerSet record is OwnerSet and Ready stays True', () => {
    const got = status({
      policy: policy('sticky'),
      services: [
        service('own', {
          record: { kind: 'ownerSet' },
          affinity: CLIENT_IP(600),
        }),
        appliedBy('web'),
      ],
    });
    assert.deepEqual(got.services, [
      {
        name: 'own',
        state: 'OwnerSet',
        message: "The owner's sessionAffinity ClientIP (timeout 600s) is kept (mode Default)",
      },
      { name: 'web', state: 'Applied' },
    ]);
    assert.deepEqual(got.conditions?.[0], ready('True', 'Applied', "Applied to 1 Service; 1 keep their owner's value"));
  });

  it('warns about caveats only for the Services it governs', () => {
    const got = status({
      policy: sticky,
      policies: [
        sticky,
        policy('urgent', {
          priority: 5,
          serviceSelector: { matchLabels: { urgent: 'yes' } },
        }),
      ],
      services: [
        appliedBy('web', 'sticky', { ports: 2 }),
        service('cart', {
          labels: { tier: 'frontend', urgent: 'yes' },
          ports: 2,
        }),
      ],
    });
    assert.deepEqual(got.warnings, [
      'Service web has several ports: ClientIP affinity is kept per port under iptables, nftables and Cilium (a client can reach different backends on different ports) but per Service under IPVS',
    ]);
  });

  it('lists at most 50 Services, those needing attention first, by name; counts stay exact', () => {
    const services = [...Array.from({ length: 55 }, (_, i) => appliedBy(`a${String(i).padStart(2, '0')}`)), service('zz-pending')];
    const got = status({ policy: sticky, services });
    assert.equal(got.services?.length, 50);
    assert.equal(got.services?.at(-1)?.name, 'zz-pending');
    assert.equal(got.services?.[0]?.name, 'a00');
    assert.deepEqual([got.matchedServices, got.appliedServices], [56, 55]);
  });

  it('keeps transition times while a condition keeps its status, so a recomputed status equals the stored one', () => {
    const first = status({ policy: sticky, services: [appliedBy('web')] });
    const stored = { ...sticky, status: first };
    const later = desiredPolicyStatus({
      policy: deepFreeze(stored),
      policies: [stored],
      services: deepFreeze([appliedBy('web')]),
      failures: { get: () => undefined },
      now: NOW + 3_600_000,
    });
    assert.deepEqual(later, first);
  });

  it('moves a transition time when the status flips', () => {
    const first = status({ policy: sticky, services: [appliedBy('web')] });
    const stored = deepFreeze({ ...sticky, status: first });
    const later = desiredPolicyStatus({
      policy: stored,
      policies: [stored],
      services: deepFreeze([service('web')]),
      failures: { get: () => undefined },
      now: NOW + 3_600_000,
    });
    assert.equal(later.conditions?.[0]?.lastTransitionTime, '2026-03-01T13:00:00Z');
    assert.equal(later.conditions?.[1]?.lastTransitionTime, NOW_TEXT);
  });
});
