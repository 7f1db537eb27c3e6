import type { Pod, Service } from '../../api/core/v1.ts';
import type { EndpointSlice, SliceEndpoint } from '../../api/discovery/v1.ts';
import { ANNOTATION_LAST_CHANGE_TRIGGER_TIME } from '../../api/labels.ts';
import { formatTriggerTime } from '../shared/trigger-time-tracker.ts';
import { addressTypesForService, type DesiredPortGroup, desiredAddressTypeState, type NodeLookup } from './desired.ts';
import { cachedEndpointIdentities, endpointsEqualBeyondHash } from '../shared/endpoint-identity.ts';
import type { IPAddressType } from './endpoint.ts';
import { newEndpointSlice, ownedBy, placeholderSliceEqual, sliceLabels } from './endpoint-slice.ts';
import { hintsEnabled, reconcileTrafficDistributionHints, removeHints, validTrafficDistribution } from './hints.ts';
import { portMapKey } from '../shared/port-map-key.ts';

// The plan: which slices to create, update and delete so that a Service's slices hold its desired endpoints with the
// fewest writes. Upstream Reconciler.Reconcile → reconcileByAddressType → reconcileByPortMapping, plus the recycling
// and trigger-time steps of finalize (reconciler.go). Applying the plan is the reconciler's job.
// Upstream picks endpoints and iterates groups in Go map order (random); here everything follows input order, which
// is one of the orders upstream can produce.

/** A Kubernetes Event the reconciler emits on the Service after applying an address type's plan. */
export interface ServiceEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/** The slices handed to the annotation-mode topology hints for one address type (upstream SliceInfo). */
export interface TopologySliceInfo {
  readonly serviceKey: string;
  readonly addressType: IPAddressType;
  readonly toCreate: readonly EndpointSlice[];
  readonly toUpdate: readonly EndpointSlice[];
  readonly unchanged: readonly Readonly<EndpointSlice>[];
}

/**
 * Upstream's TopologyCache as the reconcile uses it (hints for the `topology-mode: Auto` annotation). It is the one
 * stateful collaborator of {@link reconcileSlices}: it remembers which Services have hints. Absent means upstream's nil
 * cache: the annotation then only removes hints.
 */
export interface TopologyHintsCache {
  addHints(info: TopologySliceInfo): { toCreate: EndpointSlice[]; toUpdate: EndpointSlice[]; events: ServiceEvent[] };
  hasPopulatedHints(serviceKey: string): boolean;
  removeHints(serviceKey: string, addressType: string): void;
}

/** Everything one reconcile of a Service's slices depends on. */
export interface ReconcileSlicesInput {
  readonly service: Readonly<Service>;
  /** The Pods the Service selects (any order; eligibility is checked here). */
  readonly pods: readonly Readonly<Pod>[];
  readonly nodes: NodeLookup;
  /** The Service's slices managed by this controller, without those pending deletion. */
  readonly existingSlices: readonly Readonly<EndpointSlice>[];
  /** `--max-endpoints-per-slice`, 1..1000 (default 100). */
  readonly maxEndpointsPerSlice: number;
  /** Epoch ms for the last-change-trigger-time annotation; undefined removes it from every slice written. */
  readonly triggerTime: number | undefined;
  /** The managed-by label value, `endpointslice-controller.k8s.io` upstream. */
  readonly managedBy: string;
  /** The PreferSameTrafficDistribution gate (GA, locked on since v1.35). Default true. */
  readonly preferSameTrafficDistribution?: boolean;
  readonly topologyCache?: TopologyHintsCache;
}

/** Endpoint and slice counts of one port group, for the desired/actual slice gauges (upstream EfficiencyInfo). */
export interface PortGroupEfficiency {
  readonly key: string;
  readonly endpoints: number;
  readonly slices: number;
}

