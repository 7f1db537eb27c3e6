import type { Node, Pod, Service } from '../../api/core/v1.ts';
import type { EndpointSlice, SliceEndpoint, SlicePort } from '../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_TOPOLOGY_ZONE, MANAGED_BY_ENDPOINTSLICE_CONTROLLER } from '../../api/labels.ts';

// Builders and fakes shared by this folder's tests (not a test itself). Objects are wire-format, as the caches hold them.

export const MANAGED_BY = MANAGED_BY_ENDPOINTSLICE_CONTROLLER;
export const NS = 'test';
export const SERVICE_UID = 'svc-uid-1';

/** A selector Service `foo` in `test`, single-stack IPv4, one TCP port 80 named "foo". Override anything via `patch`. */
export function makeService(patch: { metadata?: Partial<Service['metadata']>; spec?: Partial<Service['spec']> } = {}): Service {
  return {
    metadata: {
      name: 'foo',
      namespace: NS,
      uid: SERVICE_UID,
      resourceVersion: '1',
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...patch.metadata,
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      selector: { foo: 'bar' },
      ports: [{ name: 'foo', port: 80, targetPort: 8080, protocol: 'TCP' }],
      ipFamilies: ['IPv4'],
      ...patch.spec,
    },
  };
}

/** Pod `pod<n>` with IP 1.2.3.(4+n) (or `ips`), on `node-1`, Ready unless `ready` is false. */
export function makePod(
  n: number,
  opts: {
    ready?: boolean;
    ips?: string[];
    nodeName?: string;
    terminating?: boolean;
    phase?: string;
    labels?: Record<string, string>;
    hostname?: string;
    subdomain?: string;
    containerPorts?: { name?: string; containerPort: number; protocol?: string }[];
    namespace?: string;
  } = {},
): Pod {
  const ips = opts.ips ?? [`1.2.${Math.floor((4 + n) / 250)}.${(4 + n) % 250}`];
  const pod: Pod = {
    metadata: {
      name: `pod${n}`,
      namespace: opts.namespace ?? NS,
      uid: `pod-uid-${n}`,
      resourceVersion: `${100 + n}`,
      labels: opts.labels ?? { foo: 'bar' },
    },
    spec: {
      nodeName: opts.nodeName ?? 'node-1',
      containers: [{ name: 'c', ...(opts.containerPorts === undefined ? {} : { ports: opts.containerPorts }) }],
      ...(opts.hostname === undefined ? {} : { hostname: opts.hostname }),
      ...(opts.subdomain === undefined ? {} : { subdomain: opts.subdomain }),
    },
    status: {
      phase: opts.phase ?? 'Running',
      ...(ips.length > 0 ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: '2026-01-01T00:00:10Z' }],
    },
  };
  if (opts.terminating === true) pod.metadata.deletionTimestamp = '2026-01-01T00:01:00Z';
  return pod;
}

/** A Ready Node, with a zone label when `zone` is given. */
export function makeNode(name: string, zone?: string, cpu = '4'): Node {
  return {
    metadata: { name, resourceVersion: '1', ...(zone === undefined ? {} : { labels: { [LABEL_TOPOLOGY_ZONE]: zone } }) },
    status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: { cpu } },
  };
}

/** The endpoint the controller writes for `pod` (single address, node-1 without zone by default). */
export function endpointFor(pod: Pod, extra: Partial<SliceEndpoint> = {}): SliceEndpoint {
  const ready = pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const terminating = pod.metadata.deletionTimestamp !== undefined;
  return {
    addresses: (pod.status.podIPs ?? []).map((p) => p.ip).filter((ip) => !ip.includes(':')),
    conditions: { ready: ready && !terminating, serving: ready, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
    ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    ...extra,
  };
}

/** The slice port of the default Service's port resolved to 8080. */
export const DEFAULT_PORTS: SlicePort[] = [{ name: 'foo', port: 8080, protocol: 'TCP' }];

/** An existing slice owned by the default Service, as the cache holds it (name, uid, generation, resourceVersion). */
export function makeSlice(
  name: string,
  endpoints: SliceEndpoint[],
  opts: {
    ports?: SlicePort[] | null;
    addressType?: 'IPv4' | 'IPv6' | 'FQDN';
    labels?: Record<string, string>;
    ownerUID?: string;
    generation?: number;
    service?: Service;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
  } = {},
): EndpointSlice {
  const svc = opts.service ?? makeService();
  return {
    metadata: {
      name,
      namespace: svc.metadata.namespace,
      uid: `uid-${name}`,
      resourceVersion: '10',
      generation: opts.generation ?? 1,
      labels: opts.labels ?? { [LABEL_SERVICE_NAME]: svc.metadata.name ?? '', [LABEL_MANAGED_BY]: MANAGED_BY },
      ...(opts.annotations === undefined ? {} : { annotations: opts.annotations }),
      ...(opts.deletionTimestamp === undefined ? {} : { deletionTimestamp: opts.deletionTimestamp }),
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name: svc.metadata.name ?? '',
          uid: opts.ownerUID ?? svc.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    addressType: opts.addressType ?? 'IPv4',
    endpoints,
    ports: opts.ports === undefined ? DEFAULT_PORTS : opts.ports,
  };
}

/** A Node lookup over a list. */
export function nodeLookup(...nodes: Node[]): Map<string, Node> {
  return new Map(nodes.map((n) => [n.metadata.name, n]));
}
