import { z } from 'zod';
import { isQualifiedName, QUALIFIED_NAME, QUALIFIED_NAME_MAX_LENGTH, QUALIFIED_NAME_MESSAGE, labelValueSchema } from './name-formats.ts';
import { withValidationRules } from './validation-rule.ts';

// metav1.LabelSelector as a CRD field. A CRD gets none of the API server's built-in selector validation, so the rules
// it applies to built-in kinds (operator values, which operators take values, label key and value formats) are
// restated here as schema and CEL, and mirrored in zod.

/** Operators of a selector requirement. */
export const LabelSelectorOperator = { In: 'In', NotIn: 'NotIn', Exists: 'Exists', DoesNotExist: 'DoesNotExist' } as const;
export type LabelSelectorOperator = (typeof LabelSelectorOperator)[keyof typeof LabelSelectorOperator];

const MAX_MATCH_LABELS = 64;
const MAX_EXPRESSIONS = 32;
const MAX_VALUES = 64;

// Raw CEL string: the pattern's backslashes reach RE2 untouched.
const QUALIFIED_NAME_CEL = `r'${QUALIFIED_NAME.source}'`;

/** Label key field: a qualified name. */
const labelKeySchema = withValidationRules(
  z
    .string()
    .min(1)
    .max(QUALIFIED_NAME_MAX_LENGTH)
    .regex(QUALIFIED_NAME, QUALIFIED_NAME_MESSAGE)
    .describe('Label key the requirement applies to.'),
  [
    {
      rule: "!self.contains('/') || self.indexOf('/') <= 253",
      message: 'the prefix before "/" must be no more than 253 characters',
      check: (key) => !key.includes('/') || key.indexOf('/') <= 253,
    },
  ],
);

/** One requirement of a label selector: key, operator, and values (only for In and NotIn). */
export const labelSelectorRequirementSchema = withValidationRules(
  z
    .object({
      key: labelKeySchema,
      operator: z
        .enum(['In', 'NotIn', 'Exists', 'DoesNotExist'])
        .describe('How the key relates to the values: In, NotIn, Exists or DoesNotExist.'),
      values: z
        .array(labelValueSchema)
        .max(MAX_VALUES)
        .optional()
        .describe('Label values; required and non-empty for In and NotIn, empty or absent for Exists and DoesNotExist.'),
    })
    .describe('A label requirement: the key, an operator, and values for In and NotIn.'),
  [
    {
      rule: "!(self.operator in ['In', 'NotIn']) || (has(self.values) && size(self.values) > 0)",
      message: 'values must be non-empty when operator is In or NotIn',
      fieldPath: '.values',
      reason: 'FieldValueRequired',
      check: (r) => !(r.operator === 'In' || r.operator === 'NotIn') || (r.values?.length ?? 0) > 0,
    },
    {
      rule: "!(self.operator in ['Exists', 'DoesNotExist']) || !has(self.values) || size(self.values) == 0",
      message: 'values must be empty when operator is Exists or DoesNotExist',
      fieldPath: '.values',
      reason: 'FieldValueForbidden',
      check: (r) => !(r.operator === 'Exists' || r.operator === 'DoesNotExist') || (r.values?.length ?? 0) === 0,
    },
  ],
);
export type LabelSelectorRequirement = z.infer<typeof labelSelectorRequirementSchema>;

const matchLabelsSchema = withValidationRules(
  z.record(z.string(), labelValueSchema).meta({
    description: 'Labels a Service must carry with exactly these values. ANDed with matchExpressions.',
    maxProperties: MAX_MATCH_LABELS,
  }),
  [
    {
      rule: `self.all(k, k.size() <= ${QUALIFIED_NAME_MAX_LENGTH} && k.matches(${QUALIFIED_NAME_CEL}) && (!k.contains('/') || k.indexOf('/') <= 253))`,
      message: `every key ${QUALIFIED_NAME_MESSAGE}`,
      check: (m) => Object.keys(m).every(isQualifiedName),
    },
    {
      rule: `size(self) <= ${MAX_MATCH_LABELS}`,
      message: `must have at most ${MAX_MATCH_LABELS} labels`,
      check: (m) => Object.keys(m).length <= MAX_MATCH_LABELS,
    },
  ],
);

/**
 * A label selector (metav1.LabelSelector). matchLabels and matchExpressions are ANDed; an empty selector matches
 * every object of the namespace.
 */
export const labelSelectorSchema = z
  .object({
    matchLabels: matchLabelsSchema.optional(),
    matchExpressions: z
      .array(labelSelectorRequirementSchema)
      .max(MAX_EXPRESSIONS)
      .optional()
      .describe('Label requirements a Service must satisfy, all of them. ANDed with matchLabels.'),
  })
  .describe('A label query over Services of the namespace. An empty selector ({}) matches every Service.');
export type LabelSelector = z.infer<typeof labelSelectorSchema>;

/**
 * True when `labels` satisfy `selector` with metav1 semantics: every matchLabels entry equal, In (key present with a
 * listed value), NotIn (key absent or value not listed), Exists, DoesNotExist. An empty selector matches everything.
 */
export function labelSelectorMatches(selector: Readonly<LabelSelector>, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, req.key);
    const value = l[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!has || value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (has && value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default: {
        const unreachable: never = req.operator;
        return unreachable;
      }
    }
  }
  return true;
}
