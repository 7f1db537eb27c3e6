import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../runtime/clock.ts';
import { NodeReconciler } from './node-reconciler.ts';
import { ANNOTATION_KUBELET } from './simulated-node.ts';
import type { SimNode } from './simulated-objects.ts';
import { NODES } from '../../runtime/resource.ts';
import { context, iso, node, server, stores, T0 } from './test-fixtures.ts';

function setup(nodes: SimNode[], nowMs = T0) {
  const s = stores([], nodes);
  const client = server([], nodes);
  const reconciler = new NodeReconciler({
    nodes: s.nodes,
    client,
    clock: new FakeClock(nowMs),
    layout: {
      count: 2,
      zones: ['zone-a', 'zone-b'],
      dualStack: false,
      kubeletVersion: 'v1.36.4',
    },
    timing: {
      leaseDurationSeconds: 40,
      leaseRenewIntervalMs: 10_000,
      statusReportIntervalMs: 60_000,
    },
  });
  return { ...s, client, reconciler };
}

describe('NodeReconciler', () => {
  it('creates a configured Node that does not exist yet, once', async () => {
    const t = setup([]);
    assert.deepEqual(t.reconciler.configuredNodeNames(), ['playground-node-1', 'playground-node-2']);
    assert.deepEqual(await t.reconciler.reconcile({ key: 'playground-node-2' }, context()), { kind: 'done' });
    assert.deepEqual(
      t.client.calls.map((c) => [c.verb, c.resource, c.name]),
      [['create', 'nodes', 'playground-node-2']],
    );
    // Deleted by a user afterwards: it stays deleted, as a lost machine would.
    t.client.remove(NODES, '', 'playground-node-2');
    await t.reconciler.reconcile({ key: 'playground-node-2' }, context());
    assert.equal(t.client.calls.length, 1);
  });

  it('takes an existing Node as created (AlreadyExists)', async () => {
    const t = setup([]);
    t.client.seed(NODES, node('playground-node-1'));
    assert.deepEqual(await t.reconciler.reconcile({ key: 'playground-node-1' }, context()), { kind: 'done' });
  });

  it('creates no Node it was not asked for', async () => {
    const t = setup([]);
    await t.reconciler.reconcile({ key: 'playground-node-3' }, context());
    assert.deepEqual(t.client.calls, []);
  });

  it('renews the Lease every renew interval and posts no status while the last one is recent', async () => {
    const t = setup([node('playground-node-1')], T0 + 10_000);
    assert.deepEqual(await t.reconciler.reconcile({ key: 'playground-node-1' }, context()), { kind: 'requeueAfter', ms: 10_000 });
    assert.deepEqual(
      t.client.calls.map((c) => [c.verb, c.resource, c.namespace, c.name, c.patchType]),
      [['patch', 'leases', 'kube-node-lease', 'playground-node-1', 'apply']],
    );
    const lease = t.client.calls[0]?.body as { spec: { renewTime: string } };
    assert.equal(lease.spec.renewTime, '2023-11-14T22:13:30.000000Z');
  });

  it('posts status with fresh heartbeats once the report interval has passed', async () => {
    const t = setup([node('playground-node-1')], T0 + 60_000);
    await t.reconciler.reconcile({ key: 'playground-node-1' }, context());
    const status = t.client.calls[1];
    assert.deepEqual([status?.verb, status?.resource, status?.subresource, status?.patchType], ['patch', 'nodes', 'status', 'merge']);
    const conditions = (
      status?.body as {
        status: { conditions: { type: string; lastHeartbeatTime: string }[] };
      }
    ).status.conditions;
    assert.equal(conditions.find((c) => c.type === 'Ready')?.lastHeartbeatTime, iso(T0 + 60_000));
  });

  it('makes no call at all for a Node whose kubelet is stopped, or one it does not simulate', async () => {
    const t = setup([
      node('playground-node-1', {
        annotations: { [ANNOTATION_KUBELET]: 'stopped' },
      }),
      node('real-node', {
        labels: { 'playground.kube-endpoints-operator.io/simulated': 'false' },
      }),
    ]);
    assert.deepEqual(await t.reconciler.reconcile({ key: 'playground-node-1' }, context()), { kind: 'done' });
    assert.deepEqual(await t.reconciler.reconcile({ key: 'real-node' }, context()), { kind: 'done' });
    assert.deepEqual(t.client.calls, []);
  });
});
