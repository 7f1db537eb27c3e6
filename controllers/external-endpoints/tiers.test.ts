import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import type { HealthState } from './health.ts';
import { decideTier, isStandby, type TierInput, type TierPolicy, type TierState, tierChangeMessage, wantedTier } from './tiers.ts';

const t = (tier: number, state: HealthState): TierInput => ({ tier, state });
const H = 'Healthy';
const U = 'Unhealthy';
const K = 'Unknown';

describe('wantedTier', () => {
  const cases: { name: string; backends: TierInput[]; minHealthy: number; want: number }[] = [
    { name: 'no backends: tier 0', backends: [], minHealthy: 1, want: 0 },
    { name: 'primary healthy', backends: [t(0, H), t(1, H)], minHealthy: 1, want: 0 },
    { name: 'primary down: tier 1', backends: [t(0, U), t(1, H)], minHealthy: 1, want: 1 },
    {
      name: 'tiers are cumulative: 1 + 1 healthy reach minHealthy 2 at tier 1',
      backends: [t(0, H), t(0, U), t(1, H), t(2, H)],
      minHealthy: 2,
      want: 1,
    },
    { name: 'tier numbers may skip', backends: [t(0, U), t(5, H)], minHealthy: 1, want: 5 },
    {
      name: 'nothing healthy anywhere: the highest tier (every backend may serve)',
      backends: [t(0, U), t(1, U), t(2, K)],
      minHealthy: 1,
      want: 2,
    },
    { name: 'unknown does not count as healthy', backends: [t(0, K), t(1, H)], minHealthy: 1, want: 1 },
  ];
  for (const c of deepFreeze(cases)) it(c.name, () => assert.equal(wantedTier(c.backends, c.minHealthy), c.want));
});

