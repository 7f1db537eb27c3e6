import { z } from 'zod';
import { type Endpoints, endpointsSchema, type Pod, podSchema } from '../../api/core/v1.ts';
import { type EndpointSlice, endpointSliceSchema } from '../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../../api/labels.ts';
import type { ApiClient } from '../../controllers/runtime/api-client.ts';
import { isNotFound } from '../../controllers/runtime/api-errors.ts';
import { ENDPOINT_SLICES, ENDPOINTS, EVENTS, PODS } from '../../controllers/runtime/resource.ts';
import type { PodStatusInput } from '../envtest/pod-status.ts';
import type { TestCluster } from '../envtest/test-cluster.ts';

// What the integration suites of the endpoint controllers create and read: Pods as a Deployment and a kubelet would
// leave them, Services as a user writes them, and the controllers' outputs read back from the API.

/** A container port of a test Pod. */
export interface TestContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
}

/** The Node test Pods are bound to unless they name another. It need not exist for the Endpoints controller. */
export const DEFAULT_NODE_NAME = 'node-1';

/** A Pod to create, and the status a kubelet would then report for it. */
export interface TestPod {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The Node the Pod is bound to. Default {@link DEFAULT_NODE_NAME}: a Pod with an IP always has one (a kubelet gave it
   * the IP), and the API server rejects an Endpoints address whose nodeName is "", which is what both upstream and
   * this controller would write for an unscheduled Pod. A graceful delete of a bound Pod waits for a kubelet that never
   * comes, so the Pod stays terminating.
   */
  readonly nodeName?: string;
  readonly ports?: readonly TestContainerPort[];
  /** Ports of a restartable (sidecar) init container. */
  readonly sidecarPorts?: readonly TestContainerPort[];
  readonly hostname?: string;
  readonly subdomain?: string;
  /** Written through pods/status after the create. Absent: no status (no IP: not an endpoint). */
  readonly status?: PodStatusInput;
}

/** The Pod body the API server is sent (status is separate: the API server ignores it on create). */
export function podBody(pod: TestPod): Record<string, unknown> {
  const ports = (list: readonly TestContainerPort[] | undefined) => (list ?? []).map((p) => ({ ...p, protocol: p.protocol ?? 'TCP' }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, labels: pod.labels },
    spec: {
      nodeName: pod.nodeName ?? DEFAULT_NODE_NAME,
      hostname: pod.hostname,
      subdomain: pod.subdomain,
      containers: [{ name: 'app', image: 'example.invalid/app:1', ports: ports(pod.ports) }],
      ...(pod.sidecarPorts === undefined
        ? {}
        : {
            initContainers: [
              { name: 'sidecar', image: 'example.invalid/sidecar:1', restartPolicy: 'Always', ports: ports(pod.sidecarPorts) },
            ],
          }),
    },
  };
}

/** Creates a Pod and, when given, sets its status. Returns the Pod as last stored. */
export async function createPod(env: TestCluster, namespace: string, pod: TestPod): Promise<Pod> {
  const created = podSchema.parse(await env.client.create(PODS, namespace, podBody(pod)));
  return pod.status === undefined ? created : env.setPodStatus(created, pod.status);
}

/**
 * Creates many Pods, `concurrency` at a time (each: create, then status), started in input order. The admin client's
 * rate limit (1000 qps) is far above what the API server serves here, so the server sets the pace.
 */
export async function createPods(env: TestCluster, namespace: string, pods: readonly TestPod[], concurrency = 32): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pods.length) {
      const pod = pods[next++];
      if (pod !== undefined) await createPod(env, namespace, pod);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, pods.length) }, worker));
}

/** Sets a Pod's status again (a readiness flip or new IPs), as a kubelet would. */
export function setPodStatus(env: TestCluster, namespace: string, name: string, status: PodStatusInput): Promise<Pod> {
  return env.setPodStatus({ metadata: { namespace, name } }, status);
}

/** Deletes a Pod at once, as `kubectl delete --force --grace-period=0` does; a missing Pod is fine. */
export async function forceDeletePod(client: ApiClient, namespace: string, name: string): Promise<void> {
  try {
    await client.delete(PODS, namespace, name, { gracePeriodSeconds: 0 });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** A Service body. The selector defaults to `{app: name}`; `null` makes it selector-less. */
export function serviceBody(
  name: string,
  spec: Readonly<Record<string, unknown>> & { selector?: Readonly<Record<string, string>> | null } = {},
  labels?: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const { selector, ...rest } = spec;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, ...(labels === undefined ? {} : { labels }) },
    spec: {
      ...(selector === null ? {} : { selector: selector ?? { app: name } }),
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      ...rest,
    },
  };
}

/** The Endpoints `name`, or undefined when it does not exist. */
export async function getEndpoints(client: ApiClient, namespace: string, name: string): Promise<Endpoints | undefined> {
  try {
    return endpointsSchema.parse(await client.get(ENDPOINTS, namespace, name));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The EndpointSlices of a Service written by `managedBy`, sorted by name. */
export async function listSlices(client: ApiClient, namespace: string, service: string, managedBy: string): Promise<EndpointSlice[]> {
  const list = await client.list(ENDPOINT_SLICES, namespace, {
    labelSelector: `${LABEL_SERVICE_NAME}=${service},${LABEL_MANAGED_BY}=${managedBy}`,
  });
  return list.items
    .map((item) => endpointSliceSchema.parse(item))
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

/** An Event as the tests read it. */
export interface TestEvent {
  readonly type: string;
  readonly reason: string;
  readonly message: string;
}

const testEventSchema = z
  .looseObject({ type: z.string().default(''), reason: z.string().default(''), message: z.string().default('') })
  .transform(({ type, reason, message }): TestEvent => ({ type, reason, message }));

/** The Events recorded on one object (`kind`/`name`) in a namespace. */
export async function listEvents(client: ApiClient, namespace: string, kind: string, name: string): Promise<TestEvent[]> {
  const list = await client.list(EVENTS, namespace, { fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` });
  return list.items.map((item) => testEventSchema.parse(item));
}

/** `count` IPv4 addresses 10.<octet>.x.y, distinct for count < 64,000, none ending in .0 or .255. */
export function ipv4Range(secondOctet: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `10.${secondOctet}.${Math.floor(i / 250)}.${(i % 250) + 1}`);
}
