import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JSONSchemaProps } from './json-schema-props.ts';
import { structuralViolations, valueViolations } from './structural-check.ts';

const obj = (properties: Record<string, JSONSchemaProps>, extra: JSONSchemaProps = {}): JSONSchemaProps => ({
  type: 'object',
  properties,
  ...extra,
});

describe('structuralViolations', () => {
  const cases: { name: string; given: JSONSchemaProps; want: string[] }[] = [
    { name: 'a typed object is structural', given: obj({ a: { type: 'string' }, n: { type: 'integer' } }), want: [] },
    {
      name: 'int-or-string and preserve-unknown nodes need no type; the int-or-string anyOf pattern is allowed',
      given: obj({
        port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
        raw: { 'x-kubernetes-preserve-unknown-fields': true },
      }),
      want: [],
    },
    {
      name: 'a property without a type',
      given: obj({ a: { description: 'x' } }),
      want: ['a: must have a type (or x-kubernetes-int-or-string / preserve-unknown-fields)'],
    },
    {
      name: 'an array item without a type',
      given: obj({ a: { type: 'array', items: {} } }),
      want: ['a[]: must have a type (or x-kubernetes-int-or-string / preserve-unknown-fields)'],
    },
    { name: 'an array without items', given: obj({ a: { type: 'array' } }), want: ['a: an array needs items'] },
    { name: 'a root that is not an object', given: { type: 'string' }, want: ['<root>: must be of type object'] },
    {
      name: '$ref anywhere',
      given: obj({ a: { type: 'string', $ref: '#/x' } as JSONSchemaProps }),
      want: ['a: "$ref" is not allowed in a CRD schema'],
    },
    {
      name: 'properties next to additionalProperties',
      given: obj({ a: { type: 'string' } }, { additionalProperties: { type: 'string' } }),
      want: ['<root>: properties and additionalProperties are mutually exclusive'],
    },
    {
      name: 'additionalProperties: false',
      given: obj({ a: { type: 'string' } }, { additionalProperties: false }),
      want: [
        '<root>: additionalProperties must be a schema, not a boolean',
        '<root>: properties and additionalProperties are mutually exclusive',
      ],
    },
    {
      name: 'a default inside a junctor',
      given: obj({ a: { type: 'string', anyOf: [{ default: 'x' } as JSONSchemaProps, { pattern: 'y' }] } }),
      want: ['a(anyOf): "default" is not allowed inside allOf/anyOf/oneOf/not'],
    },
    {
      name: 'a description or object type inside a junctor',
      given: obj({ a: { type: 'string', allOf: [{ description: 'x' }, { type: 'object' }] } }),
      want: [
        'a(allOf): "description" is not allowed inside allOf/anyOf/oneOf/not',
        'a(allOf): "type" is not allowed inside allOf/anyOf/oneOf/not',
      ],
    },
    {
      name: 'a junctor property that is not declared outside it',
      given: obj({ a: { type: 'string' } }, { oneOf: [{ required: ['a'] }, { properties: { b: { maxLength: 1 } } }] }),
      want: ['<root>: property "b" inside oneOf is not declared outside it'],
    },
    {
      name: 'a default that violates its own schema',
      given: obj({ n: { type: 'integer', minimum: 1, default: 0 }, s: { type: 'string', enum: ['A'], default: 'B' } }),
      want: ['default: n: 0 is below the minimum 1', 'default: s: "B" is not in enum'],
    },
    {
      name: 'an object default that lacks a nested default',
      given: obj({ p: obj({ a: { type: 'integer', default: 1 } }, { default: {} }) }),
      want: ['p: default lacks "a", which has a default of its own (the API server validates defaults unexpanded)'],
    },
    {
      name: 'a list-map without keys, and a list-map key that is neither required nor defaulted',
      given: obj({
        a: { type: 'array', 'x-kubernetes-list-type': 'map', items: obj({ name: { type: 'string' } }) },
        b: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: obj({ name: { type: 'string' } }),
        },
      }),
      want: [
        'a: x-kubernetes-list-type: map needs x-kubernetes-list-map-keys',
        'b: list-map key "name" must be required or have a default',
      ],
    },
    {
      name: 'a list-map key with a default is fine',
      given: obj({
        b: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: obj({ name: { type: 'string', default: '' } }),
        },
      }),
      want: [],
    },
    {
      name: 'uniqueItems',
      given: obj({ a: { type: 'array', items: { type: 'string' }, uniqueItems: true } as JSONSchemaProps }),
      want: ['a: uniqueItems: true is not allowed (use x-kubernetes-list-type: set)'],
    },
    {
      name: 'a required property that is not declared',
      given: obj({ a: { type: 'string' } }, { required: ['b'] }),
      want: ['<root>: required property "b" is not declared'],
    },
    {
      name: 'a CEL entry without a rule',
      given: obj({}, { 'x-kubernetes-validations': [{ rule: ' ' }] }),
      want: ['<root>: x-kubernetes-validations entry without a rule'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(structuralViolations(c.given), c.want);
    });
  }

  it('requires descriptions on properties when asked (kubectl explain)', () => {
    const given = obj({ a: { type: 'string', description: 'A.' }, b: obj({ c: { type: 'string' } }, { description: 'B.' }) });
    assert.deepEqual(structuralViolations(given), []);
    assert.deepEqual(structuralViolations(given, { requireDescriptions: true }), [
      'b.c: has no description (kubectl explain would show nothing)',
    ]);
  });
});

describe('valueViolations', () => {
  const schema: JSONSchemaProps = obj(
    {
      name: { type: 'string', maxLength: 3, pattern: '^[a-z]+$' },
      ports: { type: 'array', maxItems: 1, items: { type: 'integer', maximum: 10 } },
      port: { 'x-kubernetes-int-or-string': true },
    },
    { required: ['name'] },
  );
  const cases: { name: string; given: Parameters<typeof valueViolations>[1]; want: string[] }[] = [
    { name: 'a valid value', given: { name: 'abc', ports: [1], port: 'http' }, want: [] },
    { name: 'a missing required property', given: {}, want: ['<root>: missing required property name'] },
    {
      name: 'a too long string that breaks the pattern',
      given: { name: 'ABCD' },
      want: ['name: longer than 3', 'name: "ABCD" does not match ^[a-z]+$'],
    },
    {
      name: 'too many items, one too large',
      given: { name: 'a', ports: [1, 11] },
      want: ['ports: more than 1 items', 'ports[1]: 11 is above the maximum 10'],
    },
    { name: 'a wrong type', given: { name: 1 }, want: ['name: 1 is not of type string'] },
    { name: 'an int-or-string that is neither', given: { name: 'a', port: true }, want: ['port: true is not an integer or string'] },
    { name: 'an unknown property', given: { name: 'a', extra: 1 }, want: ['<root>: unknown property extra'] },
    { name: 'null where not nullable', given: null, want: ['<root>: null is not allowed'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(valueViolations(schema, c.given, ''), c.want);
    });
  }
});
