import { type JSONSchemaProps, type JsonValue, SCHEMA_TYPES } from './json-schema-props.ts';

// An offline check of the rules the API server applies to a CRD's schema (apiextensions "structural schema" rules plus
// the defaulting and list-type rules), so that a generator change is caught by unit tests, not first by kubectl.
// It is deliberately stricter than needed where that costs nothing (every field described, no $ref anywhere).

/** Options of {@link structuralViolations}. */
export interface StructuralCheckOptions {
  /** Require a description on every property (they are what `kubectl explain` shows). Default false. */
  readonly requireDescriptions?: boolean;
}

const JUNCTORS = ['allOf', 'anyOf', 'oneOf', 'not'] as const;
// Keys structural schemas forbid inside junctors (the int-or-string anyOf pattern aside).
const FORBIDDEN_IN_JUNCTORS = [
  'type',
  'description',
  'default',
  'additionalProperties',
  'nullable',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
] as const;
const FORBIDDEN_ANYWHERE = ['$ref', '$schema', 'id', 'definitions', 'patternProperties', 'additionalItems', 'dependencies'];

/** Returns one readable line per violation (`spec.ports[].name: ...`); empty when the schema is structural. Pure. */
export function structuralViolations(schema: JSONSchemaProps, options: StructuralCheckOptions = {}): string[] {
  const out: string[] = [];
  walk(schema, '', out, options, { root: true, inJunctor: false, property: false });
  return out;
}

interface Where {
  readonly root: boolean;
  readonly inJunctor: boolean;
  readonly property: boolean;
}

const at = (path: string) => (path === '' ? '<root>' : path);

function walk(s: JSONSchemaProps, path: string, out: string[], options: StructuralCheckOptions, where: Where): void {
  const raw = s as Record<string, unknown>;
  for (const key of FORBIDDEN_ANYWHERE) if (key in raw) out.push(`${at(path)}: "${key}" is not allowed in a CRD schema`);
  if (s.type !== undefined && !SCHEMA_TYPES.has(s.type)) out.push(`${at(path)}: unknown type ${JSON.stringify(s.type)}`);
  if ((raw.uniqueItems as unknown) === true) out.push(`${at(path)}: uniqueItems: true is not allowed (use x-kubernetes-list-type: set)`);

  if (where.inJunctor) {
    const intOrStringPattern = s.type === 'integer' || s.type === 'string';
    for (const key of FORBIDDEN_IN_JUNCTORS) {
      if (key === 'type' && intOrStringPattern) continue;
      if (key in raw) out.push(`${at(path)}: "${key}" is not allowed inside allOf/anyOf/oneOf/not`);
    }
  } else {
    const exempt = s['x-kubernetes-int-or-string'] === true || s['x-kubernetes-preserve-unknown-fields'] === true;
    if (s.type === undefined && !exempt)
      out.push(`${at(path)}: must have a type (or x-kubernetes-int-or-string / preserve-unknown-fields)`);
    if (where.root && s.type !== 'object') out.push(`<root>: must be of type object`);
    if (where.property && options.requireDescriptions === true && (s.description ?? '').trim() === '') {
      out.push(`${at(path)}: has no description (kubectl explain would show nothing)`);
    }
    if (s['x-kubernetes-int-or-string'] === true && s.type !== undefined) out.push(`${at(path)}: int-or-string must not have a type`);
  }

  if (s.additionalProperties !== undefined) {
    if (typeof s.additionalProperties === 'boolean') out.push(`${at(path)}: additionalProperties must be a schema, not a boolean`);
    if (s.properties !== undefined) out.push(`${at(path)}: properties and additionalProperties are mutually exclusive`);
  }
  if (s.items !== undefined && Array.isArray(s.items)) out.push(`${at(path)}: items must be one schema (tuples are not structural)`);
  if (s.type === 'array' && s.items === undefined && !where.inJunctor) out.push(`${at(path)}: an array needs items`);

  checkListType(s, path, out);
  if (!where.inJunctor) checkRequired(s, path, out); // inside a junctor, required names the outer properties
  if (s.default !== undefined && !where.inJunctor) {
    for (const v of valueViolations(s, s.default, path)) out.push(`default: ${v}`);
    for (const v of incompleteDefault(s, s.default, path)) out.push(v);
  }
  for (const v of s['x-kubernetes-validations'] ?? []) {
    if (typeof v.rule !== 'string' || v.rule.trim() === '') out.push(`${at(path)}: x-kubernetes-validations entry without a rule`);
  }

  for (const [key, child] of Object.entries(s.properties ?? {})) {
    walk(child, path === '' ? key : `${path}.${key}`, out, options, { root: false, inJunctor: where.inJunctor, property: true });
  }
  if (s.items !== undefined && !Array.isArray(s.items))
    walk(s.items, `${path}[]`, out, options, { ...where, root: false, property: false });
  if (typeof s.additionalProperties === 'object') {
    walk(s.additionalProperties, `${path}.*`, out, options, { ...where, root: false, property: false });
  }
  for (const j of JUNCTORS) {
    const value = s[j];
    if (value === undefined) continue;
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      walk(item, `${path}(${j})`, out, options, { root: false, inJunctor: true, property: false });
      for (const key of Object.keys(item.properties ?? {})) {
        if (s.properties?.[key] === undefined) out.push(`${at(path)}: property "${key}" inside ${j} is not declared outside it`);
      }
    }
  }
}

