import type { Endpoints, Service } from '../../../../api/core/v1.ts';
import type { EndpointSlice } from '../../../../api/discovery/v1.ts';
import {
  LABEL_MANAGED_BY,
  MANAGED_BY_ENDPOINTSLICE_CONTROLLER,
  MANAGED_BY_EXTERNAL_ENDPOINTS,
  MANAGED_BY_MIRRORING_CONTROLLER,
} from '../../../../api/labels.ts';
import type { ExternalEndpoints } from '../../../../api/v1alpha1/external-endpoints.ts';
import { countAddresses } from '../../../../controllers/endpoints/truncate.ts';
import { isServiceIPSet } from '../../../../controllers/endpointslice/endpoint-slice.ts';
import { mirroringDecision, type NotMirroredReason } from '../../../../controllers/endpointslice-mirroring/should-mirror.ts';
import type { EndpointsCapacity } from './endpoints-capacity.ts';
import type { EndpointsDiff, StoredObjectInfo } from './endpoints-diff.ts';
import type { SlicesDiff } from './slices-diff.ts';

// Causes and facts at the level of the Service, before any Pod: whether it exists, whether the endpoint controllers
// manage its endpoints at all (ExternalName, no selector), where endpoints come from otherwise, which settings change
// the Pod rules (headless, publishNotReadyAddresses), and the state of the objects as a whole (no Pod selected,
// Endpoints over capacity, stored objects out of date). Each finding is reported only on positive evidence.

/** How much a finding matters: `cause` explains missing endpoints, `warning` is likely a problem, `info` is context. */
export type Severity = 'cause' | 'warning' | 'info';

/** Where a selectorless Service's endpoints come from. */
export type EndpointsSource = 'ExternalEndpoints' | 'Endpoints' | 'EndpointSlices' | 'None';

/** A Service-level finding. `code` is stable (scripts may match on it). */
export type ServiceFinding =
  | { readonly code: 'ServiceNotFound' }
  | { readonly code: 'ServiceTerminating'; readonly deletionTimestamp: string }
  | { readonly code: 'ExternalName'; readonly externalName: string }
  | {
      readonly code: 'Selectorless';
      readonly source: EndpointsSource;
      /** The stored Endpoints object and its address count, when there is one. */
      readonly endpoints?: StoredObjectInfo & { readonly addresses: number };
      /** Whether the mirroring controller copies that Endpoints into EndpointSlices, and if not why. */
      readonly mirroring: { readonly mirrored: boolean; readonly reason?: NotMirroredReason };
      /** managed-by values of the EndpointSlices labelled with the Service's name. */
      readonly sliceManagers: readonly string[];
    }
  | { readonly code: 'NoEndpointsSource' }
  | { readonly code: 'MirroringSkipped'; readonly reason: 'SkipMirrorLabel' | 'LeaderElectionLock' }
  | { readonly code: 'ExternalEndpointsIgnored'; readonly reason: 'ServiceHasSelector' | 'ServiceIsExternalName' }
  | { readonly code: 'LeftoverEndpointSlices'; readonly slices: readonly string[] }
  | { readonly code: 'Headless'; readonly withoutPorts: boolean }
  | { readonly code: 'PublishNotReadyAddresses' }
  | { readonly code: 'NoMatchingPods'; readonly selector: Readonly<Record<string, string>>; readonly nearMisses: number }
  | { readonly code: 'EndpointsOverCapacity'; readonly addresses: number; readonly kept: number; readonly droppedPods: number }
  | { readonly code: 'EndpointsOutOfDate'; readonly action: 'create' | 'update' | 'delete'; readonly foreignManagers: readonly string[] }
  | {
      readonly code: 'EndpointSlicesOutOfDate';
      readonly creates: number;
      readonly updates: number;
      readonly deletes: number;
      readonly endpointChanges: number;
      readonly foreignManagers: readonly string[];
    }
  | { readonly code: 'NodesUnavailable'; readonly reason: string };

/** A finding with its severity, as reports carry it. */
export type RatedFinding = ServiceFinding & { readonly severity: Severity };

const SEVERITY: Readonly<Record<ServiceFinding['code'], Severity>> = {
  ServiceNotFound: 'cause',
  ServiceTerminating: 'warning',
  ExternalName: 'cause',
  Selectorless: 'info',
  NoEndpointsSource: 'cause',
  MirroringSkipped: 'warning',
  ExternalEndpointsIgnored: 'warning',
  LeftoverEndpointSlices: 'warning',
  Headless: 'info',
  PublishNotReadyAddresses: 'info',
  NoMatchingPods: 'cause',
  EndpointsOverCapacity: 'warning',
  EndpointsOutOfDate: 'warning',
  EndpointSlicesOutOfDate: 'warning',
  NodesUnavailable: 'info',
};

/** Attaches the fixed severity of the finding's code. */
export function rate(finding: ServiceFinding): RatedFinding {
  return { severity: SEVERITY[finding.code], ...finding };
}

/** Everything the Service-level findings are computed from. */
export interface ServiceFindingsInput {
  readonly service: Readonly<Service> | undefined;
  readonly endpoints: Readonly<Endpoints> | undefined;
  readonly slices: readonly Readonly<EndpointSlice>[];
  readonly externalEndpoints: Readonly<ExternalEndpoints> | undefined;
  /** Pods the selector matches (0 with a selector gives NoMatchingPods). */
  readonly selectedPods: number;
  readonly nearMisses: number;
  readonly capacity: EndpointsCapacity | undefined;
  readonly endpointsDiff: EndpointsDiff;
  readonly slicesDiff: SlicesDiff;
  /** Why the Nodes could not be read, when they could not. */
  readonly nodesUnavailable?: string;
}

