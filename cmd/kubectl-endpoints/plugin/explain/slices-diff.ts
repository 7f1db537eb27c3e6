import type { Endpoints, Pod, Service } from '../../../../api/core/v1.ts';
import type { EndpointSlice, SliceEndpoint, SlicePort } from '../../../../api/discovery/v1.ts';
import {
  ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
  LABEL_MANAGED_BY,
  MANAGED_BY_ENDPOINTSLICE_CONTROLLER,
  MANAGED_BY_MIRRORING_CONTROLLER,
} from '../../../../api/labels.ts';
import { selectPods } from '../../../../controllers/endpoints/desired.ts';
import { ownedBy } from '../../../../controllers/endpointslice/endpoint-slice.ts';
import { reconcileSlices } from '../../../../controllers/endpointslice/plan.ts';
import { TopologyCache } from '../../../../controllers/endpointslice/topology-cache.ts';
import { desiredMirroredSlices } from '../../../../controllers/endpointslice-mirroring/desired.ts';
import { endpointIdentity } from '../../../../controllers/shared/endpoint-identity.ts';
import { portMapKey } from '../../../../controllers/shared/port-map-key.ts';
import { byName, isManagedByMirroring } from '../../../../controllers/endpointslice-mirroring/mirrored-slices.ts';
import { planMirroredSlices } from '../../../../controllers/endpointslice-mirroring/plan.ts';
import { mirroringDecision } from '../../../../controllers/endpointslice-mirroring/should-mirror.ts';
import { keyChanges, type StoredObjectInfo, storedObjectInfo } from './endpoints-diff.ts';
import type { NodeIndex } from './node-index.ts';
import type { NodeDetail } from './snapshot.ts';

// What the two slice-writing controllers would do to a Service's EndpointSlices now, next to what is stored. Each runs
// its own pure planner on the live objects: the EndpointSlice controller (reconcileSlices) for Services with a
// selector, the mirroring controller (mirroringDecision, desiredMirroredSlices, planMirroredSlices) for the Endpoints
// of Services without one. The plans are then applied on paper to the stored slices, so that the difference can be
// shown per endpoint, whichever slice it happens to sit in.

/** The two controllers that write EndpointSlices from Kubernetes objects. */
export type SliceController = 'endpointslice-controller' | 'endpointslice-mirroring-controller';

/** Why a stored slice would be deleted. */
export type SliceDeleteReason =
  /** Owned by another (older) Service of the same name, or by no Service. */
  | 'NotOwnedByService'
  /** Its address type is not one the Service has any more. */
  | 'AddressTypeNotServed'
  /** Mirroring no longer applies to the Service (the reason is the plan's `reason`). */
  | 'NotMirrored'
  /** Its endpoints are gone or fit elsewhere. */
  | 'NotNeeded';

/** What a controller does with one stored slice. `ignored`: another manager's slice, which it never touches. */
export type StoredSliceAction = 'keep' | 'update' | 'delete' | 'ignored' | 'awaitingGarbageCollection';

/** The parts of a slice that an update changes. */
export type SliceChangeKind = 'endpoints' | 'ports' | 'labels' | 'annotations' | 'ownerReferences';

/** A stored slice and its fate. */
export interface StoredSliceInfo extends StoredObjectInfo {
  readonly addressType: string;
  readonly ports: string;
  readonly endpoints: number;
  readonly beingDeleted: boolean;
  readonly action: StoredSliceAction;
  readonly deleteReason?: SliceDeleteReason;
  readonly changes?: readonly SliceChangeKind[];
}

/** One controller's plan for the Service. */
export interface ControllerSlicePlan {
  readonly controller: SliceController;
  /** Whether it maintains slices for this Service; an inactive controller may still delete slices it left. */
  readonly active: boolean;
  /** Why it is inactive (e.g. `NoSelector`, `ExternalName`, `SkipMirrorLabel`). */
  readonly reason?: string;
  /** Slices it would create, as `addressType ports (n endpoints)`. */
  readonly creates: readonly string[];
  readonly updates: readonly string[];
  readonly deletes: readonly string[];
}

/** The endpoint fields a change is reported on. */
export interface EndpointSummary {
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
  readonly nodeName?: string;
  readonly zone?: string;
  readonly hostname?: string;
}

/** One endpoint that is listed differently (or only on one side). */
export interface SliceEndpointChange {
  readonly controller: SliceController;
  readonly addressType: string;
  readonly addresses: readonly string[];
  /** The targetRef's name, when it points at a Pod. */
  readonly pod?: string;
  readonly ports: string;
  /** Absent: not listed in the stored slices. */
  readonly stored?: EndpointSummary;
  /** Absent: the controller would not list it. */
  readonly desired?: EndpointSummary;
  /** Fields that differ when it is listed on both sides. */
  readonly fields?: readonly string[];
}

