import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fullSyncDone, queueProgress, SYNC_QUEUES } from './sync-proof.ts';

const text = (adds: number, depth: number, done: number) => `# HELP workqueue_adds_total x
# TYPE workqueue_adds_total counter
workqueue_adds_total{name="endpoint"} ${adds}
workqueue_adds_total{name="endpoint_slice"} ${adds + 3}
workqueue_adds_total{name="endpoint_slice_mirroring"} 0
workqueue_depth{name="endpoint"} ${depth}
workqueue_depth{name="endpoint_slice"} 0
workqueue_work_duration_seconds_count{name="endpoint"} ${adds}
workqueue_work_duration_seconds_count{name="endpoint_slice"} ${done}
workqueue_longest_running_processor_seconds{name="endpoint_slice"} 0
workqueue_retries_total{name="endpoint_slice"} 7
`;

describe('queueProgress', () => {
  it('reads each queue in the order asked, a queue without series as zero', () => {
    assert.deepEqual(queueProgress(text(100, 2, 99), ['endpoint_slice', 'endpoint', 'absent']), [
      { queue: 'endpoint_slice', adds: 103, done: 99, depth: 0, retries: 7 },
      { queue: 'endpoint', adds: 100, done: 100, depth: 2, retries: 0 },
      { queue: 'absent', adds: 0, done: 0, depth: 0, retries: 0 },
    ]);
  });
});

describe('fullSyncDone', () => {
  const kcm = SYNC_QUEUES['kube-controller-manager'];
  const cases = [
    { name: 'every Service taken and finished, queues empty', adds: 100, depth: 0, done: 103, want: true },
    { name: 'fewer adds than Services (still listing or syncing)', adds: 99, depth: 0, done: 102, want: false },
    { name: 'keys still waiting', adds: 100, depth: 2, done: 103, want: false },
    { name: 'a key still in a worker (the unfinished-work gauge may still read 0)', adds: 100, depth: 0, done: 102, want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(fullSyncDone(queueProgress(text(c.adds, c.depth, c.done), kcm), 100), c.want));

  it('counts adds since the baseline for a resync', () => {
    const before = queueProgress(text(100, 0, 103), kcm);
    assert.equal(fullSyncDone(queueProgress(text(150, 0, 153), kcm), 100, before), false, '50 new adds for 100 Services');
    assert.equal(fullSyncDone(queueProgress(text(200, 0, 203), kcm), 100, before), true);
  });

  it('is false for a process that has no queue series yet', () => {
    assert.equal(fullSyncDone(queueProgress('', SYNC_QUEUES['kube-endpoints-operator']), 1), false);
  });
});
