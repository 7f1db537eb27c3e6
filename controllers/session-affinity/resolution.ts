import type { Service } from '../../api/core/v1.ts';
import { labelSelectorMatches } from '../../api/v1alpha1/label-selector.ts';
import type { SessionAffinityPolicy } from '../../api/v1alpha1/session-affinity-policy.ts';

// Which policy governs a Service. Deterministic whatever the order policies arrive in (F8: never a silent tie): the
// highest priority wins, then the oldest policy, then the lowest name. Names are unique in a namespace, so the order
// is total.

/** True when session affinity means something for the Service: every type but ExternalName (a DNS CNAME, no proxying). */
export function affinityApplies(service: Readonly<Service>): boolean {
  return service.spec.type !== 'ExternalName';
}

function creationMs(policy: Readonly<SessionAffinityPolicy>): number {
  const t = Date.parse(policy.metadata.creationTimestamp ?? '');
  // A policy without a timestamp (only in hand-made fixtures) sorts as the newest.
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}

/** Precedence order: negative when `a` wins over `b`. Priority descending, creationTimestamp ascending, name ascending. */
export function comparePolicyPrecedence(a: Readonly<SessionAffinityPolicy>, b: Readonly<SessionAffinityPolicy>): number {
  if (a.spec.priority !== b.spec.priority) return b.spec.priority - a.spec.priority;
  const ta = creationMs(a);
  const tb = creationMs(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const na = a.metadata.name ?? '';
  const nb = b.metadata.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** True when the policy selects the Service: same namespace, selector matches, and the policy is not being deleted. */
export function policySelects(policy: Readonly<SessionAffinityPolicy>, service: Readonly<Service>): boolean {
  return (
    policy.metadata.deletionTimestamp === undefined &&
    (policy.metadata.namespace ?? '') === (service.metadata.namespace ?? '') &&
    labelSelectorMatches(policy.spec.serviceSelector, service.metadata.labels)
  );
}

/** The policies that select the Service, in precedence order (the first one governs). Pure; never mutates `policies`. */
export function selectingPolicies(
  service: Readonly<Service>,
  policies: readonly Readonly<SessionAffinityPolicy>[],
): readonly Readonly<SessionAffinityPolicy>[] {
  return policies.filter((p) => policySelects(p, service)).sort(comparePolicyPrecedence);
}

/**
 * The policy that governs the Service's affinity: the first selecting policy in precedence order, or undefined when
 * none selects it or affinity does not apply to it (ExternalName).
 */
export function governingPolicy(
  service: Readonly<Service>,
  policies: readonly Readonly<SessionAffinityPolicy>[],
): Readonly<SessionAffinityPolicy> | undefined {
  if (!affinityApplies(service)) return undefined;
  return selectingPolicies(service, policies)[0];
}
