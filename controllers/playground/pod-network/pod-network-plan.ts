import type { NetworkPod } from './network-pod.ts';

// The pure half of the pod network: what network namespace (and server) a Pod should have right now.

/** What runs in a Pod's network namespace. */
export type PodProgram = 'server' | 'cluster-dns';

/** The network a Pod should have. Equal values mean nothing to do. */
export interface DesiredPodNetwork {
  readonly uid: string;
  readonly node: string;
  readonly ip: string;
  readonly program: PodProgram;
  /** TCP ports the server answers HTTP on: the declared TCP container ports plus 80 and 8080. */
  readonly httpPorts: readonly number[];
}

/** Ports every simulated container answers on even when it declares none (`kubectl create deployment` declares none). */
export const DEFAULT_HTTP_PORTS: readonly number[] = [80, 8080];

/** The labels that make a kube-system Pod the cluster DNS (kubeadm's CoreDNS Deployment uses k8s-app=kube-dns). */
export const CLUSTER_DNS_LABEL = { key: 'k8s-app', value: 'kube-dns' } as const;

/**
 * A Pod gets a network while it is bound, has an IPv4 address and has not finished (a terminating Pod keeps serving
 * until it is gone, as its containers do during the grace period). Pods whose containers a runtime runs for real
 * (`runsImage` takes every image, as controllers/playground/pod-simulator/pod-workers.ts: PodWorkers.handles) get none here: the
 * runtime puts their sandbox on the network itself (hack/container-runtime/data-plane-network.ts). Pure.
 */
export function desiredPodNetwork(pod: NetworkPod, runsImage: (image: string) => boolean = () => false): DesiredPodNetwork | undefined {
  const runsForReal =
    pod.spec.containers.length > 0 &&
    (pod.spec.initContainers ?? []).length === 0 &&
    pod.spec.containers.every((c) => runsImage(c.image ?? ''));
  if (runsForReal) return undefined;
  const node = pod.spec.nodeName ?? '';
  const ip = (pod.status.podIPs ?? []).map((p) => p.ip).find((a) => /^\d{1,3}(\.\d{1,3}){3}$/.test(a));
  const phase = pod.status.phase ?? 'Pending';
  if (node === '' || ip === undefined || phase === 'Succeeded' || phase === 'Failed') return undefined;
  const isDns = pod.metadata.namespace === 'kube-system' && pod.metadata.labels?.[CLUSTER_DNS_LABEL.key] === CLUSTER_DNS_LABEL.value;
  const declared = pod.spec.containers.flatMap((c) =>
    (c.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => p.containerPort),
  );
  const httpPorts = isDns ? [] : [...new Set([...declared, ...DEFAULT_HTTP_PORTS])].sort((a, b) => a - b);
  return { uid: pod.metadata.uid, node, ip, program: isDns ? 'cluster-dns' : 'server', httpPorts };
}

/** Whether two desired networks are the same (same Pod incarnation, place, address and program). Pure. */
export function samePodNetwork(a: DesiredPodNetwork | undefined, b: DesiredPodNetwork | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.uid === b.uid && a.node === b.node && a.ip === b.ip && a.program === b.program && a.httpPorts.join() === b.httpPorts.join();
}
