import type { Service } from '../../../../api/core/v1.ts';
import type { EndpointSlice } from '../../../../api/discovery/v1.ts';
import { selectPods } from '../../../../controllers/endpoints/desired.ts';
import { isServiceIPSet } from '../../../../controllers/endpointslice/endpoint-slice.ts';
import { type AffinityReport, affinityGovernance } from './affinity-governance.ts';
import { endpointsCapacity } from './endpoints-capacity.ts';
import { explainDiff } from './explain-diff.ts';
import { type ExternalEndpointsReport, externalBackends } from './external-backends.ts';
import { type NearMiss, nearMisses } from './near-miss.ts';
import { nodeIndex } from './node-index.ts';
import { type EndpointState, type PodVerdict, podVerdict, type ServicePortRef, servicePortRef } from './pod-verdict.ts';
import { type RatedFinding, serviceFindings } from './service-findings.ts';
import { type ExplainSettings, REPORT_API_VERSION, type ServiceSnapshot } from './snapshot.ts';

// `kubectl endpoints why`: the Service-level findings first, then every selected Pod with its state and first failing
// rule, the Pods that almost match, the ExternalEndpoints backends, and the SessionAffinityPolicy that governs the
// Service. Everything is computed from the snapshot by pure functions, most of them the controllers' own.

/** The Service as the report describes it. */
export interface ServiceSummary {
  readonly namespace: string;
  readonly name: string;
  readonly found: boolean;
  readonly type?: string;
  readonly clusterIP?: string;
  readonly headless?: boolean;
  readonly selector?: Readonly<Record<string, string>>;
  readonly publishNotReadyAddresses?: boolean;
  readonly ipFamilies?: readonly string[];
  readonly ports?: readonly ServicePortRef[];
  readonly externalName?: string;
}

/** Endpoint counts by state. */
export interface EndpointCounts {
  readonly ready: number;
  readonly serving: number;
  readonly terminating: number;
  readonly notReady: number;
}

/** The why report; its JSON form is the `-o json` output (schema documented in the README). */
export interface WhyReport {
  readonly apiVersion: typeof REPORT_API_VERSION;
  readonly kind: 'WhyReport';
  readonly service: ServiceSummary;
  /** What the stored EndpointSlices publish (what kube-proxy and DNS use), counted per endpoint. */
  readonly published: EndpointCounts & { readonly slices: number };
  /** What the controllers compute from the selected Pods; absent for Services without a selector. */
  readonly expected?: EndpointCounts & { readonly absent: number };
  readonly findings: readonly RatedFinding[];
  readonly pods: readonly PodVerdict[];
  readonly nearMisses: readonly NearMiss[];
  /** All near misses, when more than those listed. */
  readonly nearMissTotal: number;
  readonly externalEndpoints?: ExternalEndpointsReport;
  readonly sessionAffinity?: AffinityReport;
}

/** The Service as a report describes it. */
export function serviceSummary(snapshot: ServiceSnapshot, service: Readonly<Service> | undefined): ServiceSummary {
  const base = { namespace: snapshot.namespace, name: snapshot.name, found: service !== undefined };
  if (service === undefined) return base;
  const s = service.spec;
  return {
    ...base,
    type: s.type ?? 'ClusterIP',
    ...(s.clusterIP !== undefined ? { clusterIP: s.clusterIP } : {}),
    headless: s.type !== 'ExternalName' && !isServiceIPSet(service),
    ...(s.selector !== undefined ? { selector: s.selector } : {}),
    publishNotReadyAddresses: s.publishNotReadyAddresses === true,
    ipFamilies: s.ipFamilies ?? [],
    ports: (s.ports ?? []).map(servicePortRef),
    ...(s.externalName !== undefined ? { externalName: s.externalName } : {}),
  };
}

/**
 * Counts the endpoints of the stored slices, once per endpoint (a dual-stack or multi-port Pod counts once, by its
 * targetRef), in its best state. Slices being deleted are skipped; the endpoints of port-less slices of a Service with
 * a cluster IP are not counted, since proxies ignore them (the slices themselves are).
 */
