import type { Service } from '../../../../api/core/v1.ts';
import type { SessionAffinityPolicy } from '../../../../api/v1alpha1/session-affinity-policy.ts';
import { describeAffinity, policyAffinity, serviceAffinity } from '../../../../controllers/session-affinity/affinity.ts';
import { affinityWarnings } from '../../../../controllers/session-affinity/caveats.ts';
import { readRecord } from '../../../../controllers/session-affinity/record.ts';
import { affinityApplies, governingPolicy, selectingPolicies } from '../../../../controllers/session-affinity/resolution.ts';
import type { Lookup } from './snapshot.ts';

// Which SessionAffinityPolicy governs a Service, decided by the session-affinity controller's own resolution (priority,
// then age, then name), next to what that controller recorded on the Service and reported in the policy's status.

/** A policy as the report names it. */
export interface PolicyRef {
  readonly name: string;
  readonly mode: string;
  readonly priority: number;
  /** `None` or `ClientIP (timeout Ns)`. */
  readonly affinity: string;
}

/** What the Service's record annotation says (written by the controller, see controllers/session-affinity/record.ts). */
export type RecordSummary =
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid' }
  | { readonly kind: 'held'; readonly policy: string; readonly applied: string; readonly previous: string }
  | { readonly kind: 'ownerSet' }
  | { readonly kind: 'handback'; readonly target: string };

/** The session affinity part of a report. */
export interface AffinityReport {
  /** False when the policies could not be read (CRD not installed, forbidden); `reason` says which. */
  readonly available: boolean;
  readonly reason?: string;
  /** The Service's affinity as stored. */
  readonly current: string;
  /** False for ExternalName Services, where affinity means nothing. */
  readonly applies: boolean;
  readonly governedBy?: PolicyRef;
  /** The governing policy's status entry for this Service (Applied, OwnerSet, Pending, ...), when it has one. */
  readonly state?: string;
  readonly message?: string;
  /** Other policies that select the Service but lose to the governing one. */
  readonly overridden: readonly PolicyRef[];
  readonly record: RecordSummary;
  /** Caveats of the governing policy's affinity on this Service (data planes, load balancers). */
  readonly caveats: readonly string[];
}

function ref(p: Readonly<SessionAffinityPolicy>): PolicyRef {
  return { name: p.metadata.name ?? '', mode: p.spec.mode, priority: p.spec.priority, affinity: describeAffinity(policyAffinity(p.spec)) };
}

function recordSummary(service: Readonly<Service>): RecordSummary {
  const r = readRecord(service);
  switch (r.kind) {
    case 'none':
    case 'invalid':
    case 'ownerSet':
      return { kind: r.kind };
    case 'held':
      return { kind: 'held', policy: r.policy, applied: describeAffinity(r.applied), previous: describeAffinity(r.previous) };
    case 'handback':
      return { kind: 'handback', target: describeAffinity(r.target) };
    default: {
      const exhaustive: never = r;
      return exhaustive;
    }
  }
}

/** The governance of `service`'s affinity. Pure. */
export function affinityGovernance(
  service: Readonly<Service>,
  policies: Lookup<readonly Readonly<SessionAffinityPolicy>[]>,
): AffinityReport {
  const base = { current: describeAffinity(serviceAffinity(service)), applies: affinityApplies(service), record: recordSummary(service) };
  if (policies.kind === 'unavailable') return { ...base, available: false, reason: policies.reason, overridden: [], caveats: [] };
  const governing = governingPolicy(service, policies.value);
  const overridden = selectingPolicies(service, policies.value).filter((p) => p !== governing);
  if (governing === undefined) return { ...base, available: true, overridden: base.applies ? overridden.map(ref) : [], caveats: [] };
  const entry = governing.status?.services?.find((s) => s.name === service.metadata.name);
  return {
    ...base,
    available: true,
    governedBy: ref(governing),
    ...(entry ? { state: entry.state, ...(entry.message ? { message: entry.message } : {}) } : {}),
    overridden: overridden.map(ref),
    caveats: affinityWarnings(policyAffinity(governing.spec), [service]),
  };
}
