import type { Node, Pod, Service, ServicePort } from '../../api/core/v1.ts';
import type { SliceEndpoint, SlicePort } from '../../api/discovery/v1.ts';
import { LABEL_TOPOLOGY_ZONE } from '../../api/labels.ts';
import { parseIP, resolvePort, shouldPodBeInEndpoints, shouldSetHostname } from '../shared/pod-endpoints.ts';
import { endpointIdentity } from '../shared/endpoint-identity.ts';
import { endpointPortsForPod, type IPAddressType, podToEndpoint } from './endpoint.ts';
import { PER_POD_MEMO_MIN_PODS } from '../shared/per-pod-memo.ts';
import { portMapKey, sortSlicePorts } from '../shared/port-map-key.ts';

// The desired endpoints of a Service, per address type and port group: the first half of upstream
// reconcileByAddressType (k8s.io/endpointslice reconciler.go: Reconciler.Reconcile, reconcileByAddressType; utils.go:
// getAddressTypesForService). Pure.

/** Read access to the Node cache by name; a Map or the Node informer's store both fit. */
export interface NodeLookup {
  get(name: string): Readonly<Node> | undefined;
}

/** The endpoints that share one port list, keyed by endpoint identity in the order the Pods were given. */
export interface DesiredPortGroup {
  /** Upstream PortMapKey of `ports`. */
  readonly key: string;
  /** The ports every slice of this group carries, in upstream's hash order. */
  readonly ports: readonly SlicePort[];
  /**
   * Identity → endpoint. May be empty: the group is created before the Pod's Node is looked up, as upstream. A new map
   * per call, which the caller may consume; the endpoints may be shared with later calls and must not be modified.
   */
  readonly endpoints: Map<string, SliceEndpoint>;
}

/** What one address type should contain. */
export interface DesiredAddressTypeState {
  /** Port groups by key, in the order their first Pod appeared. */
  readonly groups: ReadonlyMap<string, DesiredPortGroup>;
  /**
   * One message per Pod left out because its Node is not cached (only without publishNotReadyAddresses). The sync
   * still writes everything else, then fails with these so that it is retried.
   */
  readonly errors: readonly string[];
}

/**
 * Upstream getAddressTypesForService: the address types of the Service's `spec.ipFamilies`, in that order. When the
 * field is empty (a Service read from a very old API server): the family of the clusterIP, or both families for a
 * headless Service.
 */
export function addressTypesForService(service: Readonly<Service>): IPAddressType[] {
  const out: IPAddressType[] = [];
  for (const family of service.spec.ipFamilies ?? []) {
    if ((family === 'IPv4' || family === 'IPv6') && !out.includes(family)) out.push(family);
  }
  if (out.length > 0) return out;
  const clusterIP = service.spec.clusterIP ?? '';
  if (clusterIP !== '' && clusterIP !== 'None') return [parseIP(clusterIP)?.family === 'IPv6' ? 'IPv6' : 'IPv4'];
  return ['IPv4', 'IPv6'];
}

/**
 * The desired state of one address type. Pods are skipped when terminal or without IPs (terminating Pods stay). Each
 * remaining Pod joins the port group of the ports it resolves; it becomes an endpoint there only if it has an address
 * of this family. A Pod whose Node is not cached is left out with an error, unless the Service publishes not-ready
 * addresses, in which case it is kept without a zone. When two Pods have the same identity the later one wins.
 */
