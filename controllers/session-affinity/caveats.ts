import type { Service } from '../../api/core/v1.ts';
import { MAX_WARNINGS } from '../../api/v1alpha1/session-affinity-policy.ts';
import type { Affinity } from './affinity.ts';

// Where ClientIP affinity will not do what the policy's author expects, by data plane and provider (each rule is a
// constant or check below). None of these is an error: the affinity is still applied, and the caveat is reported in the
// policy's status so that it is seen before it is discovered in production.

/** Services named in one warning before the rest are counted. */
export const MAX_NAMED_SERVICES = 10;

/** Timeouts above this are cut by OVN-Kubernetes (about 18 hours; it treats 86400 as "no expiry"). */
export const OVN_TIMEOUT_CAP_SECONDS = 64800;
/** Antrea's largest affinity timeout. */
export const ANTREA_TIMEOUT_CAP_SECONDS = 65535;
/** Below this, IPVS's TIME_WAIT (about two minutes) keeps an affinity alive past its timeout. */
export const IPVS_TIME_WAIT_SECONDS = 120;

function names(services: readonly Readonly<Service>[]): string {
  const sorted = services.map((s) => s.metadata.name ?? '').sort();
  const shown = sorted.slice(0, MAX_NAMED_SERVICES).join(', ');
  return sorted.length > MAX_NAMED_SERVICES ? `${shown} (+${sorted.length - MAX_NAMED_SERVICES} more)` : shown;
}

function subject(services: readonly Readonly<Service>[]): string {
  return services.length === 1 ? `Service ${names(services)}` : `Services ${names(services)}`;
}

/**
 * Caveats of `affinity` on the Services a policy applies it to, in a fixed order: the timeout against data-plane
 * limits, then multi-port Services, LoadBalancer Services, and externalTrafficPolicy Local. Empty under None. At most
 * {@link MAX_WARNINGS}; each names at most {@link MAX_NAMED_SERVICES} Services. Pure.
 */
export function affinityWarnings(affinity: Affinity, services: readonly Readonly<Service>[]): readonly string[] {
  if (affinity.sessionAffinity !== 'ClientIP') return [];
  const t = affinity.timeoutSeconds;
  const warnings: string[] = [];
  if (t > OVN_TIMEOUT_CAP_SECONDS) {
    const antrea = t > ANTREA_TIMEOUT_CAP_SECONDS ? `; Antrea supports at most ${ANTREA_TIMEOUT_CAP_SECONDS}` : '';
    warnings.push(
      `timeoutSeconds ${t} is above what some data planes keep: OVN-Kubernetes caps affinity at about 18 hours (${OVN_TIMEOUT_CAP_SECONDS}s) and treats 86400 as no expiry${antrea}`,
    );
  }
  if (t < IPVS_TIME_WAIT_SECONDS) {
    warnings.push(
      `timeoutSeconds ${t} is shorter than TIME_WAIT: under IPVS an affinity lasts while its connections linger (about 2 minutes), so it outlives the timeout`,
    );
  }
  const multiPort = services.filter((s) => (s.spec.ports?.length ?? 0) > 1);
  if (multiPort.length > 0) {
    warnings.push(
      `${subject(multiPort)} ${multiPort.length === 1 ? 'has' : 'have'} several ports: ClientIP affinity is kept per port under iptables, nftables and Cilium (a client can reach different backends on different ports) but per Service under IPVS`,
    );
  }
  const loadBalancers = services.filter((s) => s.spec.type === 'LoadBalancer');
  if (loadBalancers.length > 0) {
    warnings.push(
      `${subject(loadBalancers)} ${loadBalancers.length === 1 ? 'is' : 'are'} type LoadBalancer: some cloud load balancers (AWS ELB and NLB, OCI) refuse ClientIP affinity and then fail to provision or update; check the Service's events`,
    );
  }
  const local = services.filter((s) => s.spec.externalTrafficPolicy === 'Local');
  if (local.length > 0) {
    warnings.push(
      `${subject(local)} ${local.length === 1 ? 'has' : 'have'} externalTrafficPolicy Local: each node keeps its own affinity, so an external client that arrives through different nodes can reach different backends`,
    );
  }
  return warnings.slice(0, MAX_WARNINGS);
}
