import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssumedBindings, SchedulerReconciler } from './scheduler-reconciler.ts';
import type { SimNode, SimPod } from './simulated-objects.ts';
import { PODS } from '../../runtime/resource.ts';
import { RecordingEventRecorder } from '../../runtime/testing/recording-event-recorder.ts';
import { context, node, pod, server, stores } from './test-fixtures.ts';

function setup(pods: SimPod[], nodes: SimNode[] = [node('playground-node-1'), node('playground-node-2'), node('playground-node-3')]) {
  const s = stores(pods, nodes);
  const client = server(pods, nodes);
  const assumed = new AssumedBindings();
  const events = new RecordingEventRecorder();
  const reconciler = new SchedulerReconciler({
    pods: s.pods,
    nodes: s.nodes,
    client,
    assumed,
    events,
    schedulerName: 'default-scheduler',
    maxPodsPerNode: 110,
  });
  return { ...s, client, assumed, events, reconciler };
}

const pending = (name: string, spec: Partial<SimPod['spec']> = {}) => pod({ metadata: { name, uid: `uid-${name}` }, spec });

describe('SchedulerReconciler', () => {
  it('binds a pending Pod through pods/binding, guarded by its uid, and records Scheduled', async () => {
    const t = setup([pending('web-1')]);
    assert.deepEqual(await t.reconciler.reconcile({ key: 'default/web-1' }, context()), { kind: 'done' });
    assert.deepEqual(t.client.calls, [
      {
        verb: 'create',
        resource: 'pods',
        namespace: 'default',
        name: 'web-1',
        subresource: 'binding',
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: 'web-1', namespace: 'default', uid: 'uid-web-1' },
          target: { apiVersion: 'v1', kind: 'Node', name: 'playground-node-1' },
        },
      },
    ]);
    assert.deepEqual(t.events.events, [
      {
        object: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'uid-web-1' },
        type: 'Normal',
        reason: 'Scheduled',
        message: 'Successfully assigned default/web-1 to playground-node-1',
      },
    ]);
  });

  it('spreads a burst over the Nodes before the cache shows any binding (assumed bindings)', async () => {
    const t = setup([pending('a'), pending('b'), pending('c'), pending('d')]);
    for (const key of ['default/a', 'default/b', 'default/c', 'default/d']) await t.reconciler.reconcile({ key }, context());
    const targets = t.client.calls.map((c) => (c.body as { target: { name: string } }).target.name);
    assert.deepEqual(targets, ['playground-node-1', 'playground-node-2', 'playground-node-3', 'playground-node-1']);
  });

  it('counts Pods already bound in the cache, but not terminal ones', async () => {
    const t = setup([
      pending('new'),
      pod({
        metadata: { name: 'x', uid: 'x' },
        spec: { nodeName: 'playground-node-1' },
        status: { phase: 'Running' },
      }),
      pod({
        metadata: { name: 'y', uid: 'y' },
        spec: { nodeName: 'playground-node-2' },
        status: { phase: 'Running' },
      }),
      pod({
        metadata: { name: 'z', uid: 'z' },
        spec: { nodeName: 'playground-node-3' },
        status: { phase: 'Succeeded' },
      }),
    ]);
    await t.reconciler.reconcile({ key: 'default/new' }, context());
    assert.equal((t.client.calls[0]?.body as { target: { name: string } }).target.name, 'playground-node-3');
  });

  it('binds nothing twice: a reconcile after the binding but before the cache caught up is a no-op', async () => {
    const t = setup([pending('web-1')]);
    await t.reconciler.reconcile({ key: 'default/web-1' }, context());
    await t.reconciler.reconcile({ key: 'default/web-1' }, context());
    assert.equal(t.client.calls.length, 1);
  });

  it('leaves alone Pods of another scheduler, bound, terminating or gone', async () => {
    const t = setup([
      pending('other', { schedulerName: 'my-scheduler' }),
      pod({
        metadata: { name: 'bound', uid: 'b' },
        spec: { nodeName: 'playground-node-1' },
      }),
      pod({
        metadata: {
          name: 'deleting',
          uid: 'd',
          deletionTimestamp: '2026-01-01T00:00:00Z',
        },
      }),
    ]);
    for (const key of ['default/other', 'default/bound', 'default/deleting', 'default/gone']) {
      assert.deepEqual(await t.reconciler.reconcile({ key }, context()), {
        kind: 'done',
      });
    }
    assert.deepEqual(t.client.calls, []);
  });

  it('retries later when no Node fits, logging why', async () => {
    const t = setup([pending('web-1', { nodeSelector: { disk: 'ssd' } })]);
    const ctx = context();
    assert.deepEqual(await t.reconciler.reconcile({ key: 'default/web-1' }, ctx), { kind: 'requeueAfter', ms: 10_000 });
    assert.deepEqual(t.client.calls, []);
    assert.deepEqual(ctx.lines.find((l) => l.msg === 'Skipped Pod binding: no Node fits')?.rejections, {
      'playground-node-1': 'NodeSelectorMismatch',
      'playground-node-2': 'NodeSelectorMismatch',
      'playground-node-3': 'NodeSelectorMismatch',
    });
  });

  it('treats "already assigned" and "not found" as done, without assuming', async () => {
    const t = setup([pending('web-1'), pending('web-2')]);
    // Bound by another scheduler, and deleted, after the cache saw them.
    t.client.seed(PODS, pod({ metadata: { name: 'web-1', uid: 'uid-web-1' }, spec: { nodeName: 'playground-node-2' } }));
    t.client.remove(PODS, 'default', 'web-2');
    assert.deepEqual(await t.reconciler.reconcile({ key: 'default/web-1' }, context()), { kind: 'done' });
    assert.deepEqual(await t.reconciler.reconcile({ key: 'default/web-2' }, context()), { kind: 'done' });
    assert.equal(t.assumed.has('default/web-1', 'uid-web-1'), false);
    assert.equal(t.assumed.has('default/web-2', 'uid-web-2'), false);
    assert.equal(t.client.calls.length, 2);
  });
});
