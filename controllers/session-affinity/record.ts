import { z } from 'zod';
import type { Service } from '../../api/core/v1.ts';
import { API_GROUP } from '../../api/labels.ts';
import { type Affinity, affinitySchema } from './affinity.ts';

// What the controller remembers about a Service, kept on the Service itself (an annotation it owns through server-side
// apply) so that restoring survives restarts, policy deletion while the operator is down, and lost events: a Service
// reconcile needs nothing but the Service and the policies. The value is JSON in one of three shapes.

/** The annotation holding the record. Its value is JSON; see {@link AffinityRecord}. */
export const ANNOTATION_SESSION_AFFINITY_POLICY = `${API_GROUP}/session-affinity-policy`;

/**
 * - `held`: a policy's affinity is on the Service and this controller owns the affinity fields. `previous` is the
 *   Service's own affinity from before any policy took it over (or the owner's latest edit under an Enforce policy),
 *   `previousManager` the field manager that owned it then (the restore is written under that name), and
 *   `previousOwnerSet` whether the owner had set it explicitly (a Default policy then gives it back).
 * - `ownerSet`: the owner set the affinity, and a Default-mode policy leaves it alone. No affinity field is owned.
 * - `handback`: releasing is under way and `target` must be written back under `manager` (see plan.ts). Transient.
 */
export type AffinityRecord =
  | {
      readonly kind: 'held';
      readonly policy: string;
      readonly applied: Affinity;
      readonly previous: Affinity;
      readonly previousManager?: string;
      readonly previousOwnerSet: boolean;
    }
  | { readonly kind: 'ownerSet' }
  | {
      readonly kind: 'handback';
      readonly target: Affinity;
      readonly manager?: string;
    };

/** What a Service carries: no record, a record, or an annotation that is not a record (hand-edited). */
export type RecordState = { readonly kind: 'none' } | { readonly kind: 'invalid'; readonly raw: string } | AffinityRecord;

const managerSchema = z.string().min(1).max(128);
const heldSchema = z.strictObject({
  policy: z.string().min(1).max(253),
  applied: affinitySchema,
  previous: affinitySchema,
  previousManager: managerSchema.optional(),
  previousOwnerSet: z.boolean(),
});
const ownerSetSchema = z.strictObject({ ownerSet: z.literal(true) });
const handbackSchema = z.strictObject({
  handback: affinitySchema,
  manager: managerSchema.optional(),
});

const NONE: RecordState = Object.freeze({ kind: 'none' });

/** Parses the Service's record. Never throws: a value that is not JSON or not one of the shapes is `invalid`. */
export function readRecord(service: Readonly<Service>): RecordState {
  const raw = service.metadata.annotations?.[ANNOTATION_SESSION_AFFINITY_POLICY];
  if (raw === undefined) return NONE;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { kind: 'invalid', raw };
  }
  const held = heldSchema.safeParse(json);
  if (held.success) {
    const { previousManager, ...rest } = held.data;
    return {
      kind: 'held',
      ...rest,
      ...(previousManager === undefined ? {} : { previousManager }),
    };
  }
  if (ownerSetSchema.safeParse(json).success) return { kind: 'ownerSet' };
  const handback = handbackSchema.safeParse(json);
  if (handback.success) {
    const { handback: target, manager } = handback.data;
    return {
      kind: 'handback',
      target,
      ...(manager === undefined ? {} : { manager }),
    };
  }
  return { kind: 'invalid', raw };
}

function affinityJson(a: Affinity): Record<string, unknown> {
  return a.sessionAffinity === 'None' ? { sessionAffinity: 'None' } : { sessionAffinity: 'ClientIP', timeoutSeconds: a.timeoutSeconds };
}

/** The annotation value of `record`: JSON with a fixed key order, so equal records are equal strings. */
export function formatRecord(record: AffinityRecord): string {
  switch (record.kind) {
    case 'held':
      return JSON.stringify({
        policy: record.policy,
        applied: affinityJson(record.applied),
        previous: affinityJson(record.previous),
        ...(record.previousManager === undefined ? {} : { previousManager: record.previousManager }),
        previousOwnerSet: record.previousOwnerSet,
      });
    case 'ownerSet':
      return JSON.stringify({ ownerSet: true });
    case 'handback':
      return JSON.stringify({
        handback: affinityJson(record.target),
        ...(record.manager === undefined ? {} : { manager: record.manager }),
      });
    default: {
      const unreachable: never = record;
      return unreachable;
    }
  }
}

/** The policy named by a `held` record, for indexes and status; undefined for every other state. */
export function recordedPolicy(service: Readonly<Service>): string | undefined {
  const r = readRecord(service);
  return r.kind === 'held' ? r.policy : undefined;
}