/** The writes for one address type, in the order they must happen: creates, then updates, then deletes. */
export interface AddressTypePlan {
  readonly addressType: IPAddressType;
  /** New slices (generateName), trigger-time annotation set. */
  readonly toCreate: readonly EndpointSlice[];
  /** Full objects to PUT: changed copies of cached slices, or new slices recycled under the name of a slice to delete. */
  readonly toUpdate: readonly EndpointSlice[];
  /** Cached slices to DELETE. */
  readonly toDelete: readonly Readonly<EndpointSlice>[];
  /** Desired endpoints not found in any existing slice (metric). */
  readonly endpointsAdded: number;
  /** Existing endpoints no longer desired (metric). */
  readonly endpointsRemoved: number;
  /** Per port group, for the metrics cache; upstream keeps only the last address type's value per Service. */
  readonly portGroups: readonly PortGroupEfficiency[];
  /** Pods skipped because their Node is not cached: the sync fails with these after writing. */
  readonly errors: readonly string[];
  /** Topology events to record on the Service after this address type's writes. */
  readonly events: readonly ServiceEvent[];
}

/** The complete plan for one Service. An empty plan means zero API calls. */
export interface SlicePlan {
  /** In the order of the Service's ipFamilies. */
  readonly addressTypes: readonly AddressTypePlan[];
  /** Slices of an address type the Service no longer has (e.g. a removed family): deleted after everything else. */
  readonly toDeleteUnsupported: readonly Readonly<EndpointSlice>[];
  /** `topology` label of endpointslices_changed_per_sync. */
  readonly topologyLabel: 'Auto' | 'Disabled';
  /** The trafficDistribution in effect (hints from it), or undefined: metric label and services-by-distribution gauge. */
  readonly trafficDistribution: string | undefined;
}

/** Whether applying `plan` would make any API call (a Service pending deletion skips its creates, see the reconciler). */
export function planHasWrites(plan: SlicePlan): boolean {
  return (
    plan.toDeleteUnsupported.length > 0 || plan.addressTypes.some((p) => p.toCreate.length + p.toUpdate.length + p.toDelete.length > 0)
  );
}

/**
 * Computes the plan for a Service (upstream Reconcile). Per address type of the Service: group existing slices by
 * port list (slices not owned by this Service object are deleted), compute the desired endpoints, reconcile each port
 * group with minimal churn, delete groups no longer desired, keep or add the placeholder, set hints, turn
 * create+delete pairs into updates, and stamp the trigger time. Existing slices of other address types are deleted.
 * Inputs are never modified. Pure except for the optional topology cache.
 */
export function reconcileSlices(input: ReconcileSlicesInput): SlicePlan {
  const addressTypes = addressTypesForService(input.service);
  const byType = new Map<string, Readonly<EndpointSlice>[]>();
  const toDeleteUnsupported: Readonly<EndpointSlice>[] = [];
  const serviceKey = `${input.service.metadata.namespace ?? ''}/${input.service.metadata.name ?? ''}`;
  for (const slice of input.existingSlices) {
    if (!(addressTypes as string[]).includes(slice.addressType)) {
      input.topologyCache?.removeHints(serviceKey, slice.addressType);
      toDeleteUnsupported.push(slice);
      continue;
    }
    const list = byType.get(slice.addressType) ?? [];
    list.push(slice);
    byType.set(slice.addressType, list);
  }
  const annotationHints = hintsEnabled(input.service.metadata.annotations);
  const usableTrafficDistribution =
    validTrafficDistribution(input.service.spec.trafficDistribution, input.preferSameTrafficDistribution ?? true) && !annotationHints;
  return {
    addressTypes: addressTypes.map((t) => planAddressType(input, t, byType.get(t) ?? [])),
    toDeleteUnsupported,
    topologyLabel: input.topologyCache !== undefined && annotationHints ? 'Auto' : 'Disabled',
    trafficDistribution: usableTrafficDistribution ? input.service.spec.trafficDistribution : undefined,
  };
}

