import type { Service, ServicePort } from '../../../../api/core/v1.ts';
import type { EndpointConditions, SliceEndpoint, SlicePort } from '../../../../api/discovery/v1.ts';
import { desiredSubsets, type PodSkipReason, serviceHasManagedEndpoints } from '../../../../controllers/endpoints/desired.ts';
import { addressTypesForService, desiredAddressTypeState } from '../../../../controllers/endpointslice/desired.ts';
import { endpointAddresses, type IPAddressType } from '../../../../controllers/endpointslice/endpoint.ts';
import { podExclusionReason, resolvePort } from '../../../../controllers/shared/pod-endpoints.ts';
import type { NodeIndex } from './node-index.ts';
import { type NotReadyBreakdown, notReadyBreakdown } from './readiness.ts';
import type { PodDetail } from './snapshot.ts';

// One selected Pod as an endpoint, and the single first rule that keeps it from being a ready one. The state comes from
// running the controllers' own pure functions on the Pod (EndpointSlice controller: desiredAddressTypeState and
// podToEndpoint; Endpoints controller: desiredSubsets), so it is exactly what they write. The reason names the rule
// that decided it, checked in the EndpointSlice controller's order:
//   terminal phase → no IP → no Service port resolvable → Node not cached → no IP of a served family
//   → terminating (serving or not) → not Ready → some (not all) named ports missing.
// EndpointSlices come first because they are what kube-proxy and DNS read; the Endpoints view is reported beside it.

/** The Pod as an EndpointSlice endpoint. `serving`: terminating but still passing readiness (used only as fallback). */
export type EndpointState = 'ready' | 'serving' | 'terminating' | 'notReady' | 'absent';

/** A Service port as written in the Service. */
export interface ServicePortRef {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
  readonly targetPort: number | string;
}

/** A Service port and the container port it resolves to on this Pod (absent when it resolves to none). */
export interface PortResolution extends ServicePortRef {
  readonly resolved?: number;
}

/** A port a container of the Pod declares (what a named targetPort is looked up in). */
export interface ContainerPortRef {
  readonly container: string;
  readonly name?: string;
  readonly port: number;
  readonly protocol: string;
}

/** The first failing rule. */
export type PodReason =
  | { readonly code: 'TerminalPhase'; readonly phase: string }
  | {
      readonly code: 'NoPodIP';
      /** Whether the Pod has a Node; without one it is waiting for the scheduler. */
      readonly scheduled: boolean;
      /** The PodScheduled condition when it is not True (e.g. Unschedulable and why). */
      readonly scheduling?: { readonly reason?: string; readonly message?: string };
    }
  | { readonly code: 'NoPortResolved'; readonly missing: readonly ServicePortRef[]; readonly containerPorts: readonly ContainerPortRef[] }
  | { readonly code: 'NodeMissing'; readonly nodeName: string }
  | { readonly code: 'IPFamilyNotServed'; readonly podIPs: readonly string[]; readonly serviceFamilies: readonly string[] }
  | { readonly code: 'Terminating'; readonly serving: boolean; readonly deletionTimestamp: string }
  | ({ readonly code: 'NotReady' } & NotReadyBreakdown)
  | {
      readonly code: 'NamedPortNotFound';
      readonly missing: readonly ServicePortRef[];
      readonly containerPorts: readonly ContainerPortRef[];
    };

/** The reasons the Endpoints controller leaves a selected Pod out, plus its 1000-address cap. */
export type EndpointsAbsenceReason = PodSkipReason | 'OverCapacity';

/** The Pod in the v1 Endpoints object. */
export interface EndpointsView {
  readonly state: 'ready' | 'notReady' | 'absent';
  readonly reason?: EndpointsAbsenceReason;
}

