import type { EndpointSlice } from '../../../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, MANAGED_BY_EXTERNAL_ENDPOINTS } from '../../../../api/labels.ts';
import type { ExternalEndpoints } from '../../../../api/v1alpha1/external-endpoints.ts';
import type { EndpointState } from './pod-verdict.ts';

// The backends of an ExternalEndpoints-backed Service: what the operator last observed about each (its status, per
// address), what the spec declares (maintenance, DNS names), and how each address is published in the EndpointSlices
// the ExternalEndpoints controller manages. Nothing is recomputed: the probes and DNS answers live in the operator.

/** A condition of the ExternalEndpoints object, as stored. */
export interface ConditionSummary {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

/** One probed address. */
export interface BackendReport {
  readonly address: string;
  /** The declared dnsName it was resolved from; absent for ip backends. */
  readonly resolvedFrom?: string;
  readonly healthy: boolean;
  readonly maintenance: boolean;
  readonly lastProbeTime?: string;
  readonly lastTransitionTime?: string;
  readonly lastError?: string;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  /** How the address is listed in the ExternalEndpoints-managed EndpointSlices. */
  readonly published: EndpointState;
}

/** A declared backend with no status entry yet (not probed or not resolved). */
export interface PendingBackend {
  readonly ip?: string;
  readonly dnsName?: string;
  readonly maintenance: boolean;
}

/** Everything known about the backends. */
export interface ExternalEndpointsReport {
  readonly name: string;
  /** `spec.healthCheck.type`, or `None` when absent. */
  readonly healthCheck: string;
  readonly failurePolicy: { readonly minHealthy: number; readonly whenBelowMinHealthy: string };
  /** False when the status was computed from an older generation of the spec. */
  readonly statusCurrent: boolean;
  readonly readyCount?: number;
  readonly totalCount?: number;
  readonly conditions: readonly ConditionSummary[];
  readonly backends: readonly BackendReport[];
  readonly pending: readonly PendingBackend[];
}

function publishedStates(slices: readonly Readonly<EndpointSlice>[]): Map<string, EndpointState> {
  const out = new Map<string, EndpointState>();
  for (const slice of slices) {
    if (slice.metadata.labels?.[LABEL_MANAGED_BY] !== MANAGED_BY_EXTERNAL_ENDPOINTS) continue;
    for (const e of slice.endpoints ?? []) {
      const c = e.conditions ?? {};
      // A nil ready condition means ready, as the EndpointSlice API defines it.
      const state: EndpointState =
        c.ready !== false ? 'ready' : c.terminating === true ? (c.serving === true ? 'serving' : 'terminating') : 'notReady';
      for (const a of e.addresses) out.set(a, state);
    }
  }
  return out;
}

/** The report for `object`, with publication read from the Service's stored `slices`. Pure. */
export function externalBackends(object: Readonly<ExternalEndpoints>, slices: readonly Readonly<EndpointSlice>[]): ExternalEndpointsReport {
  const published = publishedStates(slices);
  const status = object.status;
  const declared = object.spec.endpoints;
  const maintenanceOf = (address: string, resolvedFrom: string | undefined) =>
    declared.some((d) => d.maintenance && (resolvedFrom !== undefined ? d.dnsName === resolvedFrom : d.ip === address));
  const backends = (status?.endpoints ?? []).map((b): BackendReport => ({
    address: b.address,
    ...(b.resolvedFrom !== undefined ? { resolvedFrom: b.resolvedFrom } : {}),
    healthy: b.healthy,
    maintenance: maintenanceOf(b.address, b.resolvedFrom),
    ...(b.lastProbeTime !== undefined ? { lastProbeTime: b.lastProbeTime } : {}),
    ...(b.lastTransitionTime !== undefined ? { lastTransitionTime: b.lastTransitionTime } : {}),
    ...(b.lastError !== undefined ? { lastError: b.lastError } : {}),
    consecutiveFailures: b.consecutiveFailures,
    consecutiveSuccesses: b.consecutiveSuccesses,
    published: published.get(b.address) ?? 'absent',
  }));
  const seenIPs = new Set(backends.map((b) => b.address));
  const seenNames = new Set(backends.flatMap((b) => (b.resolvedFrom !== undefined ? [b.resolvedFrom] : [])));
  const pending = declared
    .filter((d) => (d.ip !== undefined ? !seenIPs.has(d.ip) : d.dnsName !== undefined && !seenNames.has(d.dnsName)))
    .map((d): PendingBackend => ({
      ...(d.ip ? { ip: d.ip } : {}),
      ...(d.dnsName ? { dnsName: d.dnsName } : {}),
      maintenance: d.maintenance,
    }));
  return {
    name: object.metadata.name ?? '',
    healthCheck: object.spec.healthCheck?.type ?? 'None',
    failurePolicy: { minHealthy: object.spec.failurePolicy.minHealthy, whenBelowMinHealthy: object.spec.failurePolicy.whenBelowMinHealthy },
    statusCurrent: status?.observedGeneration === undefined || status.observedGeneration === object.metadata.generation,
    ...(status?.readyCount !== undefined ? { readyCount: status.readyCount } : {}),
    ...(status?.totalCount !== undefined ? { totalCount: status.totalCount } : {}),
    conditions: (status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
    backends,
    pending,
  };
}
