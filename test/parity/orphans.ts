import { type Endpoints, endpointsSchema, type Service, serviceSchema } from '../../api/core/v1.ts';
import { type EndpointSlice, endpointSliceSchema } from '../../api/discovery/v1.ts';
import {
  LABEL_ENDPOINTS_MANAGED_BY,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  MANAGED_BY_ENDPOINTS_CONTROLLER,
  MANAGED_BY_ENDPOINTSLICE_CONTROLLER,
  MANAGED_BY_MIRRORING_CONTROLLER,
} from '../../api/labels.ts';
import type { ApiClient } from '../../controllers/runtime/api-client.ts';
import { ENDPOINT_SLICES, ENDPOINTS, SERVICES } from '../../controllers/runtime/resource.ts';

// "Switching either way leaves no orphaned slices": what a namespace must look like after one implementation of the
// endpoint controllers took over from the other. Every EndpointSlice belongs to a Service that exists (a controller
// ownerReference with its current UID, and the service-name label naming it), carries one of upstream's two
// managed-by values, and is of the right kind for that Service (mirrored only for a selectorless Service with an
// Endpoints object, controller-made only for a Service with a selector); no endpoint is listed twice for the same
// Service, address type and port set; and every Endpoints object the endpoints controller manages belongs to a Service
// with a selector. The result is a list of problems, one line each; empty means clean.

export interface ServiceObjects {
  readonly services: readonly Service[];
  readonly endpoints: readonly Endpoints[];
  readonly slices: readonly EndpointSlice[];
}

/** The problems in one namespace's objects; empty when there are none. Pure. */
export function findOrphans(objs: ServiceObjects): string[] {
  const problems: string[] = [];
  const services = new Map(objs.services.map((s) => [s.metadata.name ?? '', s]));
  const endpointsByName = new Map(objs.endpoints.map((e) => [e.metadata.name ?? '', e]));
  const seen = new Map<string, string>();
  for (const slice of objs.slices) {
    const name = slice.metadata.name ?? '';
    const labels = slice.metadata.labels ?? {};
    const managedBy = labels[LABEL_MANAGED_BY];
    const serviceName = labels[LABEL_SERVICE_NAME];
    if (managedBy !== MANAGED_BY_ENDPOINTSLICE_CONTROLLER && managedBy !== MANAGED_BY_MIRRORING_CONTROLLER) {
      problems.push(`slice ${name}: managed-by ${JSON.stringify(managedBy)} is neither of upstream's`);
      continue;
    }
    const svc = serviceName === undefined ? undefined : services.get(serviceName);
    if (svc === undefined) {
      problems.push(`slice ${name}: its Service ${JSON.stringify(serviceName)} does not exist`);
      continue;
    }
    // The EndpointSlice controller's slices are owned by the Service, mirrored ones by the Endpoints they mirror
    // (reconciler.go: ownerRef in each package).
    const mirrored = managedBy === MANAGED_BY_MIRRORING_CONTROLLER;
    const ep = endpointsByName.get(serviceName ?? '');
    const want = mirrored ? { kind: 'Endpoints', uid: ep?.metadata.uid } : { kind: 'Service', uid: svc.metadata.uid };
    const owners = (slice.metadata.ownerReferences ?? []).filter((o) => o.controller === true);
    const owner = owners[0];
    if (owners.length !== 1 || owner === undefined) {
      problems.push(`slice ${name}: ${owners.length} controller owners, want 1`);
    } else if (owner.kind !== want.kind || owner.apiVersion !== 'v1' || owner.name !== serviceName || owner.uid !== want.uid) {
      problems.push(`slice ${name}: owner ${owner.kind}/${owner.name} uid ${owner.uid} is not ${want.kind} ${serviceName} uid ${want.uid}`);
    }
    const hasSelector = svc.spec?.selector !== undefined && svc.spec.selector !== null;
    if (mirrored && (hasSelector || ep === undefined)) {
      problems.push(`slice ${name}: mirrored, but Service ${serviceName} has a selector or no Endpoints`);
    }
    if (managedBy === MANAGED_BY_ENDPOINTSLICE_CONTROLLER && !hasSelector) {
      problems.push(`slice ${name}: made by the EndpointSlice controller, but Service ${serviceName} has no selector`);
    }
    const ports = JSON.stringify((slice.ports ?? []).map((p) => [p.name, p.port, p.protocol]).sort());
    for (const e of slice.endpoints ?? []) {
      const key = `${serviceName} ${managedBy} ${slice.addressType} ${ports} ${e.addresses.join(',')}`;
      const first = seen.get(key);
      if (first !== undefined) problems.push(`slices ${first} and ${name}: both list ${e.addresses.join(',')} for ${serviceName}`);
      else seen.set(key, name);
    }
  }
  for (const ep of objs.endpoints) {
    if (ep.metadata.labels?.[LABEL_ENDPOINTS_MANAGED_BY] !== MANAGED_BY_ENDPOINTS_CONTROLLER) continue;
    const svc = services.get(ep.metadata.name ?? '');
    if (svc === undefined || svc.spec?.selector === undefined || svc.spec.selector === null) {
      problems.push(`endpoints ${ep.metadata.name}: managed by the endpoints controller, but no Service with a selector`);
    }
  }
  return problems;
}

/** Lists one namespace's Services, Endpoints and EndpointSlices. */
export async function listServiceObjects(client: ApiClient, namespace: string): Promise<ServiceObjects> {
  const [services, endpoints, slices] = await Promise.all([
    client.list(SERVICES, namespace),
    client.list(ENDPOINTS, namespace),
    client.list(ENDPOINT_SLICES, namespace),
  ]);
  return {
    services: services.items.map((i) => serviceSchema.parse(i)),
    endpoints: endpoints.items.map((i) => endpointsSchema.parse(i)),
    slices: slices.items.map((i) => endpointSliceSchema.parse(i)),
  };
}
