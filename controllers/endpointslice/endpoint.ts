import type { Node, Pod, Service } from '../../api/core/v1.ts';
import type { SliceEndpoint, SlicePort } from '../../api/discovery/v1.ts';
import { LABEL_TOPOLOGY_ZONE } from '../../api/labels.ts';
import { findPort, isPodReady, PortNotFoundError, parseIP, shouldSetHostname } from '../shared/pod-endpoints.ts';

// One Pod as one EndpointSlice endpoint, and the ports it serves: upstream podToEndpoint and getEndpointPorts
// (k8s.io/endpointslice utils.go; util/controller_utils.go: ShouldPodBeInEndpoints).

/** The address families an EndpointSlice controller writes; FQDN slices are never produced from Pods. */
export type IPAddressType = 'IPv4' | 'IPv6';

/**
 * The Pod's addresses of one family, canonicalised as Go's ip.String(), in upstream's final order. Only
 * `status.podIPs` is read (not `status.podIP`), so a Pod with only the singular field has no address. An IP that does
 * not parse counts as IPv4 and is written as `<nil>`, exactly as upstream; the API server never stores such an IP.
 * Sorted because upstream's endpoint set sorts the addresses of every endpoint it holds, in place, before writing.
 */
export function endpointAddresses(pod: Readonly<Pod>, addressType: IPAddressType): string[] {
  const out: string[] = [];
  for (const { ip } of pod.status.podIPs ?? []) {
    const parsed = parseIP(ip);
    const family = parsed?.family ?? 'IPv4';
    if (family === addressType) out.push(parsed?.canonical ?? '<nil>');
  }
  return out.sort();
}

/**
 * Upstream podToEndpoint. Conditions are always all three set: `serving` = Pod Ready, `terminating` = deletion
 * timestamp set, `ready` = publishNotReadyAddresses, or serving and not terminating. `nodeName` only when set, `zone`
 * only when the Node is known and has a non-empty zone label, `hostname` per ShouldSetHostname. No hints: those are
 * added later for the whole slice set. `node` undefined means the Node is not in the cache.
 */
export function podToEndpoint(
  pod: Readonly<Pod>,
  node: Readonly<Node> | undefined,
  service: Readonly<Service>,
  addressType: IPAddressType,
): SliceEndpoint {
  const serving = isPodReady(pod);
  const terminating = pod.metadata.deletionTimestamp !== undefined;
  const ready = service.spec.publishNotReadyAddresses === true || (serving && !terminating);
  const endpoint: SliceEndpoint = {
    addresses: endpointAddresses(pod, addressType),
    conditions: { ready, serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
  };
  const nodeName = pod.spec.nodeName ?? '';
  if (nodeName !== '') endpoint.nodeName = nodeName;
  const zone = node?.metadata.labels?.[LABEL_TOPOLOGY_ZONE] ?? '';
  if (zone !== '') endpoint.zone = zone;
  if (shouldSetHostname(pod, service)) endpoint.hostname = pod.spec.hostname;
  return endpoint;
}

/**
 * Upstream getEndpointPorts: the slice ports this Pod serves, in Service order (the port-map key sorts them later).
 * A headless Service (`clusterIP: None`) without ports gives `[]`. A port whose named targetPort the Pod does not
 * declare is left out, so a Pod can land in a port group of its own; a Pod with no resolvable port lands in the
 * port-less group. Name is always present ("" when the Service port is unnamed), as upstream sends a pointer to "".
 */
export function endpointPortsForPod(service: Readonly<Service>, pod: Readonly<Pod>): SlicePort[] {
  const servicePorts = service.spec.ports ?? [];
  if (servicePorts.length === 0 && service.spec.clusterIP === 'None') return [];
  const out: SlicePort[] = [];
  for (const servicePort of servicePorts) {
    let port: number;
    try {
      port = findPort(pod, servicePort);
    } catch (err) {
      if (err instanceof PortNotFoundError) continue;
      throw err;
    }
    // The API server defaults a Service port's protocol to TCP, so the fallback only matters for hand-made objects.
    const slicePort: SlicePort = { name: servicePort.name ?? '', port, protocol: servicePort.protocol ?? 'TCP' };
    if (servicePort.appProtocol !== undefined) slicePort.appProtocol = servicePort.appProtocol;
    out.push(slicePort);
  }
  return out;
}
