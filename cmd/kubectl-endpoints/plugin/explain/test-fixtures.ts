import type { Endpoints, Service } from '../../../../api/core/v1.ts';
import type { EndpointSlice } from '../../../../api/discovery/v1.ts';
import { MANAGED_BY_ENDPOINTSLICE_CONTROLLER } from '../../../../api/labels.ts';
import { desiredSubsets, selectPods } from '../../../../controllers/endpoints/desired.ts';
import { planEndpoints } from '../../../../controllers/endpoints/plan.ts';
import { reconcileSlices } from '../../../../controllers/endpointslice/plan.ts';
import { desiredMirroredSlices } from '../../../../controllers/endpointslice-mirroring/desired.ts';
import { planMirroredSlices } from '../../../../controllers/endpointslice-mirroring/plan.ts';
import { deepFreeze } from '../../../../controllers/runtime/testing/deep-freeze.ts';
import type { NodeDetail, PodDetail, ServiceSnapshot } from './snapshot.ts';

// Builders for the explain tests: a Service `web` in `shop` selecting app=web with a named port `http`, and Pods that
// are ready endpoints of it unless a test changes one thing. Every builder returns a fresh object; callers freeze.

export const NS = 'shop';

/** The Service; `spec` fields given replace the defaults one by one. */
export function testService(spec: Partial<Service['spec']> = {}, metadata: Partial<Service['metadata']> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: NS, uid: 'svc-uid', resourceVersion: '10', labels: { team: 'shop' }, ...metadata },
    spec: {
      type: 'ClusterIP',
      selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }],
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      ipFamilies: ['IPv4'],
      sessionAffinity: 'None',
      ...spec,
    },
  };
}

/** A ready, running Pod `name` on node-a with IP 10.0.0.<n>, declaring http 8080/TCP; `patch` replaces parts. */
export function testPod(
  name: string,
  n: number,
  patch: { metadata?: Partial<PodDetail['metadata']>; spec?: Partial<PodDetail['spec']>; status?: Partial<PodDetail['status']> } = {},
): PodDetail {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, uid: `uid-${name}`, resourceVersion: String(100 + n), labels: { app: 'web' }, ...patch.metadata },
    spec: {
      nodeName: 'node-a',
      containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }],
      ...patch.spec,
    },
    status: {
      phase: 'Running',
      podIP: `10.0.0.${n}`,
      podIPs: [{ ip: `10.0.0.${n}` }],
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'ContainersReady', status: 'True' },
        { type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' },
      ],
      containerStatuses: [
        { name: 'app', ready: true, started: true, restartCount: 0, state: { running: { startedAt: '2025-01-01T00:00:00Z' } } },
      ],
      ...patch.status,
    },
  };
}

