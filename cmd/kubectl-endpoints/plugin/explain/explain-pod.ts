import type { EndpointSubset, Service } from '../../../../api/core/v1.ts';
import type { EndpointConditions, EndpointHints, EndpointSlice } from '../../../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY } from '../../../../api/labels.ts';
import { selectPods } from '../../../../controllers/endpoints/desired.ts';
import { hintsEnabled, validTrafficDistribution } from '../../../../controllers/endpointslice/hints.ts';
import { parseIP, selectorMatches } from '../../../../controllers/shared/pod-endpoints.ts';
import { endpointsCapacity } from './endpoints-capacity.ts';
import { type ServiceSummary, serviceSummary } from './explain-why.ts';
import { nodeIndex } from './node-index.ts';
import { containerPorts, type ContainerPortRef, desiredSliceEndpoints, type PodVerdict, podVerdict } from './pod-verdict.ts';
import { type ReadyConditionSummary, readyConditionSummary } from './readiness.ts';
import { type ExplainSettings, type PodConditionDetail, type PodDetail, REPORT_API_VERSION, type ServiceSnapshot } from './snapshot.ts';

// `kubectl endpoints why SERVICE POD`: one Pod in depth. Whether the selector matches it, label by label; its
// scheduling, IPs and families, readiness (conditions, containers, gates); which Service ports resolve on it; the
// verdict of the controllers' own functions (podVerdict); and where it actually is in the stored Endpoints and
// EndpointSlices, with conditions, zone and hints, compared with what the controllers would write for it now.

/** One selector label against the Pod's labels. */
export interface SelectorLabel {
  readonly key: string;
  readonly want: string;
  /** The Pod's value; absent when it has no such label. */
  readonly actual?: string;
  readonly matches: boolean;
}

/** One container (or sidecar init container) status, as readiness sees it. */
export interface ContainerSummary {
  readonly name: string;
  readonly sidecar: boolean;
  readonly ready: boolean;
  readonly started?: boolean;
  readonly state: 'waiting' | 'running' | 'terminated' | 'unknown';
  readonly reason?: string;
  readonly restartCount: number;
}

/** A readiness gate and the status of its condition. */
export interface GateSummary {
  readonly conditionType: string;
  readonly status: 'True' | 'False' | 'Unknown' | 'Missing';
}

/** A Pod IP with its family. */
export interface PodIP {
  readonly ip: string;
  readonly family: 'IPv4' | 'IPv6' | 'invalid';
}

/** The Pod itself. */
export interface PodSummary {
  readonly name: string;
  readonly found: boolean;
  readonly phase?: string;
  readonly nodeName?: string;
  /** Whether the Node is known: `absent` when Nodes were read and it is not among them. */
  readonly node?: { readonly name: string; readonly ready: 'True' | 'False' | 'Unknown' | 'Missing' | 'absent' | 'unavailable' };
  readonly ips: readonly PodIP[];
  readonly deletionTimestamp?: string;
  readonly conditions: readonly PodConditionDetail[];
  readonly ready: ReadyConditionSummary;
  readonly containers: readonly ContainerSummary[];
  readonly readinessGates: readonly GateSummary[];
  readonly containerPorts: readonly ContainerPortRef[];
}

/** The Pod as one endpoint of a stored EndpointSlice. */
export interface StoredSliceEndpoint {
  readonly slice: string;
  readonly addressType: string;
  readonly managedBy?: string;
  /** `name:port/protocol` of the slice's ports. */
  readonly ports: readonly string[];
  readonly addresses: readonly string[];
  readonly conditions: Readonly<EndpointConditions>;
  readonly zone?: string;
  readonly nodeName?: string;
  readonly hints?: Readonly<EndpointHints>;
}

/** The endpoint the EndpointSlice controller would write for the Pod now. */
export interface ExpectedSliceEndpoint {
  readonly addressType: string;
  readonly ports: readonly string[];
  readonly addresses: readonly string[];
  readonly conditions: Readonly<EndpointConditions>;
  readonly zone?: string;
}

/** The Pod's addresses in the stored Endpoints object. */
export interface StoredEndpointsAddress {
  readonly ip: string;
  readonly ready: boolean;
  readonly ports: readonly string[];
}

/** How the Service asks for topology hints, when it does. */
export type TopologySetting =
  { readonly kind: 'none' } | { readonly kind: 'annotation' } | { readonly kind: 'trafficDistribution'; readonly value: string };

