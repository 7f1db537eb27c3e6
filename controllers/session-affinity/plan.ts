import type { Service } from '../../api/core/v1.ts';
import type { SessionAffinityPolicy } from '../../api/v1alpha1/session-affinity-policy.ts';
import {
  type Affinity,
  affinityApplySpec,
  affinityMergePatchSpec,
  describeAffinity,
  policyAffinity,
  sameAffinity,
  serviceAffinity,
} from './affinity.ts';
import { type AffinityOwnership, affinityAfterRelease, ownerSetByOwnership, ownerSetByService, restoreManager } from './ownership.ts';
import { type AffinityRecord, ANNOTATION_SESSION_AFFINITY_POLICY, formatRecord, type RecordState, readRecord } from './record.ts';
import { governingPolicy } from './resolution.ts';

// What one Service reconcile must write, as a pure function of the Service, the namespace's policies and (when a
// decision depends on it) the live ownership of the affinity fields. Semantics, in short (README has the long form):
//
// Governing. The first selecting policy in precedence order governs (resolution.ts). Enforce: its affinity is applied
// with force, whoever owned the fields. Default: applied only where the owner set nothing; "set" means the Service is
// ClientIP, or kubectl's client-side apply record lists sessionAffinity, or another manager owns
// `spec.sessionAffinity` through an Apply operation. A None owned only through Update operations counts as unset (the
// API server gives every creator ownership of defaulted fields), and Default then applies with force to take it over.
// A Default policy that finds the owner's value writes only an `ownerSet` record, so a later owner edit to None is not
// mistaken for "unset" and taken over.
//
// Remembering. Before the first takeover the Service's affinity, the field manager that owned it and whether the owner
// set it are recorded (record.ts) in the same apply that takes the fields; policy changes keep that record.
//
// Owner edits. Only this controller writes the recorded `applied` value, so a live value that differs from it was
// changed by someone else. Under Enforce the edit becomes the new `previous` (the owner's latest intent comes back
// later) and the policy is re-applied. Under Default, and when no policy governs any more, the edit is kept.
//
// Restoring. Releasing means applying a configuration without the affinity fields: fields only we own are removed and
// defaulting refills them. When that would not leave the value to restore, the value is first written back with a
// merge patch under the recorded previous manager (an Update operation owns the fields it changes, so that manager
// owns them again, as before the policy), then the fields are released. When even that cannot work (the owner changed
// only the timeout and we alone own sessionAffinity: releasing would reset it), the record is first turned into a
// `handback`, the fields are released, the value is written back, and the record removed; a crash in between resumes.
//
// Every plan's first write carries the resourceVersion the decision was made on, so a decision made on a stale cache
// or before a concurrent edit fails with a conflict and is retried instead of overwriting what it did not see.

/** The field manager of every apply this controller makes (policy affinity and the record annotation). */
export const FIELD_MANAGER = 'session-affinity-policy.kube-endpoints-operator.io';
/** Manager for a restore when no previous owner is known (only when the previous value had no owner). */
export const FALLBACK_RESTORE_MANAGER = 'session-affinity-policy-restore.kube-endpoints-operator.io';

/** Reasons of the Events recorded on Services (transitions only). */
export const ServiceEventReason = {
  /** A policy's affinity was applied (taken over or changed). */
  Applied: 'SessionAffinityApplied',
  /** An Enforce policy overwrote a value the owner had changed meanwhile (Warning). */
  Enforced: 'SessionAffinityEnforced',
  /** The affinity from before the policy was written back, and the policy's fields released. */
  Restored: 'SessionAffinityRestored',
  /** The owner's own change was kept and the policy's fields released. */
  OwnerKept: 'SessionAffinityOwnerKept',
  /** A Default policy found the owner's value and leaves it. */
  OwnerSet: 'SessionAffinityOwnerSet',
} as const;
export type ServiceEventReason = (typeof ServiceEventReason)[keyof typeof ServiceEventReason];

