import type { ApiClient } from '../../controllers/runtime/api-client.ts';
import { isNotFound } from '../../controllers/runtime/api-errors.ts';
import { NAMESPACES, NODES, PODS, SERVICES } from '../../controllers/runtime/resource.ts';
import type { Shape } from './bench-config.ts';
import type { ExpectedEndpoint } from './convergence-tracker.ts';

// The benchmark's objects: Nodes, Services and ready Pods (created, then given an IP and a Ready condition through the
// status subresource, as a kubelet would; no kubelet exists), and the Pod changes of the churn and rollout phases.

/** Namespace of every benchmark object. */
export const BENCH_NAMESPACE = 'bench';
const NODE_COUNT = 10;
const ZONES = ['zone-a', 'zone-b', 'zone-c'] as const;
const nodeZone = (i: number): string => ZONES[i % ZONES.length] ?? 'zone-a';

/** One Pod as the benchmark knows it. */
export interface BenchPod {
  readonly name: string;
  readonly service: string;
  readonly ip: string;
  /** The Node it runs on, and that Node's zone (what its endpoint must show). */
  readonly node: string;
  readonly zone: string;
  ready: boolean;
}

/** The port every benchmark Service targets on its Pods (named `http`), as slices and Endpoints must show it. */
export const BENCH_POD_PORT = { name: 'http', port: 8080, protocol: 'TCP' } as const;

/** Service names in creation order; zero-padded so that name order is creation order. */
export const serviceName = (i: number): string => `svc-${String(i).padStart(5, '0')}`;

/** A unique IPv4 address per Pod number (10.64.0.0 upwards, 65,536 per /16): never two Pods with one IP. */
export function podIp(n: number): string {
  return `10.${64 + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`;
}

/** Runs `fn` over `items` with at most `concurrency` in flight; rejects with the first failure. */
export async function inParallel<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** The Pods and Services of one shape, and the Pod numbers handed out so far. */
export class Workload {
  readonly shape: Shape;
  readonly services: readonly string[];
  /** Current Pods by name. */
  readonly pods = new Map<string, BenchPod>();
  #nextPod = 0;

  constructor(shape: Shape) {
    this.shape = shape;
    this.services = Array.from({ length: shape.services }, (_, i) => serviceName(i));
  }

  /** A new Pod of `service` with a fresh name and IP (not yet created). */
  newPod(service: string): BenchPod {
    const n = this.#nextPod++;
    const node = n % NODE_COUNT;
    return { name: `${service}-p${n}`, service, ip: podIp(n), node: `node-${node}`, zone: nodeZone(node), ready: true };
  }

  /** Expected endpoints of a Service now: IP -> content (no current Pod is terminating). */
  expected(service: string): Map<string, ExpectedEndpoint> {
    const out = new Map<string, ExpectedEndpoint>();
    for (const p of this.pods.values())
      if (p.service === service) out.set(p.ip, { ready: p.ready, serving: p.ready, terminating: false, nodeName: p.node, zone: p.zone });
    return out;
  }
}

const podStatusPatch = (pod: BenchPod, now: string) => ({
  status: {
    phase: 'Running',
    podIP: pod.ip,
    podIPs: [{ ip: pod.ip }],
    conditions: [{ type: 'Ready', status: pod.ready ? 'True' : 'False', lastTransitionTime: now }],
  },
});

const nowRfc3339 = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** Creates the namespace and the Nodes (in three zones). */
export async function createBase(client: ApiClient): Promise<void> {
  await client.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: BENCH_NAMESPACE } });
  for (let i = 0; i < NODE_COUNT; i++) {
    await client.create(NODES, '', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: `node-${i}`, labels: { 'topology.kubernetes.io/zone': nodeZone(i) } },
    });
  }
}

/** Creates a Service selecting `app: <name>`, one TCP port whose targetPort is the Pods' named port. */
export async function createService(client: ApiClient, name: string): Promise<void> {
  await client.create(SERVICES, BENCH_NAMESPACE, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: { bench: 'true' } },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
  });
}

/** Creates a Pod on its Node and sets its status (IP, Running, Ready) as a kubelet would. */
export async function createPod(client: ApiClient, pod: BenchPod): Promise<void> {
  await client.create(PODS, BENCH_NAMESPACE, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, labels: { app: pod.service } },
    spec: {
      nodeName: pod.node,
      containers: [
        {
          name: 'app',
          image: 'registry.invalid/app:1',
          ports: [{ name: BENCH_POD_PORT.name, containerPort: BENCH_POD_PORT.port, protocol: BENCH_POD_PORT.protocol }],
        },
      ],
    },
  });
  await client.patch(PODS, BENCH_NAMESPACE, pod.name, podStatusPatch(pod, nowRfc3339()), 'merge', { subresource: 'status' });
}

/** Sets a Pod's Ready condition (a readiness probe starting to fail or passing again). */
export async function setPodReady(client: ApiClient, pod: BenchPod): Promise<void> {
  await client.patch(
    PODS,
    BENCH_NAMESPACE,
    pod.name,
    { status: { conditions: [{ type: 'Ready', status: pod.ready ? 'True' : 'False', lastTransitionTime: nowRfc3339() }] } },
    'merge',
    { subresource: 'status' },
  );
}

/** Deletes a Pod gracefully (it turns terminating: no kubelet finishes it), then for good, as a kubelet would. */
export async function terminatePod(client: ApiClient, pod: BenchPod, phase: 'graceful' | 'final'): Promise<void> {
  try {
    await client.delete(PODS, BENCH_NAMESPACE, pod.name, phase === 'final' ? { gracePeriodSeconds: 0 } : {});
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Touches every Service with an annotation: each controller re-syncs each Service, and must write nothing. */
export async function touchService(client: ApiClient, name: string, round: number): Promise<void> {
  await client.patch(SERVICES, BENCH_NAMESPACE, name, { metadata: { annotations: { 'bench/resync': String(round) } } }, 'merge');
}
