import type { ExternalEndpoints } from '../../api/v1alpha1/external-endpoints.ts';
import { ExternalEndpointsConditionType, ExternalEndpointsReason } from '../../api/v1alpha1/group-version.ts';
import { AddressRefusalReason } from './address-policy.ts';
import type { HealthState } from './health.ts';

// Events are announcements of changes, never of states: a backend that stays down gets one Warning when it goes down
// and one Normal when it comes back, however many probes fail in between (Kubernetes #4101: per-probe events are spam).
// The reconcile compares what it observes now with what it last announced; the EventRecorder still de-duplicates
// and rate-limits per object on top.

/** Event reasons of this controller (besides the ServiceFound condition reasons, reused for Service problems). */
export const EventReason = {
  ServiceFound: 'ServiceFound',
  BackendUnhealthy: 'BackendUnhealthy',
  BackendHealthy: 'BackendHealthy',
  AddressRefused: 'AddressRefused',
  BelowMinHealthy: 'BelowMinHealthy',
  MinHealthyRestored: 'MinHealthyRestored',
  DNSResolutionFailed: 'DNSResolutionFailed',
  TooManyChanges: 'TooManyChanges',
  /** The active priority tier rose (tiers.ts); recorded by the reconciler when its tier decision changes. */
  Failover: 'Failover',
  /** The active priority tier fell back after the hold-down. */
  Failback: 'Failback',
  /** The credentials Secret of a database check is missing, unlabelled or lacks a key (one Event per problem). */
  CredentialsUnavailable: 'CredentialsUnavailable',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

/** What one reconcile observed, in the terms Events talk about. */
export interface Observation {
  /** The ServiceFound reason (`ServiceFound` when usable) and its message. */
  readonly service: { readonly reason: string; readonly message: string };
  /** Probed backends by address: health, and for Unhealthy the failure as a sentence. */
  readonly backends: ReadonlyMap<string, { readonly state: HealthState; readonly detail?: string | undefined }>;
  /** Refused addresses and why. */
  readonly refused: ReadonlyMap<string, string>;
  /** Set while below minHealthy, with the condition's message. */
  readonly belowMinHealthy?: string | undefined;
  /** dnsNames whose last resolution failed, with the error. */
  readonly dnsFailures: ReadonlyMap<string, string>;
}

/** An Event to record on the object. */
export interface PlannedEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/** Backend-level Events per reconcile at most; the rest are summed up in one (a mass outage is one story). */
export const MAX_BACKEND_EVENTS = 10;

/**
 * The Events for the change from `prev` (the last announced observation; undefined for an object never seen, so its
 * problems are announced once) to `next`. Pure; in a stable order.
 */
export function transitionEvents(prev: Observation | undefined, next: Observation): PlannedEvent[] {
  const out: PlannedEvent[] = [];
  if (next.service.reason !== prev?.service.reason) {
    if (next.service.reason !== ExternalEndpointsReason.ServiceFound) {
      out.push({ type: 'Warning', reason: next.service.reason, message: next.service.message });
    } else if (prev !== undefined) {
      out.push({ type: 'Normal', reason: EventReason.ServiceFound, message: next.service.message });
    }
  }
  // Nothing is evaluated without a usable Service: the absence of backend problems then is no recovery.
  if (next.service.reason !== ExternalEndpointsReason.ServiceFound) return out;
  const backendEvents: PlannedEvent[] = [];
  for (const [address, { state, detail }] of next.backends) {
    const was = prev?.backends.get(address)?.state ?? 'Unknown';
    if (state === 'Unhealthy' && was !== 'Unhealthy') {
      backendEvents.push({
        type: 'Warning',
        reason: EventReason.BackendUnhealthy,
        message: `Backend ${address} is unhealthy: ${detail ?? 'probe failed'}`,
      });
    } else if (state === 'Healthy' && was === 'Unhealthy') {
      backendEvents.push({ type: 'Normal', reason: EventReason.BackendHealthy, message: `Backend ${address} is healthy again` });
    }
  }
  for (const [address, why] of next.refused) {
    if (!prev?.refused.has(address)) backendEvents.push({ type: 'Warning', reason: EventReason.AddressRefused, message: why });
  }
  out.push(...backendEvents.slice(0, MAX_BACKEND_EVENTS));
  if (backendEvents.length > MAX_BACKEND_EVENTS) {
    out.push({
      type: 'Warning',
      reason: EventReason.TooManyChanges,
      message: `${backendEvents.length - MAX_BACKEND_EVENTS} more backend changes not announced one by one; see status.endpoints`,
    });
  }
  if (next.belowMinHealthy !== undefined && prev?.belowMinHealthy === undefined) {
    out.push({ type: 'Warning', reason: EventReason.BelowMinHealthy, message: next.belowMinHealthy });
  } else if (next.belowMinHealthy === undefined && prev?.belowMinHealthy !== undefined) {
    out.push({
      type: 'Normal',
      reason: EventReason.MinHealthyRestored,
      message: 'Enough backends are healthy again; publishing by health',
    });
  }
  for (const [name, why] of next.dnsFailures) {
    if (!prev?.dnsFailures.has(name)) out.push({ type: 'Warning', reason: EventReason.DNSResolutionFailed, message: why });
  }
  return out;
}

/**
 * What the stored status says was last observed, so a new leader (or a restart) does not announce again what its
 * predecessor already did. Undefined when the object has no status yet. Pure.
 */
export function observationFromStatus(object: Readonly<ExternalEndpoints>): Observation | undefined {
  const status = object.status;
  if (status === undefined) return undefined;
  const condition = (type: string) => status.conditions?.find((c) => c.type === type);
  const serviceFound = condition(ExternalEndpointsConditionType.ServiceFound);
  const below = condition(ExternalEndpointsConditionType.BelowMinHealthy);
  const dns = condition(ExternalEndpointsConditionType.DNSResolved);
  const backends = new Map<string, { state: HealthState }>();
  const refused = new Map<string, string>();
  for (const e of status.endpoints ?? []) {
    const state = e.health ?? (e.healthy ? 'Healthy' : 'Unhealthy');
    if (e.reason !== undefined && Object.hasOwn(AddressRefusalReason, e.reason)) refused.set(e.address, e.lastError ?? e.reason);
    else backends.set(e.address, { state });
  }
  const names = object.spec.endpoints.map((e) => e.dnsName).filter((n): n is string => n !== undefined);
  return {
    service: { reason: serviceFound?.reason ?? '', message: serviceFound?.message ?? '' },
    backends,
    refused,
    belowMinHealthy: below?.status === 'True' ? below.message : undefined,
    dnsFailures: new Map(dns?.status === 'False' ? names.map((n) => [n, dns.message]) : []),
  };
}
