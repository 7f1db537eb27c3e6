import { formatIP, parseIP } from '../../../api/v1alpha1/ip-address.ts';

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

// Text forms as the API server's IP library reads and writes them (api/v1alpha1/ip-address.ts), as one number.
function parseIPv4(s: string): bigint | undefined {
  const ip = parseIP(s);
  return ip?.family === 4 ? toBigInt(ip.bytes) : undefined;
}

function parseIPv6(s: string): bigint | undefined {
  const ip = parseIP(s);
  return ip?.family === 6 ? toBigInt(ip.bytes) : undefined;
}

const toBigInt = (bytes: readonly number[]): bigint => bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
const toBytes = (v: bigint, length: number): number[] =>
  Array.from({ length }, (_, i) => Number((v >> BigInt((length - 1 - i) * 8)) & 0xffn));

function formatIPv4(v: bigint): string {
  return formatIP({ family: 4, bytes: toBytes(v, 4) });
}

function formatIPv6(v: bigint): string {
  return formatIP({ family: 6, bytes: toBytes(v, 16) });
}
