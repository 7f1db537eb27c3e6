// Address arithmetic on a Node's pod CIDR: enough for the simulated IPAM to hand out host addresses by offset, so a
// dual-stack Pod gets the same host part in both families (10.244.1.7 and fd00:10:244:1::7): easy to read in slices.

/** A parsed CIDR: its family, network address, prefix length and the last offset a Pod may get. */
export interface PodCIDR {
  readonly family: 'IPv4' | 'IPv6';
  readonly base: bigint;
  readonly prefix: number;
  /** Offsets 2..lastOffset are handed out (0 is the network, 1 the node's gateway, IPv4's last the broadcast). */
  readonly lastOffset: number;
}

/** The first offset handed out to a Pod. */
export const FIRST_POD_OFFSET = 2;
// Keeps offsets in safe integer range and the per-node bookkeeping small; a kubelet defaults to 110 Pods anyway.
const MAX_OFFSET = 65_534;

/** Parses `a.b.c.d/n` or an IPv6 CIDR; undefined when malformed or too small to hold one Pod. Pure. */
export function parsePodCIDR(cidr: string): PodCIDR | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0) return undefined;
  const prefixText = cidr.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const address = cidr.slice(0, slash);
  const v4 = parseIPv4(address);
  const family = v4 !== undefined ? 'IPv4' : 'IPv6';
  const value = v4 ?? parseIPv6(address);
  if (value === undefined) return undefined;
  const bits = family === 'IPv4' ? 32 : 128;
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  const base = (value >> hostBits) << hostBits;
  const size = 1n << hostBits;
  const last = family === 'IPv4' ? size - 2n : size - 1n;
  const lastOffset = last > BigInt(MAX_OFFSET) ? MAX_OFFSET : Number(last);
  if (lastOffset < FIRST_POD_OFFSET) return undefined;
  return { family, base, prefix, lastOffset };
}

/** The address at `offset` inside the CIDR, in canonical text form. Pure. */
export function addressAt(cidr: PodCIDR, offset: number): string {
  const value = cidr.base + BigInt(offset);
  return cidr.family === 'IPv4' ? formatIPv4(value) : formatIPv6(value);
}

/** The offset of `ip` inside the CIDR, or undefined when it is outside or of the other family. Pure. */
export function offsetOf(cidr: PodCIDR, ip: string): number | undefined {
  const value = cidr.family === 'IPv4' ? parseIPv4(ip) : parseIPv6(ip);
  if (value === undefined) return undefined;
  const offset = value - cidr.base;
  const hostBits = BigInt((cidr.family === 'IPv4' ? 32 : 128) - cidr.prefix);
  if (offset < 0n || offset >= 1n << hostBits || offset > BigInt(MAX_OFFSET)) return undefined;
  return Number(offset);
}

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseIPv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(s)) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string | undefined): string[] => (h === undefined || h === '' ? [] : h.split(':'));
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...tail];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return all.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

function formatIPv4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((v >> shift) & 0xffn)).join('.');
}

// RFC 5952: lower case, no leading zeros, the longest run (leftmost on ties) of two or more zero groups as `::`.
function formatIPv6(v: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt((7 - i) * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
