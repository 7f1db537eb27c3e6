import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { objectKey } from '../../api/core/meta.ts';
import { type Service, serviceSchema } from '../../api/core/v1.ts';
import { newApiClient } from '../../controllers/runtime/api-client.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import { LEADER_ELECTION_JITTER_FACTOR } from '../../controllers/runtime/leader-election.ts';
import { Manager, type ManagerOutcome } from '../../controllers/runtime/manager.ts';
import { done } from '../../controllers/runtime/reconcile.ts';
import { LEASES, SERVICES } from '../../controllers/runtime/resource.ts';
import { captureLogger, type LogLine } from '../../controllers/runtime/runtime-test-helpers.ts';
import { startTestCluster } from '../envtest/test-cluster.ts';
import { waitFor } from '../envtest/wait-for.ts';
import { FaultClient } from './runtime-fault-client.ts';

// Leader election between Managers, each with its own client, on a real Lease in a real API server: one leader, only
// the leader reconciles, a crashed leader is replaced once its lease runs out, a stopped one at once.
//
// How long a takeover after a crash may take follows from client-go's algorithm, which ours mirrors: a standby
// counts the lease duration from the moment IT saw the last renewal (never by comparing clocks), polls every
// retryPeriod x [1, 2.2), and so sees the last renewal up to one jittered poll late, and the expiry up to one more:
//   leaseDuration - retryPeriod  <=  takeover after a crash  <=  leaseDuration + 2 x 2.2 x retryPeriod.

const env = await startTestCluster({ name: 'runtime-leader-election' });

interface Durations {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}
const SHORT: Durations = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 };
// kube-controller-manager's defaults, which the Manager uses when none are given.
const DEFAULTS: Durations = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

// Slack for two API round trips on two busy cores.
const SLACK_MS = 1_000;
const maxPollMs = (d: Durations) => d.retryPeriodMs * (1 + LEADER_ELECTION_JITTER_FACTOR);

/** One operator process: a Manager with its own client, a Lease candidate, and a controller counting reconciles. */
function startCandidate(identity: string, namespace: string, lease: string, durations: Durations | undefined) {
  const client = new FaultClient(newApiClient(env.kubeConfig, { clock: realClock, qps: 100, burst: 200, userAgent: identity }));
  const { logger, lines } = captureLogger('info');
  const manager = new Manager({
    logger,
    client,
    registry: new Registry(),
    informerOptions: { namespace },
    leaderElection: { namespace, name: lease, identity, ...durations },
  });
  const reconciled: string[] = [];
  const controller = manager.addController({
    name: 'counter',
    reconciler: {
      reconcile: async ({ key }) => {
        reconciled.push(key);
        return done();
      },
    },
  });
  const services = manager.informer<Service>({ resource: SERVICES, parse: (raw) => serviceSchema.parse(raw), parseId: 'test.Service' });
  services.addEventHandler({
    onAdd: (s) => controller.enqueue(objectKey(s)),
    onUpdate: (_, s) => controller.enqueue(objectKey(s)),
  });
  const stop = new AbortController();
  const outcome = manager.start(stop.signal);
  const at = (msg: string): number | undefined => lines.find((l: LogLine) => l.msg === msg)?.time as number | undefined;
  return {
    identity,
    client,
    reconciled,
    lines,
    outcome,
    /** Wall-clock time (ms) of the log line saying it acquired the lease. */
    acquiredAt: () => at('Acquired lease'),
    hasLine: (msg: string) => lines.some((l) => l.msg === msg),
    /** A graceful stop: drain, release the lease. */
    stop: async (): Promise<ManagerOutcome> => {
      stop.abort();
      return outcome;
    },
    /** A crash: the process is gone between two renewals; nothing it sends arrives, so the lease is never released. */
    crash: async (): Promise<ManagerOutcome> => {
      client.cut();
      stop.abort();
      return outcome;
    },
  };
}
type Candidate = ReturnType<typeof startCandidate>;

const leaseSchema = z.looseObject({ spec: z.looseObject({ holderIdentity: z.string().nullish() }) });
async function holder(namespace: string, lease: string): Promise<string> {
  return leaseSchema.parse(await env.client.get(LEASES, namespace, lease)).spec.holderIdentity ?? '';
}

async function oneLeader(candidates: readonly Candidate[], timeoutMs: number): Promise<Candidate> {
  return waitFor(
    () => {
      const leaders = candidates.filter((c) => c.acquiredAt() !== undefined);
      assert.ok(leaders.length <= 1, `two leaders: ${leaders.map((c) => c.identity).join(', ')}`);
      return leaders[0];
    },
    { description: 'a leader', timeoutMs, intervalMs: 20 },
  );
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const report = (line: string) => process.stderr.write(`[runtime-leader-election] ${line}\n`);

async function createService(namespace: string, name: string): Promise<void> {
  await env.client.create(SERVICES, namespace, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ port: 80 }] },
  });
}

/**
 * Three candidates: one leads; it crashes and one of the two others takes over after the lease ran out; that one
 * stops gracefully and the last takes over at once. Returns the two measured takeover times.
 */
