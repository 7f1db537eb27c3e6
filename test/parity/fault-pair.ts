import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { compactEtcd, etcdRevision } from '../envtest/etcd-compaction.ts';
import { startTestCluster, type TestCluster } from '../envtest/test-cluster.ts';
import { waitFor } from '../envtest/wait-for.ts';
import { applyStep } from './apply-step.ts';
import type { ChurnSequence } from './churn.ts';
import { type ControllerProcess, waitForIdle } from './controller-process.ts';
import { KcmProcess } from './kcm-process.ts';
import { OperatorProcess } from './operator-process.ts';
import type { ParityEnv } from './parity-env.ts';
import { describeStep, ParityRun } from './run-scenario.ts';

// A parity pair for faults: the same two control planes as parity-env.ts, but both sides' controllers run as child
// processes (kube-controller-manager, and `node cmd/operator/main.ts`) so that a fault can hit either for real, and
// every fault is done to both sides alike: an API server restart, an etcd compaction that answers the controllers'
// resumed watches with 410 Gone, a SIGKILL of the controllers followed by a restart.
//
// A garbage collector (kube-controller-manager with that controller alone) runs on each side throughout.
//
// The API servers serve Pods, Services, Endpoints, EndpointSlices and Nodes without their watch cache, so that every
// watch is an etcd watch: a watch resumed after a restart is served from etcd's history (no relist), and one resumed
// from a compacted revision gets etcd's 410, which is the case to test. With the watch cache, a restart alone already
// answers 410 (the cache starts empty) and a compaction changes nothing a client can see.

const API_SERVER_FLAGS = {
  'service-cluster-ip-range': '10.0.0.0/24,fd00:10:96::/112',
  'watch-cache-sizes': 'pods#0,services#0,endpoints#0,endpointslices.discovery.k8s.io#0,nodes#0',
};

/** How long the pair may take to agree after a fault (backoffs of failed syncs included) and after an ordinary round. */
const FAULT_SETTLE_MS = 120_000;
const ROUND_SETTLE_MS = 60_000;

export type Fault = 'apiserver-restart' | 'etcd-compaction' | 'sigkill';

export interface FaultPair {
  readonly env: ParityEnv;
  readonly kcm: KcmProcess;
  readonly ours: OperatorProcess;
}

/** One side's recovery from one fault. */
export interface SideRecovery {
  /** From the end of the fault until its queues were empty and stayed so (ms). */
  readonly idleMs: number;
  /** Watches answered 410 during this fault (from its log). */
  readonly gone: number;
}

/** What one fault did and how the pair came back. */
export interface FaultReport {
  readonly fault: Fault;
  readonly round: number;
  /** How long the fault lasted: from its start until the API servers were back, the controllers thawed or restarted and synced (ms). */
  readonly faultMs: number;
  readonly upstream: SideRecovery;
  readonly ours: SideRecovery;
  /** From the end of the fault until both sides' outputs were equal (the settle's quiet period excluded, ms). */
  readonly agreedMs: number;
}

/** Starts both clusters (Nodes node-a/zone-a and node-b/zone-b on each) and both controllers. Stopped by `after` hooks. */
export async function startFaultPair(): Promise<FaultPair> {
  const [upstream, ours]: TestCluster[] = await Promise.all([
    startTestCluster({ name: 'faults-upstream', apiServerFlags: API_SERVER_FLAGS }),
    startTestCluster({ name: 'faults-ours', apiServerFlags: API_SERVER_FLAGS }),
  ]);
  if (upstream === undefined || ours === undefined) throw new Error('unreachable');
  for (const c of [upstream, ours]) {
    await c.createNode('node-a', 'zone-a');
    await c.createNode('node-b', 'zone-b');
  }
  // --v=4: kube-controller-manager's reflectors log a watch that ended with 410 only at that level.
  const kcm = new KcmProcess(upstream, { v: '4' });
  const operator = new OperatorProcess(ours);
  // A garbage collector on each side, as in a real cluster, never faulted: the slices of a Service deleted during a
  // fault go with it. Without one they stay forever, and whether a side updated them once more before it saw the
  // delete depends on the order in which its informers relist after the fault, a race kube-controller-manager has
  // as much as the operator (seen on v1.36.4: the Service's relist came last, so the Pods' relist resynced the
  // deleted Service from the stale cache; the endpoints controller even recreated its Endpoints for 2 s).
  const collectors = [upstream, ours].map((c) => new KcmProcess(c, {}, ['garbage-collector-controller']));
  await Promise.all([kcm.start(), operator.start(), ...collectors.map((c) => c.start())]);
  return { env: { upstream, ours, ourRequests: [], ourLog: [] }, kcm, ours: operator };
}