/** Stored EndpointSlices versus what the controllers would make of them. */
export interface SlicesDiff {
  readonly inSync: boolean;
  readonly plans: readonly ControllerSlicePlan[];
  /** Every stored slice labelled with the Service's name, by name. */
  readonly stored: readonly StoredSliceInfo[];
  readonly endpointChanges: readonly SliceEndpointChange[];
  /** Set when the plan could not be computed faithfully (e.g. Nodes unreadable); the diff is then not meaningful. */
  readonly unavailable?: string;
}

/** Inputs of {@link diffSlices}. */
export interface SlicesDiffInput {
  readonly name: string;
  readonly service: Readonly<Service> | undefined;
  readonly endpoints: Readonly<Endpoints> | undefined;
  readonly pods: readonly Readonly<Pod>[];
  readonly nodes: NodeIndex;
  readonly nodeList: readonly Readonly<NodeDetail>[];
  readonly slices: readonly Readonly<EndpointSlice>[];
  readonly maxEndpointsPerSlice: number;
  readonly mirroringMaxEndpointsPerSubset: number;
  readonly controllerFieldManagers: readonly string[];
}

/** `name port/protocol` of each slice port, sorted and comma-separated; `(none)` for a port-less slice. */
export function formatSlicePorts(ports: readonly Readonly<SlicePort>[] | null | undefined): string {
  const list = (ports ?? []).map((p) => `${p.name ? `${p.name}:` : ''}${p.port ?? ''}/${p.protocol ?? 'TCP'}`).sort();
  return list.length === 0 ? '(none)' : list.join(',');
}

function describePlanned(slice: Readonly<EndpointSlice>): string {
  const name = slice.metadata.name ?? `${slice.metadata.generateName ?? ''}*`;
  return `${name} ${slice.addressType} ${formatSlicePorts(slice.ports)} (${slice.endpoints?.length ?? 0} endpoints)`;
}

interface RawPlan {
  readonly toCreate: readonly Readonly<EndpointSlice>[];
  readonly toUpdate: readonly Readonly<EndpointSlice>[];
  readonly toDelete: readonly { readonly slice: Readonly<EndpointSlice>; readonly reason: SliceDeleteReason }[];
}

const EMPTY_PLAN: RawPlan = { toCreate: [], toUpdate: [], toDelete: [] };

/** The EndpointSlice controller's plan (upstream syncService + Reconcile), or why it does nothing. */
function endpointSliceControllerPlan(
  input: SlicesDiffInput,
  managed: readonly Readonly<EndpointSlice>[],
): { plan: RawPlan; reason?: string } {
  const { service } = input;
  if (service === undefined) return { plan: EMPTY_PLAN, reason: 'ServiceNotFound' };
  if (service.spec.type === 'ExternalName') return { plan: EMPTY_PLAN, reason: 'ExternalName' };
  if (service.spec.selector === undefined) return { plan: EMPTY_PLAN, reason: 'NoSelector' };
  const topologyCache = new TopologyCache();
  topologyCache.setNodes(input.nodeList);
  const plan = reconcileSlices({
    service,
    pods: selectPods(service, input.pods),
    nodes: input.nodes.lookup,
    existingSlices: managed.filter((s) => s.metadata.deletionTimestamp === undefined),
    maxEndpointsPerSlice: input.maxEndpointsPerSlice,
    triggerTime: undefined,
    managedBy: MANAGED_BY_ENDPOINTSLICE_CONTROLLER,
    topologyCache,
  });
  const unsupported = new Set(plan.toDeleteUnsupported.map((s) => s.metadata.name));
  const toDelete = [...plan.addressTypes.flatMap((p) => p.toDelete), ...plan.toDeleteUnsupported].map((slice) => ({
    slice,
    reason: unsupported.has(slice.metadata.name)
      ? ('AddressTypeNotServed' as const)
      : ownedBy(slice, service)
        ? ('NotNeeded' as const)
        : ('NotOwnedByService' as const),
  }));
  // A Service being deleted gets no new slices (the reconciler skips creates so as not to race the garbage collector).
  const creating = service.metadata.deletionTimestamp === undefined;
  return {
    plan: {
      toCreate: creating ? plan.addressTypes.flatMap((p) => p.toCreate) : [],
      toUpdate: plan.addressTypes.flatMap((p) => p.toUpdate),
      toDelete,
    },
  };
}