export function publishedCounts(
  service: Readonly<Service> | undefined,
  slices: readonly Readonly<EndpointSlice>[],
): WhyReport['published'] {
  const rank: Record<Exclude<EndpointState, 'absent'>, number> = { ready: 3, serving: 2, terminating: 1, notReady: 0 };
  const best = new Map<string, Exclude<EndpointState, 'absent'>>();
  const proxied = service !== undefined && isServiceIPSet(service);
  let counted = 0;
  for (const slice of slices) {
    if (slice.metadata.deletionTimestamp !== undefined) continue;
    counted++;
    if (proxied && (slice.ports?.length ?? 0) === 0) continue;
    for (const e of slice.endpoints ?? []) {
      const c = e.conditions ?? {};
      // A nil ready condition means ready, as the EndpointSlice API defines it.
      const state = c.ready !== false ? 'ready' : c.terminating === true ? (c.serving === true ? 'serving' : 'terminating') : 'notReady';
      const ref = e.targetRef;
      const key =
        ref?.name !== undefined ? `${ref.kind ?? ''}/${ref.namespace ?? ''}/${ref.name}` : `${slice.addressType}/${e.addresses.join(',')}`;
      const prev = best.get(key);
      if (prev === undefined || rank[state] > rank[prev]) best.set(key, state);
    }
  }
  const counts = { ready: 0, serving: 0, terminating: 0, notReady: 0 };
  for (const state of best.values()) counts[state]++;
  return { ...counts, slices: counted };
}

function expectedCounts(pods: readonly PodVerdict[]): NonNullable<WhyReport['expected']> {
  const counts = { ready: 0, serving: 0, terminating: 0, notReady: 0, absent: 0 };
  for (const p of pods) counts[p.state]++;
  return counts;
}

const STATE_ORDER: Readonly<Record<EndpointState, number>> = { absent: 0, notReady: 1, terminating: 2, serving: 3, ready: 4 };

/** Explains the snapshot's Service. Pure. */
export function explainWhy(snapshot: ServiceSnapshot, settings: ExplainSettings): WhyReport {
  const { service } = snapshot;
  const nodes = nodeIndex(snapshot.nodes);
  const diff = explainDiff(snapshot, settings);
  const externalEndpoints = snapshot.externalEndpoints.kind === 'found' ? snapshot.externalEndpoints.value : undefined;
  const selecting = service !== undefined && service.spec.type !== 'ExternalName' && service.spec.selector !== undefined;

  const selected = selecting ? selectPods(service, snapshot.pods) : [];
  const capacity = selecting ? endpointsCapacity(service, selected, settings.maxEndpointsCapacity) : undefined;
  const pods = selecting
    ? selected
        .map((pod) => podVerdict(pod, { service, nodes, droppedFromEndpoints: capacity?.droppedPods ?? new Set() }))
        .sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0))
    : [];
  const misses = selecting ? nearMisses(service.spec.selector, snapshot.namespace, snapshot.pods) : { nearMisses: [], total: 0 };

  const findings = serviceFindings({
    service,
    endpoints: snapshot.endpoints,
    slices: snapshot.endpointSlices,
    externalEndpoints,
    selectedPods: selected.length,
    nearMisses: misses.total,
    capacity,
    endpointsDiff: diff.endpoints,
    slicesDiff: diff.endpointSlices,
    ...(snapshot.nodes.kind === 'unavailable' && selecting ? { nodesUnavailable: snapshot.nodes.reason } : {}),
  });

  return {
    apiVersion: REPORT_API_VERSION,
    kind: 'WhyReport',
    service: serviceSummary(snapshot, service),
    published: publishedCounts(service, snapshot.endpointSlices),
    ...(selecting ? { expected: expectedCounts(pods) } : {}),
    findings,
    pods,
    nearMisses: misses.nearMisses,
    nearMissTotal: misses.total,
    ...(externalEndpoints !== undefined ? { externalEndpoints: externalBackends(externalEndpoints, snapshot.endpointSlices) } : {}),
    ...(service !== undefined ? { sessionAffinity: affinityGovernance(service, snapshot.sessionAffinityPolicies) } : {}),
  };
}

/** Exit codes of `why`. */
export const WHY_EXIT = { ready: 0, error: 2, noReadyEndpoints: 3 } as const;

/** 0 when the stored EndpointSlices publish at least one ready endpoint, 3 when none, 2 when the Service is missing. */
export function whyExitCode(report: WhyReport): number {
  if (!report.service.found) return WHY_EXIT.error;
  return report.published.ready > 0 ? WHY_EXIT.ready : WHY_EXIT.noReadyEndpoints;
}