describe('decideTier', () => {
  const policy: TierPolicy = { minHealthy: 1, holdDownMs: 30_000 };
  const settled = (activeTier: number, failbackSince?: number): TierState =>
    failbackSince === undefined ? { activeTier, settled: true } : { activeTier, settled: true, failbackSince };
  const cases: {
    name: string;
    backends: TierInput[];
    prev: TierState | undefined;
    now: number;
    want: { state: TierState; change?: string; wakeAt?: number };
  }[] = [
    {
      name: 'first decision follows the wanted tier without an Event',
      backends: [t(0, U), t(1, H)],
      prev: undefined,
      now: 0,
      want: { state: { activeTier: 1, settled: true } },
    },
    {
      name: 'at start, before verdicts, the backup tier is not held: the primary takes over at once',
      backends: [t(0, H), t(1, K)],
      prev: { activeTier: 1, settled: false },
      now: 1000,
      want: { state: { activeTier: 0, settled: true } },
    },
    {
      name: 'unsettled while the active tiers have unknown backends',
      backends: [t(0, K), t(1, K)],
      prev: undefined,
      now: 0,
      want: { state: { activeTier: 1, settled: false } },
    },
    { name: 'steady on the primary', backends: [t(0, H), t(1, H)], prev: settled(0), now: 5000, want: { state: settled(0) } },
    {
      name: 'failover is immediate and announced',
      backends: [t(0, U), t(1, H)],
      prev: settled(0),
      now: 5000,
      want: { state: { ...settled(1), failedOverAt: 5000 }, change: 'Failover 0->1 (0 healthy)' },
    },
    {
      name: 'failover over two tiers at once',
      backends: [t(0, U), t(1, U), t(2, H)],
      prev: settled(0),
      now: 5000,
      want: { state: { ...settled(2), failedOverAt: 5000 }, change: 'Failover 0->2 (0 healthy)' },
    },
    {
      name: 'failback waits for the hold-down, from the first time the primary is enough again',
      backends: [t(0, H), t(1, H)],
      prev: settled(1),
      now: 10_000,
      want: { state: settled(1, 10_000), wakeAt: 40_000 },
    },
    {
      name: 'failback still pending just before the hold-down ends',
      backends: [t(0, H), t(1, H)],
      prev: settled(1, 10_000),
      now: 39_999,
      want: { state: settled(1, 10_000), wakeAt: 40_000 },
    },
    {
      name: 'failback at the end of the hold-down, announced',
      backends: [t(0, H), t(1, H)],
      prev: settled(1, 10_000),
      now: 40_000,
      want: { state: settled(0), change: 'Failback 1->0 (1 healthy)' },
    },
    {
      name: 'a flap during the hold-down restarts it: the pending failback is dropped',
      backends: [t(0, U), t(1, H)],
      prev: settled(1, 10_000),
      now: 20_000,
      want: { state: settled(1) },
    },
    {
      name: 'failover while a failback is pending goes higher at once',
      backends: [t(0, U), t(1, U), t(2, H)],
      prev: settled(1, 10_000),
      now: 20_000,
      want: { state: { ...settled(2), failedOverAt: 20_000 }, change: 'Failover 1->2 (0 healthy)' },
    },
    {
      name: 'hold-down 0 fails back at once',
      backends: [t(0, H), t(1, H)],
      prev: settled(1),
      now: 5,
      want: { state: settled(0), change: 'Failback 1->0 (1 healthy)' },
    },
    {
      name: 'a restored tier no longer declared starts over from the highest tier left',
      backends: [t(0, U), t(1, H)],
      prev: settled(3),
      now: 5,
      want: { state: settled(1) },
    },
  ];
  for (const c of deepFreeze(cases)) {
    it(c.name, () => {
      const p = c.name.startsWith('hold-down 0') ? { ...policy, holdDownMs: 0 } : policy;
      const got = decideTier(c.backends, c.prev, c.now, p);
      const change =
        got.change === undefined ? undefined : `${got.change.kind} ${got.change.from}->${got.change.to} (${got.change.healthy} healthy)`;
      assert.deepEqual(
        { state: got.state, ...(change === undefined ? {} : { change }), ...(got.wakeAt === undefined ? {} : { wakeAt: got.wakeAt }) },
        c.want,
      );
    });
  }

  it('a flapping primary bounces traffic at most once per hold-down', () => {
    // The primary flaps every 5 s for a minute; the backup is steady. Failovers are immediate, failbacks need 30 s.
    let state: TierState | undefined = { activeTier: 0, settled: true };
    const changes: string[] = [];
    for (let now = 0; now <= 60_000; now += 1000) {
      const up = Math.floor(now / 5000) % 2 === 1;
      const d = decideTier([t(0, up ? H : U), t(1, H)], state, now, policy);
      if (d.change !== undefined) changes.push(`${d.change.kind}@${now}`);
      state = d.state;
    }
    assert.deepEqual(changes, ['Failover@0']);
  });

  it('messages name the tiers, the count and the policy', () => {
    assert.equal(
      tierChangeMessage({ kind: 'Failover', from: 0, to: 1, healthy: 0 }, policy),
      'Failed over from tier 0 to tier 1: tiers <= 0 have 0 healthy backends, fewer than failover.minHealthy 1',
    );
    assert.match(tierChangeMessage({ kind: 'Failback', from: 1, to: 0, healthy: 2 }, policy), /for the 30 s hold-down/);
  });
});

describe('isStandby', () => {
  const onBackup: TierState = { activeTier: 1, settled: true, failedOverAt: 10_000 };
  const cases: { name: string; backend: { tier: number; healthySince?: number }; state: TierState; want: boolean }[] = [
    { name: 'a tier above the active one waits', backend: { tier: 2 }, state: onBackup, want: true },
    { name: 'the active tier serves', backend: { tier: 1, healthySince: 20_000 }, state: onBackup, want: false },
    {
      name: 'a lower-tier backend healthy through the failover keeps serving',
      backend: { tier: 0, healthySince: 5000 },
      state: onBackup,
      want: false,
    },
    {
      name: 'a lower-tier backend that recovered after the failover waits for the failback',
      backend: { tier: 0, healthySince: 12_000 },
      state: onBackup,
      want: true,
    },
    {
      name: 'recovered at the very moment of the failover: waits',
      backend: { tier: 0, healthySince: 10_000 },
      state: onBackup,
      want: true,
    },
    {
      name: 'failover time unknown (after a restart): lower tiers serve',
      backend: { tier: 0, healthySince: 12_000 },
      state: { activeTier: 1, settled: true },
      want: false,
    },
    { name: 'health history unknown: taken as long ago', backend: { tier: 0 }, state: onBackup, want: false },
    {
      name: 'on the primary, nothing below waits',
      backend: { tier: 0, healthySince: 12_000 },
      state: { activeTier: 0, settled: true, failedOverAt: 10_000 },
      want: false,
    },
  ];
  for (const c of deepFreeze(cases)) it(c.name, () => assert.equal(isStandby(c.backend, c.state), c.want));
});
