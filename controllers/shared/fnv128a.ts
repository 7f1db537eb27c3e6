// FNV-1a, 128-bit: the hash upstream's DeepHashObject uses since v1.35 (it was MD5 before). Needed to reproduce the
// order upstream gives ports and subsets, which it sorts by the hex digest of a go-spew dump.

const PRIME = (1n << 88n) + 0x13bn;
const OFFSET = 0x6c62272e07bb014262b821756295c58dn;
const MASK = (1n << 128n) - 1n;

/** Hex digest (32 chars, lowercase) of FNV-1a-128 over the UTF-8 bytes of `s`. */
export function fnv128aHex(s: string): string {
  let h = OFFSET;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= BigInt(b);
    h = (h * PRIME) & MASK;
  }
  return h.toString(16).padStart(32, '0');
}
