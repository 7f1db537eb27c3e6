import type { Flags } from './flags.ts';

// Opt-in: make the API server reachable from Pods through the `kubernetes` Service (docs/data-plane.md, "The API
// server as a Service"). By default the API server advertises 127.0.0.1 and runs no endpoint reconciler, so the
// `kubernetes` Service has no endpoints (loopback addresses are not valid endpoints) and parity runs see no object
// they did not create. With an advertise address that some network can carry (the data plane relays it to the API
// server), kube-apiserver's lease reconciler writes the `kubernetes` Endpoints and EndpointSlice itself
// (pkg/controlplane/reconcilers/lease.go: leaseEndpointReconciler.ReconcileEndpoints), and the serving certificate
// also names the Service's ClusterIP and DNS names, as kubeadm's does (cmd/kubeadm/app/util/pkiutil/pki_helpers.go:
// GetAPIServerAltNames).

/** The Service port of `default/kubernetes` (pkg/controlplane/controller/kubernetesservice: 443). */
export const KUBERNETES_SERVICE_PORT = 443;
/** The default Service range (as envtest). */
export const DEFAULT_SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/24';

/** What {@link inClusterApiSettings} derives. */
export interface InClusterApiSettings {
  /** kube-apiserver flags (overridable by the caller's own flags). */
  readonly flags: Flags;
  /** Extra SANs of the serving certificate. */
  readonly servingNames: { readonly ips: readonly string[]; readonly dns: readonly string[] };
  /** The `kubernetes` Service address Pods use. */
  readonly clusterIP: string;
}

/**
 * The first address of the (first, IPv4) Service range: the `kubernetes` ClusterIP (pkg/controlplane/services.go:
 * ServiceIPRange). `range` is --service-cluster-ip-range, one CIDR or a dual-stack pair. Pure.
 */
export function firstServiceIp(ranges: string): string {
  const range = ranges.split(',')[0]?.trim() ?? '';
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(range);
  const octets = m === null ? [] : m.slice(1, 5).map(Number);
  const prefix = Number(m?.[5]);
  if (m === null || octets.some((o) => o > 255) || prefix > 30)
    throw new Error(`service range ${range} must be an IPv4 CIDR of at most /30`);
  const size = 2 ** (32 - prefix);
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const first = Math.floor(value / size) * size + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(first / 2 ** shift) % 256).join('.');
}

/**
 * Flags and certificate names for an API server that Pods reach through the `kubernetes` Service at
 * `advertiseAddress` (not loopback: the Endpoints API rejects loopback addresses). Pure.
 */
export function inClusterApiSettings(advertiseAddress: string, serviceRange = DEFAULT_SERVICE_CLUSTER_IP_RANGE): InClusterApiSettings {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(advertiseAddress) || advertiseAddress.startsWith('127.'))
    throw new Error(`advertise address ${advertiseAddress} must be a non-loopback IPv4 address`);
  const clusterIP = firstServiceIp(serviceRange);
  return {
    flags: { 'advertise-address': advertiseAddress, 'endpoint-reconciler-type': 'lease' },
    servingNames: {
      ips: [clusterIP],
      dns: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    },
    clusterIP,
  };
}
