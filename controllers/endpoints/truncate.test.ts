import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointAddress, EndpointSubset } from '../../api/core/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { countAddresses, truncateSubsets } from './truncate.ts';

const addrs = (n: number, prefix: string): EndpointAddress[] => Array.from({ length: n }, (_, i) => ({ ip: `${prefix}.${i}` }));
const subsets = (ready: number[], notReady: number[]): EndpointSubset[] =>
  ready.map((r, i) => ({
    ...(r > 0 ? { addresses: addrs(r, `r${i}`) } : {}),
    ...((notReady[i] ?? 0) > 0 ? { notReadyAddresses: addrs(notReady[i] ?? 0, `n${i}`) } : {}),
    ports: [{ port: 80 }],
  }));

describe('truncateSubsets (TestTruncateEndpoints)', () => {
  const cases: {
    name: string;
    given: { ready: number[]; notReady: number[] };
    want: { ready: number[]; notReady: number[]; truncated: boolean };
  }[] = [
    { name: 'empty', given: { ready: [], notReady: [] }, want: { ready: [], notReady: [], truncated: false } },
    {
      name: 'total < max capacity',
      given: { ready: [50, 100, 100, 100, 100], notReady: [50, 100, 100, 100, 100] },
      want: { ready: [50, 100, 100, 100, 100], notReady: [50, 100, 100, 100, 100], truncated: false },
    },
    {
      name: 'total = max capacity',
      given: { ready: [100, 100, 100, 100, 100], notReady: [100, 100, 100, 100, 100] },
      want: { ready: [100, 100, 100, 100, 100], notReady: [100, 100, 100, 100, 100], truncated: false },
    },
    {
      name: 'ready fit, total does not: not-ready share the room proportionally with ceil',
      given: { ready: [90, 110, 50, 10, 20], notReady: [101, 200, 200, 201, 298] },
      want: { ready: [90, 110, 50, 10, 20], notReady: [73, 144, 144, 145, 214], truncated: true },
    },
    {
      name: 'ready alone exceed: not-ready all dropped, ready share 1000',
      given: { ready: [205, 400, 402, 400, 693], notReady: [100, 200, 200, 200, 300] },
      want: { ready: [98, 191, 192, 191, 328], notReady: [0, 0, 0, 0, 0], truncated: true },
    },
    {
      name: '997 ready + 4 not ready → 997 + 3 (TestSyncServiceOverCapacity)',
      given: { ready: [997], notReady: [4] },
      want: { ready: [997], notReady: [3], truncated: true },
    },
    {
      name: '1000 ready + 10 not ready → 1000 + 0',
      given: { ready: [1000], notReady: [10] },
      want: { ready: [1000], notReady: [0], truncated: true },
    },
    {
      name: 'the last subset gets what is left after earlier ceilings',
      given: { ready: [0, 0, 0], notReady: [501, 501, 1] },
      want: { ready: [0, 0, 0], notReady: [500, 500, 0], truncated: true },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = truncateSubsets(deepFreeze(subsets(c.given.ready, c.given.notReady)));
      assert.deepEqual(
        {
          ready: got.subsets.map((s) => s.addresses?.length ?? 0),
          notReady: got.subsets.map((s) => s.notReadyAddresses?.length ?? 0),
          truncated: got.truncated,
        },
        c.want,
      );
      assert.ok(countAddresses(got.subsets) <= 1000);
    });
  }

  it('keeps the first addresses of each subset, in order, and keeps ports', () => {
    const got = truncateSubsets(deepFreeze(subsets([999], [5])));
    assert.deepEqual(
      got.subsets[0]?.notReadyAddresses?.map((a) => a.ip),
      ['n0.0'],
    );
    assert.deepEqual(got.subsets[0]?.ports, [{ port: 80 }]);
  });

  it('honours a custom cap', () => {
    const got = truncateSubsets(deepFreeze(subsets([3, 3], [0, 0])), 4);
    assert.deepEqual(
      got.subsets.map((s) => s.addresses?.length ?? 0),
      [2, 2],
    );
  });
});
