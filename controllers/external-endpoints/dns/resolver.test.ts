import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestDnsServer } from '../../../test/nethost/dns-server.ts';
import { FakeClock } from '../../runtime/clock.ts';
import { deepFreeze } from '../../runtime/testing/deep-freeze.ts';
import {
  type DnsAnswer,
  type DnsErrorReason,
  DnsLookupError,
  DnsResolver,
  type FamilyOutcome,
  mergeResolution,
  type NameResolution,
  NodeDnsLookup,
  type RefreshBounds,
} from './resolver.ts';

const bounds: RefreshBounds = { minRefreshSeconds: 5, maxRefreshSeconds: 300 };
const T0 = 1_000_000;

const ok = (...answers: DnsAnswer[]): FamilyOutcome => ({ ok: true, answers });
const fail = (reason: DnsErrorReason): FamilyOutcome => ({ ok: false, error: new DnsLookupError(reason, `db.example.com ${reason}`) });
const a = (address: string, ttl: number): DnsAnswer => ({ address, ttl });

/** Folds attempts `[at, v4, v6]` from nothing and returns every intermediate state. */
function fold(attempts: readonly (readonly [number, FamilyOutcome, FamilyOutcome])[], b: RefreshBounds = bounds): NameResolution[] {
  const out: NameResolution[] = [];
  let prev: NameResolution | undefined;
  for (const [at, v4, v6] of attempts) {
    prev = mergeResolution('db.example.com', prev, { v4, v6 }, at, b);
    out.push(prev);
  }
  return out;
}

/** The comparable essentials of a state: `address@expiresIn s`, the errors, refresh in seconds. */
function view(r: NameResolution | undefined) {
  if (r === undefined) return undefined;
  return {
    addresses: r.addresses.map((x) => `${x.address}@${(x.expiresAt - r.attemptedAt) / 1000}`),
    errors: r.errors.map((e) => `${e.family}:${e.reason}`),
    refreshIn: (r.nextRefreshAt - r.attemptedAt) / 1000,
  };
}

