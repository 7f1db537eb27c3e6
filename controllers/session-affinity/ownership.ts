import { z } from 'zod';
import type { Service } from '../../api/core/v1.ts';
import { DEFAULT_CLIENT_IP_TIMEOUT_SECONDS } from '../../api/v1alpha1/session-affinity-policy.ts';
import { type Affinity, DEFAULT_AFFINITY, serviceAffinity } from './affinity.ts';

// Who owns a Service's affinity fields, read from the live object's managedFields (the informer cache strips them, so
// the reconciler GETs the Service when a decision needs this; see plan.ts for when).
//
// Two facts of server-side apply shape everything here (checked against kube-apiserver v1.36):
// - A writer using an Update operation (create, update, patch: kubectl create/edit/patch, client-side apply, Helm,
//   typed clients) owns every field its write changed, including fields that *defaulting* filled in. So the creator of
//   almost every Service owns `spec.sessionAffinity: None` without ever having written it. An Apply operation owns only
//   the fields in its configuration.
// - When an Apply configuration stops listing a field, the field is removed if no other manager owns it; defaulting
//   then refills it (sessionAffinity None; a ClientIP config without timeout gets 10800).

/** One field manager entry that owns an affinity field. */
export interface FieldOwner {
  readonly manager: string;
  readonly operation: 'Apply' | 'Update';
}

/** Ownership of `spec.sessionAffinity` (A) and `spec.sessionAffinityConfig.clientIP.timeoutSeconds` (C). */
export interface AffinityOwnership {
  /** Managers other than ours that own A, in managedFields order. */
  readonly sessionAffinity: readonly FieldOwner[];
  /** Managers other than ours that own C, in managedFields order. */
  readonly timeoutSeconds: readonly FieldOwner[];
  /** Whether our field manager's Apply entry owns A and C. */
  readonly ours: {
    readonly sessionAffinity: boolean;
    readonly timeoutSeconds: boolean;
  };
}

const managedFieldsEntrySchema = z.looseObject({
  manager: z.string().optional(),
  operation: z.string().optional(),
  subresource: z.string().optional(),
  fieldsV1: z.unknown().optional(),
});

function child(node: unknown, key: string): unknown {
  return typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
}

/**
 * Reads the affinity ownership from a live object's `metadata.managedFields`. Entries of subresources (status) and
 * entries that do not parse are ignored. `fieldManager` is ours: only its Apply entry counts as ours (every write this
 * controller makes under its own name is an apply).
 */
export function affinityOwnership(managedFields: readonly unknown[] | undefined, fieldManager: string): AffinityOwnership {
  const sessionAffinity: FieldOwner[] = [];
  const timeoutSeconds: FieldOwner[] = [];
  const ours = { sessionAffinity: false, timeoutSeconds: false };
  for (const raw of managedFields ?? []) {
    const parsed = managedFieldsEntrySchema.safeParse(raw);
    if (!parsed.success) continue;
    const entry = parsed.data;
    if ((entry.subresource ?? '') !== '' || entry.manager === undefined) continue;
    if (entry.operation !== 'Apply' && entry.operation !== 'Update') continue;
    const spec = child(entry.fieldsV1, 'f:spec');
    const ownsA = child(spec, 'f:sessionAffinity') !== undefined;
    const ownsC = child(child(child(spec, 'f:sessionAffinityConfig'), 'f:clientIP'), 'f:timeoutSeconds') !== undefined;
    if (entry.manager === fieldManager && entry.operation === 'Apply') {
      ours.sessionAffinity = ownsA;
      ours.timeoutSeconds = ownsC;
      continue;
    }
    const owner: FieldOwner = {
      manager: entry.manager,
      operation: entry.operation,
    };
    if (ownsA) sessionAffinity.push(owner);
    if (ownsC) timeoutSeconds.push(owner);
  }
  return { sessionAffinity, timeoutSeconds, ours };
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function lastAppliedDeclaresAffinity(service: Readonly<Service>): boolean {
  const raw = service.metadata.annotations?.[LAST_APPLIED];
  if (raw === undefined) return false;
  try {
    const spec = child(JSON.parse(raw), 'spec');
    return child(spec, 'sessionAffinity') !== undefined || child(spec, 'sessionAffinityConfig') !== undefined;
  } catch {
    return false;
  }
}

/**
 * The part of the "did the owner set the affinity?" rule the cached Service alone can answer: true when it is ClientIP
 * (never a default) or when kubectl's client-side apply record lists sessionAffinity; undefined when only the
 * managedFields can tell (see {@link ownerSetByOwnership}).
 */
export function ownerSetByService(service: Readonly<Service>): true | undefined {
  if (serviceAffinity(service).sessionAffinity === 'ClientIP') return true;
  if (lastAppliedDeclaresAffinity(service)) return true;
  return undefined;
}

/**
 * The rest of the rule, for a Service whose affinity is the default None: the owner set it when another manager owns
 * `spec.sessionAffinity` through an Apply operation (a declared configuration). Ownership through Update operations
 * does not count: it is what defaulting gives every creator, so an explicit None written that way cannot be told apart
 * from "never set" (documented limitation).
 */
export function ownerSetByOwnership(ownership: AffinityOwnership): boolean {
  return ownership.sessionAffinity.some((o) => o.operation === 'Apply');
}

/**
 * The manager to give a restored affinity back to: an Update-operation owner of sessionAffinity first (writing under
 * that name with an Update restores its managedFields entry exactly), then an Apply-operation owner (a separate Update
 * entry of the same name appears), then the owners of the timeout. Undefined when nobody else owns either field.
 */
export function restoreManager(ownership: AffinityOwnership): string | undefined {
  const byUpdateFirst = (owners: readonly FieldOwner[]) => owners.find((o) => o.operation === 'Update')?.manager ?? owners[0]?.manager;
  return byUpdateFirst(ownership.sessionAffinity) ?? byUpdateFirst(ownership.timeoutSeconds);
}

/**
 * The affinity left after our Apply entry drops the affinity fields: each field only we own (`ours` and no other
 * owner) is removed and defaulting refills it. Pure model of the API server's behaviour.
 */
export function affinityAfterRelease(
  value: Affinity,
  owned: {
    readonly oursA: boolean;
    readonly oursC: boolean;
    readonly othersA: boolean;
    readonly othersC: boolean;
  },
): Affinity {
  if (value.sessionAffinity === 'None') return DEFAULT_AFFINITY;
  if (owned.oursA && !owned.othersA) return DEFAULT_AFFINITY;
  if (owned.oursC && !owned.othersC)
    return {
      sessionAffinity: 'ClientIP',
      timeoutSeconds: DEFAULT_CLIENT_IP_TIMEOUT_SECONDS,
    };
  return value;
}
