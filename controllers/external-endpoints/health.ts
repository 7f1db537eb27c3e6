import type { BackendStatus } from '../../api/v1alpha1/external-endpoints.ts';
import type { ProbeError, ProbeFailureReason, ProbeResult } from './probe/prober.ts';

// Per-backend health from probe results, and what to publish for all backends of one object. Pure: the controller
// keeps the BackendHealth values and feeds every probe result through observeProbe.
//
// Semantics (kubelet readiness, plus damping):
// - A backend starts Unknown, which publishes as not ready, like a Pod whose readiness probe has not yet passed.
// - From Unknown, `healthyThreshold` consecutive successes make it Healthy, and the first failure makes it Unhealthy
//   at once: it is not published as ready either way, so there is nothing for a threshold to protect, and status
//   shows the reason without waiting. Every result counts, including the first.
// - Healthy becomes Unhealthy after `unhealthyThreshold` consecutive failures; Unhealthy becomes Healthy after
//   `healthyThreshold` consecutive successes.
// - Flap damping: after any change of state, another change waits until `minDwellMs` has passed. Counting goes on
//   meanwhile, so the first result after the dwell that still meets its threshold applies the change.
// - An aborted probe (backend removed, leadership lost, operator shutting down) is no evidence about the backend
//   and changes nothing, so an outage of the operator itself never marks backends unhealthy.

/** Health of one backend after thresholds. */
export type HealthState = 'Unknown' | 'Healthy' | 'Unhealthy';

/** Thresholds and damping of the state machine. */
export interface HealthPolicy {
  /** Consecutive successes that make a backend Healthy (at least 1). */
  readonly healthyThreshold: number;
  /** Consecutive failures that make a Healthy backend Unhealthy (at least 1). */
  readonly unhealthyThreshold: number;
  /** Shortest time between two changes of state, in ms. 0 disables damping. */
  readonly minDwellMs: number;
}

/** What the controller remembers per backend. Times are epoch milliseconds. */
export interface BackendHealth {
  readonly state: HealthState;
  readonly consecutiveSuccesses: number;
  readonly consecutiveFailures: number;
  /** When the last counted probe finished. */
  readonly lastProbeTime?: number | undefined;
  /** When `state` last changed (including the change away from Unknown). */
  readonly lastTransitionTime?: number | undefined;
  /** Why the current run of failures fails; cleared by a success. */
  readonly lastError?: ProbeError | undefined;
  readonly lastLatencyMs?: number | undefined;
}

/** The state of a backend never probed. */
export const UNKNOWN_HEALTH: BackendHealth = Object.freeze({ state: 'Unknown', consecutiveSuccesses: 0, consecutiveFailures: 0 });

/** A change of state, for transition-only Events and metrics. */
export interface HealthTransition {
  readonly from: HealthState;
  readonly to: HealthState;
}

/** The outcome of one observation. `damped`: a threshold was met but the dwell time held the change back. */
export interface HealthStep {
  readonly health: BackendHealth;
  readonly transition?: HealthTransition | undefined;
  readonly damped: boolean;
}

function wanted(prev: HealthState, successes: number, failures: number, policy: HealthPolicy): HealthState {
  switch (prev) {
    case 'Unknown':
      if (failures >= 1) return 'Unhealthy';
      return successes >= policy.healthyThreshold ? 'Healthy' : 'Unknown';
    case 'Healthy':
      return failures >= policy.unhealthyThreshold ? 'Unhealthy' : 'Healthy';
    case 'Unhealthy':
      return successes >= policy.healthyThreshold ? 'Healthy' : 'Unhealthy';
  }
}

/**
 * Folds one probe result, finished at `at`, into a backend's health. Pure; returns a new value. An Aborted result
 * returns `prev` unchanged.
 */
export function observeProbe(prev: BackendHealth, result: ProbeResult, at: number, policy: HealthPolicy): HealthStep {
  if (!result.ok && result.error.reason === 'Aborted') return { health: prev, damped: false };
  const consecutiveSuccesses = result.ok ? prev.consecutiveSuccesses + 1 : 0;
  const consecutiveFailures = result.ok ? 0 : prev.consecutiveFailures + 1;
  const target = wanted(prev.state, consecutiveSuccesses, consecutiveFailures, policy);
  const dwelling = prev.state !== 'Unknown' && prev.lastTransitionTime !== undefined && at - prev.lastTransitionTime < policy.minDwellMs;
  const flips = target !== prev.state && !dwelling;
  const health: BackendHealth = {
    state: flips ? target : prev.state,
    consecutiveSuccesses,
    consecutiveFailures,
    lastProbeTime: at,
    lastTransitionTime: flips ? at : prev.lastTransitionTime,
    lastError: result.ok ? undefined : result.error,
    lastLatencyMs: result.latencyMs,
  };
  return { health, transition: flips ? { from: prev.state, to: target } : undefined, damped: target !== prev.state && dwelling };
}

/**
 * Health carried over from a previous leader's status, so a failover neither empties nor refills slices: the
 * published verdict stays until new probes move it through the thresholds. Timestamps that do not parse are dropped.
 */
