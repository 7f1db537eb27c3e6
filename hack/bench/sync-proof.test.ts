import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fullSyncDone, parsePrometheusText, queueProgress, SYNC_QUEUES } from './sync-proof.ts';

const text = (adds: number, depth: number, running: number) => `# HELP workqueue_adds_total x
# TYPE workqueue_adds_total counter
workqueue_adds_total{name="endpoint"} ${adds}
workqueue_adds_total{name="endpoint_slice"} ${adds + 3}
workqueue_adds_total{name="endpoint_slice_mirroring"} 0
workqueue_depth{name="endpoint"} ${depth}
workqueue_depth{name="endpoint_slice"} 0
workqueue_longest_running_processor_seconds{name="endpoint"} 0
workqueue_longest_running_processor_seconds{name="endpoint_slice"} ${running}
`;

describe('parsePrometheusText', () => {
  it('reads names, labels (unescaped) and values, skipping comments', () => {
    assert.deepEqual(parsePrometheusText('# c\nm{a="x\\"y",b="2"} 1.5\nn 3\n'), [
      { name: 'm', labels: { a: 'x"y', b: '2' }, value: 1.5 },
      { name: 'n', labels: {}, value: 3 },
    ]);
  });
});

describe('fullSyncDone', () => {
  const kcm = SYNC_QUEUES['kube-controller-manager'];
  const cases = [
    { name: 'every Service taken, queues empty and idle', adds: 100, depth: 0, running: 0, want: true },
    { name: 'fewer adds than Services (still listing or syncing)', adds: 99, depth: 0, running: 0, want: false },
    { name: 'keys still waiting', adds: 100, depth: 2, running: 0, want: false },
    { name: 'a key still in a worker', adds: 100, depth: 0, running: 0.4, want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(fullSyncDone(queueProgress(text(c.adds, c.depth, c.running), kcm), 100), c.want));

  it('is false for a process that has no queue series yet', () => {
    assert.equal(fullSyncDone(queueProgress('', SYNC_QUEUES['kube-endpoints-operator']), 1), false);
  });
});