describe('mergeResolution', () => {
  const cases: {
    name: string;
    given: { attempts: (readonly [number, FamilyOutcome, FamilyOutcome])[]; bounds?: RefreshBounds };
    want: ReturnType<typeof view>;
  }[] = [
    {
      name: 'A and AAAA records, refreshed at the earliest TTL',
      given: { attempts: [[T0, ok(a('203.0.113.2', 60), a('203.0.113.1', 120)), ok(a('2001:db8::1', 30))]] },
      want: { addresses: ['203.0.113.1@120', '203.0.113.2@60', '2001:db8::1@30'], errors: [], refreshIn: 30 },
    },
    {
      name: 'a TTL below minRefreshSeconds is clamped up',
      given: { attempts: [[T0, ok(a('203.0.113.1', 0)), ok()]] },
      want: { addresses: ['203.0.113.1@0'], errors: [], refreshIn: 5 },
    },
    {
      name: 'a TTL above maxRefreshSeconds is clamped down',
      given: { attempts: [[T0, ok(a('203.0.113.1', 86_400)), ok()]] },
      want: { addresses: ['203.0.113.1@86400'], errors: [], refreshIn: 300 },
    },
    {
      name: 'custom bounds',
      given: { attempts: [[T0, ok(a('203.0.113.1', 3)), ok()]], bounds: { minRefreshSeconds: 10, maxRefreshSeconds: 20 } },
      want: { addresses: ['203.0.113.1@3'], errors: [], refreshIn: 10 },
    },
    {
      name: 'a TTL change moves the next refresh',
      given: {
        attempts: [
          [T0, ok(a('203.0.113.1', 60)), ok()],
          [T0 + 60_000, ok(a('203.0.113.1', 10)), ok()],
        ],
      },
      want: { addresses: ['203.0.113.1@10'], errors: [], refreshIn: 10 },
    },
    {
      name: 'an address missing from an answer stays until its own TTL runs out (per-IP TTL)',
      given: {
        attempts: [
          [T0, ok(a('203.0.113.1', 30), a('203.0.113.2', 120)), ok()],
          [T0 + 30_000, ok(a('203.0.113.1', 30)), ok()],
        ],
      },
      want: { addresses: ['203.0.113.1@30', '203.0.113.2@90'], errors: [], refreshIn: 30 },
    },
    {
      name: 'an address missing from the answer after its TTL ran out is dropped',
      given: {
        attempts: [
          [T0, ok(a('203.0.113.1', 30), a('203.0.113.2', 60)), ok()],
          [T0 + 60_000, ok(a('203.0.113.3', 30)), ok()],
        ],
      },
      want: { addresses: ['203.0.113.3@30'], errors: [], refreshIn: 30 },
    },
    {
      name: 'a failure keeps the last good addresses, even past their TTL, and retries after minRefreshSeconds',
      given: {
        attempts: [
          [T0, ok(a('203.0.113.1', 30)), ok(a('2001:db8::1', 30))],
          [T0 + 600_000, fail('ServerFailure'), fail('ServerFailure')],
        ],
      },
      want: { addresses: ['203.0.113.1@-570', '2001:db8::1@-570'], errors: ['4:ServerFailure', '6:ServerFailure'], refreshIn: 5 },
    },
    {
      name: 'repeated failures back off exponentially up to maxRefreshSeconds',
      given: {
        attempts: [
          [T0, fail('Timeout'), fail('Timeout')],
          [T0 + 5_000, fail('Timeout'), fail('Timeout')],
          [T0 + 15_000, fail('Timeout'), fail('Timeout')],
          [T0 + 35_000, fail('Timeout'), fail('Timeout')],
          [T0 + 75_000, fail('Timeout'), fail('Timeout')],
          [T0 + 155_000, fail('Timeout'), fail('Timeout')],
          [T0 + 315_000, fail('Timeout'), fail('Timeout')],
        ],
      },
      want: { addresses: [], errors: ['4:Timeout', '6:Timeout'], refreshIn: 300 },
    },
    {
      name: 'NXDOMAIN also keeps the last good addresses, and says so',
      given: {
        attempts: [
          [T0, ok(a('203.0.113.1', 30)), ok()],
          [T0 + 30_000, fail('NXDOMAIN'), fail('NXDOMAIN')],
        ],
      },
      want: { addresses: ['203.0.113.1@0'], errors: ['4:NXDOMAIN', '6:NXDOMAIN'], refreshIn: 5 },
    },
    {
      name: 'one family failing keeps its own last good addresses and refreshes the other by TTL',
      given: {
        attempts: [
          [T0, ok(a('203.0.113.1', 300)), ok(a('2001:db8::1', 300))],
          [T0 + 300_000, ok(a('203.0.113.9', 7)), fail('ServerFailure')],
        ],
      },
      want: { addresses: ['203.0.113.9@7', '2001:db8::1@0'], errors: ['6:ServerFailure'], refreshIn: 5 },
    },
    {
      name: 'a name without records (NODATA for both) is empty, looked at again after maxRefreshSeconds',
      given: { attempts: [[T0, ok(), ok()]] },
      want: { addresses: [], errors: [], refreshIn: 300 },
    },
    {
      name: 'recovery after failures replaces the last good addresses',
      given: {
        attempts: [
          [T0, ok(a('203.0.113.1', 30)), ok()],
          [T0 + 30_000, fail('ServerFailure'), fail('ServerFailure')],
          [T0 + 35_000, ok(a('203.0.113.2', 60)), ok()],
        ],
      },
      want: { addresses: ['203.0.113.2@60'], errors: [], refreshIn: 60 },
    },
    {
      name: 'answers are canonicalised, deduplicated (longest TTL) and IPv4-mapped AAAA records dropped',
      given: {
        attempts: [[T0, ok(a('203.0.113.1', 10), a('203.0.113.1', 40)), ok(a('2001:DB8:0:0:0:0:0:1', 20), a('::ffff:203.0.113.1', 20))]],
      },
      want: { addresses: ['203.0.113.1@40', '2001:db8::1@20'], errors: [], refreshIn: 20 },
    },
  ];
  for (const { name, given, want } of deepFreeze(cases)) {
    it(name, () => assert.deepEqual(view(fold(given.attempts, given.bounds).at(-1)), want));
  }

  it('counts consecutive failures, remembers the last success and resets on recovery', () => {
    const states = fold([
      [T0, ok(a('203.0.113.1', 30)), ok()],
      [T0 + 30_000, fail('Timeout'), fail('Timeout')],
      [T0 + 35_000, fail('Timeout'), ok()],
      [T0 + 45_000, ok(a('203.0.113.1', 30)), ok()],
    ]);
    assert.deepEqual(
      states.map((s) => [s.consecutiveFailures, s.resolvedAt]),
      [
        [0, T0],
        [1, T0],
        [2, T0 + 35_000],
        [0, T0 + 45_000],
      ],
    );
  });
});

