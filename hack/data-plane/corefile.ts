// The Corefile of the data plane's cluster DNS: the kubernetes plugin answers for the cluster domain and reverse
// zones from Services, EndpointSlices and Pods (as kubeadm's default Corefile, cmd/kubeadm/app/phases/addons/dns/
// manifests.go: CoreDNSConfigMap, without the upstream forward: names outside the cluster get NXDOMAIN/SERVFAIL, so
// no query ever leaves the test namespaces unless `upstream` names a server the caller created).

/** Inputs of {@link renderCorefile}. */
export interface CorefileInput {
  readonly clusterDomain: string;
  readonly kubeconfigPath: string;
  /** `host:port` of a DNS server for every other name (forward plugin). Default: none. */
  readonly upstream?: string;
  /** Port of the health (`/health`) and ready (`/ready`) endpoints: health on it, ready on it + 1. */
  readonly healthPort: number;
}

/** Renders the Corefile. Pure. */
export function renderCorefile(input: CorefileInput): string {
  const forward = input.upstream === undefined ? '' : `    forward . ${input.upstream}\n`;
  return [
    '.:53 {',
    '    errors',
    `    health 127.0.0.1:${input.healthPort}`,
    `    ready 127.0.0.1:${input.healthPort + 1}`,
    `    kubernetes ${input.clusterDomain} in-addr.arpa ip6.arpa {`,
    `        kubeconfig ${input.kubeconfigPath}`,
    '        pods insecure',
    '        fallthrough in-addr.arpa ip6.arpa',
    '        ttl 5',
    '    }',
    forward.trimEnd(),
    '    cache 5',
    '    loadbalance',
    '    log',
    '}',
    '',
  ]
    .filter((line) => line !== '')
    .join('\n')
    .concat('\n');
}
