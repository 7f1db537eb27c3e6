// A small model of Go values, enough to reproduce what upstream computes with reflection over its API structs: the
// go-spew dumps it hashes to order ports and subsets (see go-spew.ts) and apimachinery's semantic deep equality.
// Wire-format JSON loses the distinctions those depend on (nil vs empty slice, nil pointer vs pointer to "", field
// order, Go type names), so each controller describes its types once as GoValues and both uses read from that.

/** A Go value with its static type, as reflection would see it. */
export type GoValue =
  /** A string kind; `type` is the Go type name, e.g. `string`, `v1.Protocol`, `types.UID`. */
  | { readonly kind: 'string'; readonly type: string; readonly value: string }
  /** Any integer kind, e.g. `int32`. */
  | { readonly kind: 'int'; readonly type: string; readonly value: number }
  | { readonly kind: 'bool'; readonly type: string; readonly value: boolean }
  /** A single-level pointer; `elemType` is the pointee's type name; `value` null is a nil pointer. */
  | { readonly kind: 'pointer'; readonly elemType: string; readonly value: GoValue | null }
  /** A slice; `type` is e.g. `[]v1.EndpointPort`; `value` null is a nil slice (distinct from an empty one). */
  | { readonly kind: 'slice'; readonly type: string; readonly value: readonly GoValue[] | null }
  /** A struct with its fields in declaration order. */
  | { readonly kind: 'struct'; readonly type: string; readonly fields: readonly (readonly [string, GoValue])[] };

/** A Go `string` (or named string type) from an optional wire field: absent means "". */
export const goString = (value: string | undefined, type = 'string'): GoValue => ({ kind: 'string', type, value: value ?? '' });
/** A Go integer from an optional wire field: absent means 0. */
export const goInt = (value: number | undefined, type = 'int32'): GoValue => ({ kind: 'int', type, value: value ?? 0 });
/** A Go bool from an optional wire field: absent means false. */
export const goBool = (value: boolean | undefined): GoValue => ({ kind: 'bool', type: 'bool', value: value ?? false });
/** A pointer: undefined (absent on the wire) is nil. */
export function goPointer<T>(value: T | undefined, elemType: string, elem: (v: T) => GoValue): GoValue {
  return { kind: 'pointer', elemType, value: value === undefined ? null : elem(value) };
}
/** A slice: undefined (absent on the wire) is nil, `[]` is an empty non-nil slice. */
export function goSlice<T>(value: readonly T[] | undefined, elemType: string, elem: (v: T) => GoValue): GoValue {
  return { kind: 'slice', type: `[]${elemType}`, value: value === undefined ? null : value.map(elem) };
}
export const goStruct = (type: string, fields: readonly (readonly [string, GoValue])[]): GoValue => ({ kind: 'struct', type, fields });

/**
 * apimachinery's semantic deep equality (`equality.Semantic.DeepEqual`) over modelled values: reflect.DeepEqual except
 * that nil and empty slices are equal. `ignoreField(structType, field)` drops fields from the comparison, which is how
 * upstream's custom equalities such as "ObjectReference ignoring resourceVersion" are expressed.
 */
export function semanticDeepEqual(a: GoValue, b: GoValue, ignoreField?: (structType: string, field: string) => boolean): boolean {
  switch (a.kind) {
    case 'string':
    case 'int':
    case 'bool':
      return b.kind === a.kind && b.value === a.value;
    case 'pointer':
      if (b.kind !== 'pointer') return false;
      if (a.value === null || b.value === null) return a.value === b.value;
      return semanticDeepEqual(a.value, b.value, ignoreField);
    case 'slice': {
      if (b.kind !== 'slice') return false;
      const av = a.value ?? [];
      const bv = b.value ?? [];
      return av.length === bv.length && av.every((x, i) => semanticDeepEqual(x, bv[i] as GoValue, ignoreField));
    }
    case 'struct': {
      if (b.kind !== 'struct' || b.type !== a.type || b.fields.length !== a.fields.length) return false;
      return a.fields.every(([name, x], i) => {
        const other = b.fields[i];
        if (other === undefined || other[0] !== name) return false;
        return ignoreField?.(a.type, name) === true || semanticDeepEqual(x, other[1], ignoreField);
      });
    }
    default: {
      const exhaustive: never = a;
      return exhaustive;
    }
  }
}