/** The mirroring controller's plan (upstream syncEndpoints + reconcile), or its deletion of every mirrored slice. */
function mirroringControllerPlan(input: SlicesDiffInput, mirrored: readonly Readonly<EndpointSlice>[]): { plan: RawPlan; reason?: string } {
  const existing = [...mirrored].sort(byName);
  const decision = mirroringDecision(input.endpoints, input.service);
  if (!decision.mirror) {
    return {
      plan: { toCreate: [], toUpdate: [], toDelete: existing.map((slice) => ({ slice, reason: 'NotMirrored' as const })) },
      reason: decision.reason,
    };
  }
  const max = input.mirroringMaxEndpointsPerSubset;
  const plan = planMirroredSlices(decision.endpoints, existing, desiredMirroredSlices(decision.endpoints, max), max);
  return {
    plan: {
      toCreate: plan.toCreate,
      toUpdate: plan.toUpdate,
      toDelete: plan.toDelete.map((slice) => ({ slice, reason: 'NotNeeded' as const })),
    },
  };
}

/** The stored slices as they would be after the plan: deleted and updated ones replaced, creates added. */
function applied(existing: readonly Readonly<EndpointSlice>[], plan: RawPlan): Readonly<EndpointSlice>[] {
  const replaced = new Set([...plan.toDelete.map((d) => d.slice), ...plan.toUpdate].map((s) => s.metadata.name));
  return [...existing.filter((s) => !replaced.has(s.metadata.name)), ...plan.toUpdate, ...plan.toCreate];
}

function summary(e: Readonly<SliceEndpoint>): EndpointSummary {
  const c = e.conditions ?? {};
  return {
    ...(c.ready !== undefined ? { ready: c.ready } : {}),
    ...(c.serving !== undefined ? { serving: c.serving } : {}),
    ...(c.terminating !== undefined ? { terminating: c.terminating } : {}),
    ...(e.nodeName !== undefined ? { nodeName: e.nodeName } : {}),
    ...(e.zone !== undefined ? { zone: e.zone } : {}),
    ...(e.hostname !== undefined ? { hostname: e.hostname } : {}),
  };
}

const SUMMARY_FIELDS = ['ready', 'serving', 'terminating', 'nodeName', 'zone', 'hostname'] as const;

interface Listed {
  readonly slice: Readonly<EndpointSlice>;
  readonly endpoint: Readonly<SliceEndpoint>;
}

/** Endpoint-level differences between the stored and the planned slices of one controller. */
function endpointChanges(
  controller: SliceController,
  before: readonly Readonly<EndpointSlice>[],
  after: readonly Readonly<EndpointSlice>[],
): SliceEndpointChange[] {
  const index = (slices: readonly Readonly<EndpointSlice>[]) => {
    const out = new Map<string, Listed>();
    for (const slice of slices) {
      for (const endpoint of slice.endpoints ?? []) {
        out.set(`${slice.addressType} ${portMapKey(slice.ports)} ${endpointIdentity(endpoint)}`, { slice, endpoint });
      }
    }
    return out;
  };
  const was = index(before);
  const will = index(after);
  const out: SliceEndpointChange[] = [];
  for (const key of new Set([...was.keys(), ...will.keys()])) {
    const b = was.get(key);
    const a = will.get(key);
    const ref = a ?? b;
    if (ref === undefined) continue;
    const stored = b ? summary(b.endpoint) : undefined;
    const desired = a ? summary(a.endpoint) : undefined;
    const fields =
      stored && desired && a && b
        ? [
            ...SUMMARY_FIELDS.filter((f) => stored[f] !== desired[f]),
            ...(a.endpoint.targetRef?.uid !== b.endpoint.targetRef?.uid ? ['targetRef'] : []),
            ...(JSON.stringify(a.endpoint.hints ?? null) !== JSON.stringify(b.endpoint.hints ?? null) ? ['hints'] : []),
          ]
        : [];
    if (stored && desired && fields.length === 0) continue;
    const pod = ref.endpoint.targetRef?.kind === 'Pod' ? ref.endpoint.targetRef.name : undefined;
    out.push({
      controller,
      addressType: ref.slice.addressType,
      addresses: ref.endpoint.addresses,
      ...(pod ? { pod } : {}),
      ports: formatSlicePorts(ref.slice.ports),
      ...(stored ? { stored } : {}),
      ...(desired ? { desired } : {}),
      ...(fields.length > 0 ? { fields } : {}),
    });
  }
  return out.sort((x, y) => {
    const kx = `${x.pod ?? ''} ${x.addresses.join(',')} ${x.ports}`;
    const ky = `${y.pod ?? ''} ${y.addresses.join(',')} ${y.ports}`;
    return kx < ky ? -1 : kx > ky ? 1 : 0;
  });
}

