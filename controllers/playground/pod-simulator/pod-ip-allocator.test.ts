import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextFreeOffset, PodIpAllocator } from './pod-ip-allocator.ts';

describe('nextFreeOffset', () => {
  const cases: {
    name: string;
    given: { used: number[]; last: number; first: number; lastOffset: number };
    want: number | undefined;
  }[] = [
    {
      name: 'the first offset on an empty node',
      given: { used: [], last: 1, first: 2, lastOffset: 254 },
      want: 2,
    },
    {
      name: 'the one after the last handed out, even if lower ones are free',
      given: { used: [5], last: 5, first: 2, lastOffset: 254 },
      want: 6,
    },
    {
      name: 'skips used offsets',
      given: { used: [6, 7], last: 5, first: 2, lastOffset: 254 },
      want: 8,
    },
    {
      name: 'wraps around at the end',
      given: { used: [254, 2], last: 254, first: 2, lastOffset: 254 },
      want: 3,
    },
    {
      name: 'none when all are used',
      given: { used: [2, 3, 4], last: 3, first: 2, lastOffset: 4 },
      want: undefined,
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(nextFreeOffset(new Set(c.given.used), c.given.last, c.given.first, c.given.lastOffset), c.want));
  }
});

describe('PodIpAllocator', () => {
  const v4 = ['10.244.1.0/24'];
  const dual = ['10.244.1.0/24', 'fd00:10:244:1::/64'];

  it('gives each Pod on a Node its own address, and the same one when asked again', () => {
    const a = new PodIpAllocator();
    assert.deepEqual(a.allocate('a', 'n1', v4), ['10.244.1.2']);
    assert.deepEqual(a.allocate('b', 'n1', v4), ['10.244.1.3']);
    assert.deepEqual(a.allocate('a', 'n1', v4), ['10.244.1.2']);
    assert.deepEqual(a.allocate('c', 'n2', ['10.244.2.0/24']), ['10.244.2.2']);
  });

  it('gives a dual-stack Pod the same host offset in both families', () => {
    const a = new PodIpAllocator();
    a.allocate('a', 'n1', dual);
    assert.deepEqual(a.allocate('b', 'n1', dual), ['10.244.1.3', 'fd00:10:244:1::3']);
  });

  it('does not hand a released address to the very next Pod (host-local round-robin)', () => {
    const a = new PodIpAllocator();
    a.allocate('a', 'n1', v4);
    a.release('a');
    assert.deepEqual(a.allocate('b', 'n1', v4), ['10.244.1.3']);
    assert.equal(a.inUse('n1'), 1);
  });

  it('rebuilds from reported addresses so a restart hands out no duplicate', () => {
    const a = new PodIpAllocator();
    a.record('old', 'n1', v4, ['10.244.1.9']);
    a.record('foreign', 'n1', v4, ['192.168.0.1']);
    assert.equal(a.inUse('n1'), 1);
    assert.deepEqual(a.allocate('new', 'n1', v4), ['10.244.1.10']);
  });

  it('returns undefined when the CIDR is exhausted or missing', () => {
    const a = new PodIpAllocator();
    assert.deepEqual(a.allocate('a', 'n1', ['10.0.0.0/30']), ['10.0.0.2']);
    assert.equal(a.allocate('b', 'n1', ['10.0.0.0/30']), undefined);
    assert.equal(a.allocate('c', 'n2', []), undefined);
    assert.equal(a.allocate('d', 'n3', ['bogus']), undefined);
  });
});