async function electCrashAndStop(prefix: string, durations: Durations | undefined, checkReconciles: boolean) {
  const d = durations ?? DEFAULTS;
  const ns = await env.createNamespace(prefix);
  const lease = 'kube-endpoints-operator';
  const all = ['a', 'b', 'c'].map((id) => startCandidate(`${prefix}-${id}`, ns, lease, durations));
  try {
    const first = await oneLeader(all, 20_000);
    assert.equal(await holder(ns, lease), first.identity);
    if (checkReconciles) {
      await createService(ns, 'one');
      await createService(ns, 'two');
      await waitFor(() => first.reconciled.includes(`${ns}/one`) && first.reconciled.includes(`${ns}/two`), {
        description: 'the leader to reconcile both Services',
      });
    }
    // A few renewals later there is still one leader, and the standbys never ran a reconcile.
    await new Promise((resolve) => setTimeout(resolve, 3 * d.retryPeriodMs));
    await oneLeader(all, 0);
    for (const c of all) if (c !== first) assert.deepEqual(c.reconciled, [], `${c.identity} is a standby`);

    // Crash.
    const crashedAt = Date.now();
    assert.deepEqual(await first.crash(), { kind: 'stopped' });
    assert.ok(first.hasLine('Failed to release lease'), 'the crashed leader could not release its lease');
    const standbys = all.filter((c) => c !== first);
    const second = await oneLeader(standbys, d.leaseDurationMs + 2 * maxPollMs(d) + 10_000);
    const crashTakeoverMs = (second.acquiredAt() ?? 0) - crashedAt;
    assert.equal(await holder(ns, lease), second.identity);
    assert.ok(
      crashTakeoverMs >= d.leaseDurationMs - d.retryPeriodMs - SLACK_MS / 2,
      `took over a live lease after ${seconds(crashTakeoverMs)} (lease ${seconds(d.leaseDurationMs)})`,
    );
    assert.ok(
      crashTakeoverMs <= d.leaseDurationMs + 2 * maxPollMs(d) + SLACK_MS,
      `takeover after a crash took ${seconds(crashTakeoverMs)}`,
    );
    if (checkReconciles) {
      await createService(ns, 'three');
      await waitFor(() => [`${ns}/one`, `${ns}/two`, `${ns}/three`].every((k) => second.reconciled.includes(k)), {
        description: 'the new leader to reconcile every Service',
      });
    }

    // Graceful stop: the lease is released, the last candidate takes it at its next poll.
    const last = standbys.find((c) => c !== second);
    assert.ok(last !== undefined);
    const stoppedAt = Date.now();
    assert.deepEqual(await second.stop(), { kind: 'stopped' });
    assert.ok(second.hasLine('Released lease'));
    await oneLeader([last], maxPollMs(d) + 10_000);
    const releaseTakeoverMs = (last.acquiredAt() ?? 0) - stoppedAt;
    assert.ok(releaseTakeoverMs <= maxPollMs(d) + SLACK_MS, `takeover after a release took ${seconds(releaseTakeoverMs)}`);
    assert.equal(await holder(ns, lease), last.identity);
    if (checkReconciles) {
      await waitFor(() => [`${ns}/one`, `${ns}/two`, `${ns}/three`].every((k) => last.reconciled.includes(k)), {
        description: 'the last leader to reconcile every Service',
      });
    }
    report(
      `${prefix} (lease ${seconds(d.leaseDurationMs)}, renew ${seconds(d.renewDeadlineMs)}, retry ${seconds(d.retryPeriodMs)}): ` +
        `takeover after a crash ${seconds(crashTakeoverMs)} (lease + retry = ${seconds(d.leaseDurationMs + d.retryPeriodMs)}), ` +
        `after a graceful stop ${seconds(releaseTakeoverMs)}`,
    );
  } finally {
    await Promise.all(all.map((c) => c.stop()));
  }
}

describe('Managers electing a leader on a real Lease', () => {
  it('elect one leader, which alone reconciles; a crashed leader is replaced after its lease, a stopped one at once', async () => {
    await electCrashAndStop('short', SHORT, true);
  });

  it('do the same with kube-controller-manager default durations (15 s / 10 s / 2 s)', async () => {
    await electCrashAndStop('defaults', undefined, false);
  });

  it('a partitioned leader stops all work before a standby can take over', async () => {
    const ns = await env.createNamespace('partition');
    const lease = 'kube-endpoints-operator';
    const all = ['a', 'b'].map((id) => startCandidate(`partition-${id}`, ns, lease, SHORT));
    try {
      const leader = await oneLeader(all, 20_000);
      await createService(ns, 'one');
      await waitFor(() => leader.reconciled.includes(`${ns}/one`), { description: 'the leader to reconcile' });
      const standby = all.find((c) => c !== leader);
      assert.ok(standby !== undefined);

      // Cut off, but still running: it must give up by itself once it cannot renew within the renew deadline.
      const cutAt = Date.now();
      leader.client.cut();
      assert.deepEqual(await leader.outcome, { kind: 'lost-leadership' });
      const lostAt = Date.now();
      await oneLeader([standby], SHORT.leaseDurationMs + 2 * maxPollMs(SHORT) + 10_000);
      const acquiredAt = standby.acquiredAt() ?? 0;
      assert.ok(lostAt < acquiredAt, `the old leader stopped ${lostAt - acquiredAt} ms after the new one started`);
      assert.ok(lostAt - cutAt <= SHORT.retryPeriodMs + SHORT.renewDeadlineMs + SLACK_MS, `gave up after ${seconds(lostAt - cutAt)}`);
      report(
        `partition: old leader stopped ${seconds(lostAt - cutAt)} after the cut, the standby took over ${seconds(acquiredAt - cutAt)} after it`,
      );
    } finally {
      await Promise.all(all.map((c) => c.stop()));
    }
  });
});