describe('DnsResolver against a test DNS server', () => {
  let dns: TestDnsServer;
  let clock: FakeClock;
  let resolver: DnsResolver;
  const signal = new AbortController().signal;
  before(async () => {
    dns = await TestDnsServer.start();
    clock = new FakeClock(T0);
    // One try with a short timeout keeps the timeout case fast.
    resolver = new DnsResolver({ lookup: new NodeDnsLookup({ servers: [dns.server], timeoutMs: 200, tries: 1 }), clock });
  });
  after(() => dns.close());

  it('resolves A and AAAA with their TTLs', async () => {
    dns.set('db.test', { a: [{ address: '198.18.0.2', ttl: 60 }], aaaa: [{ address: 'fd6b:656f::2', ttl: 30 }] });
    const r = await resolver.resolve('db.test', undefined, bounds, signal);
    assert.deepEqual(view(r), { addresses: ['198.18.0.2@60', 'fd6b:656f::2@30'], errors: [], refreshIn: 30 });
    assert.deepEqual(
      dns.queries.filter((q) => q.name === 'db.test').map((q) => q.type),
      ['A', 'AAAA'],
    );
  });

  it('follows a TTL change and a record change, keeping the old address until its TTL ends', async () => {
    dns.set('web.test', { a: [{ address: '198.18.0.2', ttl: 60 }] });
    const first = await resolver.resolve('web.test', undefined, bounds, signal);
    assert.equal(view(first)?.refreshIn, 60);

    dns.set('web.test', { a: [{ address: '198.18.0.2', ttl: 10 }] });
    await clock.advance(60_000);
    const shorter = await resolver.resolve('web.test', first, bounds, signal);
    assert.deepEqual(view(shorter), { addresses: ['198.18.0.2@10'], errors: [], refreshIn: 10 });

    dns.set('web.test', { a: [{ address: '198.18.0.6', ttl: 10 }] });
    await clock.advance(5_000);
    const changed = await resolver.resolve('web.test', shorter, bounds, signal);
    assert.deepEqual(view(changed), { addresses: ['198.18.0.2@5', '198.18.0.6@10'], errors: [], refreshIn: 5 });

    await clock.advance(5_000);
    const expired = await resolver.resolve('web.test', changed, bounds, signal);
    assert.deepEqual(view(expired), { addresses: ['198.18.0.6@10'], errors: [], refreshIn: 10 });
  });

  it('clamps the refresh to the bounds', async () => {
    dns.set('short.test', { a: [{ address: '198.18.0.2', ttl: 1 }] });
    dns.set('long.test', { a: [{ address: '198.18.0.2', ttl: 604_800 }] });
    assert.equal(view(await resolver.resolve('short.test', undefined, bounds, signal))?.refreshIn, 5);
    assert.equal(view(await resolver.resolve('long.test', undefined, bounds, signal))?.refreshIn, 300);
  });

  for (const [behaviour, reason] of [
    ['SERVFAIL', 'ServerFailure'],
    ['NXDOMAIN', 'NXDOMAIN'],
    ['REFUSED', 'Refused'],
    ['timeout', 'Timeout'],
  ] as const) {
    it(`keeps the last good addresses on ${behaviour} and reports ${reason}`, async () => {
      const name = `${behaviour.toLowerCase()}.test`;
      dns.set(name, { a: [{ address: '198.18.0.2', ttl: 30 }], aaaa: [{ address: 'fd6b:656f::2', ttl: 30 }] });
      const good = await resolver.resolve(name, undefined, bounds, signal);
      dns.behave(name, behaviour);
      await clock.advance(30_000);
      const bad = await resolver.resolve(name, good, bounds, signal);
      assert.deepEqual(
        { addresses: bad.addresses, errors: bad.errors.map((e) => `${e.family}:${e.reason}`), resolvedAt: bad.resolvedAt },
        { addresses: good.addresses, errors: [`4:${reason}`, `6:${reason}`], resolvedAt: good.resolvedAt },
      );
      assert.match(bad.errors[0]?.message ?? '', new RegExp(`^${name.replace('.', '\\.')} \\(A\\) `));
      dns.behave(name, 'answer');
    });
  }

  it('reports NXDOMAIN for an unknown name and NODATA as no records, not an error', async () => {
    const unknown = await resolver.resolve('nope.test', undefined, bounds, signal);
    assert.deepEqual(view(unknown), { addresses: [], errors: ['4:NXDOMAIN', '6:NXDOMAIN'], refreshIn: 5 });
    assert.match(unknown.errors[0]?.message ?? '', /nope\.test \(A\) does not exist \(NXDOMAIN\)/);
    dns.set('v4only.test', { a: [{ address: '198.18.0.2', ttl: 30 }] });
    assert.deepEqual(view(await resolver.resolve('v4only.test', undefined, bounds, signal)), {
      addresses: ['198.18.0.2@30'],
      errors: [],
      refreshIn: 30,
    });
  });

  it('gives up at once when cancelled, keeping what it knew', async () => {
    dns.set('slow.test', { a: [{ address: '198.18.0.2', ttl: 30 }] });
    const good = await resolver.resolve('slow.test', undefined, bounds, signal);
    dns.behave('slow.test', 'timeout');
    const slow = new DnsResolver({ lookup: new NodeDnsLookup({ servers: [dns.server], timeoutMs: 5000, tries: 3 }), clock });
    const ac = new AbortController();
    const started = Date.now();
    const pending = slow.resolve('slow.test', good, bounds, ac.signal);
    setTimeout(() => ac.abort(), 20);
    assert.equal(await pending, good);
    assert.ok(Date.now() - started < 2000, 'the lookup was not cancelled');
  });
});