function selectorlessFinding(input: ServiceFindingsInput, service: Readonly<Service>): ServiceFinding[] {
  const { endpoints, slices, externalEndpoints } = input;
  const sliceManagers = [...new Set(slices.map((s) => s.metadata.labels?.[LABEL_MANAGED_BY] ?? ''))].sort();
  // Slices neither mirrored nor from an ExternalEndpoints: hand-made, another controller's, or leftovers of the
  // EndpointSlice controller (see leftoverSlices). Proxies use them all alike.
  const custom = slices.some((s) => {
    const m = s.metadata.labels?.[LABEL_MANAGED_BY];
    return m !== MANAGED_BY_MIRRORING_CONTROLLER && m !== MANAGED_BY_EXTERNAL_ENDPOINTS && (s.endpoints?.length ?? 0) > 0;
  });
  const addresses = countAddresses(endpoints?.subsets);
  const source: EndpointsSource =
    externalEndpoints !== undefined ? 'ExternalEndpoints' : addresses > 0 ? 'Endpoints' : custom ? 'EndpointSlices' : 'None';
  const decision = mirroringDecision(endpoints, service);
  const out: ServiceFinding[] = [
    {
      code: 'Selectorless',
      source,
      ...(input.endpointsDiff.stored ? { endpoints: { ...input.endpointsDiff.stored, addresses } } : {}),
      mirroring: decision.mirror ? { mirrored: true } : { mirrored: false, reason: decision.reason },
      sliceManagers,
    },
  ];
  if (source === 'None') out.push({ code: 'NoEndpointsSource' });
  // ExternalEndpoints writes its legacy Endpoints with the skip-mirror label on purpose: not a problem then.
  if (
    !decision.mirror &&
    externalEndpoints === undefined &&
    (decision.reason === 'SkipMirrorLabel' || decision.reason === 'LeaderElectionLock')
  ) {
    out.push({ code: 'MirroringSkipped', reason: decision.reason });
  }
  return out;
}

function leftoverSlices(input: ServiceFindingsInput): ServiceFinding[] {
  // The EndpointSlice controller leaves its slices in place when a Service loses its selector or becomes ExternalName
  // (upstream #118376); kube-proxy keeps using them.
  const names = input.slices
    .filter((s) => s.metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY_ENDPOINTSLICE_CONTROLLER && (s.endpoints?.length ?? 0) > 0)
    .map((s) => s.metadata.name ?? '')
    .sort();
  return names.length > 0 ? [{ code: 'LeftoverEndpointSlices', slices: names }] : [];
}

function outOfDate(input: ServiceFindingsInput): ServiceFinding[] {
  const out: ServiceFinding[] = [];
  const e = input.endpointsDiff;
  if (e.action !== 'none') {
    out.push({
      code: 'EndpointsOutOfDate',
      action: e.action,
      foreignManagers: [...new Set((e.stored?.foreignManagers ?? []).map((m) => m.manager))],
    });
  }
  const s = input.slicesDiff;
  if (!s.inSync && s.unavailable === undefined) {
    const count = (k: 'creates' | 'updates' | 'deletes') => s.plans.reduce((n, p) => n + p[k].length, 0);
    const foreign = s.stored.filter((x) => x.action !== 'ignored').flatMap((x) => x.foreignManagers.map((m) => m.manager));
    out.push({
      code: 'EndpointSlicesOutOfDate',
      creates: count('creates'),
      updates: count('updates'),
      deletes: count('deletes'),
      endpointChanges: s.endpointChanges.length,
      foreignManagers: [...new Set(foreign)].sort(),
    });
  }
  return out;
}

/** The Service-level findings, in the order they are reported. Pure. */
export function serviceFindings(input: ServiceFindingsInput): RatedFinding[] {
  const { service } = input;
  if (service === undefined) return [rate({ code: 'ServiceNotFound' })];
  const out: ServiceFinding[] = [];
  if (service.metadata.deletionTimestamp !== undefined) {
    out.push({ code: 'ServiceTerminating', deletionTimestamp: service.metadata.deletionTimestamp });
  }
  const externalName = service.spec.type === 'ExternalName';
  if (externalName) out.push({ code: 'ExternalName', externalName: service.spec.externalName ?? '' });
  if (!externalName && service.spec.selector === undefined) out.push(...selectorlessFinding(input, service));
  if (input.externalEndpoints !== undefined && (externalName || service.spec.selector !== undefined)) {
    out.push({ code: 'ExternalEndpointsIgnored', reason: externalName ? 'ServiceIsExternalName' : 'ServiceHasSelector' });
  }
  if (externalName || service.spec.selector === undefined) out.push(...leftoverSlices(input));
  if (!externalName) {
    if (!isServiceIPSet(service)) out.push({ code: 'Headless', withoutPorts: (service.spec.ports?.length ?? 0) === 0 });
    if (service.spec.publishNotReadyAddresses === true) out.push({ code: 'PublishNotReadyAddresses' });
  }
  if (!externalName && service.spec.selector !== undefined) {
    if (input.selectedPods === 0) out.push({ code: 'NoMatchingPods', selector: service.spec.selector, nearMisses: input.nearMisses });
    const cap = input.capacity;
    if (cap !== undefined && cap.droppedPods.size > 0) {
      out.push({ code: 'EndpointsOverCapacity', addresses: cap.addresses, kept: cap.kept, droppedPods: cap.droppedPods.size });
    }
  }
  out.push(...outOfDate(input));
  if (input.nodesUnavailable !== undefined) out.push({ code: 'NodesUnavailable', reason: input.nodesUnavailable });
  return out.map(rate);
}
