import type { ExternalEndpointsSpec } from '../../api/v1alpha1/external-endpoints.ts';
import { parseIP } from '../../api/v1alpha1/ip-address.ts';
import { type AddressPolicy, type AddressVerdict, checkBackendAddress } from './address-policy.ts';
import type { NameResolution } from './dns/resolver.ts';
import { probePortFor } from './probe/probe-spec.ts';

// From the declared backends (IPs and DNS names) to the addresses this object publishes, each checked against the
// endpoint rules and the probe policy. Refused addresses are neither probed nor published: a probe policy that only
// stopped probing would still let a namespace user route cluster traffic (through the Service's ClusterIP) to the
// metadata service or an internal range, so publication follows the same policy.

/** One address to probe and publish, with what its declaration says about it. */
export interface Backend {
  /** Canonical IP: the identity of the backend within its object. */
  readonly address: string;
  readonly family: 4 | 6;
  /** The dnsName it was resolved from; undefined for ip entries. */
  readonly resolvedFrom?: string | undefined;
  readonly hostname?: string | undefined;
  readonly zone?: string | undefined;
  readonly nodeName?: string | undefined;
  readonly maintenance: boolean;
  /** Priority tier (0: primary). */
  readonly tier: number;
  /** Port its health check connects to. */
  readonly probePort: number;
}

/** An address that was refused, and why. */
export interface RefusedBackend {
  readonly address: string;
  readonly resolvedFrom?: string | undefined;
  readonly verdict: Extract<AddressVerdict, { allowed: false }>;
}

/** Every address of an object, in declaration order (a name's addresses in resolver order), each once. */
export interface BackendSet {
  readonly backends: readonly Backend[];
  readonly refused: readonly RefusedBackend[];
  /** dnsNames without any address yet (never resolved, or resolved to nothing). */
  readonly unresolved: readonly string[];
  /** Every address (allowed or refused) in declaration order, for status. */
  readonly order: readonly string[];
}

/**
 * The backends of `spec`, given the current resolution of each dnsName (absent: not resolved yet) and the probe
 * policy. Pure. An address declared twice (directly or through DNS) appears once, as its first declaration says
 * (hostname, zone, maintenance), whether allowed or refused.
 */
export function resolveBackends(
  spec: ExternalEndpointsSpec,
  resolutions: ReadonlyMap<string, NameResolution>,
  policy: AddressPolicy,
): BackendSet {
  const backends: Backend[] = [];
  const refused: RefusedBackend[] = [];
  const unresolved: string[] = [];
  const seen = new Set<string>();
  const order: string[] = [];
  for (const endpoint of spec.endpoints) {
    let addresses: readonly string[];
    if (endpoint.ip !== undefined) {
      addresses = [endpoint.ip];
    } else if (endpoint.dnsName !== undefined) {
      addresses = (resolutions.get(endpoint.dnsName)?.addresses ?? []).map((a) => a.address);
      if (addresses.length === 0 && !unresolved.includes(endpoint.dnsName)) unresolved.push(endpoint.dnsName);
    } else {
      addresses = [];
    }
    for (const address of addresses) {
      if (seen.has(address)) continue;
      seen.add(address);
      order.push(address);
      const verdict = checkBackendAddress(address, policy);
      if (!verdict.allowed) {
        refused.push({ address, resolvedFrom: endpoint.dnsName, verdict });
        continue;
      }
      backends.push({
        address,
        family: parseIP(address)?.family ?? 4,
        resolvedFrom: endpoint.dnsName,
        hostname: endpoint.hostname,
        zone: endpoint.zone,
        nodeName: endpoint.nodeName,
        maintenance: endpoint.maintenance,
        tier: endpoint.tier,
        probePort: probePortFor(spec, endpoint),
      });
    }
  }
  return { backends, refused, unresolved, order };
}
