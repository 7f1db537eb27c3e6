import type { Endpoints } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { ANNOTATION_LAST_CHANGE_TRIGGER_TIME, LABEL_SERVICE_NAME } from '../../api/labels.ts';

// Two clusters never agree on names, UIDs, resourceVersions or timestamps, and upstream itself is non-deterministic in
// some orders (Go map iteration; see docs/adr/0004-parity-target-and-deviations.md). Normalising removes exactly those
// differences and nothing else, so that any remaining difference is a behaviour difference.

const sortedJSON = (v: unknown): string => JSON.stringify(canonical(v));

/** Recursively sorts object keys and drops `undefined`, so equal content serialises equally. */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}

/** Placeholder for the trigger-time annotation's value: its presence is compared, its timestamp cannot be. */
export const TRIGGER_TIME_PRESENT = '<present>';

const withoutTriggerTime = (a: Record<string, string> | undefined, ignore = false): Record<string, string> => {
  const out = { ...(a ?? {}) };
  if (ignore) delete out[ANNOTATION_LAST_CHANGE_TRIGGER_TIME];
  else if (out[ANNOTATION_LAST_CHANGE_TRIGGER_TIME] !== undefined) out[ANNOTATION_LAST_CHANGE_TRIGGER_TIME] = TRIGGER_TIME_PRESENT;
  return out;
};

/**
 * What an ownerReference's UID is, relative to the cluster it was read from: the UID of the Service of that name that
 * exists now (`current`), of one that no longer does (`stale`: a slice left from a deleted or recreated Service), or
 * no Service of that name at all (`none`). UIDs differ between clusters; this relation must not.
 */
export type OwnerUidClass = 'current' | 'stale' | 'none';

export function ownerUidClass(uid: string | undefined, name: string | undefined, serviceUids: ReadonlyMap<string, string>): OwnerUidClass {
  const current = serviceUids.get(name ?? '');
  if (current === undefined) return 'none';
  return uid === current ? 'current' : 'stale';
}

/** A targetRef without the fields that are per-cluster (uid, resourceVersion). */
const normRef = (r: { kind?: string; namespace?: string; name?: string } | undefined) =>
  r === undefined ? undefined : { kind: r.kind, namespace: r.namespace, name: r.name };

export interface NormalizeOptions {
  /**
   * Compare port order, which upstream derives from a hash of each port (name, port, protocol, appProtocol) and is
   * therefore reproducible. Default false: ports compared as sets. Endpoints subset order is never compared: upstream
   * hashes whole subsets, targetRef UIDs included, and Pod UIDs differ between clusters.
   */
  readonly hashOrder?: boolean;
  /** The UIDs of the Services that exist now in this cluster, by name: ownerReference UIDs are compared against them. */
  readonly serviceUids?: ReadonlyMap<string, string>;
  /**
   * Leave the trigger-time annotation out altogether instead of comparing its presence. For runs with faults: both
   * controllers compute the trigger time before writing and consume it even when the write fails
   * (endpointslice_controller.go: syncService, endpoints_controller.go: syncService), so whether an object written
   * across an API server outage carries it depends on when the outage hit, on either side.
   */
  readonly ignoreTriggerTime?: boolean;
}

/** An Endpoints object reduced to what must be equal across clusters. */
export function normalizeEndpoints(ep: Readonly<Endpoints>, opts: NormalizeOptions = {}): unknown {
  const subsets = (ep.subsets ?? []).map((s) => {
    const addr = (a: NonNullable<typeof s.addresses>[number]) => ({
      ip: a.ip,
      hostname: a.hostname,
      nodeName: a.nodeName,
      targetRef: normRef(a.targetRef),
    });
    const ports = (s.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol, appProtocol: p.appProtocol }));
    return {
      // Address order is deterministic upstream (IP, then UID); UIDs differ across clusters only as tie-breakers.
      addresses: (s.addresses ?? []).map(addr),
      notReadyAddresses: (s.notReadyAddresses ?? []).map(addr),
      ports: opts.hashOrder ? ports : sortBy(ports, sortedJSON),
    };
  });
  return canonical({
    name: ep.metadata.name,
    labels: ep.metadata.labels ?? {},
    annotations: withoutTriggerTime(ep.metadata.annotations, opts.ignoreTriggerTime),
    subsets: sortBy(subsets, sortedJSON),
  });
}