/** A server-side apply configuration of a Service: only name, namespace, our annotation and the affinity fields. */
export interface ServiceApplyConfiguration {
  readonly apiVersion: 'v1';
  readonly kind: 'Service';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly resourceVersion?: string;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec?: Readonly<Record<string, unknown>>;
}

/** A JSON merge patch of the affinity fields (restores), optionally with a resourceVersion precondition. */
export interface ServiceMergePatch {
  readonly metadata?: { readonly resourceVersion: string };
  readonly spec: Readonly<Record<string, unknown>>;
}

/** One write, in plan order. `apply`: server-side apply as {@link FIELD_MANAGER}. `restore`: merge patch as `fieldManager`. */
export type ServiceWrite =
  | {
      readonly kind: 'apply';
      readonly body: ServiceApplyConfiguration;
      readonly force: boolean;
    }
  | {
      readonly kind: 'restore';
      readonly fieldManager: string;
      readonly body: ServiceMergePatch;
    };

/** An Event to record on the Service once every write of the plan succeeded. */
export interface ServiceEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: ServiceEventReason;
  readonly message: string;
}

/**
 * - `noop`: converged (or nothing this controller may do); no API call.
 * - `inspect`: the decision needs the live managedFields; GET the Service and plan again with `ownership`.
 * - `write`: the writes in order, the Events to record after them, and a constant log message.
 */
export type ServicePlan =
  | { readonly kind: 'noop' }
  | { readonly kind: 'inspect' }
  | {
      readonly kind: 'write';
      readonly writes: readonly ServiceWrite[];
      readonly events: readonly ServiceEvent[];
      readonly log: string;
      /** The policy this plan applies or releases, for logs. */
      readonly policy?: string;
    };

/** Inputs of {@link planService}. */
export interface ServicePlanInput {
  readonly service: Readonly<Service>;
  /** The policies of the Service's namespace (others are ignored). */
  readonly policies: readonly Readonly<SessionAffinityPolicy>[];
  /** Ownership read from the live object; leave undefined when not inspected (a plan that needs it says `inspect`). */
  readonly ownership?: AffinityOwnership | undefined;
}

const NOOP: ServicePlan = Object.freeze({ kind: 'noop' });
const INSPECT: ServicePlan = Object.freeze({ kind: 'inspect' });

interface Ctx {
  readonly service: Readonly<Service>;
  readonly live: Affinity;
  readonly ownership: AffinityOwnership | undefined;
}

type HeldRecord = Extract<AffinityRecord, { kind: 'held' }>;

/**
 * The plan for one Service. Pure; never returns `inspect` when `ownership` is given. The first write carries the
 * Service's resourceVersion as a precondition.
 */
export function planService(input: ServicePlanInput): ServicePlan {
  const ctx: Ctx = {
    service: input.service,
    live: serviceAffinity(input.service),
    ownership: input.ownership,
  };
  const record = readRecord(input.service);
  if (record.kind === 'handback') return finishHandback(ctx, record);
  const winner = governingPolicy(input.service, input.policies);
  if (winner === undefined) return planUngoverned(ctx, record);
  return winner.spec.mode === 'Enforce' ? planEnforce(ctx, record, winner) : planDefault(ctx, record, winner);
}

function planUngoverned(ctx: Ctx, record: RecordState): ServicePlan {
  switch (record.kind) {
    case 'none':
      return NOOP;
    case 'invalid':
      // Nobody governs and we cannot restore from it; removing an annotation someone else now owns would be a write on
      // every reconcile. Left alone (the reconciler logs it).
      return NOOP;
    case 'ownerSet':
      return write(ctx, [applyWrite(ctx, undefined, undefined, false)], [], 'Released session affinity record');
    case 'held':
      return planRelease(ctx, record, undefined, `SessionAffinityPolicy ${record.policy} no longer applies`);
    case 'handback':
      return finishHandback(ctx, record);
    default: {
      const unreachable: never = record;
      return unreachable;
    }
  }
}

