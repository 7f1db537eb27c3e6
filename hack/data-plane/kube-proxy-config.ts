import { stringify } from 'yaml';

// The KubeProxyConfiguration each simulated Node's kube-proxy runs with. Fields as in
// pkg/proxy/apis/config/v1alpha1 (KubeProxyConfiguration); the choices that differ from the defaults are the ones a
// kube-proxy inside a network namespace needs.

/** The proxy modes this machine supports (IPVS needs a kernel module the test machines lack). */
export type ProxyMode = 'nftables' | 'iptables';

/** Inputs of {@link renderKubeProxyConfig}. */
export interface KubeProxyConfigInput {
  readonly mode: ProxyMode;
  /** The Node name, as registered in the API (kube-proxy reads that Node's addresses and its own endpoints by it). */
  readonly nodeName: string;
  readonly kubeconfigPath: string;
  /** Pod addresses of the whole cluster: traffic from outside it to a Service is masqueraded. */
  readonly clusterCidr: string;
}

/** Renders the configuration file. Pure. */
export function renderKubeProxyConfig(input: KubeProxyConfigInput): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: input.mode,
    clientConnection: { kubeconfig: input.kubeconfigPath },
    hostnameOverride: input.nodeName,
    clusterCIDR: input.clusterCidr,
    detectLocalMode: 'ClusterCIDR',
    bindAddress: '0.0.0.0',
    // Loopback of the Node's own namespace: each kube-proxy has its own.
    metricsBindAddress: '127.0.0.1:10249',
    healthzBindAddress: '127.0.0.1:10256',
    // NodePorts on the Node's primary address (its InternalIP), which also silences iptables mode's warning.
    nodePortAddresses: ['primary'],
    // A network namespace may not set net.netfilter.nf_conntrack_max: 0 leaves it alone (cmd/kube-proxy/app/
    // conntrack.go: realConntracker.SetMax is skipped when the computed maximum is 0).
    conntrack: { maxPerCore: 0, min: 0 },
    // Rules follow changes within a second (the default minSyncPeriod is 1 s; the periodic resync is not needed).
    iptables: { minSyncPeriod: '1s', syncPeriod: '30s' },
    nftables: { minSyncPeriod: '1s', syncPeriod: '30s' },
  });
}