/** Watches answered 410 Gone so far, by the side's log. */
async function goneCount(proc: ControllerProcess): Promise<number> {
  const log = await proc.logText();
  if (proc.side === 'operator') return (log.match(/"msg":"Watch expired, relisting"/g) ?? []).length;
  // reflector.go: watchHandler's expired case, logged at V(4) as "Watch closed" with the 410's message.
  return (log.match(/"Watch closed".*(too old resource version|resourceVersion for the provided watch is too old|Expired|Gone)/g) ?? [])
    .length;
}

/** Completed relists so far, by the side's log (the operator's informer, client-go's reflector at --v=2 and up). */
async function relistCount(proc: ControllerProcess): Promise<number> {
  const log = await proc.logText();
  if (proc.side === 'operator') return (log.match(/"msg":"Relisted objects"/g) ?? []).length;
  return (log.match(/"Caches populated"/g) ?? []).length;
}

/** Copies both sides' logs out of the clusters' work directories (removed at the end) and names them in the error. */
async function withSavedLogs(err: unknown, pair: FaultPair, seed: number): Promise<Error> {
  const dir = await mkdtemp(join(tmpdir(), `keo-faults-${seed}-`));
  await writeFile(join(dir, 'kube-controller-manager.log'), await pair.kcm.logText());
  await writeFile(join(dir, 'operator.log'), await pair.ours.logText());
  const message = err instanceof Error ? err.message : String(err);
  return new Error(`${message}\nlogs of both sides: ${dir}`, { cause: err });
}

/**
 * Runs `seq` on the pair in namespace `namespace`, injecting `faults[round]` at the given rounds: the fault hits both
 * sides while the round's changes are being processed, and the next `roundsDuring` rounds are applied while it lasts.
 * After each round (a fault's rounds count as one) both sides must settle to equal outputs (run-scenario's settle).
 * Returns one report per fault.
 */
