import { endpointsSchema, serviceSchema } from '../../../api/core/v1.ts';
import { endpointSliceSchema } from '../../../api/discovery/v1.ts';
import { LABEL_SERVICE_NAME } from '../../../api/labels.ts';
import { externalEndpointsSchema } from '../../../api/v1alpha1/external-endpoints.ts';
import { EXTERNAL_ENDPOINTS_RESOURCE } from '../../../api/v1alpha1/group-version.ts';
import { sessionAffinityPolicySchema } from '../../../api/v1alpha1/session-affinity-policy.ts';
import type { ApiClient, ListOptions } from '../../../controllers/runtime/api-client.ts';
import { describeError, isForbidden, isNotFound } from '../../../controllers/runtime/api-errors.ts';
import { ENDPOINT_SLICES, ENDPOINTS, NODES, PODS, type ResourceType, SERVICES } from '../../../controllers/runtime/resource.ts';
import { SESSION_AFFINITY_POLICIES } from '../../../controllers/session-affinity/resources.ts';
import { type Lookup, nodeDetailSchema, podDetailSchema, type ServiceSnapshot } from './explain/snapshot.ts';

// The only I/O of the plugin: reads (never writes) the objects around one Service, in parallel, and parses them with
// zod at this boundary. What may legitimately be missing (Nodes a namespaced user may not list, CRDs that are not
// installed) becomes an `unavailable` lookup with its reason instead of an error.

/** Reading failed in a way that leaves nothing to explain (no access to the Service or its Pods, no API server). */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

const PAGE_SIZE = 500;
// Bounds the pagination loop: 10 000 pages of 500 is far beyond any namespace.
const MAX_PAGES = 10_000;

const EXTERNAL_ENDPOINTS: ResourceType = EXTERNAL_ENDPOINTS_RESOURCE;

async function listAll(client: ApiClient, r: ResourceType, namespace: string, opts: ListOptions, signal: AbortSignal): Promise<unknown[]> {
  const items: unknown[] = [];
  let next: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await client.list(r, namespace, { ...opts, limit: PAGE_SIZE, ...(next !== undefined ? { continue: next } : {}) }, signal);
    items.push(...res.items);
    next = res.continue;
    if (next === undefined) return items;
  }
  throw new SnapshotError(`listing ${r.plural} in ${namespace || 'the cluster'} did not end after ${MAX_PAGES} pages`);
}

function wrap(what: string): (err: unknown) => never {
  return (err) => {
    throw new SnapshotError(`reading ${what}: ${describeError(err).message}`, { cause: err });
  };
}

/** Forbidden or missing (CRD not installed) become `unavailable`; anything else is an error. */
async function optional<T>(what: string, crd: boolean, read: () => Promise<T>): Promise<Lookup<T>> {
  try {
    return { kind: 'found', value: await read() };
  } catch (err) {
    if (isForbidden(err)) return { kind: 'unavailable', reason: `forbidden to read ${what}` };
    if (crd && isNotFound(err)) return { kind: 'unavailable', reason: `${what}: CRD not installed` };
    if (err instanceof SnapshotError) return { kind: 'unavailable', reason: err.message };
    return wrap(what)(err);
  }
}

/**
 * Reads everything an explanation of `namespace/name` needs. Throws {@link SnapshotError} when the Service, its Pods,
 * Endpoints or EndpointSlices cannot be read. A missing Service is not an error: the snapshot says so.
 */
export async function fetchSnapshot(client: ApiClient, namespace: string, name: string, signal: AbortSignal): Promise<ServiceSnapshot> {
  const service = client.get(SERVICES, namespace, name, signal).then(
    (raw) => serviceSchema.parse(raw),
    (err) => (isNotFound(err) ? undefined : wrap(`Service ${namespace}/${name}`)(err)),
  );
  const endpoints = client.get(ENDPOINTS, namespace, name, signal).then(
    (raw) => endpointsSchema.parse(raw),
    (err) => (isNotFound(err) ? undefined : wrap(`Endpoints ${namespace}/${name}`)(err)),
  );
  const pods = listAll(client, PODS, namespace, {}, signal).then(
    (items) => items.map((i) => podDetailSchema.parse(i)),
    wrap(`Pods in ${namespace}`),
  );
  const slices = listAll(client, ENDPOINT_SLICES, namespace, { labelSelector: `${LABEL_SERVICE_NAME}=${name}` }, signal).then(
    (items) => items.map((i) => endpointSliceSchema.parse(i)),
    wrap(`EndpointSlices of ${namespace}/${name}`),
  );
  const nodes = optional('Nodes', false, async () => (await listAll(client, NODES, '', {}, signal)).map((i) => nodeDetailSchema.parse(i)));
  const externalEndpoints = optional('ExternalEndpoints', true, async () => {
    const items = await listAll(client, EXTERNAL_ENDPOINTS, namespace, { fieldSelector: `metadata.name=${name}` }, signal);
    if (items.length === 0) return undefined;
    const parsed = externalEndpointsSchema.safeParse(items[0]);
    if (!parsed.success)
      throw new SnapshotError(`ExternalEndpoints ${namespace}/${name} does not parse: ${parsed.error.issues[0]?.message ?? ''}`);
    return parsed.data;
  });
  const policies = optional('SessionAffinityPolicies', true, async () =>
    (await listAll(client, SESSION_AFFINITY_POLICIES, namespace, {}, signal)).map((i) => {
      const parsed = sessionAffinityPolicySchema.safeParse(i);
      // One unparseable policy could be the governing one: rather no answer than a wrong one.
      if (!parsed.success) throw new SnapshotError(`a SessionAffinityPolicy does not parse: ${parsed.error.issues[0]?.message ?? ''}`);
      return parsed.data;
    }),
  );
  // All at once, and all awaited together, so that one failure does not leave the others' rejections unhandled.
  const [s, p, n, e, es, x, sap] = await Promise.all([service, pods, nodes, endpoints, slices, externalEndpoints, policies]);
  return {
    namespace,
    name,
    service: s,
    pods: p,
    nodes: n,
    endpoints: e,
    endpointSlices: es,
    externalEndpoints: x,
    sessionAffinityPolicies: sap,
  };
}
