import { z } from 'zod';
import { QUALIFIED_NAME } from './name-formats.ts';

// The metav1.Condition shape shared by every status of this API group, and the pure helpers that maintain a list of
// them the way apimachinery's meta.SetStatusCondition does: lastTransitionTime moves only when status changes, so a
// controller that re-reports the same state writes nothing new (and "for how long has this been false?" stays true).

const CONDITION_REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/** One condition, as metav1.Condition (wire format: lastTransitionTime is an RFC 3339 string). */
export const conditionSchema = z
  .object({
    type: z
      .string()
      .max(316)
      .regex(QUALIFIED_NAME, 'must be a CamelCase condition type, optionally with a DNS subdomain prefix')
      .describe('Type of the condition in CamelCase, e.g. Ready.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition: True, False or Unknown.'),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('metadata.generation of the object that this condition was computed from; older than the current generation means stale.'),
    lastTransitionTime: z.iso
      .datetime({ offset: true })
      .describe('When the condition last changed status (RFC 3339). A change of reason or message alone does not move it.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(CONDITION_REASON, 'must be a CamelCase reason')
      .describe('Machine-readable CamelCase reason for the last transition, for alerts and tooling.'),
    message: z.string().max(32768).describe('Human-readable details about the last transition; may be empty.'),
  })
  .describe('A condition of the object, following Kubernetes API conventions (metav1.Condition).');
export type Condition = z.infer<typeof conditionSchema>;

/** A condition list: one entry per type (a list-map keyed by type, so server-side apply merges entries by type). */
export const conditionsSchema = z
  .array(conditionSchema)
  .max(32)
  .meta({
    description: 'Latest observations of the object state, one entry per condition type.',
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });

/** What a controller reports: a condition without its transition time, which {@link setCondition} manages. */
export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/** Formats a clock reading (ms since the epoch) as the API's RFC 3339 time with second precision, as metav1.Time. */
export function apiTime(nowMs: number): string {
  return new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The condition of `type`, or undefined. */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True when the condition of `type` exists with status True. */
export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

function sameCondition(a: Condition, b: Condition): boolean {
  return (
    a.type === b.type &&
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.observedGeneration === b.observedGeneration &&
    a.lastTransitionTime === b.lastTransitionTime
  );
}

/**
 * Returns `conditions` with `cond` set: an existing entry of the same type is replaced in place (keeping its
 * lastTransitionTime when the status is unchanged, else `now`); a new type is appended with lastTransitionTime `now`.
 * When nothing would change, returns the given array itself, so callers can detect a no-op by identity. Never
 * mutates its input.
 */
export function setCondition(conditions: readonly Condition[] | undefined, cond: ConditionInput, nowMs: number): readonly Condition[] {
  const list = conditions ?? [];
  const i = list.findIndex((c) => c.type === cond.type);
  const existing = list[i];
  const lastTransitionTime = existing !== undefined && existing.status === cond.status ? existing.lastTransitionTime : apiTime(nowMs);
  const next: Condition = {
    type: cond.type,
    status: cond.status,
    ...(cond.observedGeneration === undefined ? {} : { observedGeneration: cond.observedGeneration }),
    lastTransitionTime,
    reason: cond.reason,
    message: cond.message,
  };
  if (existing === undefined) return [...list, next];
  if (sameCondition(existing, next)) return list;
  return list.map((c, j) => (j === i ? next : c));
}

/** Returns `conditions` without the entry of `type`; the given array itself when there is none. Never mutates. */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): readonly Condition[] {
  const list = conditions ?? [];
  return list.some((c) => c.type === type) ? list.filter((c) => c.type !== type) : list;
}
