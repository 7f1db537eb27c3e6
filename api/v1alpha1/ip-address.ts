// IP address rules for endpoint addresses, written to agree with the API server's CEL IP library (`isIP`, `ip()`,
// `ip.isCanonical`), which follows Go's net/netip: no zones, no IPv4-mapped IPv6, no leading zeros in IPv4 octets, and
// one canonical text form per address (RFC 5952 for IPv6). Agreeing with it matters because the same string is checked
// on both sides and then published in EndpointSlices, where consumers compare addresses as strings.

/** A parsed IP address: family and network-order bytes (4 or 16). */
export interface ParsedIP {
  readonly family: 4 | 6;
  readonly bytes: readonly number[];
}

const IPV4 =
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function parseIPv4(s: string): number[] | undefined {
  const m = IPV4.exec(s);
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
}

function parseGroups(part: string): number[] | undefined {
  if (part === '') return [];
  const out: number[] = [];
  const groups = part.split(':');
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] ?? '';
    if (i === groups.length - 1 && g.includes('.')) {
      const v4 = parseIPv4(g);
      if (v4 === undefined) return undefined;
      out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    } else {
      if (!HEX_GROUP.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
  }
  return out;
}

function parseIPv6(s: string): number[] | undefined {
  if (s.includes('%')) return undefined; // zones are never valid in an endpoint
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0] ?? '');
    const tail = parseGroups(halves[1] ?? '');
    if (head === undefined || tail === undefined) return undefined;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    const all = parseGroups(s);
    if (all === undefined || all.length !== 8) return undefined;
    groups = all;
  }
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** Parses an IPv4 or IPv6 address the way the API server's CEL `ip()` does; undefined when it would be rejected. */
export function parseIP(s: string): ParsedIP | undefined {
  if (s.includes(':')) {
    const bytes = parseIPv6(s);
    if (bytes === undefined) return undefined;
    const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
    return mapped ? undefined : { family: 6, bytes };
  }
  const bytes = parseIPv4(s);
  return bytes === undefined ? undefined : { family: 4, bytes };
}

/** The canonical text form of a parsed address: dotted quad, or RFC 5952 (lowercase, longest zero run as `::`). */
export function formatIP(ip: ParsedIP): string {
  if (ip.family === 4) return ip.bytes.join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip.bytes[i] ?? 0) << 8) | (ip.bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 1; // a single zero group is written out, never compressed
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** True when `s` is an address the API server's CEL `isIP` accepts. */
export function isIP(s: string): boolean {
  return parseIP(s) !== undefined;
}

/** True when `s` is a valid address already in its canonical form (CEL `ip.isCanonical`). False for invalid input. */
export function isCanonicalIP(s: string): boolean {
  const ip = parseIP(s);
  return ip !== undefined && formatIP(ip) === s;
}

/**
 * True for the addresses the API server refuses in Endpoints and EndpointSlices: unspecified, loopback, link-local
 * unicast and link-local multicast (so also the cloud metadata address 169.254.169.254). False for invalid input.
 */
export function isSpecialEndpointIP(s: string): boolean {
  const ip = parseIP(s);
  if (ip === undefined) return false;
  const b = ip.bytes;
  if (ip.family === 4) {
    const [o0 = 0, o1 = 0, o2 = 0] = b;
    const unspecified = b.every((x) => x === 0);
    const linkLocalMulticast = o0 === 224 && o1 === 0 && o2 === 0; // 224.0.0.0/24
    return unspecified || o0 === 127 || (o0 === 169 && o1 === 254) || linkLocalMulticast;
  }
  const allZeroTo15 = b.slice(0, 15).every((x) => x === 0);
  const unspecified = allZeroTo15 && b[15] === 0;
  const loopback = allZeroTo15 && b[15] === 1;
  const linkLocalUnicast = b[0] === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80;
  const linkLocalMulticast = b[0] === 0xff && ((b[1] ?? 0) & 0x0f) === 0x02;
  return unspecified || loopback || linkLocalUnicast || linkLocalMulticast;
}
