import type { GoValue } from './go-value.ts';

// Upstream orders Endpoints ports and subsets, and EndpointSlice port lists, by the FNV-1a-128 digest of a go-spew
// `%#v` dump (k8s.io/utils dump/dump.go: ForHash; k8s.io/endpointslice util/controller_utils.go: deepHashObject).
// Reproducing those orders byte for byte needs the dump itself. This reproduces spew's Formatter for the value kinds
// GoValue models, including its `ignoreNextType` state: types are printed for top-level values and struct fields, not
// for slice elements nor for values reached through a pointer whose type was already printed. Checked against go-spew
// 1.1.2-0.20180830191138 (the version Kubernetes pins) in go-spew.test.ts.

class SpewFormatter {
  #out = '';
  #ignoreNextType = false;

  format(v: GoValue): string {
    this.#value(v);
    return this.#out;
  }

  #value(v: GoValue): void {
    if (v.kind === 'pointer') {
      this.#pointer(v);
      return;
    }
    if (!this.#ignoreNextType) this.#out += `(${v.type})`;
    this.#ignoreNextType = false;
    switch (v.kind) {
      case 'string':
        this.#out += v.value;
        return;
      case 'int':
        this.#out += String(v.value);
        return;
      case 'bool':
        this.#out += v.value ? 'true' : 'false';
        return;
      case 'slice':
        if (v.value === null) {
          this.#out += '<nil>';
          return;
        }
        this.#out += '[';
        v.value.forEach((elem, i) => {
          if (i > 0) this.#out += ' ';
          this.#ignoreNextType = true;
          this.#value(elem);
        });
        this.#out += ']';
        return;
      case 'struct':
        this.#out += '{';
        v.fields.forEach(([name, field], i) => {
          if (i > 0) this.#out += ' ';
          this.#out += `${name}:`;
          this.#value(field);
        });
        this.#out += '}';
        return;
      default: {
        const exhaustive: never = v;
        throw new Error(`unexpected Go value ${JSON.stringify(exhaustive)}`);
      }
    }
  }

  #pointer(v: Extract<GoValue, { kind: 'pointer' }>): void {
    if (v.value === null && this.#ignoreNextType) {
      this.#out += '<nil>';
      return;
    }
    this.#out += this.#ignoreNextType ? '<*>' : `(*${v.elemType})`;
    if (v.value === null) {
      this.#out += '<nil>';
      return;
    }
    this.#ignoreNextType = true;
    this.#value(v.value);
  }
}

/** The go-spew `%#v` dump of `value` with upstream's ForHash settings (sorted keys, no methods, no addresses). */
export function spewForHash(value: GoValue): string {
  return new SpewFormatter().format(value);
}

/** Upstream's DeepHashObject digest as hex: FNV-1a-128 of {@link spewForHash}. Compare digests as strings. */
export function deepHashObject(value: GoValue): string {
  return fnv128aHexFast(spewForHash(value));
}

// FNV-1a-128 on eight 16-bit limbs (least significant first), equal to fnv128aHex but about 20 times faster: the
// dump of a subset with a thousand addresses is some 300 KB, and BigInt arithmetic per byte made sorting such
// subsets take a tenth of a second. The prime is 2^88 + 0x13b, so h·p = h·0x13b + (h << 88) mod 2^128.
const OFFSET_LIMBS = [0xc58d, 0x6295, 0x2175, 0x62b8, 0x0142, 0x07bb, 0x272e, 0x6c62];

/** FNV-1a-128 of the UTF-8 bytes of `s`, as lowercase hex; same result as fnv128a.ts's fnv128aHex. */
export function fnv128aHexFast(s: string): string {
  let [h0, h1, h2, h3, h4, h5, h6, h7] = OFFSET_LIMBS as [number, number, number, number, number, number, number, number];
  const bytes = Buffer.from(s, 'utf8');
  for (let k = 0; k < bytes.length; k++) {
    h0 ^= bytes[k] as number;
    // Each product limb is below 2^26, so plain float arithmetic stays exact; `>>> 16` takes the carry.
    let v = h0 * 0x13b;
    const r0 = v & 0xffff;
    v = h1 * 0x13b + (v >>> 16);
    const r1 = v & 0xffff;
    v = h2 * 0x13b + (v >>> 16);
    const r2 = v & 0xffff;
    v = h3 * 0x13b + (v >>> 16);
    const r3 = v & 0xffff;
    v = h4 * 0x13b + (v >>> 16);
    const r4 = v & 0xffff;
    // The (h << 88) term lands on limbs 5..7: 88 = 5·16 + 8.
    v = h5 * 0x13b + (v >>> 16) + ((h0 << 8) & 0xffff);
    const r5 = v & 0xffff;
    v = h6 * 0x13b + (v >>> 16) + ((h1 << 8) & 0xffff) + (h0 >>> 8);
    const r6 = v & 0xffff;
    v = h7 * 0x13b + (v >>> 16) + ((h2 << 8) & 0xffff) + (h1 >>> 8);
    h7 = v & 0xffff;
    h0 = r0;
    h1 = r1;
    h2 = r2;
    h3 = r3;
    h4 = r4;
    h5 = r5;
    h6 = r6;
  }
  return [h7, h6, h5, h4, h3, h2, h1, h0].map((x) => x.toString(16).padStart(4, '0')).join('');
}
