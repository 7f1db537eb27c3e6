import { z } from 'zod';
import { ALLOWED_KEYS, type JSONSchemaProps, KUBERNETES_FORMATS } from './json-schema-props.ts';

// zod 4 -> Kubernetes structural OpenAPI v3 schema (the repairs are listed below). zod's own converter does most of the
// work (target openapi-3.0, input mode so defaulted fields are not required); this module repairs what a CRD cannot
// take: $ref, additionalProperties:false, type-less nodes, unions, JS-only regular expressions, int64 sentinel bounds.
// Whatever it cannot translate faithfully it refuses with the field path, so a schema change never ships a CRD that
// validates differently from the zod types without anyone noticing.

/** A zod schema that cannot become a structural CRD schema; `path` is the field path (`spec.ports[].name`). */
export class CrdSchemaError extends Error {
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(`${path === '' ? '<root>' : path}: ${message}`, options);
    this.name = 'CrdSchemaError';
    this.path = path;
  }
}

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

// Bounds zod writes for the integer kinds (safe integers, int32, uint32): noise in a CRD, where `format` says it.
const SENTINEL_BOUNDS: ReadonlySet<number> = new Set([
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 32 - 1,
]);

// Keys that may appear inside allOf items: value validations only (structural schemas forbid the rest in junctors).
const VALUE_VALIDATION_KEYS: ReadonlySet<string> = new Set([
  'format',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'enum',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'required',
]);

/**
 * Converts a zod schema into a structural schema node. Integer formats come from the zod kind (`z.int32()` -> int32,
 * other integers -> int64). Throws CrdSchemaError for anything a CRD cannot express faithfully (see
 * {@link structuralize}).
 */
