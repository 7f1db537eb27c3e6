import {
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  MANAGED_BY_ENDPOINTSLICE_CONTROLLER,
  MANAGED_BY_MIRRORING_CONTROLLER,
} from '../../api/labels.ts';
import type { ApiClient } from '../../controllers/runtime/api-client.ts';
import { isAlreadyExists } from '../../controllers/runtime/api-errors.ts';
import { ENDPOINTS, NODES, PODS, SERVICES } from '../../controllers/runtime/resource.ts';

// A per-step barrier: proof that a cluster's endpoint controllers have received every event of a step, so that
// "quiet and equal" cannot be two clusters that have both not reacted yet.
//
// After a step, the runner writes three barrier inputs in the step's namespace, numbered with the step:
//   - the Pod `parity-barrier` gets a new IP (pods/status),
//   - the Service `parity-barrier` (selecting that Pod) gets the label `parity.test/step=<n>`,
//   - the Endpoints of the selectorless Service `parity-barrier-m` get the same label and a new address.
// The step passed the barrier on a cluster when its outputs show all three: the Endpoints `parity-barrier` and a slice
// of `parity-barrier` carry label n and the Pod's new IP (endpoints and EndpointSlice controllers), and a mirrored
// slice of `parity-barrier-m` carries label n and the new address (mirroring controller).
//
// Why that proves something: a watch delivers one resource's events in resourceVersion order, and both
// kube-controller-manager (shared informers) and this operator (one informer per resource) hand them to the
// controllers in that order. The barrier writes come after the step's writes, so a controller that has acted on the
// barrier's Pod, Service and Endpoints events has received every Pod, Service and Endpoints event of the step, and
// queued the keys they touch before the barrier's key. It does not prove those keys' syncs have finished (several
// workers run in parallel); the quiet period that follows does that part. Node events are not covered (no Node is a
// barrier input): steps that change Nodes rely on the quiet period alone.
//
// The barrier objects are excluded from the comparison and from the write counts.

export const BARRIER_SERVICE = 'parity-barrier';
export const BARRIER_MIRRORED = 'parity-barrier-m';
const STEP_LABEL = 'parity.test/step';

/** Whether an object of this Service name belongs to the barrier. */
export const isBarrier = (serviceName: string | undefined): boolean => serviceName === BARRIER_SERVICE || serviceName === BARRIER_MIRRORED;

/** A distinct IPv4 address per step, outside every range scenarios and churn use. */
export const barrierIp = (n: number): string => `10.255.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
const mirroredIp = (n: number): string => `10.254.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;

const barrierPort = [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }];

/**
 * The barrier Pod's Node, created once per cluster: the EndpointSlice controller skips a Pod whose Node it cannot
 * find. It has no zone and no status (not Ready), so the topology cache ignores it, and no scenario deletes it.
 */
const BARRIER_NODE = 'parity-barrier';

/** Creates the barrier objects in a fresh namespace (step 0). */
export async function createBarrier(client: ApiClient, namespace: string): Promise<void> {
  try {
    await client.create(NODES, '', { apiVersion: 'v1', kind: 'Node', metadata: { name: BARRIER_NODE } });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  await client.create(SERVICES, namespace, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: BARRIER_SERVICE, labels: { [STEP_LABEL]: '0' } },
    spec: { selector: { app: BARRIER_SERVICE }, ports: barrierPort },
  });
  await client.create(PODS, namespace, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: BARRIER_SERVICE, labels: { app: BARRIER_SERVICE } },
    spec: { nodeName: BARRIER_NODE, containers: [{ name: 'app', image: 'example.invalid/app:1' }] },
  });
  await client.create(SERVICES, namespace, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: BARRIER_MIRRORED },
    spec: { ports: barrierPort },
  });
  await client.create(ENDPOINTS, namespace, {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: BARRIER_MIRRORED, labels: { [STEP_LABEL]: '0' } },
    subsets: [{ addresses: [{ ip: mirroredIp(0) }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
  });
  await raiseBarrier(client, namespace, 0);
}

/** Writes the barrier inputs of step `n` (after the step's own writes). */
export async function raiseBarrier(client: ApiClient, namespace: string, n: number): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const ip = barrierIp(n);
  await client.patch(
    PODS,
    namespace,
    BARRIER_SERVICE,
    {
      status: {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
      },
    },
    'merge',
    { subresource: 'status' },
  );
  await client.patch(SERVICES, namespace, BARRIER_SERVICE, { metadata: { labels: { [STEP_LABEL]: String(n) } } }, 'merge');
  await client.patch(
    ENDPOINTS,
    namespace,
    BARRIER_MIRRORED,
    {
      metadata: { labels: { [STEP_LABEL]: String(n) } },
      subsets: [{ addresses: [{ ip: mirroredIp(n) }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
    },
    'merge',
  );
}

interface Meta {
  metadata: { name?: string; labels?: Record<string, string> };
}
type EndpointsLike = Meta & { subsets?: { addresses?: { ip: string }[] }[] };
type SliceLike = Meta & { endpoints?: { addresses: string[] }[] | null };

/**
 * What of barrier `n` a cluster has not yet shown, from lists of its Endpoints and EndpointSlices in the namespace;
 * empty when the barrier has passed.
 */
export function barrierMissing(endpoints: readonly EndpointsLike[], slices: readonly SliceLike[], n: number): string[] {
  const step = String(n);
  const missing: string[] = [];
  const ep = endpoints.find((e) => e.metadata.name === BARRIER_SERVICE);
  const epIps = ep?.subsets?.flatMap((s) => (s.addresses ?? []).map((a) => a.ip)) ?? [];
  if (ep?.metadata.labels?.[STEP_LABEL] !== step || !epIps.includes(barrierIp(n))) missing.push('endpoints-controller');
  const sliceShows = (svc: string, manager: string, ip: string) =>
    slices.some(
      (s) =>
        s.metadata.labels?.[LABEL_SERVICE_NAME] === svc &&
        s.metadata.labels[LABEL_MANAGED_BY] === manager &&
        s.metadata.labels[STEP_LABEL] === step &&
        (s.endpoints ?? []).some((e) => e.addresses.includes(ip)),
    );
  if (!sliceShows(BARRIER_SERVICE, MANAGED_BY_ENDPOINTSLICE_CONTROLLER, barrierIp(n))) missing.push('endpointslice-controller');
  if (!sliceShows(BARRIER_MIRRORED, MANAGED_BY_MIRRORING_CONTROLLER, mirroredIp(n))) missing.push('endpointslice-mirroring-controller');
  return missing;
}
