import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldErrors } from './field-errors.ts';
import { type LabelSelector, labelSelectorMatches, labelSelectorSchema } from './label-selector.ts';

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

describe('labelSelectorMatches', () => {
  const labels = { tier: 'frontend', env: 'prod', 'app.kubernetes.io/name': 'web' };
  const cases: { name: string; given: LabelSelector; want: boolean }[] = [
    { name: 'an empty selector matches everything', given: {}, want: true },
    { name: 'matchLabels all equal', given: { matchLabels: { tier: 'frontend', env: 'prod' } }, want: true },
    { name: 'matchLabels one differs', given: { matchLabels: { tier: 'frontend', env: 'test' } }, want: false },
    { name: 'matchLabels key absent', given: { matchLabels: { zone: 'a' } }, want: false },
    {
      name: 'In with the value listed',
      given: { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'prod'] }] },
      want: true,
    },
    { name: 'In with the value not listed', given: { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] }, want: false },
    { name: 'In with the key absent', given: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, want: false },
    { name: 'NotIn with the key absent', given: { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, want: true },
    {
      name: 'NotIn with the value listed',
      given: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] },
      want: false,
    },
    { name: 'Exists', given: { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'Exists' }] }, want: true },
    { name: 'Exists with the key absent', given: { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, want: false },
    { name: 'DoesNotExist', given: { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, want: true },
    { name: 'DoesNotExist with the key present', given: { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, want: false },
    {
      name: 'matchLabels and matchExpressions are ANDed',
      given: { matchLabels: { tier: 'frontend' }, matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] },
      want: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(labelSelectorMatches(deepFreeze(c.given), deepFreeze({ ...labels })), c.want);
    });
  }

  it('treats missing labels as no labels', () => {
    assert.equal(labelSelectorMatches({}, undefined), true);
    assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, undefined), true);
    assert.equal(labelSelectorMatches({ matchLabels: { a: 'b' } }, undefined), false);
  });
});

describe('labelSelectorSchema', () => {
  const cases: { name: string; given: unknown; want: string[] }[] = [
    { name: 'an empty selector', given: {}, want: [] },
    {
      name: 'prefixed keys and every operator',
      given: {
        matchLabels: { 'example.com/tier': 'frontend', env: '' },
        matchExpressions: [
          { key: 'a', operator: 'In', values: ['x'] },
          { key: 'b', operator: 'NotIn', values: ['y', 'z'] },
          { key: 'c', operator: 'Exists' },
          { key: 'd', operator: 'DoesNotExist', values: [] },
        ],
      },
      want: [],
    },
    {
      name: 'In without values',
      given: { matchExpressions: [{ key: 'a', operator: 'In' }] },
      want: ['matchExpressions[0].values: values must be non-empty when operator is In or NotIn'],
    },
    {
      name: 'NotIn with empty values',
      given: { matchExpressions: [{ key: 'a', operator: 'NotIn', values: [] }] },
      want: ['matchExpressions[0].values: values must be non-empty when operator is In or NotIn'],
    },
    {
      name: 'Exists with values',
      given: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] },
      want: ['matchExpressions[0].values: values must be empty when operator is Exists or DoesNotExist'],
    },
    {
      name: 'an unknown operator',
      given: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] },
      want: ['matchExpressions[0].operator: Invalid option: expected one of "In"|"NotIn"|"Exists"|"DoesNotExist"'],
    },
    {
      name: 'a matchLabels key that is not a label key',
      given: { matchLabels: { '-tier': 'x' } },
      want: [
        'matchLabels: every key must be a label key: an optional DNS subdomain prefix and "/", then 1-63 alphanumerics with "-", "_" or "." inside',
      ],
    },
    {
      name: 'a key name part longer than 63 characters',
      given: { matchExpressions: [{ key: `example.com/${'a'.repeat(64)}`, operator: 'Exists' }] },
      want: [
        'matchExpressions[0].key: must be a label key: an optional DNS subdomain prefix and "/", then 1-63 alphanumerics with "-", "_" or "." inside',
      ],
    },
    {
      name: 'a key prefix longer than 253 characters',
      given: {
        matchExpressions: [{ key: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}/x`, operator: 'Exists' }],
      },
      want: ['matchExpressions[0].key: the prefix before "/" must be no more than 253 characters'],
    },
    {
      name: 'a label value with a space',
      given: { matchLabels: { tier: 'front end' } },
      want: ['matchLabels.tier: must be empty or alphanumerics with "-", "_" or "." inside, starting and ending with an alphanumeric'],
    },
  ];
  for (const c of cases) {
    it(`${c.want.length === 0 ? 'accepts' : 'rejects'} ${c.name}`, () => {
      const r = labelSelectorSchema.safeParse(c.given);
      assert.deepEqual(r.success ? [] : fieldErrors(r.error), c.want);
    });
  }
});
