import type { Endpoints } from '../../api/core/v1.ts';
import type { EndpointSlice, SliceEndpoint } from '../../api/discovery/v1.ts';
import type { DesiredMirroredSlices, DesiredSliceGroup } from './desired.ts';
import { endpointIdentity, endpointsEqualBeyondHash } from '../shared/endpoint-identity.ts';
import { LABELS_SET_BY_MIRRORING, mirroredAnnotations, newMirroredEndpointSlice } from './new-endpoint-slice.ts';
import { addressTypePortMapKey } from '../shared/port-map-key.ts';
import { recycleSlices, type SlicesByAction } from './recycle-slices.ts';

// From desired groups and the slices that exist to the writes that close the gap (reconciler.go:
// reconcileByPortMapping, finalize; reconciler_helpers.go: recycleSlices). Mirroring keeps exactly one slice per group:
// the first existing one is kept (and rewritten whole if anything differs), any others are deleted, and a group without
// a slice gets a new one.

/** Endpoint counts for the per-sync histograms. */
export interface MirroringTotals {
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
}

/** Per group: desired endpoints and the number of slices after the plan is applied (metrics cache input). */
export interface GroupEfficiency {
  readonly endpoints: number;
  readonly slices: number;
}

/** The writes of one sync, in the order they are applied: create, update, delete. Empty lists mean no API call. */
export interface MirroringPlan extends SlicesByAction {
  readonly totals: MirroringTotals;
  readonly efficiency: ReadonlyMap<string, GroupEfficiency>;
}

/** True when the plan makes no write. */
export function isEmptyPlan(plan: SlicesByAction): boolean {
  return plan.toCreate.length === 0 && plan.toUpdate.length === 0 && plan.toDelete.length === 0;
}

/**
 * Upstream totalChanges: how the endpoints of `existing` differ from `desired`. An existing endpoint whose identity is
 * not desired is removed; one that is desired but not equal beyond identity is updated; `added` is the desired count
 * minus the matches (an existing duplicate counts as a second match, as upstream, which can make it negative).
 */
export function totalChanges(existing: Readonly<EndpointSlice>, desired: ReadonlyMap<string, SliceEndpoint>): MirroringTotals {
  let matches = 0;
  let updated = 0;
  let removed = 0;
  for (const endpoint of existing.endpoints ?? []) {
    const want = desired.get(endpointIdentity(endpoint));
    if (want === undefined) {
      removed++;
      continue;
    }
    matches++;
    if (!endpointsEqualBeyondHash(want, endpoint)) updated++;
  }
  return { added: desired.size - matches, updated, removed };
}

/** Semantic map equality: an absent map equals an empty one. */
function mapsEqual(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const ak = Object.keys(a ?? {});
  if (ak.length !== Object.keys(b ?? {}).length) return false;
  return ak.every((k) => b !== undefined && Object.hasOwn(b, k) && b[k] === a?.[k]);
}

function withoutKeys(m: Readonly<Record<string, string>> | undefined, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m ?? {})) if (!keys.includes(k)) out[k] = v;
  return out;
}

/**
 * Whether a slice's metadata is what mirroring would write: its labels minus the two mirroring labels equal the
 * Endpoints labels, its annotations equal the mirrored Endpoints annotations, and no ownerReference names this
 * Endpoints object with another UID (the Endpoints was deleted and recreated). The comparison ignores the two mirroring
 * labels, so an Endpoints object that sets one of them itself never matches and is rewritten on every sync (upstream
 * quirk, utils.go: newEndpointSlice).
 */
export function mirroredMetadataUpToDate(endpoints: Readonly<Endpoints>, slice: Readonly<EndpointSlice>): boolean {
  if (!mapsEqual(endpoints.metadata.labels, withoutKeys(slice.metadata.labels, LABELS_SET_BY_MIRRORING))) return false;
  if (!mapsEqual(mirroredAnnotations(endpoints), slice.metadata.annotations)) return false;
  const ownedByPredecessor = (slice.metadata.ownerReferences ?? []).some(
    (o) => o.kind === 'Endpoints' && o.name === endpoints.metadata.name && o.uid !== (endpoints.metadata.uid ?? ''),
  );
  return !ownedByPredecessor;
}