/** Everything the explanation says about one selected Pod. */
export interface PodVerdict {
  readonly pod: string;
  readonly nodeName?: string;
  /** `status.podIPs` (or `status.podIP` when the list is empty), as stored. */
  readonly podIPs: readonly string[];
  readonly state: EndpointState;
  /** The first failing rule; absent for a ready endpoint of every Service port. */
  readonly reason?: PodReason;
  /** The conditions the EndpointSlice controller writes for it, when it lists the Pod at all. */
  readonly conditions?: Readonly<EndpointConditions>;
  /** Its addresses in the EndpointSlices, over every address type the Service has. */
  readonly addresses: readonly string[];
  readonly ports: readonly PortResolution[];
  /** The Endpoints view; absent when the Endpoints controller does not manage this Service. */
  readonly endpoints?: EndpointsView;
}

/** What a verdict depends on besides the Pod. */
export interface PodVerdictContext {
  readonly service: Readonly<Service>;
  readonly nodes: NodeIndex;
  /** Pods the Endpoints cap drops (see endpoints-capacity.ts). */
  readonly droppedFromEndpoints: ReadonlySet<string>;
}

/** The Service port as the API server defaults it (protocol TCP, targetPort = port). */
export function servicePortRef(p: Readonly<ServicePort>): ServicePortRef {
  return { name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP', targetPort: p.targetPort ?? p.port };
}

/** Every port the Pod's containers and sidecar init containers declare. */
export function containerPorts(pod: Readonly<PodDetail>): ContainerPortRef[] {
  const sidecars = (pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  return [...pod.spec.containers, ...sidecars].flatMap((c) =>
    (c.ports ?? []).map((p) => ({
      container: c.name,
      ...(p.name !== undefined && p.name !== '' ? { name: p.name } : {}),
      port: p.containerPort,
      protocol: p.protocol ?? 'TCP',
    })),
  );
}

function storedPodIPs(pod: Readonly<PodDetail>): string[] {
  if ((pod.status.podIPs?.length ?? 0) > 0) return (pod.status.podIPs ?? []).map((p) => p.ip);
  return pod.status.podIP ? [pod.status.podIP] : [];
}

/** One endpoint the EndpointSlice controller writes for a Pod: its address type and the ports of its port group. */
export interface DesiredSliceEndpoint {
  readonly addressType: IPAddressType;
  readonly endpoint: SliceEndpoint;
  readonly ports: readonly SlicePort[];
}

/** The endpoints the EndpointSlice controller writes for `pod` alone, one per address type it has (none if skipped). */
export function desiredSliceEndpoints(service: Readonly<Service>, pod: Readonly<PodDetail>, nodes: NodeIndex): DesiredSliceEndpoint[] {
  const out: DesiredSliceEndpoint[] = [];
  for (const addressType of addressTypesForService(service)) {
    const state = desiredAddressTypeState(service, [pod], nodes.lookup, addressType);
    for (const group of state.groups.values()) {
      for (const endpoint of group.endpoints.values()) out.push({ addressType, endpoint, ports: group.ports });
    }
  }
  return out;
}

/** The Pod as the EndpointSlice controller sees it: its endpoint (if listed) and the ports of its port group. */
function sliceEndpoint(
  service: Readonly<Service>,
  pod: Readonly<PodDetail>,
  nodes: NodeIndex,
): { endpoint?: SliceEndpoint; groupPorts?: readonly SlicePort[]; addresses: string[] } {
  const desired = desiredSliceEndpoints(service, pod, nodes);
  const first = desired[0];
  return {
    ...(first ? { endpoint: first.endpoint, groupPorts: first.ports } : {}),
    addresses: desired.flatMap((d) => d.endpoint.addresses),
  };
}

function stateOf(conditions: Readonly<EndpointConditions>): EndpointState {
  if (conditions.ready === true) return 'ready';
  if (conditions.terminating === true) return conditions.serving === true ? 'serving' : 'terminating';
  return 'notReady';
}

function endpointsView(service: Readonly<Service>, pod: Readonly<PodDetail>, dropped: ReadonlySet<string>): EndpointsView | undefined {
  if (!serviceHasManagedEndpoints(service)) return undefined;
  const desired = desiredSubsets(service, [pod]);
  const skipped = desired.skippedPods[0];
  if (skipped !== undefined) return { state: 'absent', reason: skipped.reason };
  if (desired.subsets.length === 0) return { state: 'absent' };
  if (dropped.has(pod.metadata.name)) return { state: 'absent', reason: 'OverCapacity' };
  return { state: desired.subsets.some((s) => (s.addresses?.length ?? 0) > 0) ? 'ready' : 'notReady' };
}

function noPodIPReason(pod: Readonly<PodDetail>): PodReason {
  const scheduled = (pod.spec.nodeName ?? '') !== '';
  const c = pod.status.conditions?.find((x) => x.type === 'PodScheduled');
  const scheduling =
    c !== undefined && c.status !== 'True'
      ? { ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}) }
      : undefined;
  return { code: 'NoPodIP', scheduled, ...(scheduling ? { scheduling } : {}) };
}

