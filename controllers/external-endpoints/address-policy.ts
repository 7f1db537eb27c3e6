import { formatIP, type ParsedIP, parseIP } from '../../api/v1alpha1/ip-address.ts';

// Every backend address (declared, or resolved from a dnsName) passes through here before it is probed or published.
// Two layers, checked in this order so the reason shown is the most fundamental one:
// 1. EndpointValidation: what the API server refuses in Endpoints/EndpointSlices (upstream ValidateEndpointIP: the
//    unspecified address, loopback, link-local unicast and link-local multicast). Publishing such an address would
//    only fail at write time, after the operator had already probed it.
// 2. ProbePolicy: what this operator refuses to connect to. Namespace users write ExternalEndpoints, so without it
//    they could make the operator (with its network position and credentials-bearing neighbours) scan internal
//    networks or the cloud metadata service. The operator's allow-list bounds what may be probed; the deny-list
//    always wins over it.

/** Why an address was refused. The first six mirror the API server's endpoint rules; the rest are the probe policy. */
export const AddressRefusalReason = {
  InvalidAddress: 'InvalidAddress',
  NonCanonicalAddress: 'NonCanonicalAddress',
  UnspecifiedAddress: 'UnspecifiedAddress',
  LoopbackAddress: 'LoopbackAddress',
  LinkLocalAddress: 'LinkLocalAddress',
  LinkLocalMulticastAddress: 'LinkLocalMulticastAddress',
  NotUnicastAddress: 'NotUnicastAddress',
  DeniedAddress: 'DeniedAddress',
  AddressNotAllowed: 'AddressNotAllowed',
} as const;
export type AddressRefusalReason = (typeof AddressRefusalReason)[keyof typeof AddressRefusalReason];

/** Which layer refused: the API server's endpoint validation, or the operator's probe policy. */
export type AddressRule = 'EndpointValidation' | 'ProbePolicy';

/** The verdict on one address. `message` is a full sentence fit for a status condition or an Event. */
export type AddressVerdict =
  | { readonly allowed: true; readonly address: string }
  | {
      readonly allowed: false;
      readonly address: string;
      readonly rule: AddressRule;
      readonly reason: AddressRefusalReason;
      readonly message: string;
    };

/** A parsed CIDR block; `text` is its canonical form. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly bytes: readonly number[];
  readonly prefixLength: number;
  readonly text: string;
}

/** The operator's probe policy, built once from its flags by {@link newAddressPolicy}. */
export interface AddressPolicy {
  /** Blocks that may be probed. */
  readonly allowed: readonly Cidr[];
  /** Blocks never probed, even when inside an allowed block. */
  readonly denied: readonly Cidr[];
}

/** Default allow-list: everything (the deny-list still applies). */
export const DEFAULT_PROBE_ALLOWED_CIDRS: readonly string[] = Object.freeze(['0.0.0.0/0', '::/0']);

/**
 * Default deny-list: the cloud instance-metadata and platform endpoints (credentials live behind them), plus the
 * link-local ranges (also refused by endpoint validation; listed so the policy stands on its own) and "this network".
 */
export const DEFAULT_PROBE_DENIED_CIDRS: readonly string[] = Object.freeze([
  '0.0.0.0/8', // "this network": connecting there reaches the local host on Linux
  '169.254.0.0/16', // IPv4 link-local, incl. 169.254.169.254 (AWS, GCP, Azure, OpenStack, Oracle metadata)
  '169.254.169.254/32', // the metadata address itself, so it stays denied if the range above is edited away
  'fe80::/10', // IPv6 link-local
  'fd00:ec2::254/128', // AWS instance metadata over IPv6
  'fd20:ce::254/128', // GCP metadata server over IPv6
  '100.100.100.200/32', // Alibaba Cloud metadata
  '168.63.129.16/32', // Azure WireServer / platform DNS
]);

/** A CIDR flag value could not be parsed. */
export class InvalidCidrError extends Error {
  override readonly name = 'InvalidCidrError';
}

const NAT64_PREFIX: Cidr = parseCidr('64:ff9b::/96');