function planEnforce(ctx: Ctx, record: RecordState, winner: Readonly<SessionAffinityPolicy>): ServicePlan {
  const name = winner.metadata.name ?? '';
  const desired = policyAffinity(winner.spec);
  const applied = appliedEvent(name, desired, 'Enforce');
  if (record.kind === 'held') {
    if (!sameAffinity(ctx.live, record.applied)) {
      if (ctx.ownership === undefined) return INSPECT;
      const editor = restoreManager(ctx.ownership);
      const next: AffinityRecord = {
        kind: 'held',
        policy: name,
        applied: desired,
        previous: ctx.live,
        ...optionalManager(editor ?? record.previousManager),
        previousOwnerSet: true,
      };
      const event: ServiceEvent = {
        type: 'Warning',
        reason: ServiceEventReason.Enforced,
        message: `Overwrote sessionAffinity ${describeAffinity(ctx.live)} set by ${editor ?? 'another field manager'}: SessionAffinityPolicy ${name} enforces ${describeAffinity(desired)}; the owner's value returns when the policy stops applying`,
      };
      return write(ctx, [applyWrite(ctx, next, desired, true)], [event], 'Enforced session affinity over owner change', name);
    }
    if (sameAffinity(record.applied, desired) && record.policy === name) return NOOP;
    const next: AffinityRecord = { ...record, policy: name, applied: desired };
    return write(ctx, [applyWrite(ctx, next, desired, true)], [applied], 'Applied session affinity', name);
  }
  // No record, an ownerSet record (a Default policy yielded before) or an unreadable one: take over.
  if (ctx.ownership === undefined) return INSPECT;
  const next: AffinityRecord = {
    kind: 'held',
    policy: name,
    applied: desired,
    previous: ctx.live,
    ...optionalManager(restoreManager(ctx.ownership)),
    previousOwnerSet: record.kind === 'ownerSet' || ownerSetByService(ctx.service) === true || ownerSetByOwnership(ctx.ownership),
  };
  return write(ctx, [applyWrite(ctx, next, desired, true)], [applied], 'Applied session affinity', name);
}

function planDefault(ctx: Ctx, record: RecordState, winner: Readonly<SessionAffinityPolicy>): ServicePlan {
  const name = winner.metadata.name ?? '';
  const desired = policyAffinity(winner.spec);
  const yieldWhy = `SessionAffinityPolicy ${name} is in Default mode and leaves the owner's value`;
  switch (record.kind) {
    case 'ownerSet':
      return NOOP;
    case 'held': {
      if (!sameAffinity(ctx.live, record.applied) || record.previousOwnerSet) {
        return planRelease(ctx, record, { kind: 'ownerSet' }, yieldWhy);
      }
      if (sameAffinity(record.applied, desired) && record.policy === name) return NOOP;
      if (ctx.ownership === undefined) return INSPECT;
      // The owner declared (server-side applied) the very value we hold: that is their setting now, keep it.
      if (ownerSetByOwnership(ctx.ownership)) return planRelease(ctx, record, { kind: 'ownerSet' }, yieldWhy);
      const next: AffinityRecord = {
        ...record,
        policy: name,
        applied: desired,
      };
      const force = hasOtherOwners(ctx.ownership);
      return write(
        ctx,
        [applyWrite(ctx, next, desired, force)],
        [appliedEvent(name, desired, 'Default')],
        'Applied session affinity',
        name,
      );
    }
    case 'none':
    case 'invalid': {
      const ownerSet = ownerSetByService(ctx.service) === true || (ctx.ownership !== undefined && ownerSetByOwnership(ctx.ownership));
      if (ownerSet) {
        const event: ServiceEvent = {
          type: 'Normal',
          reason: ServiceEventReason.OwnerSet,
          message: `Left sessionAffinity ${describeAffinity(ctx.live)} as set by the Service's owner: ${yieldWhy}`,
        };
        return write(ctx, [applyWrite(ctx, { kind: 'ownerSet' }, undefined, false)], [event], 'Recorded owner-set session affinity', name);
      }
      if (ctx.ownership === undefined) return INSPECT;
      const next: AffinityRecord = {
        kind: 'held',
        policy: name,
        applied: desired,
        previous: ctx.live,
        ...optionalManager(restoreManager(ctx.ownership)),
        previousOwnerSet: false,
      };
      // Other owners here hold only a defaulted None (Update operations): forcing takes what nobody chose.
      const force = hasOtherOwners(ctx.ownership);
      return write(
        ctx,
        [applyWrite(ctx, next, desired, force)],
        [appliedEvent(name, desired, 'Default')],
        'Applied session affinity',
        name,
      );
    }
    case 'handback':
      return finishHandback(ctx, record);
    default: {
      const unreachable: never = record;
      return unreachable;
    }
  }
}