/** Rules that take the Pod out of the EndpointSlices altogether, in the controller's order. */
function absenceReason(
  service: Readonly<Service>,
  pod: Readonly<PodDetail>,
  ports: readonly PortResolution[],
  nodes: NodeIndex,
): PodReason | undefined {
  const excluded = podExclusionReason(pod, true);
  if (excluded === 'TerminalPhase') return { code: 'TerminalPhase', phase: pod.status.phase ?? '' };
  if (excluded === 'NoPodIP') return noPodIPReason(pod);
  if (ports.length > 0 && ports.every((p) => p.resolved === undefined)) {
    return { code: 'NoPortResolved', missing: ports.map(({ resolved: _r, ...ref }) => ref), containerPorts: containerPorts(pod) };
  }
  const nodeName = pod.spec.nodeName ?? '';
  if (service.spec.publishNotReadyAddresses !== true && (nodeName === '' || (nodes.known && nodes.lookup.get(nodeName) === undefined))) {
    return { code: 'NodeMissing', nodeName };
  }
  const families = addressTypesForService(service);
  if (families.every((t) => endpointAddresses(pod, t).length === 0)) {
    return { code: 'IPFamilyNotServed', podIPs: storedPodIPs(pod), serviceFamilies: families };
  }
  return undefined;
}

/**
 * The verdict on one Pod the Service selects. Pure. The state is the controllers' (see file comment); the reason is the
 * first rule in their evaluation order that the Pod fails, or absent when it is a ready endpoint of every port.
 */
export function podVerdict(pod: Readonly<PodDetail>, ctx: PodVerdictContext): PodVerdict {
  const { service, nodes } = ctx;
  const ports: PortResolution[] = (service.spec.ports ?? []).map((sp) => {
    const resolved = resolvePort(pod, sp);
    return { ...servicePortRef(sp), ...(resolved !== undefined ? { resolved } : {}) };
  });
  const slice = sliceEndpoint(service, pod, nodes);
  const endpoints = endpointsView(service, pod, ctx.droppedFromEndpoints);
  const base = {
    pod: pod.metadata.name,
    ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    podIPs: storedPodIPs(pod),
    addresses: slice.addresses,
    ports,
    ...(slice.endpoint?.conditions ? { conditions: slice.endpoint.conditions } : {}),
    ...(endpoints ? { endpoints } : {}),
  };

  const absent = absenceReason(service, pod, ports, nodes);
  if (absent !== undefined || slice.endpoint === undefined) {
    return { ...base, state: 'absent', ...(absent ? { reason: absent } : {}) };
  }
  const conditions = slice.endpoint.conditions ?? {};
  const state = stateOf(conditions);
  if (state === 'serving' || state === 'terminating') {
    return {
      ...base,
      state,
      reason: { code: 'Terminating', serving: state === 'serving', deletionTimestamp: pod.metadata.deletionTimestamp ?? '' },
    };
  }
  if (state === 'notReady') {
    return { ...base, state, reason: { code: 'NotReady', ...notReadyBreakdown(pod, nodes.knowledge(pod.spec.nodeName ?? '')) } };
  }
  const missing = ports.filter((p) => p.resolved === undefined);
  if (missing.length > 0) {
    return {
      ...base,
      state,
      reason: { code: 'NamedPortNotFound', missing: missing.map(({ resolved: _r, ...ref }) => ref), containerPorts: containerPorts(pod) },
    };
  }
  return { ...base, state };
}
