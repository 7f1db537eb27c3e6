import { objectKey } from '../../api/core/meta.ts';
import type { Service } from '../../api/core/v1.ts';
import type { Condition } from '../../api/v1alpha1/condition.ts';
import { setCondition } from '../../api/v1alpha1/condition.ts';
import { SessionAffinityPolicyConditionType, SessionAffinityPolicyReason } from '../../api/v1alpha1/group-version.ts';
import {
  MAX_LISTED_SERVICES,
  type ServiceAffinityState,
  type ServiceAffinityStatus,
  type SessionAffinityPolicy,
  type SessionAffinityPolicyStatus,
} from '../../api/v1alpha1/session-affinity-policy.ts';
import { describeAffinity, policyAffinity, sameAffinity, serviceAffinity } from './affinity.ts';
import type { ApplyFailure } from './apply-failures.ts';
import { affinityWarnings } from './caveats.ts';
import { readRecord } from './record.ts';
import { affinityApplies, governingPolicy, policySelects } from './resolution.ts';

// A policy's status as a pure function of the caches: which Services it selects, what it did to each, the counts, the
// caveats and two conditions. Computed from the same resolution and record as the Service reconciler, so status and
// Services cannot disagree for long; the reconciler writes it only when it differs from what is stored.

/** Inputs of {@link desiredPolicyStatus}. */
export interface PolicyStatusInput {
  readonly policy: Readonly<SessionAffinityPolicy>;
  /** The policies of the policy's namespace, itself included. */
  readonly policies: readonly Readonly<SessionAffinityPolicy>[];
  /** The Services of the policy's namespace. */
  readonly services: readonly Readonly<Service>[];
  /** Apply failures by Service key. */
  readonly failures: { get(serviceKey: string): ApplyFailure | undefined };
  /** Clock reading (ms) for condition transition times. */
  readonly now: number;
}

// Which Services to list when more than MAX_LISTED_SERVICES match: the ones that need attention first.
const LISTING_ORDER: Readonly<Record<ServiceAffinityState, number>> = {
  Failed: 0,
  Pending: 1,
  Overridden: 2,
  OwnerSet: 3,
  Unsupported: 4,
  Applied: 5,
};

const MAX_MESSAGE = 1024;
const truncate = (s: string) => (s.length <= MAX_MESSAGE ? s : `${s.slice(0, MAX_MESSAGE - 3)}...`);
const MAX_NAMED_IN_CONDITION = 10;

/** What `policy` did to one Service it selects. Pure. */
export function serviceAffinityStatus(
  input: Omit<PolicyStatusInput, 'services' | 'now'>,
  service: Readonly<Service>,
): ServiceAffinityStatus {
  const name = service.metadata.name ?? '';
  const policyName = input.policy.metadata.name ?? '';
  if (!affinityApplies(service)) {
    return {
      name,
      state: 'Unsupported',
      message: 'ExternalName Services are not proxied: session affinity does not apply',
    };
  }
  const winner = governingPolicy(service, input.policies);
  const winnerName = winner?.metadata.name ?? '';
  if (winner !== undefined && winnerName !== policyName) {
    return {
      name,
      state: 'Overridden',
      governedBy: winnerName,
      message: `SessionAffinityPolicy ${winnerName} takes precedence`,
    };
  }
  const failure = input.failures.get(objectKey(service));
  if (failure !== undefined && failure.policy === policyName) return { name, state: 'Failed', message: truncate(failure.message) };
  const record = readRecord(service);
  const live = serviceAffinity(service);
  if (record.kind === 'ownerSet' && input.policy.spec.mode === 'Default') {
    return {
      name,
      state: 'OwnerSet',
      message: `The owner's sessionAffinity ${describeAffinity(live)} is kept (mode Default)`,
    };
  }
  const desired = policyAffinity(input.policy.spec);
  if (record.kind === 'held' && record.policy === policyName && sameAffinity(record.applied, desired) && sameAffinity(live, desired)) {
    return { name, state: 'Applied' };
  }
  return { name, state: 'Pending' };
}

