import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envInt, generateChurn, randomSeed } from './churn.ts';
import { type Fault, type FaultPair, type FaultReport, runChurnWithFaults, startFaultPair } from './fault-pair.ts';

// Faults in the middle of seeded churn, done to both sides of a parity pair alike (fault-pair.ts): a kube-apiserver
// restart, an etcd compaction under frozen controllers (their resumed watches get 410 Gone), a SIGKILL of the
// controllers followed by a restart. After each, the operator's Endpoints and EndpointSlices must equal
// kube-controller-manager's. `npm test` runs one fixed sequence with each fault once; `npm run parity`
// (PARITY_FULL=1) runs PARITY_FAULT_SEQUENCES sequences (default 3) from PARITY_SEED, each fault twice.

const full = process.env.PARITY_FULL === '1';

/**
 * Rounds at which each fault starts; it spans that round and the next two. Seed 2's fault windows hold readiness
 * changes and new Pods (restart), a Pod and a Service deleted and a selector changed (compaction: the relist must
 * infer the deletes), and a Pod deleted and a Service changed (SIGKILL).
 */
const FAST_SEED = 2;
const FAST_SCHEDULE = new Map<number, Fault>([
  [2, 'apiserver-restart'],
  [5, 'etcd-compaction'],
  [9, 'sigkill'],
]);
const FULL_SCHEDULE = new Map<number, Fault>([
  [2, 'apiserver-restart'],
  [5, 'etcd-compaction'],
  [9, 'sigkill'],
  [13, 'sigkill'],
  [17, 'etcd-compaction'],
  [21, 'apiserver-restart'],
]);

function assertFaultsHappened(reports: readonly FaultReport[], schedule: ReadonlyMap<number, Fault>): void {
  assert.deepEqual(
    reports.map((r) => `${r.round} ${r.fault}`),
    [...schedule].map(([round, fault]) => `${round} ${fault}`),
    'every scheduled fault ran',
  );
  for (const r of reports.filter((x) => x.fault === 'etcd-compaction')) {
    // Without a 410 the compaction tested nothing: a resumed watch that still found its revision.
    assert.ok(r.upstream.gone > 0, `round ${r.round}: kube-controller-manager got no 410 after the compaction`);
    assert.ok(r.ours.gone > 0, `round ${r.round}: the operator got no 410 after the compaction`);
  }
}

const pair: FaultPair = await startFaultPair();

describe('faults in the middle of churn, on both sides of the parity pair', () => {
  if (!full) {
    it('API server restart, etcd compaction (410), SIGKILL of the controllers: outputs equal kube-controller-manager', async () => {
      const reports = await runChurnWithFaults(pair, generateChurn(FAST_SEED, 12), `faults-${FAST_SEED}`, FAST_SCHEDULE);
      assertFaultsHappened(reports, FAST_SCHEDULE);
    });
    return;
  }
  const baseSeed = envInt(process.env, 'PARITY_SEED', randomSeed());
  const sequences = envInt(process.env, 'PARITY_FAULT_SEQUENCES', 3);
  for (let k = 0; k < sequences; k++) {
    const seed = (baseSeed + k) >>> 0;
    it(`churn seed=${seed} with every fault twice`, async (t) => {
      t.diagnostic(`replay: PARITY_SEED=${seed} PARITY_FAULT_SEQUENCES=1 npm run parity`);
      const reports = await runChurnWithFaults(pair, generateChurn(seed, 24), `faults-${seed}`, FULL_SCHEDULE);
      assertFaultsHappened(reports, FULL_SCHEDULE);
    });
  }
});
