import type { OwnerReference } from '../../api/core/meta.ts';
import type { SliceEndpoint } from '../../api/discovery/v1.ts';
import { LABEL_HEADLESS, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, MANAGED_BY_EXTERNAL_ENDPOINTS } from '../../api/labels.ts';
import type { ExternalEndpoints } from '../../api/v1alpha1/external-endpoints.ts';
import { API_VERSION, Kind } from '../../api/v1alpha1/group-version.ts';
import type { Backend } from './backends.ts';
import type { EndpointConditions } from './health.ts';

// What the EndpointSlices of one ExternalEndpoints object should contain, before packing them into slices: one
// endpoint per published address, grouped by address type and sorted by address, so equal inputs give equal output.

/** The address types this controller publishes (kube-proxy ignores FQDN slices). */
export type IPAddressType = 'IPv4' | 'IPv6';

/** Desired endpoints per address type; a type without backends is absent. */
export type DesiredEndpoints = ReadonlyMap<IPAddressType, readonly SliceEndpoint[]>;

function compareAddresses(a: SliceEndpoint, b: SliceEndpoint): number {
  const x = a.addresses[0] ?? '';
  const y = b.addresses[0] ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The endpoint of every backend with the conditions the publication decision gave it (`conditions` keyed by
 * address; a backend without an entry is not published). Pure; returns new objects.
 */
export function desiredEndpoints(backends: readonly Backend[], conditions: ReadonlyMap<string, EndpointConditions>): DesiredEndpoints {
  const out = new Map<IPAddressType, SliceEndpoint[]>();
  for (const b of backends) {
    const c = conditions.get(b.address);
    if (c === undefined) continue;
    const type: IPAddressType = b.family === 4 ? 'IPv4' : 'IPv6';
    const endpoint: SliceEndpoint = {
      addresses: [b.address],
      conditions: { ready: c.ready, serving: c.serving, terminating: c.terminating },
      ...(b.hostname === undefined ? {} : { hostname: b.hostname }),
      ...(b.nodeName === undefined ? {} : { nodeName: b.nodeName }),
      ...(b.zone === undefined ? {} : { zone: b.zone }),
    };
    const list = out.get(type) ?? [];
    list.push(endpoint);
    out.set(type, list);
  }
  for (const list of out.values()) list.sort(compareAddresses);
  return out;
}

/** The controller owner reference every object we write carries, so garbage collection removes it with its owner. */
export function ownerReference(object: Readonly<ExternalEndpoints>): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: Kind.ExternalEndpoints,
    name: object.metadata.name ?? '',
    uid: object.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** True when `refs` name `object` (by uid) as controller. */
export function controlledBy(refs: readonly OwnerReference[] | undefined, object: Readonly<ExternalEndpoints>): boolean {
  return (refs ?? []).some((r) => r.controller === true && r.uid === object.metadata.uid && r.kind === Kind.ExternalEndpoints);
}

/** The labels our slices of `object` carry: service name, managed-by, and the headless marker for headless Services. */
export function sliceLabels(object: Readonly<ExternalEndpoints>, headless: boolean): Record<string, string> {
  return {
    [LABEL_SERVICE_NAME]: object.metadata.name ?? '',
    [LABEL_MANAGED_BY]: MANAGED_BY_EXTERNAL_ENDPOINTS,
    ...(headless ? { [LABEL_HEADLESS]: '' } : {}),
  };
}