/** The why report of one Pod; its JSON form is the `-o json` output of `why SERVICE POD`. */
export interface WhyPodReport {
  readonly apiVersion: typeof REPORT_API_VERSION;
  readonly kind: 'WhyPodReport';
  readonly service: ServiceSummary;
  readonly pod: PodSummary;
  /** Absent when the Service has no selector (or is not found, or is ExternalName). */
  readonly selector?: { readonly matches: boolean; readonly labels: readonly SelectorLabel[] };
  /** The controllers' verdict; present when the selector matches. */
  readonly verdict?: PodVerdict;
  readonly publishNotReadyAddresses: boolean;
  readonly topology: TopologySetting;
  readonly expectedSlices: readonly ExpectedSliceEndpoint[];
  readonly storedSlices: readonly StoredSliceEndpoint[];
  /** Undefined when there is no stored Endpoints object. */
  readonly storedEndpoints?: readonly StoredEndpointsAddress[];
  /** Whether the stored slices list the Pod as the controller would now (addresses and conditions, per address type). */
  readonly slicesUpToDate: boolean;
  /** Whether the stored Endpoints lists the Pod as the controller would now; undefined when it does not manage it. */
  readonly endpointsUpToDate?: boolean;
}

function ipsOf(pod: Readonly<PodDetail>): PodIP[] {
  const raw =
    (pod.status.podIPs?.length ?? 0) > 0 ? (pod.status.podIPs ?? []).map((p) => p.ip) : pod.status.podIP ? [pod.status.podIP] : [];
  return raw.map((ip) => ({ ip, family: parseIP(ip)?.family ?? 'invalid' }));
}