export function desiredAddressTypeState(
  service: Readonly<Service>,
  pods: readonly Readonly<Pod>[],
  nodes: NodeLookup,
  addressType: IPAddressType,
): DesiredAddressTypeState {
  const groups = new Map<string, { key: string; ports: SlicePort[]; endpoints: Map<string, SliceEndpoint> }>();
  const errors: string[] = [];
  // A Pod's slice ports are the Service's ports with the target ports it resolves, so which ones it resolves decides
  // the list: it is built, sorted and keyed once per distinct answer rather than once per Pod (docs/performance.md).
  const servicePorts = service.spec.ports ?? [];
  const portLists = new Map<number | string, { key: string; ports: SlicePort[] }>();
  const memoise = pods.length >= PER_POD_MEMO_MIN_PODS;
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const resolved = resolvedPortsKey(servicePorts, pod);
    let portList = portLists.get(resolved);
    if (portList === undefined) {
      const ports = sortSlicePorts(endpointPortsForPod(service, pod));
      portList = { key: portMapKey(ports), ports };
      portLists.set(resolved, portList);
    }
    const { key, ports } = portList;
    let group = groups.get(key);
    if (group === undefined) {
      group = { key, ports, endpoints: new Map() };
      groups.set(key, group);
    }
    const nodeName = pod.spec.nodeName ?? '';
    const node = nodeName === '' ? undefined : nodes.get(nodeName);
    if (node === undefined && service.spec.publishNotReadyAddresses !== true) {
      errors.push(
        `skipping Pod ${pod.metadata.name} for Service ${service.metadata.namespace ?? ''}/${service.metadata.name ?? ''}: Node ${nodeName} Not Found`,
      );
      continue;
    }
    if (memoise) {
      const memo = memoisedPodEndpoint(pod, node, service, addressType);
      if (memo.identity !== undefined) group.endpoints.set(memo.identity, memo.endpoint);
      continue;
    }
    const endpoint = podToEndpoint(pod, node, service, addressType);
    if (endpoint.addresses.length > 0) group.endpoints.set(endpointIdentity(endpoint), endpoint);
  }
  return { groups, errors };
}

/** A Pod's endpoint of one address type for one answer of everything else it depends on, and its identity. */
interface PodEndpointMemo {
  readonly zone: string;
  readonly publishNotReady: boolean;
  readonly withHostname: boolean;
  readonly endpoint: SliceEndpoint;
  /** {@link endpointIdentity}, or undefined when the endpoint has no address (it is then left out). */
  readonly identity: string | undefined;
}

// Every sync of a Service builds the endpoint of each of its Pods; during a rollout almost all of them are the same
// cached Pod objects as in the last sync. Informer objects are replaced on update, never mutated, so an endpoint is
// remembered per Pod object and address type (and dropped with the Pod) and rebuilt only for a new object or when
// what else it depends on differs: the Node's zone, publishNotReadyAddresses and the hostname rule
// (docs/performance.md). The endpoints are shared between syncs: nothing may modify them (hints are set on copies).
const podEndpoints: Readonly<Record<IPAddressType, WeakMap<Readonly<Pod>, PodEndpointMemo>>> = {
  IPv4: new WeakMap(),
  IPv6: new WeakMap(),
};

function memoisedPodEndpoint(
  pod: Readonly<Pod>,
  node: Readonly<Node> | undefined,
  service: Readonly<Service>,
  addressType: IPAddressType,
): PodEndpointMemo {
  const memos = podEndpoints[addressType];
  // podToEndpoint reads the Node only for its zone label, and the Service only for these two.
  const zone = node?.metadata.labels?.[LABEL_TOPOLOGY_ZONE] ?? '';
  const publishNotReady = service.spec.publishNotReadyAddresses === true;
  const withHostname = shouldSetHostname(pod, service);
  const memo = memos.get(pod);
  if (memo !== undefined && memo.zone === zone && memo.publishNotReady === publishNotReady && memo.withHostname === withHostname) {
    return memo;
  }
  const endpoint = podToEndpoint(pod, node, service, addressType);
  const entry: PodEndpointMemo = {
    zone,
    publishNotReady,
    withHostname,
    endpoint,
    identity: endpoint.addresses.length === 0 ? undefined : endpointIdentity(endpoint),
  };
  memos.set(pod, entry);
  return entry;
}

/**
 * Which target ports the Pod resolves, one per Service port, as a map key: the port number (`unresolved` when none)
 * for a Service with one port, else the numbers (or nothing) each followed by a comma. Equal keys give equal
 * {@link endpointPortsForPod} lists.
 */
function resolvedPortsKey(servicePorts: readonly Readonly<ServicePort>[], pod: Readonly<Pod>): number | string {
  const only = servicePorts.length === 1 ? servicePorts[0] : undefined;
  if (only !== undefined) return resolvePort(pod, only) ?? 'unresolved';
  let key = '';
  for (const servicePort of servicePorts) key += `${resolvePort(pod, servicePort) ?? ''},`;
  return key;
}
