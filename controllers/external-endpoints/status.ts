import { isDeepStrictEqual } from 'node:util';
import { apiTime, type Condition, type ConditionInput, removeCondition, setCondition } from '../../api/v1alpha1/condition.ts';
import {
  type BackendStatus,
  type ExternalEndpoints,
  type ExternalEndpointsStatus,
  MAX_BACKEND_STATUSES,
} from '../../api/v1alpha1/external-endpoints.ts';
import { ExternalEndpointsReason as Reason, ExternalEndpointsConditionType as Type } from '../../api/v1alpha1/group-version.ts';
import type { Backend, BackendSet } from './backends.ts';
import type { NameResolution } from './dns/resolver.ts';
import type { BackendHealth, PublicationDecision } from './health.ts';
import type { ServiceVerdict } from './service-check.ts';

// The status of one ExternalEndpoints object, computed from everything the reconcile knows, and the comparison that
// decides whether it is worth a write. Conditions keep their lastTransitionTime while their status holds (via
// setCondition), so recomputing an unchanged state yields the stored value.

/** Everything {@link desiredStatus} reads. Health and publication are keyed by address. */
export interface StatusInput {
  readonly object: Readonly<ExternalEndpoints>;
  readonly now: number;
  readonly service: ServiceVerdict;
  readonly backends: BackendSet;
  /** False when the health check is None (or absent): every backend counts as healthy. */
  readonly probing: boolean;
  readonly health: ReadonlyMap<string, BackendHealth>;
  readonly decision: PublicationDecision;
  /** The current resolution of each dnsName of the spec; a name without an entry has not been resolved yet. */
  readonly resolutions: ReadonlyMap<string, NameResolution>;
  /** Why our legacy Endpoints object could not be written (a foreign object of that name exists), if so. */
  readonly endpointsConflict?: string | undefined;
  /** Why the credentials of a database check are unavailable, if so. */
  readonly credentialsError?: string | undefined;
  /** The active priority tier, when some backend declares a tier above 0. */
  readonly activeTier?: number | undefined;
  /** Healthy backends held back from ready, by address, with the reason status shows (Standby, SlowStart, ...). */
  readonly heldBack?: ReadonlyMap<string, string> | undefined;
}

const MAX_LAST_ERROR = 1024;
const MAX_EXAMPLES = 3;

