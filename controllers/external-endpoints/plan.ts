import type { EndpointSlice, SliceEndpoint, SlicePort } from '../../api/discovery/v1.ts';
import { LABEL_HEADLESS } from '../../api/labels.ts';
import type { ExternalEndpoints } from '../../api/v1alpha1/external-endpoints.ts';
import { controlledBy, type DesiredEndpoints, type IPAddressType, ownerReference } from './desired.ts';

// The minimal-churn plan from the slices we own to the desired endpoints. Every endpoint of one object has the same
// ports, so unlike the EndpointSlice controller there is one port group per address type, and the packing reduces to:
// 1. each desired endpoint stays in the slice that already holds it (a backend flipping health rewrites one slice);
// 2. the rest fill, in order, slices being rewritten anyway, slices left empty (recycled: one update instead of a
//    delete and a create), then untouched slices with room, then new slices of at most maxEndpointsPerSlice;
// 3. slices left empty are deleted, and so are slices of an old owner (an earlier object of the same name) and FQDN
//    slices. Slices already being deleted are left alone.

/** Inputs of {@link planSlices}; all read-only. */
export interface SlicePlanInput {
  readonly object: Readonly<ExternalEndpoints>;
  /** Slices in the object's namespace with our managed-by label and its service-name label, whoever owns them. */
  readonly existing: readonly Readonly<EndpointSlice>[];
  readonly desired: DesiredEndpoints;
  readonly ports: readonly SlicePort[];
  /** Labels our slices must carry (see sliceLabels). */
  readonly labels: Readonly<Record<string, string>>;
  /** 1..1000 (`--max-endpoints-per-slice`). */
  readonly maxEndpointsPerSlice: number;
}

/** Writes to make, in the order they are made. Creates have no name (generateName). */
export interface SlicePlan {
  readonly toCreate: readonly EndpointSlice[];
  readonly toUpdate: readonly EndpointSlice[];
  readonly toDelete: readonly Readonly<EndpointSlice>[];
}

/** True when the plan makes no API call. */
export function isEmptySlicePlan(plan: SlicePlan): boolean {
  return plan.toCreate.length === 0 && plan.toUpdate.length === 0 && plan.toDelete.length === 0;
}

const ADDRESS_TYPES: readonly IPAddressType[] = ['IPv4', 'IPv6'];

// Everything of an endpoint that matters, in a fixed key order, so a foreign edit of any field is seen and repaired.
function endpointText(e: Readonly<SliceEndpoint>): string {
  return JSON.stringify([
    e.addresses,
    e.conditions?.ready,
    e.conditions?.serving,
    e.conditions?.terminating,
    e.hostname,
    e.nodeName,
    e.zone,
    e.targetRef,
    e.hints,
  ]);
}

function portsText(ports: readonly Readonly<SlicePort>[] | null | undefined): string {
  return JSON.stringify((ports ?? []).map((p) => [p.name ?? '', p.port, p.protocol ?? 'TCP', p.appProtocol]));
}

function sameEndpoints(a: readonly Readonly<SliceEndpoint>[], b: readonly Readonly<SliceEndpoint>[]): boolean {
  return a.length === b.length && a.every((e, i) => endpointText(e) === endpointText(b[i] as SliceEndpoint));
}

function labelsCurrent(current: Readonly<Record<string, string>> | undefined, want: Readonly<Record<string, string>>): boolean {
  const cur = current ?? {};
  if (Object.entries(want).some(([k, v]) => cur[k] !== v)) return false;
  return !(LABEL_HEADLESS in cur) || LABEL_HEADLESS in want;
}

interface Work {
  readonly base: Readonly<EndpointSlice> | undefined;
  readonly endpoints: SliceEndpoint[];
  /** Endpoints, ports or labels differ from `base` already (before filling). */
  changed: boolean;
}

function slicesOf(existing: readonly Readonly<EndpointSlice>[], object: Readonly<ExternalEndpoints>, type: IPAddressType) {
  return existing
    .filter((s) => s.addressType === type && s.metadata.deletionTimestamp === undefined && controlledBy(s.metadata.ownerReferences, object))
    .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
}