export function restoreHealth(status: BackendStatus): BackendHealth {
  const time = (s: string | undefined) => {
    const t = s === undefined ? Number.NaN : Date.parse(s);
    return Number.isNaN(t) ? undefined : t;
  };
  const reason: ProbeFailureReason = isProbeFailureReason(status.reason) ? status.reason : 'Error';
  return {
    // Entries written before `health` existed carry only the boolean.
    state: status.health ?? (status.healthy ? 'Healthy' : 'Unhealthy'),
    consecutiveSuccesses: status.consecutiveSuccesses,
    consecutiveFailures: status.consecutiveFailures,
    lastProbeTime: time(status.lastProbeTime),
    lastTransitionTime: time(status.lastTransitionTime),
    lastError: status.lastError === undefined ? undefined : { reason, message: status.lastError },
    ...(status.latencyMs === undefined ? {} : { lastLatencyMs: status.latencyMs }),
  };
}

const PROBE_FAILURE_REASONS: ReadonlySet<string> = new Set<ProbeFailureReason>([
  'Refused',
  'Reset',
  'Timeout',
  'Unreachable',
  'TLSError',
  'HTTPStatus',
  'ProtocolError',
  'Aborted',
  'InvalidTarget',
  'Error',
  'WrongRole',
  'AuthFailed',
  'CredentialsUnavailable',
  'NotServing',
  'UnexpectedAnswer',
]);

/** True when `reason` is one of the prober's failure reasons (status `reason` also holds refusals and Maintenance). */
export function isProbeFailureReason(reason: string | undefined): reason is ProbeFailureReason {
  return reason !== undefined && PROBE_FAILURE_REASONS.has(reason);
}

// ---- publication ------------------------------------------------------------------------------------------------------

/** EndpointSlice conditions of one published endpoint. */
export interface EndpointConditions {
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

/** One backend as the publication decision sees it. Unprobed backends (health check None) are passed as Healthy. */
export interface PublicationInput {
  readonly key: string;
  readonly state: HealthState;
  readonly maintenance: boolean;
  /** Held back from ready (a priority tier above the active one, see tiers.ts, or slow start): counted, not ready. */
  readonly standby?: boolean | undefined;
}

/** The safety rail: below `minHealthy` healthy backends (0 disables it), publish all (fail open) or none as ready. */
export interface FailurePolicy {
  readonly minHealthy: number;
  readonly whenBelowMinHealthy: 'PublishAll' | 'PublishNone';
}

/** Conditions per backend (input order) and the counts behind them, for status and conditions. */
export interface PublicationDecision {
  readonly endpoints: readonly { readonly key: string; readonly conditions: EndpointConditions }[];
  /** Backends not in maintenance and Healthy: what `minHealthy` is compared with. */
  readonly healthy: number;
  readonly unhealthy: number;
  readonly unknown: number;
  readonly maintenance: number;
  /** Endpoints published with ready=true. */
  readonly ready: number;
  /** Healthy backends held back as standby (a tier above the active one). */
  readonly standby: number;
  readonly belowMinHealthy: boolean;
  /** Fail open in effect: at least one backend not known to be healthy is published as ready. */
  readonly panicMode: boolean;
}

const READY: EndpointConditions = Object.freeze({ ready: true, serving: true, terminating: false });
const NOT_READY: EndpointConditions = Object.freeze({ ready: false, serving: false, terminating: false });
// Drained: kube-proxy sends no new connections to it, but uses it as a last resort when nothing is ready (KEP-1669).
const DRAINED: EndpointConditions = Object.freeze({ ready: false, serving: true, terminating: true });

/**
 * Decides the published conditions of every backend. Pure. Maintenance always wins (drained, never forced ready and
 * never counted as healthy). Otherwise Healthy is ready and the rest not ready, unless fewer than `minHealthy` are
 * Healthy: then PublishAll makes every backend ready (panic mode) and PublishNone makes every backend not ready.
 * Standby backends (a tier above the active one) count as healthy for `minHealthy` but are published not ready,
 * except in panic mode, where every backend serves.
 */
export function decidePublication(backends: readonly PublicationInput[], policy: FailurePolicy): PublicationDecision {
  let healthy = 0;
  let unhealthy = 0;
  let unknown = 0;
  let maintenance = 0;
  for (const b of backends) {
    if (b.maintenance) maintenance++;
    else if (b.state === 'Healthy') healthy++;
    else if (b.state === 'Unhealthy') unhealthy++;
    else unknown++;
  }
  const belowMinHealthy = policy.minHealthy > 0 && healthy < policy.minHealthy;
  const failOpen = belowMinHealthy && policy.whenBelowMinHealthy === 'PublishAll';
  const failClosed = belowMinHealthy && policy.whenBelowMinHealthy === 'PublishNone';
  const endpoints = backends.map((b) => {
    let conditions: EndpointConditions;
    if (b.maintenance) conditions = DRAINED;
    else if (failOpen) conditions = READY;
    else if (failClosed) conditions = NOT_READY;
    else conditions = b.state === 'Healthy' && b.standby !== true ? READY : NOT_READY;
    return { key: b.key, conditions };
  });
  const standby = failOpen || failClosed ? 0 : backends.filter((b) => !b.maintenance && b.state === 'Healthy' && b.standby === true).length;
  return {
    endpoints,
    healthy,
    unhealthy,
    unknown,
    maintenance,
    ready: endpoints.filter((e) => e.conditions.ready).length,
    standby,
    belowMinHealthy,
    panicMode: failOpen && unhealthy + unknown > 0,
  };
}