/** What an update changes in a stored slice (the trigger-time annotation is ignored: it records when, not what). */
function changeKinds(stored: Readonly<EndpointSlice>, planned: Readonly<EndpointSlice>): SliceChangeKind[] {
  const endpoints = (s: Readonly<EndpointSlice>) =>
    JSON.stringify(
      (s.endpoints ?? [])
        .map((e) => [endpointIdentity(e), summary(e), e.targetRef?.uid ?? '', e.hints ?? null])
        .sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
    );
  const owners = (s: Readonly<EndpointSlice>) => JSON.stringify((s.metadata.ownerReferences ?? []).map((o) => [o.kind, o.name, o.uid]));
  const kinds: SliceChangeKind[] = [];
  if (endpoints(stored) !== endpoints(planned)) kinds.push('endpoints');
  if (portMapKey(stored.ports) !== portMapKey(planned.ports) || stored.addressType !== planned.addressType) kinds.push('ports');
  if (keyChanges(stored.metadata.labels, planned.metadata.labels).length > 0) kinds.push('labels');
  if (keyChanges(stored.metadata.annotations, planned.metadata.annotations, [ANNOTATION_LAST_CHANGE_TRIGGER_TIME]).length > 0) {
    kinds.push('annotations');
  }
  if (owners(stored) !== owners(planned)) kinds.push('ownerReferences');
  return kinds;
}

/**
 * Compares the stored slices of a Service with both controllers' plans. Pure. Slices of other managers (e.g.
 * ExternalEndpoints, or hand-made ones) are listed as `ignored`. When the Service is gone, the EndpointSlice
 * controller's slices are left to the garbage collector (owner references), and reported as awaiting it.
 */
export function diffSlices(input: SlicesDiffInput): SlicesDiff {
  const managed = input.slices.filter((s) => s.metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY_ENDPOINTSLICE_CONTROLLER);
  const mirrored = input.slices.filter(isManagedByMirroring);
  const sliceController = endpointSliceControllerPlan(input, managed);
  const mirroring = mirroringControllerPlan(input, mirrored);
  const runs = [
    { controller: 'endpointslice-controller' as const, existing: managed, ...sliceController },
    { controller: 'endpointslice-mirroring-controller' as const, existing: mirrored, ...mirroring },
  ];

  const actions = new Map<string, Pick<StoredSliceInfo, 'action' | 'deleteReason' | 'changes'>>();
  const endpointDiffs: SliceEndpointChange[] = [];
  const plans: ControllerSlicePlan[] = [];
  for (const run of runs) {
    const { plan } = run;
    for (const s of run.existing) actions.set(s.metadata.name ?? '', { action: 'keep' });
    for (const u of plan.toUpdate) {
      const before = run.existing.find((s) => s.metadata.name === u.metadata.name);
      actions.set(u.metadata.name ?? '', { action: 'update', ...(before ? { changes: changeKinds(before, u) } : {}) });
    }
    for (const d of plan.toDelete) actions.set(d.slice.metadata.name ?? '', { action: 'delete', deleteReason: d.reason });
    endpointDiffs.push(...endpointChanges(run.controller, run.existing, applied(run.existing, plan)));
    plans.push({
      controller: run.controller,
      active: run.reason === undefined,
      ...(run.reason !== undefined ? { reason: run.reason } : {}),
      creates: plan.toCreate.map(describePlanned),
      updates: plan.toUpdate.map(describePlanned),
      deletes: plan.toDelete.map((d) => describePlanned(d.slice)),
    });
  }

  let awaitingGc = false;
  const stored = [...input.slices].sort(byName).map((slice): StoredSliceInfo => {
    const name = slice.metadata.name ?? '';
    let fate = actions.get(name) ?? { action: 'ignored' as const };
    if (input.service === undefined && managed.includes(slice)) {
      fate = { action: 'awaitingGarbageCollection' };
      awaitingGc = true;
    }
    return {
      ...storedObjectInfo(slice.metadata, LABEL_MANAGED_BY, input.controllerFieldManagers),
      addressType: slice.addressType,
      ports: formatSlicePorts(slice.ports),
      endpoints: slice.endpoints?.length ?? 0,
      beingDeleted: slice.metadata.deletionTimestamp !== undefined,
      ...fate,
    };
  });

  const writes = plans.some((p) => p.creates.length + p.updates.length + p.deletes.length > 0);
  const unavailable =
    !input.nodes.known && sliceController.reason === undefined
      ? 'Nodes could not be read, so the EndpointSlice controller plan cannot be computed'
      : undefined;
  return {
    inSync: !writes && !awaitingGc && unavailable === undefined,
    plans,
    stored,
    endpointChanges: endpointDiffs,
    ...(unavailable ? { unavailable } : {}),
  };
}

/** The managed-by values of the two controllers, for display. */
export const SLICE_CONTROLLER_MANAGED_BY: Readonly<Record<SliceController, string>> = {
  'endpointslice-controller': MANAGED_BY_ENDPOINTSLICE_CONTROLLER,
  'endpointslice-mirroring-controller': MANAGED_BY_MIRRORING_CONTROLLER,
};