export function toStructuralSchema(schema: z.ZodType, path = ''): JSONSchemaProps {
  let raw: unknown;
  try {
    raw = z.toJSONSchema(schema, {
      target: 'openapi-3.0',
      io: 'input',
      cycles: 'throw',
      reused: 'inline',
      unrepresentable: 'throw',
      override: ({ zodSchema, jsonSchema, path: at }) => {
        const def = zodSchema._zod.def;
        // openapi-3.0 writes a tuple as an array of the union of its items: positions would be lost without a word.
        if (def.type === 'tuple') throw new Error(`tuple at ${at.join('.')}: tuples are not structural, use an object`);
        if (def.type === 'number' && 'format' in def && jsonSchema.type === 'integer') {
          jsonSchema.format = def.format === 'int32' ? 'int32' : 'int64';
        }
      },
    });
  } catch (err) {
    throw new CrdSchemaError(path, `zod cannot express this schema: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return structuralize(raw, path);
}

/**
 * Turns zod's OpenAPI 3.0 output into a structural schema: inlines `$ref`s; drops `additionalProperties: false`;
 * turns open objects and `{}` into `x-kubernetes-preserve-unknown-fields`; replaces integer|string unions by
 * `x-kubernetes-int-or-string`; merges unions of literals into one enum and unions of objects into one object;
 * removes `type` from allOf items; strips sentinel integer bounds (adding `format: int64` where none is set); drops the
 * JS pattern zod adds beside a format; completes object defaults with nested defaults. Refuses (CrdSchemaError) tuples,
 * allOf items that are more than value validations, other unions, `not`, unknown keywords or formats, and patterns RE2
 * cannot compile. Pure: the input is not modified.
 */
export function structuralize(raw: unknown, path = ''): JSONSchemaProps {
  if (!isRecord(raw)) throw new CrdSchemaError(path, 'schema must be an object');
  const defs: Json = { ...(isRecord(raw.definitions) ? raw.definitions : {}), ...(isRecord(raw.$defs) ? raw.$defs : {}) };
  return canonicalOrder(completeDefaults(convert(raw, path, defs, []))) as JSONSchemaProps;
}

// The API server validates a default as written, rules included, without first applying the defaults nested inside
// it: `default: {}` on an object whose CEL rule reads a defaulted field fails with "no such key". So object defaults
// are completed with their properties' own defaults (what the API server would end up storing anyway).
function completeDefaults(n: Json): Json {
  const out: Json = { ...n };
  if (isRecord(out.properties)) {
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, isRecord(v) ? completeDefaults(v) : v]));
  }
  if (isRecord(out.items)) out.items = completeDefaults(out.items);
  if (isRecord(out.additionalProperties)) out.additionalProperties = completeDefaults(out.additionalProperties);
  if (out.default !== undefined) out.default = withNestedDefaults(out, out.default);
  return out;
}

function withNestedDefaults(schema: Json, value: unknown): unknown {
  if (Array.isArray(value)) return isRecord(schema.items) ? value.map((v) => withNestedDefaults(schema.items as Json, v)) : value;
  if (!isRecord(value) || !isRecord(schema.properties)) return value;
  const out: Json = { ...value };
  for (const [key, prop] of Object.entries(schema.properties)) {
    if (!isRecord(prop)) continue;
    if (out[key] === undefined && prop.default !== undefined) out[key] = prop.default;
    if (out[key] !== undefined) out[key] = withNestedDefaults(prop, out[key]);
  }
  return out;
}

// Key order of every node in the output, so generated YAML reads the same way everywhere and diffs stay small.
const KEY_ORDER: readonly string[] = [
  'description',
  'type',
  'format',
  'enum',
  'default',
  'nullable',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'title',
  'example',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-map-type',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'items',
  'properties',
  'additionalProperties',
  'required',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'x-kubernetes-validations',
];

function canonicalOrder(n: Json): Json {
  const out: Json = {};
  const keys = Object.keys(n).sort((a, b) => KEY_ORDER.indexOf(a) - KEY_ORDER.indexOf(b));
  for (const key of keys) {
    const v = n[key];
    if ((key === 'items' || key === 'not' || key === 'additionalProperties') && isRecord(v)) out[key] = canonicalOrder(v);
    else if (key === 'properties' && isRecord(v)) {
      out[key] = Object.fromEntries(Object.entries(v).map(([k, child]) => [k, isRecord(child) ? canonicalOrder(child) : child]));
    } else if ((key === 'allOf' || key === 'anyOf' || key === 'oneOf') && Array.isArray(v)) {
      out[key] = v.map((item) => (isRecord(item) ? canonicalOrder(item) : item));
    } else out[key] = v;
  }
  return out;
}

function convert(input: Json, path: string, defs: Json, refStack: readonly string[]): Json {
  let n: Json = { ...input };
  if (n.$ref !== undefined) return convert(inlineRef(n, path, defs, refStack), path, defs, [...refStack, String(n.$ref)]);
  for (const k of ['$schema', '$id', 'id', '$defs', 'definitions']) delete n[k];
  if (Array.isArray(n.examples)) {
    if (n.examples.length > 0 && n.example === undefined) n.example = n.examples[0];
    delete n.examples;
  }
  for (const key of Object.keys(n)) {
    if (!ALLOWED_KEYS.has(key)) throw new CrdSchemaError(path, `unsupported JSON Schema keyword "${key}"`);
  }

  if ((n.anyOf !== undefined || n.oneOf !== undefined) && !isIntOrStringPattern(n)) n = collapseUnion(n, path);
  if (n['x-kubernetes-int-or-string'] === true) delete n.type;
  if (n.allOf !== undefined) n.allOf = asArray(n.allOf, path, 'allOf').map((item) => valueValidation(item, n.type, path));
  if (n.not !== undefined) throw new CrdSchemaError(path, '"not" is not supported in generated CRDs');

  const untyped = n.type === undefined && n['x-kubernetes-int-or-string'] !== true && n['x-kubernetes-preserve-unknown-fields'] !== true;
  if (untyped) {
    if (n.properties !== undefined || n.additionalProperties !== undefined) n.type = 'object';
    else n['x-kubernetes-preserve-unknown-fields'] = true; // z.unknown()/z.any(): anything, kept as sent
  }

  switch (n.type) {
    case 'object':
      return convertObject(n, path, defs, refStack);
    case 'array': {
      if (!isRecord(n.items)) throw new CrdSchemaError(path, 'arrays need one items schema (tuples are not structural)');
      n.items = convert(n.items, `${path}[]`, defs, refStack);
      return n;
    }
    case 'integer':
      return convertInteger(n);
    case 'string':
      return convertString(n, path);
    case 'number':
    case 'boolean':
    case undefined:
      return n;
    default:
      throw new CrdSchemaError(path, `unsupported type ${JSON.stringify(n.type)}`);
  }
}

// Already in the canonical int-or-string form (x-kubernetes-int-or-string with anyOf integer|string and nothing else).
function isIntOrStringPattern(n: Json): boolean {
  return (
    n['x-kubernetes-int-or-string'] === true &&
    JSON.stringify(n.anyOf) === JSON.stringify([{ type: 'integer' }, { type: 'string' }]) &&
    n.oneOf === undefined
  );
}

function inlineRef(n: Json, path: string, defs: Json, refStack: readonly string[]): Json {
  const ref = String(n.$ref);
  if (refStack.includes(ref)) throw new CrdSchemaError(path, `recursive schema (${ref}): CRDs cannot express recursion`);
  const m = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
  const target = m?.[1] === undefined ? undefined : defs[m[1]];
  if (!isRecord(target)) throw new CrdSchemaError(path, `cannot inline $ref ${ref}: CRDs forbid $ref`);
  const { $ref: _, ...rest } = n;
  return { ...target, ...rest };
}

function asArray(v: unknown, path: string, what: string): Json[] {
  if (!Array.isArray(v) || !v.every(isRecord)) throw new CrdSchemaError(path, `${what} must be a list of schemas`);
  return v;
}

function convertObject(n: Json, path: string, defs: Json, refStack: readonly string[]): Json {
  const ap = n.additionalProperties;
  if (ap === false) {
    delete n.additionalProperties; // pruning already closes CRD objects; false is forbidden next to properties
  } else if (ap === true || (isRecord(ap) && Object.keys(ap).length === 0)) {
    delete n.additionalProperties; // looseObject / record of unknown: keep unknown fields
    n['x-kubernetes-preserve-unknown-fields'] = true;
  } else if (isRecord(ap)) {
    if (n.properties !== undefined) {
      throw new CrdSchemaError(path, 'an object cannot have both properties and typed additionalProperties in a CRD');
    }
    n.additionalProperties = convert(ap, `${path}.*`, defs, refStack);
  }
  if (n.properties !== undefined) {
    if (!isRecord(n.properties)) throw new CrdSchemaError(path, 'properties must be an object');
    const props: Json = {};
    for (const [key, child] of Object.entries(n.properties)) {
      if (!isRecord(child)) throw new CrdSchemaError(`${path}.${key}`, 'schema must be an object');
      props[key] = convert(child, path === '' ? key : `${path}.${key}`, defs, refStack);
    }
    n.properties = props;
  }
  if (Array.isArray(n.required) && n.required.length === 0) delete n.required;
  return n;
}

function convertInteger(n: Json): Json {
  if (typeof n.minimum === 'number' && SENTINEL_BOUNDS.has(n.minimum)) delete n.minimum;
  if (typeof n.maximum === 'number' && SENTINEL_BOUNDS.has(n.maximum)) delete n.maximum;
  if (n.format === undefined) n.format = 'int64';
  return n;
}

function convertString(n: Json, path: string): Json {
  if (n.format !== undefined) {
    if (typeof n.format !== 'string' || !KUBERNETES_FORMATS.has(n.format)) {
      throw new CrdSchemaError(path, `format ${JSON.stringify(n.format)} is not a format the API server knows`);
    }
    delete n.pattern; // zod's JS regex for the format; the API server checks the format itself
  }
  if (n.pattern !== undefined) assertRe2(n.pattern, path);
  return n;
}

// A union that a structural schema can hold: int-or-string, a union of literals (one enum), or objects (one object
// holding every branch's properties; which combinations are valid must then be said by CEL on the zod schema).
function collapseUnion(n: Json, path: string): Json {
  if (n.anyOf !== undefined && n.oneOf !== undefined) throw new CrdSchemaError(path, 'anyOf and oneOf on one node are not supported');
  const { anyOf, oneOf, ...rest } = n;
  let branches = asArray(anyOf ?? oneOf, path, 'union');
  const isNull = (b: Json) => b.type === 'null' || (Array.isArray(b.enum) && b.enum.length === 1 && b.enum[0] === null);
  if (branches.some(isNull)) {
    branches = branches.filter((b) => !isNull(b));
    rest.nullable = true;
  }
  if (branches.length === 1 && branches[0] !== undefined) return { ...branches[0], ...rest };
  const types = branches.map((b) => b.type);

  if (branches.length === 2 && types.includes('integer') && types.includes('string')) {
    for (const b of branches) {
      const extra = Object.entries(b).filter(
        ([k, v]) =>
          k !== 'type' && k !== 'format' && !((k === 'minimum' || k === 'maximum') && typeof v === 'number' && SENTINEL_BOUNDS.has(v)),
      );
      if (extra.length > 0) {
        throw new CrdSchemaError(
          path,
          `int-or-string branches cannot carry validations (${extra.map(([k]) => k).join(', ')}); express them as x-kubernetes-validations`,
        );
      }
    }
    // The one junctor pattern structural schemas allow with types in it; kubectl explain shows <IntOrString> for it.
    const { type: _, ...others } = rest;
    return { ...others, 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] };
  }

  const first = types[0];
  if (typeof first === 'string' && first !== 'object' && types.every((t) => t === first) && branches.every((b) => Array.isArray(b.enum))) {
    for (const b of branches) {
      const extra = Object.keys(b).filter((k) => k !== 'type' && k !== 'enum' && k !== 'description');
      if (extra.length > 0) throw new CrdSchemaError(path, `union of literals with extra keywords (${extra.join(', ')}) is not supported`);
    }
    const values = branches.flatMap((b) => b.enum as unknown[]);
    return { ...rest, type: first, enum: values.filter((v, i) => values.indexOf(v) === i) };
  }

  if (types.every((t) => t === 'object')) return flattenObjects(branches, rest, path);
  throw new CrdSchemaError(path, `unsupported union of ${types.map((t) => String(t ?? 'untyped')).join(' | ')}`);
}

function flattenObjects(branches: Json[], rest: Json, path: string): Json {
  const properties: Json = {};
  let required: string[] | undefined;
  for (const b of branches) {
    if (b['x-kubernetes-validations'] !== undefined) {
      throw new CrdSchemaError(path, 'validation rules on a union branch would apply to every branch; put them on the union');
    }
    if (b.additionalProperties !== undefined && b.additionalProperties !== false) {
      throw new CrdSchemaError(path, 'union branches with additionalProperties are not supported');
    }
    const props = isRecord(b.properties) ? b.properties : {};
    for (const [key, schema] of Object.entries(props)) {
      if (!isRecord(schema)) throw new CrdSchemaError(`${path}.${key}`, 'schema must be an object');
      const seen = properties[key];
      properties[key] = seen === undefined ? schema : mergeBranchProperty(seen as Json, schema, `${path}.${key}`);
    }
    const req = Array.isArray(b.required) ? b.required.map(String) : [];
    required = required === undefined ? req : required.filter((r) => req.includes(r));
  }
  const out: Json = { ...rest, type: 'object', properties };
  if (required !== undefined && required.length > 0) out.required = required;
  return out;
}

// The same property in two union branches: identical, or the discriminator (same type, different enum values).
function mergeBranchProperty(a: Json, b: Json, path: string): Json {
  if (JSON.stringify(a) === JSON.stringify(b)) return a;
  const { enum: ea, ...ra } = a;
  const { enum: eb, ...rb } = b;
  if (Array.isArray(ea) && Array.isArray(eb) && JSON.stringify(ra) === JSON.stringify(rb)) {
    const values = [...ea, ...eb];
    return { ...ra, enum: values.filter((v, i) => values.indexOf(v) === i) };
  }
  throw new CrdSchemaError(path, 'union branches declare this property differently; a flattened CRD object cannot hold both');
}

function valueValidation(item: Json, parentType: unknown, path: string): Json {
  const out: Json = { ...item };
  if (out.type !== undefined) {
    if (out.type !== parentType)
      throw new CrdSchemaError(path, 'intersections of different types (or of objects) are not supported; use .extend()');
    delete out.type;
  }
  for (const key of Object.keys(out)) {
    if (!VALUE_VALIDATION_KEYS.has(key)) throw new CrdSchemaError(path, `"${key}" is not allowed inside allOf of a structural schema`);
  }
  if (out.format !== undefined) return convertString(out, path);
  if (out.pattern !== undefined) assertRe2(out.pattern, path);
  return out;
}

/**
 * Throws unless `pattern` uses only syntax shared by JavaScript and Go RE2 (the API server compiles patterns with RE2):
 * no look-around, no back-references, no JS named groups or \c, \u{...} escapes.
 */
export function assertRe2(pattern: unknown, path: string): void {
  if (typeof pattern !== 'string') throw new CrdSchemaError(path, 'pattern must be a string');
  const refuse = (what: string) => {
    throw new CrdSchemaError(path, `pattern ${JSON.stringify(pattern)} uses ${what}, which Go RE2 (the API server) cannot compile`);
  };
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next)) refuse('a back-reference');
      if (next === 'k') refuse('a named back-reference');
      if (next === 'c') refuse('a \\c control escape');
      if (next === 'u' && pattern[i + 2] === '{') refuse('a \\u{...} escape');
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(' && pattern[i + 1] === '?') {
      const a = pattern[i + 2];
      const b = pattern[i + 3];
      if (a === '=' || a === '!') refuse('a look-ahead');
      if (a === '<' && (b === '=' || b === '!')) refuse('a look-behind');
      if (a === '<') refuse('a JavaScript named group (RE2 spells it (?P<name>...))');
    }
  }
}