/**
 * Plans the slice writes for one object. Pure: returns new slices (copies of cached ones for updates, keeping their
 * resourceVersion so a stale cache fails with a conflict instead of overwriting). An empty plan means converged.
 */
export function planSlices(input: SlicePlanInput): SlicePlan {
  const { object, desired, maxEndpointsPerSlice: max } = input;
  const portsWant = portsText(input.ports);
  const toCreate: EndpointSlice[] = [];
  const toUpdate: EndpointSlice[] = [];
  const toDelete: Readonly<EndpointSlice>[] = [];

  for (const slice of input.existing) {
    if (slice.metadata.deletionTimestamp !== undefined) continue;
    const ours = controlledBy(slice.metadata.ownerReferences, object);
    if (!ours || (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6')) toDelete.push(slice);
  }

  for (const type of ADDRESS_TYPES) {
    const owned = slicesOf(input.existing, object, type);
    const want = desired.get(type) ?? [];
    const byAddress = new Map(want.map((e) => [e.addresses[0] ?? '', e]));
    const placed = new Set<string>();
    const work: Work[] = owned.map((slice) => {
      const kept: SliceEndpoint[] = [];
      for (const e of slice.endpoints ?? []) {
        const address = e.addresses.length === 1 ? (e.addresses[0] ?? '') : '';
        const d = byAddress.get(address);
        if (d === undefined || placed.has(address) || kept.length >= max) continue;
        kept.push(d);
        placed.add(address);
      }
      const changed =
        !sameEndpoints(slice.endpoints ?? [], kept) ||
        portsText(slice.ports) !== portsWant ||
        !labelsCurrent(slice.metadata.labels, input.labels);
      return { base: slice, endpoints: kept, changed };
    });

    const pool = want.filter((e) => !placed.has(e.addresses[0] ?? ''));
    const fullestFirst = (a: Work, b: Work) => b.endpoints.length - a.endpoints.length;
    const order = [
      ...work.filter((w) => w.changed && w.endpoints.length > 0).sort(fullestFirst),
      ...work.filter((w) => w.endpoints.length === 0),
      ...work.filter((w) => !w.changed && w.endpoints.length > 0).sort(fullestFirst),
    ];
    let next = 0;
    for (const w of order) {
      while (next < pool.length && w.endpoints.length < max) {
        w.endpoints.push(pool[next++] as SliceEndpoint);
        w.changed = true;
      }
    }
    while (next < pool.length) {
      const chunk = pool.slice(next, next + max);
      next += chunk.length;
      work.push({ base: undefined, endpoints: chunk, changed: true });
    }

    for (const w of work) {
      if (w.base === undefined) {
        toCreate.push(newSlice(input, type, w.endpoints));
      } else if (w.endpoints.length === 0) {
        toDelete.push(w.base);
      } else if (w.changed) {
        toUpdate.push(updatedSlice(input, w.base, w.endpoints));
      }
    }
  }
  return { toCreate, toUpdate, toDelete };
}

function newSlice(input: SlicePlanInput, type: IPAddressType, endpoints: readonly SliceEndpoint[]): EndpointSlice {
  const { object } = input;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${object.metadata.name ?? ''}-`,
      namespace: object.metadata.namespace ?? '',
      labels: { ...input.labels },
      ownerReferences: [ownerReference(object)],
    },
    addressType: type,
    endpoints: endpoints.map((e) => structuredClone(e)),
    ports: input.ports.map((p) => ({ ...p })),
  };
}

function updatedSlice(input: SlicePlanInput, base: Readonly<EndpointSlice>, endpoints: readonly SliceEndpoint[]): EndpointSlice {
  const copy = structuredClone(base) as EndpointSlice;
  const labels = { ...(copy.metadata.labels ?? {}) };
  if (!(LABEL_HEADLESS in input.labels)) delete labels[LABEL_HEADLESS];
  copy.metadata.labels = { ...labels, ...input.labels };
  copy.endpoints = endpoints.map((e) => structuredClone(e));
  copy.ports = input.ports.map((p) => ({ ...p }));
  return copy;
}
