import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from './clock.ts';
import { connectionRefused } from './testing/api-error.ts';
import { FakeApiClient } from './testing/fake-api-client.ts';
import { formatMicroTime, type LeaderCallbacks, LeaderElector, newLeaderIdentity } from './leader-election.ts';
import { LEASES } from './resource.ts';
import { captureLogger } from './runtime-test-helpers.ts';

const NS = 'kube-system';
const NAME = 'kube-endpoints-operator';
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

interface Candidate {
  readonly elector: LeaderElector;
  readonly events: string[];
  readonly stop: AbortController;
  readonly done: Promise<void>;
  leading(): boolean;
}

function candidate(client: FakeApiClient, clock: FakeClock, identity: string, opts: { random?: () => number } = {}): Candidate {
  const { logger } = captureLogger('silent');
  const elector = new LeaderElector({ client, clock, logger, namespace: NS, name: NAME, identity, random: opts.random ?? (() => 0) });
  const events: string[] = [];
  let leading = false;
  const callbacks: LeaderCallbacks = {
    onStartedLeading: () => {
      leading = true;
      events.push(`started@${clock.now()}`);
    },
    onStoppedLeading: (reason) => {
      leading = false;
      events.push(`stopped:${reason}@${clock.now()}`);
    },
    onNewLeader: (id) => events.push(`leader:${id}`),
  };
  const stop = new AbortController();
  const done = elector.run(stop.signal, callbacks);
  return { elector, events, stop, done, leading: () => leading };
}

const leaseSpec = (client: FakeApiClient) => client.object(LEASES, NS, NAME)?.spec as Record<string, unknown> | undefined;