/** Upstream reconcileByAddressType up to finalize, plus finalize's recycling and trigger-time steps. */
function planAddressType(
  input: ReconcileSlicesInput,
  addressType: IPAddressType,
  existing: readonly Readonly<EndpointSlice>[],
): AddressTypePlan {
  const { service } = input;
  let toCreate: EndpointSlice[] = [];
  let toUpdate: EndpointSlice[] = [];
  let toDelete: Readonly<EndpointSlice>[] = [];

  const existingByKey = new Map<string, Readonly<EndpointSlice>[]>();
  for (const slice of existing) {
    if (!ownedBy(slice, service)) {
      toDelete.push(slice);
      continue;
    }
    const key = portMapKey(slice.ports);
    const list = existingByKey.get(key) ?? [];
    list.push(slice);
    existingByKey.set(key, list);
  }

  const desired = desiredAddressTypeState(service, input.pods, input.nodes, addressType);
  const portGroups = new Map<string, PortGroupEfficiency>();
  let endpointsAdded = 0;
  let endpointsRemoved = 0;
  for (const [key, group] of desired.groups) {
    const groupExisting = existingByKey.get(key) ?? [];
    const endpoints = group.endpoints.size;
    const r = planPortGroup(input, addressType, groupExisting, group);
    endpointsAdded += r.added;
    endpointsRemoved += r.removed;
    portGroups.set(key, { key, endpoints, slices: groupExisting.length + r.toCreate.length - r.toDelete.length });
    toCreate.push(...r.toCreate);
    toUpdate.push(...r.toUpdate);
    toDelete.push(...r.toDelete);
  }
  for (const [key, slices] of existingByKey) if (!desired.groups.has(key)) toDelete.push(...slices);

  // With nothing else to exist, one empty slice stays as a marker that the Service was processed.
  if (existing.length === toDelete.length && toCreate.length === 0) {
    const placeholder = newEndpointSlice(service, [], addressType, input.managedBy);
    const only = toDelete[0];
    if (toDelete.length === 1 && only !== undefined && placeholderSliceEqual(only, placeholder)) toDelete = [];
    else toCreate.push(placeholder);
    const key = portMapKey([]);
    portGroups.set(key, { key, endpoints: 0, slices: 1 });
  }

  const events: ServiceEvent[] = [];
  ({ toCreate, toUpdate } = planHints(input, addressType, existing, toCreate, toUpdate, toDelete, events));
  ({ toCreate, toUpdate, toDelete } = recycleSlices(service, toCreate, toUpdate, toDelete));

  return {
    addressType,
    toCreate: toCreate.map((s) => withTriggerTime(s, input.triggerTime)),
    toUpdate: toUpdate.map((s) => withTriggerTime(s, input.triggerTime)),
    toDelete,
    endpointsAdded,
    endpointsRemoved,
    portGroups: [...portGroups.values()],
    errors: desired.errors,
    events,
  };
}

/** Upstream unchangedSlices: existing slices (by name) that are neither updated nor deleted. */
function unchangedSlices(
  existing: readonly Readonly<EndpointSlice>[],
  toUpdate: readonly EndpointSlice[],
  toDelete: readonly Readonly<EndpointSlice>[],
): Readonly<EndpointSlice>[] {
  const changed = new Set<string | undefined>([...toUpdate, ...toDelete].map((s) => s.metadata.name));
  return existing.filter((s) => !changed.has(s.metadata.name));
}

/** Upstream's hint step of reconcileByAddressType (trafficdist.ReconcileHints or TopologyCache.AddHints). */
function planHints(
  input: ReconcileSlicesInput,
  addressType: IPAddressType,
  existing: readonly Readonly<EndpointSlice>[],
  toCreate: EndpointSlice[],
  toUpdate: EndpointSlice[],
  toDelete: readonly Readonly<EndpointSlice>[],
  events: ServiceEvent[],
): { toCreate: EndpointSlice[]; toUpdate: EndpointSlice[] } {
  const { service, topologyCache } = input;
  const serviceKey = `${service.metadata.namespace ?? ''}/${service.metadata.name ?? ''}`;
  const annotationHints = hintsEnabled(service.metadata.annotations);
  const trafficDistribution = service.spec.trafficDistribution;
  const canUseTrafficDistribution =
    validTrafficDistribution(trafficDistribution, input.preferSameTrafficDistribution ?? true) && !annotationHints;
  let result = { toCreate, toUpdate };
  if (topologyCache !== undefined && annotationHints) {
    const added = topologyCache.addHints({
      serviceKey,
      addressType,
      toCreate,
      toUpdate,
      unchanged: unchangedSlices(existing, toUpdate, toDelete),
    });
    events.push(...added.events);
    result = { toCreate: added.toCreate, toUpdate: added.toUpdate };
  } else {
    if (topologyCache !== undefined) {
      if (topologyCache.hasPopulatedHints(serviceKey)) {
        events.push({
          type: 'Warning',
          reason: 'TopologyAwareHintsDisabled',
          message: `Topology Aware Hints has been disabled, addressType: ${addressType}`,
        });
      }
      topologyCache.removeHints(serviceKey, addressType);
    }
    if (!canUseTrafficDistribution) result = removeHints(toCreate, toUpdate, unchangedSlices(existing, toUpdate, toDelete));
  }
  if (canUseTrafficDistribution) {
    result = reconcileTrafficDistributionHints(
      trafficDistribution,
      result.toCreate,
      result.toUpdate,
      unchangedSlices(existing, result.toUpdate, toDelete),
    );
  }
  return result;
}