function checkListType(s: JSONSchemaProps, path: string, out: string[]): void {
  const listType = s['x-kubernetes-list-type'];
  const keys = s['x-kubernetes-list-map-keys'];
  if (listType !== undefined && s.type !== 'array') out.push(`${at(path)}: x-kubernetes-list-type is only for arrays`);
  if (keys !== undefined && listType !== 'map') out.push(`${at(path)}: x-kubernetes-list-map-keys needs x-kubernetes-list-type: map`);
  if (listType !== 'map') return;
  if (keys === undefined || keys.length === 0) {
    out.push(`${at(path)}: x-kubernetes-list-type: map needs x-kubernetes-list-map-keys`);
    return;
  }
  const item = s.items;
  if (item?.type !== 'object') {
    out.push(`${at(path)}: x-kubernetes-list-type: map needs object items`);
    return;
  }
  for (const key of keys) {
    const prop = item.properties?.[key];
    if (prop === undefined) out.push(`${at(path)}: list-map key "${key}" is not a property of the items`);
    else if (!(item.required ?? []).includes(key) && prop.default === undefined) {
      out.push(`${at(path)}: list-map key "${key}" must be required or have a default`);
    } else if (prop.type !== 'string' && prop.type !== 'integer' && prop.type !== 'boolean') {
      out.push(`${at(path)}: list-map key "${key}" must be a scalar`);
    }
  }
}

function checkRequired(s: JSONSchemaProps, path: string, out: string[]): void {
  for (const r of s.required ?? []) {
    if (s.properties?.[r] === undefined) out.push(`${at(path)}: required property "${r}" is not declared`);
  }
}

// The API server validates a default (CEL rules too) without applying the defaults nested inside it, so an object
// default must already hold every property that has a default of its own.
function incompleteDefault(s: JSONSchemaProps, v: JsonValue, path: string): string[] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return [];
  const out: string[] = [];
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    const child = v[key];
    if (child === undefined && prop.default !== undefined) {
      out.push(`${at(path)}: default lacks "${key}", which has a default of its own (the API server validates defaults unexpanded)`);
    } else if (child !== undefined) out.push(...incompleteDefault(prop, child, path === '' ? key : `${path}.${key}`));
  }
  return out;
}

function typeOf(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * Checks a value (a default) against a schema node: type, enum, bounds, lengths, pattern, item counts, required and
 * known properties, recursively. Enough to catch a default that the API server would refuse; not full JSON Schema.
 */
export function valueViolations(s: JSONSchemaProps, v: JsonValue, path: string): string[] {
  const out: string[] = [];
  const p = at(path);
  if (v === null) return s.nullable === true ? out : [`${p}: null is not allowed`];
  const t = typeOf(v);
  if (s['x-kubernetes-int-or-string'] === true) {
    if (t !== 'integer' && t !== 'string') out.push(`${p}: ${JSON.stringify(v)} is not an integer or string`);
    return out;
  }
  if (s.type !== undefined && !(s.type === t || (s.type === 'number' && t === 'integer'))) {
    return [`${p}: ${JSON.stringify(v)} is not of type ${s.type}`];
  }
  if (s.enum !== undefined && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v)))
    out.push(`${p}: ${JSON.stringify(v)} is not in enum`);
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) out.push(`${p}: ${v} is below the minimum ${s.minimum}`);
    if (s.maximum !== undefined && v > s.maximum) out.push(`${p}: ${v} is above the maximum ${s.maximum}`);
  }
  if (typeof v === 'string') {
    if (s.minLength !== undefined && v.length < s.minLength) out.push(`${p}: shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && v.length > s.maxLength) out.push(`${p}: longer than ${s.maxLength}`);
    if (s.pattern !== undefined && !new RegExp(s.pattern).test(v)) out.push(`${p}: ${JSON.stringify(v)} does not match ${s.pattern}`);
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) out.push(`${p}: fewer than ${s.minItems} items`);
    if (s.maxItems !== undefined && v.length > s.maxItems) out.push(`${p}: more than ${s.maxItems} items`);
    const items = s.items;
    if (items !== undefined) {
      v.forEach((item, i) => {
        out.push(...valueViolations(items, item, `${path}[${i}]`));
      });
    }
  } else if (typeof v === 'object') {
    for (const r of s.required ?? []) if (!(r in v)) out.push(`${p}: missing required property ${r}`);
    for (const [key, child] of Object.entries(v)) {
      const prop = s.properties?.[key] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      if (prop === undefined) {
        if (s['x-kubernetes-preserve-unknown-fields'] !== true) out.push(`${p}: unknown property ${key}`);
      } else out.push(...valueViolations(prop, child, path === '' ? key : `${path}.${key}`));
    }
  }
  return out;
}
