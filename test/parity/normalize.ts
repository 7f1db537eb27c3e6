import type { Endpoints } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { ANNOTATION_LAST_CHANGE_TRIGGER_TIME, LABEL_SERVICE_NAME } from '../../api/labels.ts';

// Two clusters never agree on names, UIDs, resourceVersions or timestamps, and upstream itself is non-deterministic in
// some orders (upstream-behaviour.md §8). Normalising removes exactly those differences and nothing else, so that
// any remaining difference is a behaviour difference.

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

const withoutTriggerTime = (a: Record<string, string> | undefined): Record<string, string> => {
  const out = { ...(a ?? {}) };
  delete out[ANNOTATION_LAST_CHANGE_TRIGGER_TIME];
  return out;
};

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
    annotations: withoutTriggerTime(ep.metadata.annotations),
    subsets: sortBy(subsets, sortedJSON),
  });
}

/**
 * The EndpointSlices of one Service reduced to what must be equal: per (addressType, port set), the number of slices
 * and the multiset of endpoints, plus each slice's labels, annotations and owner. Which endpoint lands in which slice
 * is random upstream (Go map order), so it is not compared.
 */
export function normalizeSlices(slices: readonly Readonly<EndpointSlice>[], opts: NormalizeOptions = {}): unknown {
  const groups = new Map<
    string,
    { addressType: string; ports: unknown; slices: number; sizes: number[]; endpoints: unknown[]; meta: Set<string> }
  >();
  for (const s of slices) {
    const portsRaw = (s.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol, appProtocol: p.appProtocol }));
    const ports = opts.hashOrder ? portsRaw : sortBy(portsRaw, sortedJSON);
    const key = `${s.addressType} ${sortedJSON(ports)}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = { addressType: s.addressType, ports, slices: 0, sizes: [], endpoints: [], meta: new Set() };
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
          hints: e.hints,
          targetRef: normRef(e.targetRef),
        }),
      );
    }
    const owners = (s.metadata.ownerReferences ?? []).map((o) => ({
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.name,
      controller: o.controller,
      blockOwnerDeletion: o.blockOwnerDeletion,
    }));
    g.meta.add(
      sortedJSON({
        generateName: s.metadata.generateName,
        labels: s.metadata.labels ?? {},
        annotations: withoutTriggerTime(s.metadata.annotations),
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