function containerSummaries(pod: Readonly<PodDetail>): ContainerSummary[] {
  const sidecars = new Set((pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  const statuses = [
    ...(pod.status.initContainerStatuses ?? []).filter((s) => sidecars.has(s.name)).map((s) => ({ s, sidecar: true })),
    ...(pod.status.containerStatuses ?? []).map((s) => ({ s, sidecar: false })),
  ];
  return statuses.map(({ s, sidecar }) => {
    const st = s.state;
    const reason = st?.waiting?.reason ?? st?.terminated?.reason;
    return {
      name: s.name,
      sidecar,
      ready: s.ready,
      ...(s.started !== undefined ? { started: s.started } : {}),
      state: st?.waiting ? 'waiting' : st?.running ? 'running' : st?.terminated ? 'terminated' : 'unknown',
      ...(reason ? { reason } : {}),
      restartCount: s.restartCount ?? 0,
    };
  });
}

function gateSummaries(pod: Readonly<PodDetail>): GateSummary[] {
  return (pod.spec.readinessGates ?? []).map((g) => {
    const c = pod.status.conditions?.find((x) => x.type === g.conditionType);
    const status = c === undefined ? 'Missing' : c.status === 'True' || c.status === 'False' ? c.status : 'Unknown';
    return { conditionType: g.conditionType, status };
  });
}

function podSummary(pod: Readonly<PodDetail>, snapshot: ServiceSnapshot): PodSummary {
  const nodeName = pod.spec.nodeName ?? '';
  let node: PodSummary['node'];
  if (nodeName !== '') {
    const knowledge = nodeIndex(snapshot.nodes).knowledge(nodeName);
    const ready =
      knowledge.kind === 'known'
        ? (() => {
            const c = knowledge.node.status?.conditions?.find((x) => x.type === 'Ready');
            if (c === undefined) return 'Missing' as const;
            return c.status === 'True' || c.status === 'False' ? c.status : ('Unknown' as const);
          })()
        : knowledge.kind;
    node = { name: nodeName, ready };
  }
  return {
    name: pod.metadata.name,
    found: true,
    ...(pod.status.phase ? { phase: pod.status.phase } : {}),
    ...(nodeName !== '' ? { nodeName } : {}),
    ...(node ? { node } : {}),
    ips: ipsOf(pod),
    ...(pod.metadata.deletionTimestamp ? { deletionTimestamp: pod.metadata.deletionTimestamp } : {}),
    conditions: pod.status.conditions ?? [],
    ready: readyConditionSummary(pod),
    containers: containerSummaries(pod),
    readinessGates: gateSummaries(pod),
    containerPorts: containerPorts(pod),
  };
}

function selectorLabels(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): SelectorLabel[] {
  return Object.entries(selector).map(([key, want]) => {
    const has = Object.hasOwn(labels, key);
    return { key, want, ...(has ? { actual: labels[key] ?? '' } : {}), matches: has && labels[key] === want };
  });
}

const portText = (p: { name?: string; port?: number; protocol?: string }) => `${p.name ?? ''}:${p.port ?? ''}/${p.protocol ?? 'TCP'}`;

/** Whether a stored endpoint refers to the Pod: by targetRef, or (without one) by one of its IPs. */
function isThePod(
  ref: { kind?: string; name?: string } | undefined,
  addresses: readonly string[],
  pod: string,
  ips: readonly PodIP[],
): boolean {
  if (ref?.name !== undefined) return (ref.kind ?? 'Pod') === 'Pod' && ref.name === pod;
  return addresses.some((a) => ips.some((i) => i.ip === a || parseIP(i.ip)?.canonical === a));
}

function storedSlices(slices: readonly Readonly<EndpointSlice>[], pod: string, ips: readonly PodIP[]): StoredSliceEndpoint[] {
  const out: StoredSliceEndpoint[] = [];
  const name = (s: Readonly<EndpointSlice>) => s.metadata.name ?? '';
  const sorted = [...slices].sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
  for (const slice of sorted) {
    if (slice.metadata.deletionTimestamp !== undefined) continue;
    for (const e of slice.endpoints ?? []) {
      if (!isThePod(e.targetRef, e.addresses, pod, ips)) continue;
      const managedBy = slice.metadata.labels?.[LABEL_MANAGED_BY];
      out.push({
        slice: name(slice),
        addressType: slice.addressType,
        ...(managedBy ? { managedBy } : {}),
        ports: (slice.ports ?? []).map(portText),
        addresses: e.addresses,
        conditions: e.conditions ?? {},
        ...(e.zone ? { zone: e.zone } : {}),
        ...(e.nodeName ? { nodeName: e.nodeName } : {}),
        ...(e.hints ? { hints: e.hints } : {}),
      });
    }
  }
  return out;
}

function storedEndpoints(subsets: readonly Readonly<EndpointSubset>[], pod: string, ips: readonly PodIP[]): StoredEndpointsAddress[] {
  const out: StoredEndpointsAddress[] = [];
  for (const s of subsets) {
    const ports = (s.ports ?? []).map(portText);
    for (const [ready, list] of [
      [true, s.addresses ?? []],
      [false, s.notReadyAddresses ?? []],
    ] as const) {
      for (const a of list) if (isThePod(a.targetRef, [a.ip], pod, ips)) out.push({ ip: a.ip, ready, ports });
    }
  }
  return out;
}

function topologySetting(service: Readonly<Service>): TopologySetting {
  if (hintsEnabled(service.metadata.annotations)) return { kind: 'annotation' };
  const td = service.spec.trafficDistribution;
  if (td !== undefined && validTrafficDistribution(td)) return { kind: 'trafficDistribution', value: td };
  return { kind: 'none' };
}

const sameConditions = (a: Readonly<EndpointConditions>, b: Readonly<EndpointConditions>) =>
  a.ready === b.ready && a.serving === b.serving && a.terminating === b.terminating;

/** Whether the stored slices list the Pod exactly as expected: same address types, addresses, ports and conditions. */
function slicesMatch(expected: readonly ExpectedSliceEndpoint[], stored: readonly StoredSliceEndpoint[]): boolean {
  if (expected.length !== stored.length) return false;
  return expected.every((e) =>
    stored.some(
      (s) =>
        s.addressType === e.addressType &&
        s.addresses.join(',') === e.addresses.join(',') &&
        [...s.ports].sort().join(',') === [...e.ports].sort().join(',') &&
        sameConditions(s.conditions, e.conditions),
    ),
  );
}

function endpointsMatch(verdict: PodVerdict | undefined, stored: readonly StoredEndpointsAddress[]): boolean {
  const want = verdict?.endpoints?.state ?? 'absent';
  if (want === 'absent') return stored.length === 0;
  return stored.length > 0 && stored.every((a) => a.ready === (want === 'ready'));
}

/** Explains the snapshot's Service for the Pod `podName` of its namespace. Pure. */
export function explainPod(snapshot: ServiceSnapshot, podName: string, settings: ExplainSettings): WhyPodReport {
  const { service } = snapshot;
  const pod = snapshot.pods.find((p) => p.metadata.name === podName && p.metadata.namespace === snapshot.namespace);
  const base: Pick<WhyPodReport, 'apiVersion' | 'kind' | 'service' | 'publishNotReadyAddresses' | 'topology'> = {
    apiVersion: REPORT_API_VERSION,
    kind: 'WhyPodReport',
    service: serviceSummary(snapshot, service),
    publishNotReadyAddresses: service?.spec.publishNotReadyAddresses === true,
    topology: service ? topologySetting(service) : { kind: 'none' },
  };
  const notFound: PodSummary = {
    name: podName,
    found: false,
    ips: [],
    conditions: [],
    ready: { status: 'Missing' },
    containers: [],
    readinessGates: [],
    containerPorts: [],
  };
  const ips = pod ? ipsOf(pod) : [];
  const slices = pod ? storedSlices(snapshot.endpointSlices, podName, ips) : [];
  const eps = snapshot.endpoints ? storedEndpoints(snapshot.endpoints.subsets ?? [], podName, ips) : undefined;
  const stored = { storedSlices: slices, ...(eps !== undefined ? { storedEndpoints: eps } : {}) };
  if (pod === undefined || service === undefined || service.spec.type === 'ExternalName' || service.spec.selector === undefined) {
    return {
      ...base,
      pod: pod ? podSummary(pod, snapshot) : notFound,
      expectedSlices: [],
      ...stored,
      slicesUpToDate: slices.length === 0,
    };
  }
  const selector = service.spec.selector;
  const labels = selectorLabels(selector, pod.metadata.labels ?? {});
  const matches = selectorMatches(selector, pod.metadata.labels);
  const selectorReport = { matches, labels };
  if (!matches) {
    return {
      ...base,
      pod: podSummary(pod, snapshot),
      selector: selectorReport,
      expectedSlices: [],
      ...stored,
      slicesUpToDate: slices.length === 0,
      ...(eps !== undefined ? { endpointsUpToDate: eps.length === 0 } : {}),
    };
  }
  const nodes = nodeIndex(snapshot.nodes);
  const capacity = endpointsCapacity(service, selectPods(service, snapshot.pods), settings.maxEndpointsCapacity);
  const verdict = podVerdict(pod, { service, nodes, droppedFromEndpoints: capacity.droppedPods });
  const expectedSlices = desiredSliceEndpoints(service, pod, nodes).map((d) => ({
    addressType: d.addressType,
    ports: d.ports.map(portText),
    addresses: d.endpoint.addresses,
    conditions: d.endpoint.conditions ?? {},
    ...(d.endpoint.zone ? { zone: d.endpoint.zone } : {}),
  }));
  return {
    ...base,
    pod: podSummary(pod, snapshot),
    selector: selectorReport,
    verdict,
    expectedSlices,
    ...stored,
    slicesUpToDate: slicesMatch(expectedSlices, slices),
    ...(verdict.endpoints !== undefined ? { endpointsUpToDate: endpointsMatch(verdict, eps ?? []) } : {}),
  };
}

/** Exit codes of `why SERVICE POD`. */
export const WHY_POD_EXIT = { ready: 0, error: 2, notReady: 3 } as const;

/**
 * Whether proxies use the slice's endpoints: a Service with a cluster IP ignores port-less slices (where the
 * EndpointSlice controller puts Pods on which no Service port resolves), as publishedCounts does.
 */
export function proxiedSlice(report: Pick<WhyPodReport, 'service'>, slice: Pick<StoredSliceEndpoint, 'ports'>): boolean {
  return report.service.headless === true || slice.ports.length > 0;
}

/**
 * 0 when a stored EndpointSlice that proxies use lists the Pod as ready, 3 when none does, 2 when the Service or the
 * Pod is missing.
 */
export function whyPodExitCode(report: WhyPodReport): number {
  if (!report.service.found || !report.pod.found) return WHY_POD_EXIT.error;
  const ready = report.storedSlices.some((s) => s.conditions.ready !== false && proxiedSlice(report, s));
  return ready ? WHY_POD_EXIT.ready : WHY_POD_EXIT.notReady;
}
