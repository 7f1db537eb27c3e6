import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../runtime/clock.ts';
import { KubeletReconciler } from './kubelet-reconciler.ts';
import { PodIpAllocator } from './pod-ip-allocator.ts';
import type { PodStatusPatch } from './pod-lifecycle.ts';
import type { SimPod } from './simulated-objects.ts';
import { PODS } from '../../runtime/resource.ts';
import { RecordingEventRecorder } from '../../runtime/testing/recording-event-recorder.ts';
import { context, iso, node, pod, server, stores, T0 } from './test-fixtures.ts';

function setup(pods: SimPod[], nowMs = T0) {
  const nodes = [node('playground-node-1')];
  const s = stores(pods, nodes);
  const client = server(pods, nodes);
  const allocator = new PodIpAllocator();
  const events = new RecordingEventRecorder();
  const reconciler = new KubeletReconciler({
    pods: s.pods,
    nodes: s.nodes,
    client,
    clock: new FakeClock(nowMs),
    allocator,
    events,
    defaultReadinessDelayMs: 1_000,
  });
  return { ...s, client, allocator, events, reconciler };
}

const bound = (name: string, metadata: Partial<SimPod['metadata']> = {}) =>
  pod({
    metadata: { name, uid: `uid-${name}`, ...metadata },
    spec: { nodeName: 'playground-node-1' },
  });

const statusOf = (body: unknown): PodStatusPatch => (body as { status: PodStatusPatch }).status;

describe('KubeletReconciler', () => {
  it('starts a bound Pod with one status patch and asks again when it turns ready', async () => {
    const t = setup([bound('web-1')]);
    assert.deepEqual(await t.reconciler.reconcile({ key: 'default/web-1' }, context()), { kind: 'requeueAfter', ms: 1_000 });
    assert.equal(t.client.calls.length, 1);
    const call = t.client.calls[0];
    assert.deepEqual([call?.verb, call?.resource, call?.subresource, call?.patchType], ['patch', 'pods', 'status', 'strategic']);
    const status = statusOf(call?.body);
    assert.deepEqual([status.phase, status.podIP, status.hostIP, status.startTime], ['Running', '10.244.1.2', '172.18.0.2', iso(T0)]);
    assert.deepEqual(
      t.events.events.map((e) => e.reason),
      ['Started'],
    );
  });

  it('gives two Pods on one Node different addresses', async () => {
    const t = setup([bound('a'), bound('b')]);
    await t.reconciler.reconcile({ key: 'default/a' }, context());
    await t.reconciler.reconcile({ key: 'default/b' }, context());
    assert.deepEqual(
      t.client.calls.map((c) => statusOf(c.body).podIP),
      ['10.244.1.2', '10.244.1.3'],
    );
  });

  it('makes no call when the reported status is current', async () => {
    const t = setup([bound('web-1')]);
    await t.reconciler.reconcile({ key: 'default/web-1' }, context());
    const reported = pod({
      metadata: { name: 'web-1', uid: 'uid-web-1' },
      spec: { nodeName: 'playground-node-1' },
      // As the API server returns it: the nulls of the merge patch removed fields, they are not stored.
      status: JSON.parse(JSON.stringify(statusOf(t.client.calls[0]?.body)), (_k, v: unknown) => (v === null ? undefined : v)),
    });
    const again = setup([reported]);
    assert.deepEqual(await again.reconciler.reconcile({ key: 'default/web-1' }, context()), { kind: 'requeueAfter', ms: 1_000 });
    assert.deepEqual(again.client.calls, []);
  });

  it('deletes a terminating Pod for good, with grace period 0 and its uid as precondition', async () => {
    const t = setup(
      [
        bound('web-1', {
          deletionTimestamp: iso(T0),
          deletionGracePeriodSeconds: 30,
        }),
      ],
      T0 + 1_000,
    );
    assert.deepEqual(await t.reconciler.reconcile({ key: 'default/web-1' }, context()), { kind: 'done' });
    assert.deepEqual(t.client.calls, [
      {
        verb: 'delete',
        resource: 'pods',
        namespace: 'default',
        name: 'web-1',
        deleteOptions: {
          gracePeriodSeconds: 0,
          preconditions: { uid: 'uid-web-1' },
        },
      },
    ]);
  });

  it('treats a Pod that vanished under its delete as done', async () => {
    const t = setup([
      bound('web-1', {
        deletionTimestamp: iso(T0),
        deletionGracePeriodSeconds: 0,
      }),
    ]);
    t.client.remove(PODS, 'default', 'web-1');
    assert.deepEqual(await t.reconciler.reconcile({ key: 'default/web-1' }, context()), { kind: 'done' });
  });

  it('leaves alone a new Pod of the same name (the uid precondition fails) and is done', async () => {
    const terminating = bound('web-1', { deletionTimestamp: iso(T0), deletionGracePeriodSeconds: 0 });
    const t = setup([terminating]);
    t.client.seed(PODS, bound('web-1', { uid: 'uid-web-1-new' }));
    assert.deepEqual(await t.reconciler.reconcile({ key: 'default/web-1' }, context()), { kind: 'done' });
    assert.equal(t.client.object(PODS, 'default', 'web-1')?.metadata.uid, 'uid-web-1-new');
  });

  it('reports unparsable playground annotations as a Warning Event', async () => {
    const t = setup([
      bound('web-1', {
        annotations: {
          'playground.kube-endpoints-operator.io/flap-seconds': 'often',
        },
      }),
    ]);
    await t.reconciler.reconcile({ key: 'default/web-1' }, context());
    assert.deepEqual(t.events.events.at(-1), {
      object: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'uid-web-1' },
      type: 'Warning',
      reason: 'InvalidPlaygroundAnnotation',
      message: 'Ignored annotations: playground.kube-endpoints-operator.io/flap-seconds=often',
    });
  });

  it('does nothing for a missing or pending Pod', async () => {
    const t = setup([pod()]);
    assert.deepEqual(await t.reconciler.reconcile({ key: 'default/web-1' }, context()), { kind: 'done' });
    assert.deepEqual(await t.reconciler.reconcile({ key: 'default/gone' }, context()), { kind: 'done' });
    assert.deepEqual(t.client.calls, []);
    assert.equal(t.allocator.inUse('playground-node-1'), 0);
  });
});