/**
 * Gives the Service back its own affinity and drops our fields, ending with `final` as the record (none, or ownerSet
 * when a Default policy keeps yielding). The value given back is the owner's: the live value when the owner changed
 * it or declared it by server-side apply meanwhile, else the recorded previous value.
 */
function planRelease(ctx: Ctx, record: HeldRecord, final: AffinityRecord | undefined, why: string): ServicePlan {
  const o = ctx.ownership;
  if (o === undefined) return INSPECT;
  // An Apply-operation co-owner of sessionAffinity declared the live value itself (a Default policy never takes a
  // value declared that way, and Enforce took it only when equal to the previous one), so it stays.
  const edited = !sameAffinity(ctx.live, record.applied) || ownerSetByOwnership(o);
  const target = edited ? ctx.live : record.previous;
  const manager = (edited ? restoreManager(o) : record.previousManager) ?? restoreManager(o) ?? FALLBACK_RESTORE_MANAGER;
  const event: ServiceEvent = edited
    ? {
        type: 'Normal',
        reason: ServiceEventReason.OwnerKept,
        message: `Kept sessionAffinity ${describeAffinity(target)} set by ${restoreManager(o) ?? 'the owner'} and released SessionAffinityPolicy ${record.policy}'s fields: ${why}`,
      }
    : {
        type: 'Normal',
        reason: ServiceEventReason.Restored,
        message: `Restored sessionAffinity ${describeAffinity(target)}: ${why}`,
      };
  const owned = {
    oursA: o.ours.sessionAffinity,
    oursC: o.ours.timeoutSeconds,
    othersA: o.sessionAffinity.length > 0,
    othersC: o.timeoutSeconds.length > 0,
  };
  const log = edited ? 'Released session affinity keeping owner change' : 'Restored session affinity';

  // Releasing alone gives the target back (typically: the previous value was the default None).
  const afterRelease = affinityAfterRelease(ctx.live, owned);
  if (sameAffinity(afterRelease, target)) return write(ctx, [applyWrite(ctx, final, undefined, false)], [event], log, record.policy);
  // Restore first, then release: no moment without the value, when the restore leaves nothing only we own that the
  // release would reset.
  if (sameAffinity(affinityAfterRelease(target, restoredOwnership(ctx.live, target, owned)), target)) {
    const writes = [restoreWrite(target, manager), applyWrite(ctx, final, undefined, false)];
    return write(ctx, writes, [event], log, record.policy);
  }
  // Release first (recording the value to write back), then restore, then drop the handback record.
  const writes = [
    applyWrite(ctx, { kind: 'handback', target, manager }, undefined, false),
    restoreWrite(target, manager),
    applyWrite(ctx, final, undefined, false),
  ];
  return write(ctx, writes, [event], log, record.policy);
}

