import type { z } from 'zod';

// A CRD rule has to hold in two places: the API server (CEL in `x-kubernetes-validations`, so kubectl users get the
// error at admission) and our own code (zod, so the controllers and tests see the same rule before anything is sent).
// Declaring both halves in one value, with one message, keeps them from drifting apart; the samples under
// config/samples/invalid are checked against both.

/** How the API server classifies a failed rule (`reason` of x-kubernetes-validations). */
export type ValidationRuleReason = 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';

/** One validation rule, as CEL for the API server and as a predicate for zod. */
export interface ValidationRule<T> {
  /** CEL expression over `self` (and `oldSelf` for transition rules, which have no zod half and are not used here). */
  readonly rule: string;
  /** Message shown by both the API server and zod when the rule fails. */
  readonly message: string;
  /** Where the error points, relative to the node, as `.a.b` (simple field names only). Default: the node itself. */
  readonly fieldPath?: string;
  /** Error classification; the API server's default is FieldValueInvalid. */
  readonly reason?: ValidationRuleReason;
  /** The same rule in TypeScript: true when `value` is valid. Runs only when the value parsed without other issues. */
  readonly check: (value: T) => boolean;
}

/** The `x-kubernetes-validations` entry of a rule (what lands in the CRD). */
export interface CelValidation {
  readonly rule: string;
  readonly message: string;
  readonly fieldPath?: string;
  readonly reason?: ValidationRuleReason;
}

const FIELD_PATH = /^(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

/** Splits a rule's `fieldPath` (`.a.b`) into a zod issue path. Throws on anything but simple dotted field names. */
export function fieldPathSegments(fieldPath: string | undefined): string[] {
  if (fieldPath === undefined) return [];
  if (!FIELD_PATH.test(fieldPath)) throw new Error(`validation rule fieldPath ${JSON.stringify(fieldPath)} must look like .a.b`);
  return fieldPath.slice(1).split('.');
}

/**
 * Attaches rules to a schema: each becomes a zod refinement (custom issue with the rule's message at its fieldPath)
 * and an entry of `x-kubernetes-validations` in the schema's metadata, appended to any already there. Call it last on
 * a schema (after `.describe()`/`.meta()`), since it sets metadata on the refined copy. Throws on a malformed fieldPath.
 */
export function withValidationRules<S extends z.ZodType>(schema: S, rules: readonly ValidationRule<z.output<S>>[]): S {
  const paths = rules.map((r) => fieldPathSegments(r.fieldPath));
  const refined = schema.superRefine((value, ctx) => {
    rules.forEach((r, i) => {
      // A fresh path array each time: zod prefixes the issue path in place.
      if (!r.check(value)) ctx.addIssue({ code: 'custom', message: r.message, path: [...(paths[i] ?? [])] });
    });
  });
  const existing = schema.meta() ?? {};
  const previous = (existing['x-kubernetes-validations'] as readonly CelValidation[] | undefined) ?? [];
  const added: CelValidation[] = rules.map((r) => ({
    rule: r.rule,
    message: r.message,
    ...(r.fieldPath === undefined ? {} : { fieldPath: r.fieldPath }),
    ...(r.reason === undefined ? {} : { reason: r.reason }),
  }));
  return refined.meta({ ...existing, 'x-kubernetes-validations': [...previous, ...added] });
}