/**
 * Upstream finalize's first step: while creates remain, a slice to delete that is owned by the Service and of the
 * same address type is reused instead: the last create takes its name and becomes an update. Slices of another owner
 * are never reused (they may belong to an earlier Service of the same name being garbage collected).
 */
export function recycleSlices(
  service: Readonly<Service>,
  toCreate: readonly EndpointSlice[],
  toUpdate: readonly EndpointSlice[],
  toDelete: readonly Readonly<EndpointSlice>[],
): { toCreate: EndpointSlice[]; toUpdate: EndpointSlice[]; toDelete: Readonly<EndpointSlice>[] } {
  const creates = [...toCreate];
  const updates = [...toUpdate];
  const deletes = [...toDelete];
  for (let i = 0; i < deletes.length && creates.length > 0;) {
    const doomed = deletes[i];
    const create = creates[creates.length - 1];
    if (doomed !== undefined && create !== undefined && doomed.addressType === create.addressType && ownedBy(doomed, service)) {
      creates.pop();
      updates.push({ ...create, metadata: { ...create.metadata, name: doomed.metadata.name } });
      deletes.splice(i, 1);
    } else {
      i++;
    }
  }
  return { toCreate: creates, toUpdate: updates, toDelete: deletes };
}

/** Upstream addTriggerTimeAnnotation on a copy: set to the formatted time, or removed for the zero time. */
function withTriggerTime(slice: EndpointSlice, triggerTime: number | undefined): EndpointSlice {
  const annotations = { ...(slice.metadata.annotations ?? {}) };
  if (triggerTime === undefined) delete annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME];
  else annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME] = formatTriggerTime(triggerTime);
  return { ...slice, metadata: { ...slice.metadata, annotations } };
}

const NO_ENDPOINTS: readonly SliceEndpoint[] = Object.freeze([]);

/** What reconciling one port group yields (upstream reconcileByPortMapping). */
interface PortGroupPlan {
  readonly toCreate: EndpointSlice[];
  readonly toUpdate: EndpointSlice[];
  readonly toDelete: Readonly<EndpointSlice>[];
  readonly added: number;
  readonly removed: number;
}

/** A changed copy of a cached slice; the copy owns all its data, so later steps may build on it freely. */
function copyWith(slice: Readonly<EndpointSlice>, endpoints: SliceEndpoint[] | undefined, labels: Record<string, string>): EndpointSlice {
  if (endpoints !== undefined) {
    // The endpoints are replaced, so they are not cloned only to be dropped (most of a slice's size); the spread keeps
    // the key order of the clone it replaces, and with it the order of the written JSON.
    const copy = structuredClone({ ...slice, endpoints: [] }) as EndpointSlice;
    copy.endpoints = endpoints;
    copy.metadata.labels = labels;
    return copy;
  }
  const copy = structuredClone(slice) as EndpointSlice;
  copy.metadata.labels = labels;
  return copy;
}

/**
 * Upstream reconcileByPortMapping, the minimal-churn packing:
 * 1. keep each existing endpoint that is still desired (in its desired form) and drop the rest; a slice whose
 *    endpoints changed becomes an update, or a delete when none is left; a slice whose non-reserved labels drifted
 *    becomes an update; the others are unchanged;
 * 2. fill the slices being updated with the remaining endpoints, fullest first;
 * 3. while endpoints remain: if fewer than a full slice remain, put them all into the unchanged slice that ends
 *    closest to full, if one fits them all; otherwise fill a new slice.
 */