export async function runChurnWithFaults(
  pair: FaultPair,
  seq: ChurnSequence,
  namespace: string,
  faults: ReadonlyMap<number, Fault>,
  roundsDuring = 2,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<FaultReport[]> {
  const { env } = pair;
  const sides = [
    { cluster: env.upstream, proc: pair.kcm as ControllerProcess },
    { cluster: env.ours, proc: pair.ours as ControllerProcess },
  ] as const;
  // The namespace, the per-step barrier and the write counters on both sides (run-scenario's ParityRun): each settle
  // first proves both controllers processed everything up to it. The counters' watches may break on a fault; they only
  // feed a report. The trigger-time annotation is not compared here (NormalizeOptions.ignoreTriggerTime: a write that
  // fails during an outage is retried without it, upstream and ours alike); the scenario suite compares it.
  const run = await ParityRun.open(env, namespace);
  try {
    return await churnRounds(run);
  } finally {
    await run.close();
  }

  async function churnRounds(run: ParityRun): Promise<FaultReport[]> {
    const applyRounds = async (from: number, to: number) => {
      for (let r = from; r <= to; r++) await applyRound(r);
    };
    const applyRound = (i: number) =>
      Promise.all(
        sides.map(async ({ cluster }) => {
          for (const step of seq.rounds[i] ?? []) await applyStep(cluster.client, namespace, step);
        }),
      );
    const describeRound = (i: number) => `round ${i} [${(seq.rounds[i] ?? []).map(describeStep).join(', ')}]`;
    const reports: FaultReport[] = [];
    for (let i = 0; i < seq.rounds.length; i++) {
      const fault = faults.get(i);
      const last = i + roundsDuring;
      if (fault === undefined || last >= seq.rounds.length) {
        await applyRound(i);
        await run
          .settle(['endpoints', 'endpointslices'], `churn seed ${seq.seed}, ${describeRound(i)}`, `round ${i}`, {
            timeoutMs: ROUND_SETTLE_MS,
            ignoreTriggerTime: true,
          })
          .catch(async (err: unknown) => {
            throw await withSavedLogs(err, pair, seq.seed);
          });
        continue;
      }
      const goneBefore = await Promise.all(sides.map(({ proc }) => goneCount(proc)));
      const relistsBefore = await Promise.all(sides.map(({ proc }) => relistCount(proc)));
      const faultStarted = performance.now();
      switch (fault) {
        case 'apiserver-restart':
          await applyRound(i);
          // The controllers are busy with round i when their API server goes away; the next rounds come once it is back.
          await Promise.all(sides.map(({ cluster }) => cluster.cluster.restartApiServer({ timeoutMs: 2_000 })));
          await applyRounds(i + 1, last);
          break;
        case 'etcd-compaction': {
          // Frozen, the controllers lose their watches to an API server restart before anything changes (so no event
          // is left in a socket buffer for them to read on waking), then the rounds move past their resourceVersions
          // and the compaction erases those: when they thaw, resuming the watches must fail with 410 Gone.
          for (const { proc } of sides) proc.freeze();
          await Promise.all(sides.map(({ cluster }) => cluster.cluster.restartApiServer({ timeoutMs: 2_000 })));
          await applyRounds(i, last);
          await Promise.all(
            sides.map(async ({ cluster }) => compactEtcd(cluster.cluster.etcdUrl, await etcdRevision(cluster.cluster.etcdUrl))),
          );
          for (const { proc } of sides) proc.thaw();
          break;
        }
        case 'sigkill':
          await applyRound(i);
          // A moment into round i's work, so that some of its writes are done and some are not.
          await sleep(200);
          await Promise.all(sides.map(({ proc }) => proc.kill()));
          await applyRounds(i + 1, last);
          await Promise.all(sides.map(({ proc }) => proc.start()));
          break;
      }
      // Each side's own recovery and the pair's agreement are timed from the end of the fault. A side is recovered once
      // it has relisted every watch that got a 410 (its reflector may back off for seconds first, with empty queues,
      // so empty queues alone do not mean done) and its queues are then empty and quiet. Only then are the outputs
      // compared: before, both could agree on a state one of them is about to leave.
      const faultEnded = performance.now();
      const faultMs = faultEnded - faultStarted;
      const quietMs = 2_000;
      const context = `churn seed ${seq.seed}, ${fault} during rounds ${i}..${last}: ${[...Array(roundsDuring + 1).keys()].map((k) => describeRound(i + k)).join(', ')}`;
      const [upIdle, ourIdle] = await Promise.all(
        sides.map(async ({ proc }, k) => {
          if (fault === 'etcd-compaction') {
            await waitFor(
              async () => {
                const gone = (await goneCount(proc)) - (goneBefore[k] ?? 0);
                return gone > 0 && (await relistCount(proc)) - (relistsBefore[k] ?? 0) >= gone;
              },
              { description: `${proc.side}: a relist after each 410`, timeoutMs: FAULT_SETTLE_MS, intervalMs: 100 },
            );
          }
          const startedAt = performance.now() - faultEnded;
          return startedAt + (await waitForIdle(proc, { timeoutMs: FAULT_SETTLE_MS }));
        }),
      );
      try {
        await run.settle(['endpoints', 'endpointslices'], context, `round ${i} (${fault})`, {
          timeoutMs: FAULT_SETTLE_MS,
          quietMs,
          ignoreTriggerTime: true,
        });
      } catch (err) {
        throw await withSavedLogs(err, pair, seq.seed);
      }
      const agreedMs = performance.now() - faultEnded - quietMs;
      const goneAfter = await Promise.all(sides.map(({ proc }) => goneCount(proc)));
      const report: FaultReport = {
        fault,
        round: i,
        faultMs,
        upstream: { idleMs: upIdle ?? 0, gone: (goneAfter[0] ?? 0) - (goneBefore[0] ?? 0) },
        ours: { idleMs: ourIdle ?? 0, gone: (goneAfter[1] ?? 0) - (goneBefore[1] ?? 0) },
        agreedMs,
      };
      reports.push(report);
      log(
        `[faults] seed ${seq.seed} ${fault} at round ${i} (lasted ${s(faultMs)}), then: kube-controller-manager idle after ${s(report.upstream.idleMs)} (${report.upstream.gone} watches 410), ` +
          `operator idle after ${s(report.ours.idleMs)} (${report.ours.gone} watches 410); outputs equal after ${s(report.agreedMs)}`,
      );
      i = last; // the rounds up to `last` were applied during the fault
    }
    return reports;
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