/**
 * Parses a CIDR in the form `address/prefix`. Throws {@link InvalidCidrError} for malformed input and for host bits
 * set beyond the prefix (`10.0.0.1/8` is almost always a typo for a single address or a different block).
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new InvalidCidrError(`"${text}" is not a CIDR (expected address/prefix, e.g. 10.0.0.0/8)`);
  const ip = parseIP(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (ip === undefined) throw new InvalidCidrError(`"${text}" is not a CIDR: "${text.slice(0, slash)}" is not an IP address`);
  const maxBits = ip.family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxBits) {
    throw new InvalidCidrError(`"${text}" is not a CIDR: the prefix length must be 0 to ${maxBits}`);
  }
  const prefixLength = Number(prefixText);
  const masked = maskBytes(ip.bytes, prefixLength);
  if (masked.some((b, i) => b !== ip.bytes[i])) {
    const base = formatIP({ family: ip.family, bytes: masked });
    throw new InvalidCidrError(`"${text}" has bits set beyond its /${prefixLength} prefix (did you mean ${base}/${prefixLength}?)`);
  }
  return { family: ip.family, bytes: masked, prefixLength, text: `${formatIP(ip)}/${prefixLength}` };
}

function maskBytes(bytes: readonly number[], prefixLength: number): number[] {
  return bytes.map((b, i) => {
    const bits = Math.min(8, Math.max(0, prefixLength - i * 8));
    return b & ((0xff << (8 - bits)) & 0xff);
  });
}

/** True when `ip` lies inside `cidr` (same family only). */
export function cidrContains(cidr: Cidr, ip: ParsedIP): boolean {
  if (cidr.family !== ip.family) return false;
  const masked = maskBytes(ip.bytes, cidr.prefixLength);
  return masked.every((b, i) => b === cidr.bytes[i]);
}

/**
 * Builds the probe policy from the operator's flags. `allowedCIDRs` defaults to {@link DEFAULT_PROBE_ALLOWED_CIDRS},
 * `deniedCIDRs` to {@link DEFAULT_PROBE_DENIED_CIDRS}; a given list replaces its default (so a flag that adds entries
 * should include the defaults). Throws {@link InvalidCidrError} for an unparsable entry.
 */
export function newAddressPolicy(options: { allowedCIDRs?: readonly string[]; deniedCIDRs?: readonly string[] } = {}): AddressPolicy {
  const allowed = (options.allowedCIDRs ?? DEFAULT_PROBE_ALLOWED_CIDRS).map(parseCidr);
  const denied = (options.deniedCIDRs ?? DEFAULT_PROBE_DENIED_CIDRS).map(parseCidr);
  return Object.freeze({ allowed: Object.freeze(allowed), denied: Object.freeze(denied) });
}

type EndpointRuleHit = { reason: AddressRefusalReason; what: string };

// The API server's rules, per Go's net.IP predicates (IsUnspecified, IsLoopback, IsLinkLocalUnicast,
// IsLinkLocalMulticast). Global multicast passes them (upstream calls that "probably a bug"); the probe policy
// refuses it separately.
function endpointRuleHit(ip: ParsedIP): EndpointRuleHit | undefined {
  const b = ip.bytes;
  if (ip.family === 4) {
    const [o0 = 0, o1 = 0, o2 = 0] = b;
    if (b.every((x) => x === 0)) return { reason: 'UnspecifiedAddress', what: 'is the unspecified address' };
    if (o0 === 127) return { reason: 'LoopbackAddress', what: 'is in the loopback range (127.0.0.0/8, ::1/128)' };
    if (o0 === 169 && o1 === 254) return { reason: 'LinkLocalAddress', what: 'is in the link-local range (169.254.0.0/16, fe80::/10)' };
    if (o0 === 224 && o1 === 0 && o2 === 0) {
      return { reason: 'LinkLocalMulticastAddress', what: 'is in the link-local multicast range (224.0.0.0/24, ff02::/16)' };
    }
    return undefined;
  }
  const zeroTo15 = b.slice(0, 15).every((x) => x === 0);
  if (zeroTo15 && b[15] === 0) return { reason: 'UnspecifiedAddress', what: 'is the unspecified address' };
  if (zeroTo15 && b[15] === 1) return { reason: 'LoopbackAddress', what: 'is in the loopback range (127.0.0.0/8, ::1/128)' };
  if (b[0] === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80) {
    return { reason: 'LinkLocalAddress', what: 'is in the link-local range (169.254.0.0/16, fe80::/10)' };
  }
  if (b[0] === 0xff && ((b[1] ?? 0) & 0x0f) === 0x02) {
    return { reason: 'LinkLocalMulticastAddress', what: 'is in the link-local multicast range (224.0.0.0/24, ff02::/16)' };
  }
  return undefined;
}

