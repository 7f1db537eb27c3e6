import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import type { JSONSchemaProps } from './json-schema-props.ts';
import { assertRe2, CrdSchemaError, structuralize, toStructuralSchema } from './structural-schema.ts';

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

describe('toStructuralSchema', () => {
  const cases: { name: string; given: z.ZodType; want: JSONSchemaProps }[] = [
    {
      name: 'defaulted and optional fields are not required; defaults and descriptions kept',
      given: z.object({ a: z.string().describe('A.'), b: z.boolean().default(false), c: z.string().optional() }),
      want: {
        type: 'object',
        properties: { a: { description: 'A.', type: 'string' }, b: { type: 'boolean', default: false }, c: { type: 'string' } },
        required: ['a'],
      },
    },
    {
      name: 'strict objects lose additionalProperties: false (pruning closes CRD objects)',
      given: z.strictObject({ a: z.string() }),
      want: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
    },
    {
      name: 'loose objects keep unknown fields',
      given: z.looseObject({ a: z.string().optional() }),
      want: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { a: { type: 'string' } } },
    },
    {
      name: 'records of unknown become open objects',
      given: z.record(z.string(), z.unknown()),
      want: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
    {
      name: 'records of strings stay typed maps',
      given: z.record(z.string(), z.string().max(5)),
      want: { type: 'object', additionalProperties: { type: 'string', maxLength: 5 } },
    },
    {
      name: 'unknown values become preserve-unknown-fields',
      given: z.object({ raw: z.unknown().optional() }),
      want: { type: 'object', properties: { raw: { 'x-kubernetes-preserve-unknown-fields': true } } },
    },
    {
      name: 'integer|string unions become int-or-string in the one form structural schemas allow',
      given: z.union([z.int32(), z.string()]).describe('Port.'),
      want: { description: 'Port.', 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
    },
    {
      name: 'unions of literals become one enum',
      given: z.union([z.literal('a'), z.literal('b'), z.literal('a')]),
      want: { type: 'string', enum: ['a', 'b'] },
    },
    {
      name: 'discriminated unions are flattened into one object; only common fields stay required',
      given: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('A'), x: z.string(), shared: z.int32() }),
        z.object({ kind: z.literal('B'), y: z.boolean(), shared: z.int32() }),
      ]),
      want: {
        type: 'object',
        properties: {
          kind: { type: 'string', enum: ['A', 'B'] },
          x: { type: 'string' },
          shared: { type: 'integer', format: 'int32' },
          y: { type: 'boolean' },
        },
        required: ['kind', 'shared'],
      },
    },
    {
      name: 'nullable unions become nullable',
      given: z.union([z.string(), z.null()]),
      want: { type: 'string', nullable: true },
    },
    {
      name: 'safe integers lose their sentinel bounds and say int64',
      given: z.int(),
      want: { type: 'integer', format: 'int64' },
    },
    {
      name: 'int32 loses its sentinel bounds and says int32; real bounds stay',
      given: z.object({ a: z.int32(), b: z.int32().min(1).max(10), c: z.number().int().min(0) }),
      want: {
        type: 'object',
        properties: {
          a: { type: 'integer', format: 'int32' },
          b: { type: 'integer', format: 'int32', minimum: 1, maximum: 10 },
          c: { type: 'integer', format: 'int64', minimum: 0 },
        },
        required: ['a', 'b', 'c'],
      },
    },
    {
      name: 'formats the API server knows keep the format and drop zod JS regex',
      given: z.object({ t: z.iso.datetime(), ip: z.ipv4(), mail: z.email() }),
      want: {
        type: 'object',
        properties: {
          t: { type: 'string', format: 'date-time' },
          ip: { type: 'string', format: 'ipv4' },
          mail: { type: 'string', format: 'email' },
        },
        required: ['t', 'ip', 'mail'],
      },
    },
    {
      name: 'several patterns become allOf items without a type',
      given: z.string().regex(/^a/).regex(/b$/),
      want: { type: 'string', allOf: [{ pattern: '^a' }, { pattern: 'b$' }] },
    },
    {
      name: 'metadata keys pass through (CEL rules, list types)',
      given: z.array(z.object({ name: z.string() })).meta({
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        'x-kubernetes-validations': [{ rule: 'self.size() < 3', message: 'too many' }],
      }),
      want: {
        type: 'array',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        items: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        'x-kubernetes-validations': [{ rule: 'self.size() < 3', message: 'too many' }],
      },
    },
    {
      name: 'intersections of objects are merged into one object',
      given: z.intersection(z.object({ a: z.string() }), z.object({ b: z.string().optional() })),
      want: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, required: ['a'] },
    },
    {
      name: 'object defaults are completed with nested defaults (the API server validates them unexpanded)',
      given: z.object({ p: z.object({ a: z.int32().default(1), b: z.object({ c: z.string().default('x') }).prefault({}) }).prefault({}) }),
      want: {
        type: 'object',
        properties: {
          p: {
            type: 'object',
            default: { a: 1, b: { c: 'x' } },
            properties: {
              a: { type: 'integer', format: 'int32', default: 1 },
              b: { type: 'object', default: { c: 'x' }, properties: { c: { type: 'string', default: 'x' } } },
            },
          },
        },
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(toStructuralSchema(c.given), c.want);
    });
  }

  it('inlines sub-schemas registered with an id instead of emitting $ref', () => {
    const shared = z.string().max(3).meta({ id: 'StructuralSchemaTestShared' });
    const got = toStructuralSchema(z.object({ a: shared, b: shared }));
    assert.equal(JSON.stringify(got).includes('$ref'), false);
    assert.deepEqual(got.properties?.a, { type: 'string', maxLength: 3 });
    assert.deepEqual(got.properties?.b, { type: 'string', maxLength: 3 });
  });

  it('orders keys the same way in every node', () => {
    const got = toStructuralSchema(z.object({ a: z.int32().min(1).default(2).describe('A.') }).describe('Root.'));
    assert.deepEqual(Object.keys(got), ['description', 'type', 'properties']);
    assert.deepEqual(Object.keys(got.properties?.a ?? {}), ['description', 'type', 'format', 'default', 'minimum']);
  });

  const refusals: { name: string; given: z.ZodType; want: RegExp }[] = [
    {
      name: 'int-or-string branches with validations',
      given: z.union([z.int32().min(1), z.string()]),
      want: /int-or-string branches cannot carry validations \(minimum\)/,
    },
    {
      name: 'a union of a string and a boolean',
      given: z.union([z.string(), z.boolean()]),
      want: /unsupported union of string \| boolean/,
    },
    {
      name: 'union branches that declare one field differently',
      given: z.union([z.object({ a: z.string() }), z.object({ a: z.int() })]),
      want: /a: union branches declare this property differently/,
    },
    {
      name: 'validation rules on a union branch',
      given: z.union([z.object({ a: z.string() }).meta({ 'x-kubernetes-validations': [{ rule: 'true' }] }), z.object({ b: z.string() })]),
      want: /validation rules on a union branch/,
    },
    { name: 'tuples', given: z.object({ t: z.tuple([z.string(), z.int()]) }), want: /tuples are not structural/ },
    { name: 'dates', given: z.object({ d: z.date() }), want: /zod cannot express this schema/ },
    {
      name: 'formats the API server does not know',
      given: z.object({ id: z.ulid() }),
      want: /id: format "ulid" is not a format the API server knows/,
    },
    { name: 'look-ahead patterns', given: z.object({ s: z.string().regex(/^(?=a)a+$/) }), want: /s: pattern .* uses a look-ahead/ },
    { name: 'back-references', given: z.string().regex(/^(a)\1$/), want: /uses a back-reference/ },
    { name: 'JS named groups', given: z.string().regex(/^(?<x>a)$/), want: /uses a JavaScript named group/ },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name} with the field path`, () => {
      assert.throws(
        () => toStructuralSchema(c.given),
        (err: unknown) => err instanceof CrdSchemaError && c.want.test(err.message),
      );
    });
  }

  it('refuses recursive schemas (CRDs cannot express recursion)', () => {
    const node = z.object({
      name: z.string(),
      get children() {
        return z.array(node).optional();
      },
    });
    assert.throws(() => toStructuralSchema(node), CrdSchemaError);
  });
});

describe('structuralize', () => {
  it('does not modify its input', () => {
    const given = deepFreeze({
      type: 'object',
      properties: {
        a: { type: 'object', properties: { b: { type: 'integer', minimum: -9007199254740991 } }, additionalProperties: false },
      },
    });
    const got = structuralize(given);
    assert.deepEqual(got.properties?.a, { type: 'object', properties: { b: { type: 'integer', format: 'int64' } } });
  });

  it('turns open objects with properties into preserve-unknown-fields', () => {
    assert.deepEqual(structuralize({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: true }), {
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
      properties: { a: { type: 'string' } },
    });
  });

  it('refuses typed additionalProperties next to properties', () => {
    assert.throws(
      () => structuralize({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } }),
      /both properties and typed additionalProperties/,
    );
  });

  it('refuses allOf items that are objects (intersections zod did not merge)', () => {
    assert.throws(
      () => structuralize({ type: 'string', allOf: [{ type: 'object', properties: { a: { type: 'string' } } }] }),
      /intersections of different types/,
    );
  });

  it('refuses a $ref it cannot resolve, and unknown keywords', () => {
    assert.throws(() => structuralize({ $ref: '#' }), /cannot inline \$ref #/);
    assert.throws(() => structuralize({ type: 'string', const: 'x' }), /unsupported JSON Schema keyword "const"/);
  });
});

describe('assertRe2', () => {
  const accepted = ['^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', '^\\/\\S*$', '^a{0,61}$', '[(?=]', '\\\\1', '^(?:a|b)$', '^(?P<n>a)$'];
  for (const p of accepted) {
    it(`accepts ${p}`, () => {
      assert.doesNotThrow(() => assertRe2(p, 'x'));
    });
  }
  const refused = ['(?=a)', '(?!a)', '(?<=a)', '(?<!a)', '(a)\\1', '\\k<n>', '(?<n>a)', '\\cA', '\\u{41}'];
  for (const p of refused) {
    it(`refuses ${p}`, () => {
      assert.throws(() => assertRe2(p, 'x'), CrdSchemaError);
    });
  }
});