function planPortGroup(
  input: ReconcileSlicesInput,
  addressType: IPAddressType,
  existing: readonly Readonly<EndpointSlice>[],
  group: DesiredPortGroup,
): PortGroupPlan {
  const max = input.maxEndpointsPerSlice;
  // Consumed: the group's map is this call's own (desiredAddressTypeState builds one per call), so it is not copied.
  const desired = group.endpoints;
  const byName = new Map<string, Readonly<EndpointSlice>>();
  const unchanged = new Set<string>();
  const updated = new Map<string, EndpointSlice>();
  const deleted = new Set<string>();
  let removed = 0;

  for (const slice of existing) {
    const name = slice.metadata.name ?? '';
    byName.set(name, slice);
    const current = slice.endpoints ?? NO_ENDPOINTS;
    const identities = cachedEndpointIdentities(current);
    const kept: SliceEndpoint[] = [];
    let endpointChanged = false;
    for (let i = 0; i < current.length; i++) {
      const endpoint = current[i];
      const identity = identities[i];
      if (endpoint === undefined || identity === undefined) continue;
      const want = desired.get(identity);
      if (want === undefined) continue;
      kept.push(want);
      if (!endpointsEqualBeyondHash(want, endpoint)) endpointChanged = true;
      desired.delete(identity);
    }
    const { labels, changed: labelsChanged } = sliceLabels(slice.metadata.labels, input.service, input.managedBy);
    if (endpointChanged || kept.length !== current.length) {
      if (current.length > kept.length) removed += current.length - kept.length;
      if (kept.length === 0) deleted.add(name);
      else updated.set(name, copyWith(slice, kept, labels));
    } else if (labelsChanged) {
      updated.set(name, copyWith(slice, undefined, labels));
    } else {
      unchanged.add(name);
    }
  }
  const added = desired.size;

  const popInto = (slice: EndpointSlice): void => {
    const endpoints = slice.endpoints ?? [];
    slice.endpoints = endpoints;
    for (const [identity, endpoint] of desired) {
      if (endpoints.length >= max) break;
      endpoints.push(endpoint);
      desired.delete(identity);
    }
  };

  if (desired.size > 0 && updated.size > 0) {
    const fullestFirst = [...updated.values()].sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0));
    for (const slice of fullestFirst) popInto(slice);
  }

  const toCreate: EndpointSlice[] = [];
  while (desired.size > 0) {
    let target: EndpointSlice | undefined;
    if (desired.size < max && unchanged.size > 0) {
      const pick = sliceToFill(
        [...unchanged].map((n) => byName.get(n)).filter((s): s is Readonly<EndpointSlice> => s !== undefined),
        desired.size,
        max,
      );
      if (pick !== undefined) target = structuredClone(pick) as EndpointSlice;
    }
    target ??= newEndpointSlice(input.service, group.ports, addressType, input.managedBy);
    popInto(target);
    const name = target.metadata.name;
    if (name !== undefined && name !== '') {
      updated.set(name, target);
      unchanged.delete(name);
    } else {
      toCreate.push(target);
    }
  }

  return {
    toCreate,
    toUpdate: [...updated.values()],
    toDelete: [...deleted].map((n) => byName.get(n)).filter((s): s is Readonly<EndpointSlice> => s !== undefined),
    added,
    removed,
  };
}

/**
 * Upstream getSliceToFill: the slice that will be closest to full after adding `count` endpoints, among those that
 * can take them all; the first exact fit wins. Undefined when none fits.
 */
export function sliceToFill<S extends Readonly<EndpointSlice>>(slices: readonly S[], count: number, max: number): S | undefined {
  let closestDiff = max;
  let closest: S | undefined;
  for (const slice of slices) {
    const diff = max - (count + (slice.endpoints?.length ?? 0));
    if (diff >= 0 && diff < closestDiff) {
      closestDiff = diff;
      closest = slice;
      if (diff === 0) return closest;
    }
  }
  return closest;
}