/** Ownership after a merge patch from `live` to `target`: the patching manager owns each field whose value changed. */
function restoredOwnership(
  live: Affinity,
  target: Affinity,
  owned: { oursA: boolean; oursC: boolean; othersA: boolean; othersC: boolean },
): { oursA: boolean; oursC: boolean; othersA: boolean; othersC: boolean } {
  if (sameAffinity(live, target)) return owned;
  const next = { ...owned };
  if (live.sessionAffinity !== target.sessionAffinity) {
    next.oursA = false;
    next.othersA = true;
  }
  if (target.sessionAffinity === 'ClientIP' && (live.sessionAffinity !== 'ClientIP' || live.timeoutSeconds !== target.timeoutSeconds)) {
    next.oursC = false;
    next.othersC = true;
  }
  return next;
}

/** Completes a handback: writes the target back under its manager if it is not live yet, then removes the record. */
function finishHandback(ctx: Ctx, record: Extract<AffinityRecord, { kind: 'handback' }>): ServicePlan {
  const writes: ServiceWrite[] = [];
  if (!sameAffinity(ctx.live, record.target)) writes.push(restoreWrite(record.target, record.manager ?? FALLBACK_RESTORE_MANAGER));
  writes.push(applyWrite(ctx, undefined, undefined, false));
  const event: ServiceEvent = {
    type: 'Normal',
    reason: ServiceEventReason.Restored,
    message: `Restored sessionAffinity ${describeAffinity(record.target)} after a SessionAffinityPolicy stopped applying`,
  };
  return write(ctx, writes, [event], 'Restored session affinity');
}

function hasOtherOwners(o: AffinityOwnership): boolean {
  return o.sessionAffinity.length > 0 || o.timeoutSeconds.length > 0;
}

function optionalManager(manager: string | undefined): {
  previousManager?: string;
} {
  return manager === undefined ? {} : { previousManager: manager };
}

function appliedEvent(policy: string, desired: Affinity, mode: 'Enforce' | 'Default'): ServiceEvent {
  return {
    type: 'Normal',
    reason: ServiceEventReason.Applied,
    message: `Applied sessionAffinity ${describeAffinity(desired)} from SessionAffinityPolicy ${policy} (mode ${mode})`,
  };
}

/** An apply of our configuration: the record (none = no annotation) and the affinity (none = no affinity fields). */
function applyWrite(ctx: Ctx, record: AffinityRecord | undefined, affinity: Affinity | undefined, force: boolean): ServiceWrite {
  const body: ServiceApplyConfiguration = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: ctx.service.metadata.name ?? '',
      namespace: ctx.service.metadata.namespace ?? '',
      ...(record === undefined
        ? {}
        : {
            annotations: {
              [ANNOTATION_SESSION_AFFINITY_POLICY]: formatRecord(record),
            },
          }),
    },
    ...(affinity === undefined ? {} : { spec: affinityApplySpec(affinity) }),
  };
  return { kind: 'apply', body, force };
}

function restoreWrite(target: Affinity, fieldManager: string): ServiceWrite {
  return {
    kind: 'restore',
    fieldManager,
    body: { spec: affinityMergePatchSpec(target) },
  };
}

/** Assembles a write plan, putting the resourceVersion precondition on its first write. */
function write(ctx: Ctx, writes: readonly ServiceWrite[], events: readonly ServiceEvent[], log: string, policy?: string): ServicePlan {
  const rv = ctx.service.metadata.resourceVersion;
  const withPrecondition = writes.map((w, i): ServiceWrite => {
    if (i > 0 || rv === undefined) return w;
    if (w.kind === 'apply')
      return {
        ...w,
        body: {
          ...w.body,
          metadata: { ...w.body.metadata, resourceVersion: rv },
        },
      };
    return { ...w, body: { ...w.body, metadata: { resourceVersion: rv } } };
  });
  return {
    kind: 'write',
    writes: withPrecondition,
    events,
    log,
    ...(policy === undefined ? {} : { policy }),
  };
}
