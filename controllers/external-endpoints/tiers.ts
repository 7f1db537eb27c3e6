import type { HealthState } from './health.ts';

// Priority tiers: which tiers of backends are published ready. Pure; the reconciler keeps the TierState per object
// and restores it from status.activeTier after a restart or a change of leader.
//
// - The wanted tier is the lowest tier N such that the backends of tiers <= N (not in maintenance) include at least
//   `minHealthy` Healthy ones; when no tier reaches it, the highest tier (every backend may serve).
// - Failover (the wanted tier rises) is immediate: the primary is gone, waiting would only cost availability.
// - Failback (the wanted tier falls) waits until the lower tier has been wanted, without interruption, for the
//   hold-down time, so a flapping primary does not bounce traffic back and forth.
// - After a failover, a backend of a lower tier that recovers does not serve on its own: it waits in standby for the
//   failback, so traffic stays on the backup until the lower tiers have held for the hold-down, and a flapping
//   primary gets no traffic at all. Backends of the lower tiers that stayed healthy through the failover keep serving
//   (tiers are cumulative: with minHealthy 2, one healthy primary backend and the backup serve together).
// - Until the backends of the active tiers all have a verdict (none Unknown), the state is not settled: at start the
//   tiers follow the wanted one at once in both directions and no Event is announced, since nothing has failed yet
//   (otherwise a fresh object would start on its backup tier and hold it for the hold-down time).

/** One backend as tier selection sees it (maintenance backends are left out by the caller). */
export interface TierInput {
  readonly tier: number;
  readonly state: HealthState;
}

/** Failover settings (spec.failover). */
export interface TierPolicy {
  readonly minHealthy: number;
  readonly holdDownMs: number;
}

/** What the reconciler remembers per object. Times are epoch milliseconds. */
export interface TierState {
  /** Highest tier published ready. */
  readonly activeTier: number;
  /** False while some backend of the active tiers has no verdict yet (see above). */
  readonly settled: boolean;
  /** Since when a lower tier has been wanted without interruption (a failback is pending). */
  readonly failbackSince?: number | undefined;
  /** When the last failover happened (unknown after a restart): lower-tier backends healthy since then wait. */
  readonly failedOverAt?: number | undefined;
}

/** A change of the active tier worth an Event. */
export interface TierChange {
  readonly kind: 'Failover' | 'Failback';
  readonly from: number;
  readonly to: number;
  /** Healthy backends in tiers <= `to` (for a failover: in tiers <= `from`). */
  readonly healthy: number;
}

/** The outcome of one decision: the new state, the change to announce, and when to decide again (pending failback). */
export interface TierDecision {
  readonly state: TierState;
  readonly change?: TierChange | undefined;
  readonly wakeAt?: number | undefined;
}

/** Healthy backends in tiers <= `tier`. */
export function healthyUpTo(backends: readonly TierInput[], tier: number): number {
  return backends.filter((b) => b.tier <= tier && b.state === 'Healthy').length;
}

/** The lowest tier whose tiers <= it have `minHealthy` Healthy backends; else the highest tier; 0 without backends. */
export function wantedTier(backends: readonly TierInput[], minHealthy: number): number {
  const tiers = [...new Set(backends.map((b) => b.tier))].sort((x, y) => x - y);
  for (const t of tiers) if (healthyUpTo(backends, t) >= minHealthy) return t;
  return tiers.at(-1) ?? 0;
}

/** True when some tier above 0 is declared, that is, when tiers matter at all. */
export function hasTiers(backends: readonly TierInput[]): boolean {
  return backends.some((b) => b.tier > 0);
}

/**
 * The active tier at `now`, from the previous state (undefined for an object never decided and without
 * status.activeTier). Pure.
 */
export function decideTier(backends: readonly TierInput[], prev: TierState | undefined, now: number, policy: TierPolicy): TierDecision {
  const wanted = wantedTier(backends, policy.minHealthy);
  // A tier removed from the spec cannot stay active (nothing to fail back from): start over from the highest one left.
  const top = backends.reduce((m, b) => Math.max(m, b.tier), 0);
  if (prev !== undefined && prev.activeTier > top) prev = { activeTier: top, settled: prev.settled, failedOverAt: prev.failedOverAt };
  const settledAt = (active: number) => backends.every((b) => b.tier > active || b.state !== 'Unknown');
  if (prev === undefined || !prev.settled) {
    return { state: { activeTier: wanted, settled: settledAt(wanted) } };
  }
  const from = prev.activeTier;
  if (wanted > from) {
    return {
      state: { activeTier: wanted, settled: settledAt(wanted), failedOverAt: now },
      change: { kind: 'Failover', from, to: wanted, healthy: healthyUpTo(backends, from) },
    };
  }
  const kept = prev.failedOverAt === undefined ? {} : { failedOverAt: prev.failedOverAt };
  if (wanted === from) return { state: { activeTier: from, settled: true, ...kept } };
  const since = prev.failbackSince ?? now;
  if (now - since >= policy.holdDownMs) {
    return {
      state: { activeTier: wanted, settled: true },
      change: { kind: 'Failback', from, to: wanted, healthy: healthyUpTo(backends, wanted) },
    };
  }
  return { state: { activeTier: from, settled: true, failbackSince: since, ...kept }, wakeAt: since + policy.holdDownMs };
}

/**
 * True when a backend is held back from serving by the tiers: it is in a tier above the active one, or in a lower
 * tier and Healthy only since the last failover (it rejoins with the failback). `healthySince` is when its health
 * last changed (undefined: unknown, taken as long ago).
 */
export function isStandby(backend: { readonly tier: number; readonly healthySince?: number | undefined }, state: TierState): boolean {
  if (backend.tier > state.activeTier) return true;
  if (backend.tier === state.activeTier || state.failedOverAt === undefined || backend.healthySince === undefined) return false;
  return backend.healthySince >= state.failedOverAt;
}

/** The Event message of a change of tier. */
export function tierChangeMessage(change: TierChange, policy: TierPolicy): string {
  if (change.kind === 'Failover') {
    return `Failed over from tier ${change.from} to tier ${change.to}: tiers <= ${change.from} have ${change.healthy} healthy backends, fewer than failover.minHealthy ${policy.minHealthy}`;
  }
  return `Failed back from tier ${change.from} to tier ${change.to}: tiers <= ${change.to} have had at least ${policy.minHealthy} healthy backends (now ${change.healthy}) for the ${policy.holdDownMs / 1000} s hold-down`;
}
