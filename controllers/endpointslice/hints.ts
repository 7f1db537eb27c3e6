import type { EndpointHints, EndpointSlice, SliceEndpoint } from '../../api/discovery/v1.ts';

// Topology hints on slice endpoints (upstream trafficdist.ReconcileHints and topologycache.RemoveHintsFromSlices),
// called from reconciler.go: reconcileByAddressType. Pure: slices from the cache are copied before any change; slices
// already being created or updated are replaced by changed copies.

/** The deprecated annotation; when present it takes precedence over {@link ANNOTATION_TOPOLOGY_MODE}. */
export const ANNOTATION_TOPOLOGY_AWARE_HINTS = 'service.kubernetes.io/topology-aware-hints';
export const ANNOTATION_TOPOLOGY_MODE = 'service.kubernetes.io/topology-mode';

/**
 * Upstream hintsEnabled: the topology annotation asks for hints. The deprecated key wins when present (even with
 * another value); only the exact values `Auto` and `auto` enable.
 */
export function hintsEnabled(annotations: Readonly<Record<string, string>> | undefined): boolean {
  const value = annotations?.[ANNOTATION_TOPOLOGY_AWARE_HINTS] ?? annotations?.[ANNOTATION_TOPOLOGY_MODE];
  return value === 'Auto' || value === 'auto';
}

/**
 * Upstream validTrafficDistribution: `PreferClose`, or `PreferSameZone`/`PreferSameNode` when the
 * PreferSameTrafficDistribution gate is on (GA and locked on since v1.35, so `preferSame` defaults to true).
 */
export function validTrafficDistribution(value: string | undefined, preferSame = true): boolean {
  if (value === 'PreferClose') return true;
  return preferSame && (value === 'PreferSameZone' || value === 'PreferSameNode');
}

const isReady = (e: Readonly<SliceEndpoint>): boolean => e.conditions?.ready === true;

/** A deep copy of the endpoint without hints. */
function withoutHints(e: Readonly<SliceEndpoint>): SliceEndpoint {
  const copy = structuredClone(e) as SliceEndpoint;
  delete copy.hints;
  return copy;
}

/** A deep copy of the slice with `fn` applied to every endpoint; `fn` must return new endpoints. */
function mapEndpoints(slice: Readonly<EndpointSlice>, fn: (e: Readonly<SliceEndpoint>) => SliceEndpoint): EndpointSlice {
  const { endpoints, ...rest } = slice;
  return { ...(structuredClone(rest) as EndpointSlice), endpoints: (endpoints ?? []).map(fn) };
}

/** The hint a ready endpoint should carry under a "prefer close" distribution, or undefined for none. */
function preferCloseHints(e: Readonly<SliceEndpoint>, nodeHints: boolean): EndpointHints | undefined {
  const hints: EndpointHints = {};
  if (e.zone !== undefined) hints.forZones = [{ name: e.zone }];
  if (e.nodeName !== undefined && nodeHints) hints.forNodes = [{ name: e.nodeName }];
  return hints.forZones === undefined && hints.forNodes === undefined ? undefined : hints;
}

/**
 * Upstream preferCloseHeuristic.needsUpdate: a ready endpoint lacks its zone (and, for PreferSameNode, node) hint,
 * has a wrong one, or has one it should not have. Not-ready endpoints are not looked at.
 */
function preferCloseNeedsUpdate(slice: Readonly<EndpointSlice>, nodeHints: boolean): boolean {
  for (const e of slice.endpoints ?? []) {
    if (!isReady(e)) continue;
    const zones = e.hints?.forZones ?? [];
    if (e.zone !== undefined) {
      if (e.hints === undefined || zones.length !== 1 || zones[0]?.name !== e.zone) return true;
    } else if (e.hints !== undefined && zones.length > 0) {
      return true;
    }
    const nodes = e.hints?.forNodes ?? [];
    if (e.nodeName !== undefined && nodeHints) {
      if (e.hints === undefined || nodes.length !== 1 || nodes[0]?.name !== e.nodeName) return true;
    } else if (e.hints !== undefined && nodes.length > 0) {
      return true;
    }
  }
  return false;
}

/** Slices to write and the slices that stay untouched, after a hint pass. */
export interface HintedSlices {
  readonly toCreate: EndpointSlice[];
  readonly toUpdate: EndpointSlice[];
}

/**
 * Upstream trafficdist.ReconcileHints. For PreferClose, PreferSameZone and PreferSameNode every ready endpoint gets
 * `forZones: [its zone]` when it has one, and PreferSameNode adds `forNodes: [its node]`; a ready endpoint with
 * neither loses its hints. Not-ready endpoints keep whatever hints they had (upstream skips them). Any other value
 * removes all hints. Unchanged slices whose hints need changing become updates (copies).
 */
export function reconcileTrafficDistributionHints(
  trafficDistribution: string | undefined,
  toCreate: readonly EndpointSlice[],
  toUpdate: readonly EndpointSlice[],
  unchanged: readonly Readonly<EndpointSlice>[],
): HintedSlices {
  const preferClose =
    trafficDistribution === 'PreferClose' || trafficDistribution === 'PreferSameZone' || trafficDistribution === 'PreferSameNode';
  const nodeHints = trafficDistribution === 'PreferSameNode';
  const needsUpdate = (s: Readonly<EndpointSlice>): boolean =>
    preferClose ? preferCloseNeedsUpdate(s, nodeHints) : (s.endpoints ?? []).some((e) => e.hints !== undefined);
  const update = (s: Readonly<EndpointSlice>): EndpointSlice =>
    mapEndpoints(s, (e) => {
      if (!preferClose) return withoutHints(e);
      if (!isReady(e)) return structuredClone(e);
      const hints = preferCloseHints(e, nodeHints);
      const copy = withoutHints(e);
      if (hints !== undefined) copy.hints = hints;
      return copy;
    });
  const moved = unchanged.filter(needsUpdate);
  return { toCreate: toCreate.map(update), toUpdate: [...toUpdate, ...moved].map(update) };
}

/**
 * Upstream RemoveHintsFromSlices: no endpoint of a slice being written keeps hints, and unchanged slices that carry
 * any hint become updates (copies without hints). Used when neither the topology annotation nor a usable
 * trafficDistribution asks for hints.
 */
export function removeHints(
  toCreate: readonly EndpointSlice[],
  toUpdate: readonly EndpointSlice[],
  unchanged: readonly Readonly<EndpointSlice>[],
): HintedSlices {
  const strip = (s: Readonly<EndpointSlice>): EndpointSlice => mapEndpoints(s, withoutHints);
  const moved = unchanged.filter((s) => (s.endpoints ?? []).some((e) => e.hints !== undefined));
  return { toCreate: toCreate.map(strip), toUpdate: [...toUpdate, ...moved].map(strip) };
}