function trim(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

function examples(items: readonly string[]): string {
  const shown = items.slice(0, MAX_EXAMPLES).join('; ');
  return items.length > MAX_EXAMPLES ? `${shown}; and ${items.length - MAX_EXAMPLES} more` : shown;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 'es'}`;
}

function backendEntry(
  b: Backend,
  probing: boolean,
  health: BackendHealth | undefined,
  ready: boolean,
  heldBack: string | undefined,
): BackendStatus {
  const base = { address: b.address, ...(b.resolvedFrom === undefined ? {} : { resolvedFrom: b.resolvedFrom }) };
  if (b.maintenance) {
    return { ...base, healthy: false, health: 'Unknown', ready, reason: 'Maintenance', consecutiveFailures: 0, consecutiveSuccesses: 0 };
  }
  if (!probing) {
    return {
      ...base,
      healthy: true,
      health: 'Healthy',
      ready,
      ...(heldBack === undefined ? {} : { reason: heldBack }),
      consecutiveFailures: 0,
      consecutiveSuccesses: 0,
    };
  }
  const h = health ?? { state: 'Unknown', consecutiveFailures: 0, consecutiveSuccesses: 0 };
  // A Healthy backend's odd failure (below the threshold) is not its reason: that would turn every blip into a write.
  const reason = h.state === 'Healthy' ? heldBack : h.lastError?.reason;
  return {
    ...base,
    healthy: h.state === 'Healthy',
    health: h.state,
    ready,
    ...(reason === undefined ? {} : { reason }),
    ...(h.lastProbeTime === undefined ? {} : { lastProbeTime: apiTime(h.lastProbeTime) }),
    ...(h.lastTransitionTime === undefined ? {} : { lastTransitionTime: apiTime(h.lastTransitionTime) }),
    ...(h.lastError === undefined ? {} : { lastError: trim(h.lastError.message, MAX_LAST_ERROR) }),
    ...(h.lastLatencyMs === undefined ? {} : { latencyMs: Math.max(0, Math.round(h.lastLatencyMs)) }),
    consecutiveFailures: h.consecutiveFailures,
    consecutiveSuccesses: h.consecutiveSuccesses,
  };
}

function backendEntries(input: StatusInput): BackendStatus[] {
  const ready = new Map(input.decision.endpoints.map((e) => [e.key, e.conditions.ready]));
  const byAddress = new Map<string, BackendStatus>();
  for (const b of input.backends.backends) {
    const held = input.heldBack?.get(b.address);
    byAddress.set(b.address, backendEntry(b, input.probing, input.health.get(b.address), ready.get(b.address) ?? false, held));
  }
  for (const r of input.backends.refused) {
    byAddress.set(r.address, {
      address: r.address,
      ...(r.resolvedFrom === undefined ? {} : { resolvedFrom: r.resolvedFrom }),
      healthy: false,
      health: 'Unknown',
      ready: false,
      reason: r.verdict.reason,
      lastError: trim(r.verdict.message, MAX_LAST_ERROR),
      consecutiveFailures: 0,
      consecutiveSuccesses: 0,
    });
  }
  const entries = input.backends.order.map((a) => byAddress.get(a)).filter((e): e is BackendStatus => e !== undefined);
  if (entries.length <= MAX_BACKEND_STATUSES) return entries;
  // Over the cap, the entries that explain a problem are the ones worth keeping.
  const troubled = entries.filter((e) => !e.healthy);
  return [...troubled, ...entries.filter((e) => e.healthy)].slice(0, MAX_BACKEND_STATUSES);
}

function degraded(input: StatusInput, entries: readonly BackendStatus[]): ConditionInput {
  const gen = input.object.metadata.generation;
  const refusedBy = (rule: string) => input.backends.refused.filter((r) => r.verdict.rule === rule).map((r) => r.verdict.message);
  const invalid = refusedBy('EndpointValidation');
  const forbidden = refusedBy('ProbePolicy');
  const unhealthy = entries.filter((e) => e.health === 'Unhealthy').map((e) => `${e.address} (${e.reason ?? 'Error'})`);
  const portWarnings = input.service.usable ? input.service.portWarnings : [];
  const parts: { reason: string; message: string }[] = [];
  if (input.credentialsError !== undefined) parts.push({ reason: Reason.CredentialsUnavailable, message: input.credentialsError });
  if (invalid.length > 0) {
    parts.push({ reason: Reason.InvalidAddress, message: `${plural(invalid.length, 'address')} refused: ${examples(invalid)}` });
  }
  if (forbidden.length > 0) {
    parts.push({ reason: Reason.ForbiddenAddress, message: `${plural(forbidden.length, 'address')} refused: ${examples(forbidden)}` });
  }
  if (input.endpointsConflict !== undefined) parts.push({ reason: Reason.EndpointsConflict, message: input.endpointsConflict });
  if (portWarnings.length > 0) parts.push({ reason: Reason.PortNotFound, message: examples(portWarnings) });
  if (unhealthy.length > 0) {
    const total = input.backends.backends.filter((b) => !b.maintenance).length;
    parts.push({ reason: Reason.BackendsUnhealthy, message: `${unhealthy.length} of ${total} backends unhealthy: ${examples(unhealthy)}` });
  }
  const first = parts[0];
  if (first === undefined) {
    return {
      type: Type.Degraded,
      status: 'False',
      reason: Reason.AllBackendsHealthy,
      message: 'no backend is unhealthy or refused',
      observedGeneration: gen,
    };
  }
  return {
    type: Type.Degraded,
    status: 'True',
    reason: first.reason,
    message: parts.map((p) => p.message).join('. '),
    observedGeneration: gen,
  };
}

function dnsResolved(input: StatusInput): ConditionInput {
  const gen = input.object.metadata.generation;
  const names = [...new Set(input.object.spec.endpoints.map((e) => e.dnsName).filter((n): n is string => n !== undefined))];
  if (names.length === 0) {
    return {
      type: Type.DNSResolved,
      status: 'True',
      reason: Reason.NoDNSNames,
      message: 'no backend is declared by dnsName',
      observedGeneration: gen,
    };
  }
  const failures: string[] = [];
  let addresses = 0;
  for (const name of names) {
    const r = input.resolutions.get(name);
    if (r === undefined) {
      failures.push(`${name} has not been resolved yet`);
      continue;
    }
    addresses += r.addresses.length;
    if (r.errors.length === 0) continue;
    const kept = r.addresses.length === 0 ? 'no addresses known' : `keeping last known ${r.addresses.map((a) => a.address).join(', ')}`;
    failures.push(`${r.errors.map((e) => e.message).join('; ')} (${kept})`);
  }
  if (failures.length > 0) {
    return {
      type: Type.DNSResolved,
      status: 'False',
      reason: Reason.ResolutionFailed,
      message: examples(failures),
      observedGeneration: gen,
    };
  }
  const message = `${names.length} name${names.length === 1 ? '' : 's'} resolved to ${plural(addresses, 'address')}`;
  return { type: Type.DNSResolved, status: 'True', reason: Reason.Resolved, message, observedGeneration: gen };
}

function belowMinHealthy(input: StatusInput): ConditionInput {
  const gen = input.object.metadata.generation;
  const { minHealthy, whenBelowMinHealthy } = input.object.spec.failurePolicy;
  const d = input.decision;
  const counted = d.healthy + d.unhealthy + d.unknown;
  if (!d.belowMinHealthy) {
    const message =
      minHealthy === 0 ? 'the minimum is disabled (minHealthy 0)' : `${d.healthy} of ${counted} backends healthy, minHealthy ${minHealthy}`;
    return { type: Type.BelowMinHealthy, status: 'False', reason: Reason.EnoughHealthy, message, observedGeneration: gen };
  }
  const open = whenBelowMinHealthy === 'PublishAll';
  return {
    type: Type.BelowMinHealthy,
    status: 'True',
    reason: open ? Reason.PublishingAll : Reason.PublishingNone,
    message: `${d.healthy} of ${counted} backends healthy, fewer than minHealthy ${minHealthy}: ${
      open ? 'publishing every backend as ready (fail open)' : 'publishing no backend as ready (fail closed)'
    }`,
    observedGeneration: gen,
  };
}

/**
 * The status `input.object` should have. Pure. When the Service is unusable only ServiceFound and Ready are reported
 * (nothing else was evaluated) and the backend list is empty.
 */
export function desiredStatus(input: StatusInput): ExternalEndpointsStatus {
  const { object, now, service } = input;
  const gen = object.metadata.generation;
  let conditions: readonly Condition[] = object.status?.conditions ?? [];
  if (!service.usable) {
    conditions = setCondition(
      conditions,
      { type: Type.ServiceFound, status: 'False', reason: service.reason, message: service.message, observedGeneration: gen },
      now,
    );
    conditions = setCondition(
      conditions,
      { type: Type.Ready, status: 'False', reason: Reason.NotPublished, message: service.message, observedGeneration: gen },
      now,
    );
    for (const t of [Type.Degraded, Type.DNSResolved, Type.BelowMinHealthy]) conditions = removeCondition(conditions, t);
    return { observedGeneration: gen, conditions: [...conditions], endpoints: [], readyCount: 0, healthyCount: 0, totalCount: 0 };
  }
  const entries = backendEntries(input);
  const total = input.backends.backends.length + input.backends.refused.length;
  const ready = input.decision.ready;
  const key = `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
  conditions = setCondition(
    conditions,
    {
      type: Type.ServiceFound,
      status: 'True',
      reason: Reason.ServiceFound,
      message: `Service ${key} exists and has no selector`,
      observedGeneration: gen,
    },
    now,
  );
  conditions = setCondition(
    conditions,
    ready > 0
      ? { type: Type.Ready, status: 'True', reason: Reason.BackendsReady, message: `${ready} of ${total} ready`, observedGeneration: gen }
      : { type: Type.Ready, status: 'False', reason: Reason.NoReadyBackends, message: `0 of ${total} ready`, observedGeneration: gen },
    now,
  );
  conditions = setCondition(conditions, degraded(input, entries), now);
  conditions = setCondition(conditions, dnsResolved(input), now);
  conditions = setCondition(conditions, belowMinHealthy(input), now);
  return {
    observedGeneration: gen,
    conditions: [...conditions],
    endpoints: entries,
    readyCount: ready,
    healthyCount: input.decision.healthy,
    totalCount: total,
    ...(input.activeTier === undefined ? {} : { activeTier: input.activeTier }),
  };
}

// Fields that move with every probe (and lastError, whose wording can vary within one failure reason). Status is not
// written for them alone, so nothing is written while nothing changes; a write for any other reason carries their
// latest values.
function significant(status: ExternalEndpointsStatus | undefined): unknown {
  if (status === undefined) return undefined;
  const volatile = ['lastProbeTime', 'latencyMs', 'consecutiveFailures', 'consecutiveSuccesses', 'lastError'];
  return {
    ...status,
    endpoints: status.endpoints?.map((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !volatile.includes(k)))),
  };
}

/** True when `a` and `b` differ only in per-probe fields (lastProbeTime, latencyMs, counters, lastError). */
export function sameSignificantStatus(a: ExternalEndpointsStatus | undefined, b: ExternalEndpointsStatus | undefined): boolean {
  return isDeepStrictEqual(significant(a), significant(b));
}