/** The conditions and container status of a Pod whose container `app` runs but fails its readiness probe. */
export function notReadyStatus(extra: PodDetail['status']['conditions'] = []): Partial<PodDetail['status']> {
  return {
    conditions: [
      { type: 'PodScheduled', status: 'True' },
      { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' },
      { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' },
      ...extra,
    ],
    containerStatuses: [
      { name: 'app', ready: false, started: true, restartCount: 2, state: { running: { startedAt: '2025-01-01T00:00:00Z' } } },
    ],
  };
}

/** A Node; `ready` undefined gives a Node without any condition (never reported). */
export function testNode(name: string, ready?: 'True' | 'False' | 'Unknown'): NodeDetail {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, resourceVersion: '1', labels: { 'topology.kubernetes.io/zone': 'zone-a' } },
    status: {
      conditions:
        ready === undefined
          ? []
          : [
              { type: 'MemoryPressure', status: 'False' },
              {
                type: 'Ready',
                status: ready,
                ...(ready === 'Unknown' ? { reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' } : {}),
                ...(ready === 'False' ? { reason: 'KubeletNotReady', message: 'container runtime is down' } : {}),
              },
            ],
      allocatable: { cpu: '4' },
    },
  };
}

/** The EndpointSlices the EndpointSlice controller would create for `service` and `pods`, as the API server stores them. */
export function storedSlicesFor(
  service: Readonly<Service>,
  pods: readonly Readonly<PodDetail>[],
  nodes: readonly NodeDetail[],
): EndpointSlice[] {
  const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
  const plan = reconcileSlices({
    service,
    pods: selectPods(service, pods),
    nodes: { get: (name) => byName.get(name) },
    existingSlices: [],
    maxEndpointsPerSlice: 100,
    triggerTime: undefined,
    managedBy: MANAGED_BY_ENDPOINTSLICE_CONTROLLER,
  });
  return plan.addressTypes
    .flatMap((p) => p.toCreate)
    .map((s, i) => ({
      ...structuredClone(s),
      metadata: {
        ...structuredClone(s.metadata),
        name: `${service.metadata.name ?? ''}-${String.fromCharCode(97 + i)}bcde`,
        uid: `slice-uid-${i}`,
        resourceVersion: String(200 + i),
        managedFields: [
          { manager: 'kube-endpoints-operator', operation: 'Update', apiVersion: 'discovery.k8s.io/v1', time: '2025-01-01T00:00:00Z' },
        ],
      },
    }));
}

/** A snapshot with the defaults: the Service, no Pods, node-a Ready, nothing stored, no CRDs installed. */
export function testSnapshot(parts: Partial<ServiceSnapshot> = {}): ServiceSnapshot {
  return deepFreeze({
    namespace: NS,
    name: 'web',
    service: testService(),
    pods: [],
    nodes: { kind: 'found', value: [testNode('node-a', 'True')] },
    endpoints: undefined,
    endpointSlices: [],
    externalEndpoints: { kind: 'unavailable', reason: 'ExternalEndpoints: CRD not installed' },
    sessionAffinityPolicies: { kind: 'unavailable', reason: 'SessionAffinityPolicies: CRD not installed' },
    ...parts,
  });
}

/** An Endpoints object with one subset listing `ready` and `notReady` IPs on port http 8080. */
export function testEndpoints(
  ready: readonly string[],
  notReady: readonly string[] = [],
  metadata: Partial<Endpoints['metadata']> = {},
): Endpoints {
  const address = (ip: string) => ({ ip });
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'web', namespace: NS, resourceVersion: '300', ...metadata },
    subsets: [
      {
        ...(ready.length > 0 ? { addresses: ready.map(address) } : {}),
        ...(notReady.length > 0 ? { notReadyAddresses: notReady.map(address) } : {}),
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ],
  };
}

/** The Endpoints object the Endpoints controller would create for `service` and `pods`, as the API server stores it. */
export function storedEndpointsFor(service: Readonly<Service>, pods: readonly Readonly<PodDetail>[]): Endpoints {
  const plan = planEndpoints({
    namespace: service.metadata.namespace ?? '',
    name: service.metadata.name ?? '',
    service,
    existing: undefined,
    desiredSubsets: desiredSubsets(service, selectPods(service, pods)).subsets,
    triggerTime: undefined,
  });
  if (plan.kind !== 'create') throw new Error(`expected a create plan, got ${plan.kind}`);
  const object = structuredClone(plan.object);
  return {
    ...object,
    metadata: {
      ...object.metadata,
      uid: 'ep-uid',
      resourceVersion: '300',
      managedFields: [{ manager: 'kube-endpoints-operator', operation: 'Update', apiVersion: 'v1', time: '2025-01-01T00:00:00Z' }],
    },
  };
}

/** The EndpointSlices the mirroring controller would create for `endpoints`, as the API server stores them. */
export function storedMirroredSlicesFor(endpoints: Readonly<Endpoints>): EndpointSlice[] {
  const plan = planMirroredSlices(endpoints, [], desiredMirroredSlices(endpoints, 1000), 1000);
  return plan.toCreate.map((s, i) => ({
    ...structuredClone(s),
    metadata: {
      ...structuredClone(s.metadata),
      name: `${endpoints.metadata.name ?? ''}-m${i}xyz`,
      uid: `mirror-uid-${i}`,
      resourceVersion: String(400 + i),
    },
  }));
}
