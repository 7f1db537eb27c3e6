import type { EndpointAddress, EndpointPort, Endpoints } from '../../api/core/v1.ts';
import type { SlicePort } from '../../api/discovery/v1.ts';
import {
  ANNOTATION_OVER_CAPACITY,
  LABEL_ENDPOINTS_MANAGED_BY,
  LABEL_SKIP_MIRROR,
  MANAGED_BY_EXTERNAL_ENDPOINTS,
} from '../../api/labels.ts';
import type { ExternalEndpoints } from '../../api/v1alpha1/external-endpoints.ts';
import type { Backend } from './backends.ts';
import { controlledBy, ownerReference } from './desired.ts';
import type { EndpointConditions } from './health.ts';

// The optional legacy v1 Endpoints object (spec.publishEndpoints), for tools that still read Endpoints. It carries the
// skip-mirror label, or the EndpointSlice mirroring controller would publish every address a second time next to our
// slices. One subset: every backend serves the same ports; ready addresses in `addresses`, the rest (unhealthy and
// drained) in `notReadyAddresses`, as the Endpoints controller places not-ready Pods.

/** Addresses one Endpoints object holds at most, as the Endpoints controller (more are truncated, ready first). */
export const MAX_ENDPOINTS_ADDRESSES = 1000;

/** Labels of our Endpoints objects; the Endpoints informer selects on the managed-by label. */
export function legacyEndpointsLabels(): Record<string, string> {
  return { [LABEL_SKIP_MIRROR]: 'true', [LABEL_ENDPOINTS_MANAGED_BY]: MANAGED_BY_EXTERNAL_ENDPOINTS };
}

/** Label selector of the informer that caches our Endpoints objects. */
export const LEGACY_ENDPOINTS_SELECTOR = `${LABEL_ENDPOINTS_MANAGED_BY}=${MANAGED_BY_EXTERNAL_ENDPOINTS}`;

function byIP(a: EndpointAddress, b: EndpointAddress): number {
  return a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0;
}

/**
 * The Endpoints object `object` should have: backends with their published conditions (keyed by address; backends
 * without an entry are left out) and the slice ports. Pure. Over {@link MAX_ENDPOINTS_ADDRESSES} addresses, ready
 * ones are kept first and the object is annotated over-capacity=truncated.
 */
export function desiredLegacyEndpoints(
  object: Readonly<ExternalEndpoints>,
  backends: readonly Backend[],
  conditions: ReadonlyMap<string, EndpointConditions>,
  ports: readonly SlicePort[],
): Endpoints {
  const ready: EndpointAddress[] = [];
  const notReady: EndpointAddress[] = [];
  for (const b of backends) {
    const c = conditions.get(b.address);
    if (c === undefined) continue;
    const address: EndpointAddress = {
      ip: b.address,
      ...(b.hostname === undefined ? {} : { hostname: b.hostname }),
      ...(b.nodeName === undefined ? {} : { nodeName: b.nodeName }),
    };
    (c.ready ? ready : notReady).push(address);
  }
  ready.sort(byIP);
  notReady.sort(byIP);
  const truncated = ready.length + notReady.length > MAX_ENDPOINTS_ADDRESSES;
  const keptReady = ready.slice(0, MAX_ENDPOINTS_ADDRESSES);
  const keptNotReady = notReady.slice(0, MAX_ENDPOINTS_ADDRESSES - keptReady.length);
  const endpointPorts: EndpointPort[] = ports.map((p) => ({
    ...(p.name === undefined || p.name === '' ? {} : { name: p.name }),
    port: p.port ?? 0,
    protocol: p.protocol ?? 'TCP',
    ...(p.appProtocol === undefined ? {} : { appProtocol: p.appProtocol }),
  }));
  const subsets =
    keptReady.length + keptNotReady.length === 0
      ? []
      : [
          {
            ...(keptReady.length > 0 ? { addresses: keptReady } : {}),
            ...(keptNotReady.length > 0 ? { notReadyAddresses: keptNotReady } : {}),
            ports: endpointPorts,
          },
        ];
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: object.metadata.name ?? '',
      namespace: object.metadata.namespace ?? '',
      labels: legacyEndpointsLabels(),
      ...(truncated ? { annotations: { [ANNOTATION_OVER_CAPACITY]: 'truncated' } } : {}),
      ownerReferences: [ownerReference(object)],
    },
    subsets,
  };
}

/** What to do with the legacy Endpoints object. `body` is what to send for create and update. */
export type LegacyEndpointsPlan =
  | { readonly action: 'none' }
  | { readonly action: 'create'; readonly body: Endpoints }
  | { readonly action: 'update'; readonly body: Endpoints }
  | { readonly action: 'delete'; readonly name: string };

function subsetsText(e: Readonly<Endpoints>): string {
  return JSON.stringify(
    (e.subsets ?? []).map((s) => [
      (s.addresses ?? []).map((a) => [a.ip, a.hostname, a.nodeName, a.targetRef]),
      (s.notReadyAddresses ?? []).map((a) => [a.ip, a.hostname, a.nodeName, a.targetRef]),
      (s.ports ?? []).map((p) => [p.name ?? '', p.port, p.protocol ?? 'TCP', p.appProtocol]),
    ]),
  );
}

/**
 * Plans the legacy Endpoints write. `existing` is our cached Endpoints of this name (the cache holds only objects
 * with our managed-by label), `desired` undefined when none should exist. An existing object controlled by another
 * owner (an earlier object of the same name) is replaced in place. Pure.
 */
export function planLegacyEndpoints(
  object: Readonly<ExternalEndpoints>,
  existing: Readonly<Endpoints> | undefined,
  desired: Endpoints | undefined,
): LegacyEndpointsPlan {
  if (desired === undefined) {
    return existing === undefined ? { action: 'none' } : { action: 'delete', name: existing.metadata.name ?? '' };
  }
  if (existing === undefined) return { action: 'create', body: desired };
  const labels = existing.metadata.labels ?? {};
  const annotations = existing.metadata.annotations ?? {};
  const wantAnnotation = desired.metadata.annotations?.[ANNOTATION_OVER_CAPACITY];
  const current =
    subsetsText(existing) === subsetsText(desired) &&
    Object.entries(desired.metadata.labels ?? {}).every(([k, v]) => labels[k] === v) &&
    annotations[ANNOTATION_OVER_CAPACITY] === wantAnnotation &&
    controlledBy(existing.metadata.ownerReferences, object) &&
    (existing.metadata.ownerReferences ?? []).length === 1;
  if (current) return { action: 'none' };
  const body = structuredClone(existing) as Endpoints;
  const keptAnnotations = { ...annotations };
  delete keptAnnotations[ANNOTATION_OVER_CAPACITY];
  body.metadata.labels = { ...labels, ...desired.metadata.labels };
  body.metadata.annotations = { ...keptAnnotations, ...(desired.metadata.annotations ?? {}) };
  body.metadata.ownerReferences = desired.metadata.ownerReferences;
  body.subsets = desired.subsets;
  return { action: 'update', body };
}