describe('formatMicroTime', () => {
  const cases = [
    {
      name: 'whole milliseconds get three zero micro digits',
      given: Date.UTC(2026, 10, 21, 5, 40, 14, 123),
      want: '2026-11-21T05:40:14.123000Z',
    },
    { name: 'a whole second keeps six zero digits', given: Date.UTC(2026, 0, 2, 3, 4, 5, 0), want: '2026-01-02T03:04:05.000000Z' },
    {
      name: 'sub-millisecond fractions become microseconds',
      given: Date.UTC(2026, 0, 2, 3, 4, 5, 7) + 0.25,
      want: '2026-01-02T03:04:05.007250Z',
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(formatMicroTime(c.given), c.want));
});

describe('newLeaderIdentity', () => {
  it('joins hostname and a unique suffix like kube-controller-manager', () => {
    assert.equal(
      newLeaderIdentity('node-1', () => 'abc'),
      'node-1_abc',
    );
    assert.notEqual(newLeaderIdentity('h'), newLeaderIdentity('h'));
  });
});

describe('LeaderElector', () => {
  it('creates the Lease when none exists and starts leading with MicroTime timestamps', async () => {
    const clock = new FakeClock();
    const client = new FakeApiClient();
    const a = candidate(client, clock, 'a');
    await clock.advance(0);
    assert.deepEqual(a.events, [`leader:a`, `started@${clock.now()}`]);
    const spec = leaseSpec(client);
    assert.equal(spec?.holderIdentity, 'a');
    assert.equal(spec?.leaseDurationSeconds, 15);
    assert.equal(spec?.leaseTransitions, 0);
    assert.match(String(spec?.renewTime), MICRO_TIME);
    assert.match(String(spec?.acquireTime), MICRO_TIME);
    assert.equal(client.object(LEASES, NS, NAME)?.kind, 'Lease');
    a.stop.abort();
    await a.done;
  });

  it('renews every retry period, keeping acquireTime and transitions', async () => {
    const clock = new FakeClock();
    const client = new FakeApiClient();
    const a = candidate(client, clock, 'a');
    await clock.advance(0);
    const first = leaseSpec(client);
    await clock.advance(2_000);
    const second = leaseSpec(client);
    assert.notEqual(second?.renewTime, first?.renewTime);
    assert.equal(second?.renewTime, formatMicroTime(clock.now()));
    assert.equal(second?.acquireTime, first?.acquireTime);
    assert.equal(second?.leaseTransitions, 0);
    // The renewal uses the cached lease (one update, no read) while leading.
    const sinceAcquire = client.calls.slice(2).map((c) => c.verb);
    assert.deepEqual(sinceAcquire, ['update']);
    a.stop.abort();
    await a.done;
  });

  it('keeps leading through failures shorter than the renew deadline', async () => {
    const clock = new FakeClock();
    const client = new FakeApiClient();
    const a = candidate(client, clock, 'a');
    await clock.advance(0);
    client.failOn = () => connectionRefused();
    await clock.advance(8_000);
    client.failOn = undefined;
    await clock.advance(4_000);
    assert.equal(a.leading(), true);
    assert.equal(leaseSpec(client)?.renewTime, formatMicroTime(clock.now()));
    a.stop.abort();
    await a.done;
  });

  it('stops leading at the renew deadline when renewals keep failing, without touching the lease', async () => {
    const clock = new FakeClock();
    const client = new FakeApiClient();
    const a = candidate(client, clock, 'a');
    await clock.advance(0);
    const t0 = clock.now();
    client.failOn = () => connectionRefused();
    // The renewal round starts one retry period after the last success and has 10 s.
    await clock.advance(11_999);
    assert.equal(a.leading(), true);
    await clock.advance(1);
    assert.deepEqual(a.events.slice(-1), [`stopped:lost@${t0 + 12_000}`]);
    await a.done;
    const writesAfterLoss = client.calls.length;
    client.failOn = undefined;
    await clock.advance(60_000);
    assert.equal(client.calls.length, writesAfterLoss, 'a lost elector never campaigns again');
    assert.equal(leaseSpec(client)?.holderIdentity, 'a', 'no release after a loss');
  });

  it('cuts off a hung renewal at the renew deadline', async () => {
    const clock = new FakeClock();
    const client = new FakeApiClient();
    const a = candidate(client, clock, 'a');
    await clock.advance(0);
    client.hang = true;
    await clock.advance(11_999);
    assert.equal(a.leading(), true);
    await clock.advance(1);
    assert.equal(a.leading(), false);
    await a.done;
  });

  it('releases the Lease on stop so a standby acquires at once instead of after the lease duration', async () => {
    const clock = new FakeClock();
    const client = new FakeApiClient();
    const a = candidate(client, clock, 'a');
    await clock.advance(0);
    const b = candidate(client, clock, 'b');
    await clock.advance(4_000);
    assert.equal(b.leading(), false);
    assert.ok(b.events.includes('leader:a'));
    a.stop.abort();
    await a.done;
    assert.equal(a.events.at(-1), `stopped:released@${clock.now()}`);
    const released = leaseSpec(client);
    assert.equal(released?.holderIdentity, '');
    assert.equal(released?.leaseDurationSeconds, 1);
    const t = clock.now();
    await clock.advance(2_000);
    assert.equal(b.leading(), true, 'taken over within one retry period');
    const started = Number((b.events.find((e) => e.startsWith('started@')) ?? '').slice(8));
    assert.ok(started <= t + 2_000, `took over ${started - t} ms after the release`);
    assert.equal(leaseSpec(client)?.leaseTransitions, 1);
    b.stop.abort();
    await b.done;
  });

  it('takes over an expired Lease only a full lease duration after first observing it', async () => {
    const clock = new FakeClock();
    const client = new FakeApiClient();
    // A holder that died long ago: its renewTime is old, but only our own observation window counts (no clock skew).
    client.seed(LEASES, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: NAME, namespace: NS },
      spec: {
        holderIdentity: 'dead',
        leaseDurationSeconds: 15,
        renewTime: formatMicroTime(0),
        acquireTime: formatMicroTime(0),
        leaseTransitions: 4,
      },
    });
    const t0 = clock.now();
    const b = candidate(client, clock, 'b');
    await clock.advance(14_000);
    assert.equal(b.leading(), false);
    await clock.advance(2_000);
    assert.equal(b.leading(), true);
    const started = Number((b.events.find((e) => e.startsWith('started@')) ?? '').slice(8));
    assert.ok(started >= t0 + 15_000 && started <= t0 + 16_000, `took over at +${started - t0} ms`);
    const spec = leaseSpec(client);
    assert.equal(spec?.holderIdentity, 'b');
    assert.equal(spec?.leaseTransitions, 5);
    assert.equal(spec?.acquireTime, formatMicroTime(started));
    b.stop.abort();
    await b.done;
  });

  it('never takes over a Lease that its holder keeps renewing', async () => {
    const clock = new FakeClock();
    const client = new FakeApiClient();
    const a = candidate(client, clock, 'a');
    await clock.advance(0);
    const b = candidate(client, clock, 'b', { random: () => 0.99 });
    await clock.advance(120_000);
    assert.equal(a.leading(), true);
    assert.equal(b.leading(), false);
    assert.equal(leaseSpec(client)?.holderIdentity, 'a');
    b.stop.abort();
    a.stop.abort();
    await Promise.all([a.done, b.done]);
    assert.deepEqual(
      b.events.filter((e) => !e.startsWith('leader:')),
      [],
      'b never started nor stopped leading',
    );
  });

  it('treats a 409 on update as a lost race and does not lead', async () => {
    const clock = new FakeClock();
    const client = new FakeApiClient();
    client.seed(LEASES, { kind: 'Lease', metadata: { name: NAME, namespace: NS }, spec: { holderIdentity: '', leaseDurationSeconds: 1 } });
    let raced = false;
    client.beforeWrite = (call) => {
      if (raced || call.verb !== 'update') return;
      raced = true;
      // Another candidate writes between our read and our update.
      client.seed(LEASES, {
        kind: 'Lease',
        metadata: { name: NAME, namespace: NS },
        spec: { holderIdentity: 'x', leaseDurationSeconds: 15 },
      });
    };
    const b = candidate(client, clock, 'b');
    await clock.advance(0);
    assert.equal(b.leading(), false);
    assert.equal(leaseSpec(client)?.holderIdentity, 'x');
    await clock.advance(10_000);
    assert.equal(b.leading(), false, 'b first saw the lease of x less than 15 s ago');
    b.stop.abort();
    await b.done;
  });

  it('spreads acquire attempts with jitter between 1 and 2.2 retry periods', async () => {
    const clock = new FakeClock();
    const client = new FakeApiClient();
    const a = candidate(client, clock, 'a');
    await clock.advance(0);
    const b = candidate(client, clock, 'b', { random: () => 0.5 });
    await clock.advance(0);
    const reads = () => client.calls.filter((c) => c.verb === 'get').length;
    const before = reads();
    await clock.advance(3_199);
    assert.equal(reads(), before, 'no attempt before 2 s x (1 + 0.5 x 1.2) = 3.2 s');
    await clock.advance(1);
    assert.equal(reads(), before + 1);
    a.stop.abort();
    b.stop.abort();
    await Promise.all([a.done, b.done]);
  });

  it('rejects timing that would let a lease expire before the leader notices', () => {
    const { logger } = captureLogger('silent');
    const base = { client: new FakeApiClient(), clock: new FakeClock(), logger, namespace: NS, name: NAME, identity: 'a' };
    assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }), /leaseDuration/);
    assert.throws(() => new LeaderElector({ ...base, renewDeadlineMs: 2_400, retryPeriodMs: 2_000 }), /renewDeadline/);
    assert.throws(() => new LeaderElector({ ...base, retryPeriodMs: Number.NaN }), /retryPeriod must be a positive/);
  });

  it('uses the default durations for settings passed as undefined, as the Manager forwards unset ones', async () => {
    // Found against a real API server: a spread over the defaults made these NaN, and every candidate led at once.
    const clock = new FakeClock();
    const client = new FakeApiClient();
    const { logger } = captureLogger('silent');
    const unset = { leaseDurationMs: undefined, renewDeadlineMs: undefined, retryPeriodMs: undefined, random: () => 0 };
    const run = (identity: string) => {
      const elector = new LeaderElector({ client, clock, logger, namespace: NS, name: NAME, identity, ...unset });
      const stop = new AbortController();
      let leading = false;
      const done = elector.run(stop.signal, { onStartedLeading: () => (leading = true), onStoppedLeading: () => (leading = false) });
      return { stop, done, leading: () => leading };
    };
    const a = run('a');
    await clock.advance(0);
    assert.equal(leaseSpec(client)?.leaseDurationSeconds, 15);
    const b = run('b');
    await clock.advance(60_000);
    assert.deepEqual([a.leading(), b.leading()], [true, false]);
    a.stop.abort();
    b.stop.abort();
    await Promise.all([a.done, b.done]);
  });
});
