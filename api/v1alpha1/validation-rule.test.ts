import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { fieldErrors } from './field-errors.ts';
import { fieldPathSegments, withValidationRules } from './validation-rule.ts';

const range = withValidationRules(z.object({ min: z.int(), max: z.int() }).describe('a range'), [
  {
    rule: 'self.min <= self.max',
    message: 'min must not exceed max',
    fieldPath: '.min',
    reason: 'FieldValueInvalid',
    check: (r) => r.min <= r.max,
  },
]);

describe('withValidationRules', () => {
  it('reports a failed rule at its fieldPath with its message', () => {
    const r = range.safeParse({ min: 5, max: 1 });
    assert.equal(r.success, false);
    if (!r.success) assert.deepEqual(fieldErrors(r.error, 'spec'), ['spec.min: min must not exceed max']);
  });

  it('accepts a value that satisfies the rule', () => {
    assert.deepEqual(range.parse({ min: 1, max: 5 }), { min: 1, max: 5 });
  });

  it('puts the rule in x-kubernetes-validations and keeps the existing metadata', () => {
    assert.deepEqual(range.meta(), {
      description: 'a range',
      'x-kubernetes-validations': [
        { rule: 'self.min <= self.max', message: 'min must not exceed max', fieldPath: '.min', reason: 'FieldValueInvalid' },
      ],
    });
  });

  it('appends to rules attached earlier instead of replacing them', () => {
    const twice = withValidationRules(range, [{ rule: 'self.max < 100', message: 'max must be below 100', check: (r) => r.max < 100 }]);
    assert.deepEqual(
      ((twice.meta()?.['x-kubernetes-validations'] ?? []) as { rule: string }[]).map((v) => v.rule),
      ['self.min <= self.max', 'self.max < 100'],
    );
    const r = twice.safeParse({ min: 500, max: 200 });
    assert.equal(r.success, false);
    if (!r.success) assert.deepEqual(fieldErrors(r.error), ['min: min must not exceed max', 'max must be below 100']);
  });
});

describe('fieldPathSegments', () => {
  it('splits a dotted path', () => {
    assert.deepEqual(fieldPathSegments('.a.b'), ['a', 'b']);
    assert.deepEqual(fieldPathSegments(undefined), []);
  });
  it('refuses paths it cannot translate', () => {
    assert.throws(() => fieldPathSegments("['a']"), /must look like \.a\.b/);
    assert.throws(() => fieldPathSegments('a'), /must look like \.a\.b/);
  });
});