function count(list: readonly ServiceAffinityStatus[], state: ServiceAffinityState): number {
  return list.filter((s) => s.state === state).length;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function readyCondition(
  policy: Readonly<SessionAffinityPolicy>,
  all: readonly ServiceAffinityStatus[],
): Omit<Condition, 'lastTransitionTime'> {
  const generation = policy.metadata.generation;
  const base = {
    type: SessionAffinityPolicyConditionType.Ready,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
  };
  const failed = all.filter((s) => s.state === 'Failed');
  const applied = count(all, 'Applied');
  const pending = count(all, 'Pending');
  if (failed.length > 0) {
    const first = failed[0];
    return {
      ...base,
      status: 'False',
      reason: SessionAffinityPolicyReason.ApplyFailed,
      message: `Failed to apply to ${plural(failed.length, 'Service')}; ${first?.name}: ${first?.message ?? ''}`,
    };
  }
  if (pending > 0) {
    return {
      ...base,
      status: 'False',
      reason: SessionAffinityPolicyReason.PartiallyApplied,
      message: `Applied to ${applied} of ${applied + pending} Services; waiting for ${pending}`,
    };
  }
  if (all.length === 0) {
    return {
      ...base,
      status: 'True',
      reason: SessionAffinityPolicyReason.NoMatchingServices,
      message: `No Service in namespace ${policy.metadata.namespace ?? ''} matches the selector`,
    };
  }
  const others = [
    [count(all, 'Overridden'), 'governed by other policies'],
    [count(all, 'OwnerSet'), "keep their owner's value"],
    [count(all, 'Unsupported'), 'cannot have affinity'],
  ] as const;
  const details = others.filter(([n]) => n > 0).map(([n, what]) => `; ${n} ${what}`);
  return {
    ...base,
    status: 'True',
    reason: SessionAffinityPolicyReason.Applied,
    message: `Applied to ${plural(applied, 'Service')}${details.join('')}`,
  };
}

function conflictCondition(
  policy: Readonly<SessionAffinityPolicy>,
  all: readonly ServiceAffinityStatus[],
): Omit<Condition, 'lastTransitionTime'> {
  const generation = policy.metadata.generation;
  const base = {
    type: SessionAffinityPolicyConditionType.Conflict,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
  };
  const overridden = all.filter((s) => s.state === 'Overridden');
  if (overridden.length === 0) {
    return {
      ...base,
      status: 'False',
      reason: SessionAffinityPolicyReason.NoConflict,
      message: 'No selected Service is governed by another policy',
    };
  }
  const named = overridden.slice(0, MAX_NAMED_IN_CONDITION).map((s) => `${s.name} (by ${s.governedBy ?? ''})`);
  const more = overridden.length > MAX_NAMED_IN_CONDITION ? ` and ${overridden.length - MAX_NAMED_IN_CONDITION} more` : '';
  return {
    ...base,
    status: 'True',
    reason: SessionAffinityPolicyReason.OverriddenByOtherPolicy,
    message: `${plural(overridden.length, 'selected Service')} governed by other policies: ${named.join(', ')}${more}`,
  };
}

/**
 * The status `input.policy` should have: observedGeneration, Ready and Conflict conditions (transition times kept
 * while a status holds), exact counts, at most {@link MAX_LISTED_SERVICES} Services by name (those needing attention
 * first), and the caveats of its affinity on the Services it governs. Empty lists are left out. Pure.
 */
export function desiredPolicyStatus(input: PolicyStatusInput): SessionAffinityPolicyStatus {
  const { policy } = input;
  const selected = input.services.filter((s) => policySelects(policy, s));
  const all = selected.map((s) => serviceAffinityStatus(input, s));
  const byName = (a: ServiceAffinityStatus, b: ServiceAffinityStatus) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const listed = [...all]
    .sort((a, b) => LISTING_ORDER[a.state] - LISTING_ORDER[b.state] || byName(a, b))
    .slice(0, MAX_LISTED_SERVICES)
    .sort(byName);
  const governed = selected.filter((_, i) => {
    const state = all[i]?.state;
    return state === 'Applied' || state === 'Pending' || state === 'Failed';
  });
  const warnings = affinityWarnings(policyAffinity(policy.spec), governed);

  let conditions = setCondition(policy.status?.conditions, readyCondition(policy, all), input.now);
  conditions = setCondition(conditions, conflictCondition(policy, all), input.now);
  const generation = policy.metadata.generation;
  return {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    conditions: [...conditions],
    matchedServices: all.length,
    appliedServices: count(all, 'Applied'),
    conflictingServices: count(all, 'Overridden'),
    ...(listed.length === 0 ? {} : { services: listed }),
    ...(warnings.length === 0 ? {} : { warnings: [...warnings] }),
  };
}
