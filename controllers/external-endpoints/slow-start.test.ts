import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { decideSlowStart, type SlowStartCandidate, type SlowStartPolicy } from './slow-start.ts';

const fresh = (key: string, healthySince?: number): SlowStartCandidate => ({ key, healthySince, publishedReady: false });
const serving = (key: string): SlowStartCandidate => ({ key, healthySince: 0, publishedReady: true });

describe('decideSlowStart', () => {
  const minReady10s: SlowStartPolicy = { minReadyMs: 10_000, maxNewPerInterval: 0, intervalMs: 10_000 };
  const onePer10s: SlowStartPolicy = { minReadyMs: 0, maxNewPerInterval: 1, intervalMs: 10_000 };
  const cases: {
    name: string;
    candidates: SlowStartCandidate[];
    admissions: number[];
    now: number;
    policy: SlowStartPolicy;
    want: { held: Record<string, string>; admissions: number[]; wakeAt?: number; bypassed: boolean };
  }[] = [
    {
      name: 'disabled: nothing held',
      candidates: [fresh('a', 99_000), fresh('b', 99_000), serving('c')],
      admissions: [],
      now: 100_000,
      policy: { minReadyMs: 0, maxNewPerInterval: 0, intervalMs: 10_000 },
      want: { held: {}, admissions: [], bypassed: false },
    },
    {
      name: 'minReadySeconds holds a backend healthy for less than the minimum, and wakes when it is due',
      candidates: [serving('a'), fresh('b', 95_000), fresh('c', 80_000)],
      admissions: [],
      now: 100_000,
      policy: minReady10s,
      want: { held: { b: 'MinReadySeconds' }, admissions: [100_000], wakeAt: 105_000, bypassed: false },
    },
    {
      name: 'already published ready: never withdrawn, whatever its age',
      candidates: [{ key: 'a', healthySince: 99_999, publishedReady: true }, serving('b')],
      admissions: [],
      now: 100_000,
      policy: minReady10s,
      want: { held: {}, admissions: [], bypassed: false },
    },
    {
      name: 'health time unknown (not probed): past the minimum',
      candidates: [serving('a'), fresh('b')],
      admissions: [],
      now: 100_000,
      policy: minReady10s,
      want: { held: {}, admissions: [100_000], bypassed: false },
    },
    {
      name: 'one per interval: the longest healthy goes first, the others wait for the window',
      candidates: [serving('a'), fresh('c', 50_000), fresh('b', 60_000), fresh('d', 50_000)],
      admissions: [],
      now: 100_000,
      policy: onePer10s,
      want: { held: { b: 'SlowStart', d: 'SlowStart' }, admissions: [100_000], wakeAt: 110_000, bypassed: false },
    },
    {
      name: 'the window still full from an earlier admission: all wait until it leaves the window',
      candidates: [serving('a'), fresh('b', 50_000)],
      admissions: [95_000],
      now: 100_000,
      policy: onePer10s,
      want: { held: { b: 'SlowStart' }, admissions: [95_000], wakeAt: 105_000, bypassed: false },
    },
    {
      name: 'admissions older than the interval are forgotten',
      candidates: [serving('a'), fresh('b', 50_000)],
      admissions: [80_000, 90_000],
      now: 100_000,
      policy: onePer10s,
      want: { held: {}, admissions: [100_000], bypassed: false },
    },
    {
      name: 'never leaves the Service without a ready backend: everything admitted at once',
      candidates: [fresh('a', 99_000), fresh('b', 99_000)],
      admissions: [95_000],
      now: 100_000,
      policy: { minReadyMs: 10_000, maxNewPerInterval: 1, intervalMs: 10_000 },
      want: { held: {}, admissions: [95_000, 100_000, 100_000], bypassed: true },
    },
    {
      name: 'both limits: minimum first, then the pace',
      candidates: [serving('a'), fresh('b', 99_000), fresh('c', 10_000), fresh('d', 20_000)],
      admissions: [],
      now: 100_000,
      policy: { minReadyMs: 5000, maxNewPerInterval: 1, intervalMs: 10_000 },
      want: { held: { b: 'MinReadySeconds', d: 'SlowStart' }, admissions: [100_000], wakeAt: 104_000, bypassed: false },
    },
    {
      name: 'no candidates',
      candidates: [],
      admissions: [],
      now: 100_000,
      policy: onePer10s,
      want: { held: {}, admissions: [], bypassed: false },
    },
  ];
  for (const c of deepFreeze(cases)) {
    it(c.name, () => {
      const got = decideSlowStart(c.candidates, c.admissions, c.now, c.policy);
      assert.deepEqual(
        {
          held: Object.fromEntries(got.held),
          admissions: got.admissions,
          ...(got.wakeAt === undefined ? {} : { wakeAt: got.wakeAt }),
          bypassed: got.bypassed,
        },
        c.want,
      );
    });
  }

  it('admits ten recovered backends at the stated pace', () => {
    const policy: SlowStartPolicy = { minReadyMs: 0, maxNewPerInterval: 2, intervalMs: 10_000 };
    const published = new Set(['old']);
    let admissions: readonly number[] = [];
    const admittedAt: number[] = [];
    for (let now = 0; now <= 60_000; now += 1000) {
      const candidates = ['old', ...Array.from({ length: 10 }, (_, i) => `n${i}`)].map((key) => ({
        key,
        healthySince: 0,
        publishedReady: published.has(key),
      }));
      const d = decideSlowStart(candidates, admissions, now, policy);
      admissions = d.admissions;
      for (const c of candidates) {
        if (published.has(c.key) || d.held.has(c.key)) continue;
        published.add(c.key);
        admittedAt.push(now);
      }
    }
    assert.deepEqual(admittedAt, [0, 0, 10_000, 10_000, 20_000, 20_000, 30_000, 30_000, 40_000, 40_000]);
  });
});
