import type { EndpointAddress, Endpoints, Pod, Service } from '../../api/core/v1.ts';

// Builders for the Endpoints controller tests, shaped like upstream's endpoints_controller_test.go fixtures so the
// scenarios read the same: pod<i> has IP 1.2.3.<4+i> (or 2000::<4+i>), labels foo=bar, ports port<j> = 8080+j.

export type Family = 'IPv4' | 'IPv6';

/** Upstream testPod: `pod<id>` in `namespace`, resourceVersion `<id>`, Ready per `ready`, one IP per family. */
export function testPod(namespace: string, id: number, nPorts: number, ready: boolean, families: readonly Family[] = ['IPv4']): Pod {
  const ips = families.map((f) =>
    f === 'IPv4' ? `1.2.${3 + Math.floor((4 + id) / 256)}.${(4 + id) % 256}` : `2000::${(4 + id).toString(16)}`,
  );
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name: `pod${id}`, uid: `uid-pod${id}`, resourceVersion: String(id), labels: { foo: 'bar' } },
    spec: {
      nodeName: '',
      containers: [
        { name: 'c', ports: Array.from({ length: nPorts }, (_, j) => ({ name: `port${j}`, containerPort: 8080 + j, protocol: 'TCP' })) },
      ],
    },
    status: {
      phase: 'Running',
      ...(ips[0] !== undefined ? { podIP: ips[0] } : {}),
      podIPs: ips.map((ip) => ({ ip })),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

/** Upstream addPods: `nReady` ready pods then `nNotReady` not-ready ones. */
export function testPods(namespace: string, nReady: number, nPorts: number, nNotReady = 0, families: readonly Family[] = ['IPv4']): Pod[] {
  return Array.from({ length: nReady + nNotReady }, (_, i) => testPod(namespace, i, nPorts, i < nReady, families));
}

/** A Service `foo` selecting foo=bar with one TCP port 80 → 8080, unless overridden. */
export function testService(overrides: { metadata?: Partial<Service['metadata']>; spec?: Partial<Service['spec']> } = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'foo',
      namespace: 'ns',
      uid: 'svc-uid',
      resourceVersion: '1',
      creationTimestamp: '2024-01-01T00:00:00Z',
      ...overrides.metadata,
    },
    spec: {
      selector: { foo: 'bar' },
      ports: [{ name: '', port: 80, protocol: 'TCP', targetPort: 8080 }],
      clusterIP: '10.96.0.1',
      ipFamilies: ['IPv4'],
      ...overrides.spec,
    },
  };
}

/** The address the controller builds for `pod<id>` (IPv4 by default). */
export function podAddress(namespace: string, id: number, ip = `1.2.3.${4 + id}`): EndpointAddress {
  return { ip, nodeName: '', targetRef: { kind: 'Pod', namespace, name: `pod${id}`, uid: `uid-pod${id}` } };
}

/** An Endpoints as the API would return it: resourceVersion set, our labels unless overridden. */
export function testEndpoints(overrides: Partial<Endpoints> & { metadata?: Partial<Endpoints['metadata']> } = {}): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    ...overrides,
    metadata: {
      name: 'foo',
      namespace: 'ns',
      resourceVersion: '1',
      labels: { 'endpoints.kubernetes.io/managed-by': 'endpoint-controller' },
      ...overrides.metadata,
    },
  };
}