interface GroupPlan {
  readonly toCreate: EndpointSlice[];
  readonly toUpdate: EndpointSlice[];
  readonly toDelete: Readonly<EndpointSlice>[];
  readonly totals: MirroringTotals;
}

function planGroup(
  endpoints: Readonly<Endpoints>,
  existing: readonly Readonly<EndpointSlice>[],
  group: DesiredSliceGroup,
  maxEndpointsPerSubset: number,
): GroupPlan {
  if (group.endpoints.size === 0) {
    const removed = existing.reduce((n, s) => n + (s.endpoints?.length ?? 0), 0);
    return { toCreate: [], toUpdate: [], toDelete: [...existing], totals: { added: 0, updated: 0, removed } };
  }
  const [first, ...rest] = existing;
  let totals: MirroringTotals = { added: group.endpoints.size, updated: 0, removed: 0 };
  if (first !== undefined) {
    totals = totalChanges(first, group.endpoints);
    const unchanged = totals.added === 0 && totals.updated === 0 && totals.removed === 0;
    if (unchanged && mirroredMetadataUpToDate(endpoints, first)) return { toCreate: [], toUpdate: [], toDelete: rest, totals };
  }
  const slice = newMirroredEndpointSlice(endpoints, group.ports, group.addressType, first?.metadata.name);
  // The desired endpoints are fresh objects owned by this sync, so they go into the slice as they are.
  slice.endpoints = [...group.endpoints.values()].slice(0, maxEndpointsPerSubset);
  return first === undefined
    ? { toCreate: [slice], toUpdate: [], toDelete: rest, totals }
    : { toCreate: [], toUpdate: [slice], toDelete: rest, totals };
}

/**
 * The writes that make the mirrored slices of `endpoints` match `desired`. `existingSlices` are the slices this
 * controller manages for the Endpoints object, in the order the first of a group is chosen (callers sort by name to be
 * deterministic; upstream takes lister order). Per group:
 * - no desired endpoints: delete all its slices;
 * - no slice: create one;
 * - else keep the first slice, delete the others, and replace the first wholesale unless its endpoints, labels,
 *   annotations and owner are already right.
 * Slices of groups no longer desired (another port set or address type, FQDN included) are deleted. Then creates and
 * deletes of one address type are paired into updates, and, when the Endpoints object is being deleted, the remaining
 * creates are dropped. Each slice holds at most `maxEndpointsPerSubset` endpoints. Pure; inputs are not modified.
 */
export function planMirroredSlices(
  endpoints: Readonly<Endpoints>,
  existingSlices: readonly Readonly<EndpointSlice>[],
  desired: DesiredMirroredSlices,
  maxEndpointsPerSubset: number,
): MirroringPlan {
  const existingByKey = new Map<string, Readonly<EndpointSlice>[]>();
  for (const slice of existingSlices) {
    const key = addressTypePortMapKey(slice.addressType, slice.ports);
    const list = existingByKey.get(key);
    if (list === undefined) existingByKey.set(key, [slice]);
    else list.push(slice);
  }

  const toCreate: EndpointSlice[] = [];
  const toUpdate: EndpointSlice[] = [];
  const toDelete: Readonly<EndpointSlice>[] = [];
  let added = 0;
  let updated = 0;
  let removed = 0;
  const efficiency = new Map<string, GroupEfficiency>();

  for (const group of desired.groups.values()) {
    const existing = existingByKey.get(group.key) ?? [];
    const p = planGroup(endpoints, existing, group, maxEndpointsPerSubset);
    toCreate.push(...p.toCreate);
    toUpdate.push(...p.toUpdate);
    toDelete.push(...p.toDelete);
    added += p.totals.added;
    updated += p.totals.updated;
    removed += p.totals.removed;
    efficiency.set(group.key, {
      endpoints: group.endpoints.size,
      slices: existing.length + p.toCreate.length - p.toDelete.length,
    });
  }
  for (const [key, slices] of existingByKey) {
    if (!desired.groups.has(key)) toDelete.push(...slices);
  }

  const recycled = recycleSlices({ toCreate, toUpdate, toDelete });
  return {
    toCreate: endpoints.metadata.deletionTimestamp === undefined ? recycled.toCreate : [],
    toUpdate: recycled.toUpdate,
    toDelete: recycled.toDelete,
    totals: { added, updated, removed },
    efficiency,
  };
}