/**
 * The EndpointSlices of one Service reduced to what must be equal: per (addressType, port set), the number of slices
 * and the multiset of endpoints, plus the multiset of slice metadata (labels, annotations with the trigger time's
 * presence, owners with their UID classified by {@link ownerUidClass}). A multiset, not a set: two slices with equal
 * metadata on one side and one on the other is a difference. Which endpoint lands in which slice is random upstream
 * (Go map order), so it is not compared. Nor is which endpoint of a zone carries which hint: when topology hints move
 * endpoints between zones, upstream picks them in slice and map order (topologycache.go: redistributeHints); hints are
 * compared as the multiset of (endpoint zone, node, readiness, hints), which fixes how many endpoints of each zone
 * (or node) are hinted for each zone.
 */
export function normalizeSlices(slices: readonly Readonly<EndpointSlice>[], opts: NormalizeOptions = {}): unknown {
  const groups = new Map<
    string,
    { addressType: string; ports: unknown; slices: number; sizes: number[]; endpoints: unknown[]; hints: unknown[]; meta: string[] }
  >();
  for (const s of slices) {
    const portsRaw = (s.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol, appProtocol: p.appProtocol }));
    const ports = opts.hashOrder ? portsRaw : sortBy(portsRaw, sortedJSON);
    const key = `${s.addressType} ${sortedJSON(ports)}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = { addressType: s.addressType, ports, slices: 0, sizes: [], endpoints: [], hints: [], meta: [] };
      groups.set(key, g);
    }
    g.slices++;
    g.sizes.push((s.endpoints ?? []).length);
    for (const e of s.endpoints ?? []) {
      g.endpoints.push(
        canonical({
          addresses: e.addresses,
          conditions: e.conditions,
          hostname: e.hostname,
          nodeName: e.nodeName,
          zone: e.zone,
          targetRef: normRef(e.targetRef),
        }),
      );
      g.hints.push(canonical({ zone: e.zone, nodeName: e.nodeName, ready: e.conditions?.ready, hints: e.hints ?? null }));
    }
    const owners = (s.metadata.ownerReferences ?? []).map((o) => ({
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.name,
      uid: opts.serviceUids === undefined ? undefined : ownerUidClass(o.uid, o.name, opts.serviceUids),
      controller: o.controller,
      blockOwnerDeletion: o.blockOwnerDeletion,
    }));
    g.meta.push(
      sortedJSON({
        generateName: s.metadata.generateName,
        labels: s.metadata.labels ?? {},
        annotations: withoutTriggerTime(s.metadata.annotations, opts.ignoreTriggerTime),
        owners,
      }),
    );
  }
  const out = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => ({
      addressType: g.addressType,
      ports: g.ports,
      slices: g.slices,
      sizes: [...g.sizes].sort((a, b) => a - b),
      endpoints: sortBy(g.endpoints, sortedJSON),
      hints: sortBy(g.hints, sortedJSON),
      meta: [...g.meta].sort().map((m) => JSON.parse(m) as unknown),
    }));
  return canonical(out);
}

/** Groups slices by the Service they belong to (the service-name label). */
export function slicesByService(slices: readonly Readonly<EndpointSlice>[]): Map<string, Readonly<EndpointSlice>[]> {
  const out = new Map<string, Readonly<EndpointSlice>[]>();
  for (const s of slices) {
    const svc = s.metadata.labels?.[LABEL_SERVICE_NAME] ?? '';
    const list = out.get(svc) ?? [];
    list.push(s);
    out.set(svc, list);
  }
  return out;
}

function sortBy<T>(xs: readonly T[], key: (x: T) => string): T[] {
  return xs
    .map((x) => ({ x, k: key(x) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((e) => e.x);
}