function isUnicast(ip: ParsedIP): boolean {
  const [b0 = 0] = ip.bytes;
  if (ip.family === 6) return b0 !== 0xff;
  const broadcast = ip.bytes.every((x) => x === 255);
  return !broadcast && (b0 & 0xf0) !== 0xe0; // 224.0.0.0/4
}

function refused(address: string, rule: AddressRule, reason: AddressRefusalReason, message: string): AddressVerdict {
  return { allowed: false, address, rule, reason, message };
}

// A NAT64 gateway (64:ff9b::/96) translates to the IPv4 address in the low 32 bits, so the policy must see that too.
function nat64Embedded(ip: ParsedIP): ParsedIP | undefined {
  return cidrContains(NAT64_PREFIX, ip) ? { family: 4, bytes: ip.bytes.slice(12) } : undefined;
}

// The most specific denied block, so the message names the metadata address rather than a wide range around it.
function mostSpecificDenied(ip: ParsedIP, policy: AddressPolicy): Cidr | undefined {
  let best: Cidr | undefined;
  for (const c of policy.denied) if (cidrContains(c, ip) && (best === undefined || c.prefixLength > best.prefixLength)) best = c;
  return best;
}

function policyHit(ip: ParsedIP, policy: AddressPolicy): { reason: AddressRefusalReason; cidr?: Cidr; via?: string } | undefined {
  const denied = mostSpecificDenied(ip, policy);
  if (denied !== undefined) return { reason: 'DeniedAddress', cidr: denied };
  const embedded = nat64Embedded(ip);
  if (embedded !== undefined) {
    const via = formatIP(embedded);
    const deniedEmbedded = mostSpecificDenied(embedded, policy);
    if (deniedEmbedded !== undefined) return { reason: 'DeniedAddress', cidr: deniedEmbedded, via };
    if (endpointRuleHit(embedded) !== undefined || !isUnicast(embedded)) return { reason: 'DeniedAddress', via };
  }
  if (!policy.allowed.some((c) => cidrContains(c, ip))) return { reason: 'AddressNotAllowed' };
  return undefined;
}

/**
 * Decides whether a backend address may be probed and published. Pure. Addresses must be in canonical form, as the
 * CRD requires and as consumers compare them as strings (the DNS resolver canonicalises what it returns).
 */
export function checkBackendAddress(address: string, policy: AddressPolicy): AddressVerdict {
  const ip = parseIP(address);
  if (ip === undefined) {
    return refused(address, 'EndpointValidation', 'InvalidAddress', `"${address}" is not a valid IP address`);
  }
  const canonical = formatIP(ip);
  if (canonical !== address) {
    return refused(address, 'EndpointValidation', 'NonCanonicalAddress', `${address} is not in canonical form; write it as ${canonical}`);
  }
  const hit = endpointRuleHit(ip);
  if (hit !== undefined) {
    return refused(address, 'EndpointValidation', hit.reason, `${address} ${hit.what}, which Kubernetes refuses in endpoints`);
  }
  if (!isUnicast(ip)) {
    return refused(address, 'ProbePolicy', 'NotUnicastAddress', `${address} is a multicast or broadcast address, which cannot be probed`);
  }
  const p = policyHit(ip, policy);
  if (p === undefined) return { allowed: true, address };
  if (p.reason === 'AddressNotAllowed') {
    const list = policy.allowed.map((c) => c.text).join(', ') || 'none';
    return refused(address, 'ProbePolicy', p.reason, `${address} is outside the networks this operator may probe (${list})`);
  }
  const via = p.via === undefined ? '' : ` (it reaches ${p.via} through NAT64)`;
  const block = p.cidr === undefined ? 'a special-purpose range' : p.cidr.text;
  return refused(address, 'ProbePolicy', p.reason, `${address}${via} is in ${block}, which this operator never probes`);
}
