import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeApiClient } from '../../runtime/testing/fake-api-client.ts';
import { FakeControllerRegistry } from '../../runtime/testing/fake-controller-registry.ts';
import { deepFreeze } from '../../runtime/testing/deep-freeze.ts';
import { KUBELET_CONTROLLER, NODE_CONTROLLER, SCHEDULER_CONTROLLER, setupPodSimulator } from './pod-simulator.ts';
import { ANNOTATION_KUBELET } from './simulated-node.ts';
import { type SimNode, type SimPod, simNodeSchema } from './simulated-objects.ts';
import { node, pod } from './test-fixtures.ts';

// The shared fake registry, plus the informer's order (store first, then handlers) and per-controller queue reads.
function fakeRegistry() {
  const registry = new FakeControllerRegistry({ client: () => new FakeApiClient() });
  const controllers = {
    values: () => registry.controllers.values(),
    get: (name: string) => registry.controllers.find((c) => c.name === name),
  };
  const informer = (plural: string) => registry.informerFor<object>(plural);
  const add = (plural: string, obj: object) => {
    informer(plural).store.upsert(obj);
    for (const h of informer(plural).handlers) h.onAdd?.(obj);
  };
  const update = (plural: string, oldObj: object, obj: object) => {
    informer(plural).store.upsert(obj);
    for (const h of informer(plural).handlers) h.onUpdate?.(oldObj, obj);
  };
  const remove = (plural: string, obj: object) => {
    for (const h of informer(plural).handlers) h.onDelete?.(obj, false);
  };
  // Keys enqueued since the last drain, per controller (every registered controller listed, possibly empty).
  const drain = (): Record<string, string[]> => {
    const out: Record<string, string[]> = {};
    for (const c of registry.controllers) out[c.name] = registry.enqueued.filter((e) => e.controller === c.name).map((e) => e.key);
    registry.enqueued.length = 0;
    return out;
  };
  return { registry, informer, controllers, add, update, remove, drain };
}

const pendingPod = pod({ metadata: { name: 'pending', uid: 'p' } });
const boundPod = pod({
  metadata: { name: 'bound', uid: 'b' },
  spec: { nodeName: 'playground-node-1' },
  status: {
    phase: 'Running',
    podIPs: [{ ip: '10.244.1.7' }],
    podIP: '10.244.1.7',
  },
});

describe('setupPodSimulator', () => {
  it('registers a one-worker scheduler, kubelets and node heartbeats on Pod and Node informers of its own shape', () => {
    const f = fakeRegistry();
    const setup = setupPodSimulator(f.registry, { nodes: 2 });
    assert.deepEqual(
      [...f.controllers.values()].map((c) => [c.name, c.workers]),
      [
        [SCHEDULER_CONTROLLER, 1],
        [KUBELET_CONTROLLER, 4],
        [NODE_CONTROLLER, 1],
      ],
    );
    assert.deepEqual(setup.nodeNames, ['playground-node-1', 'playground-node-2']);
    // The simulator's Pod cache keeps what a kubelet reads and the endpoint controllers' projection drops.
    const parsed = f.informer('pods').spec.parse({
      metadata: {
        name: 'a',
        namespace: 'n',
        uid: 'u',
        annotations: { k: 'v' },
        deletionGracePeriodSeconds: 5,
      },
      spec: {
        containers: [{ name: 'c', readinessProbe: { initialDelaySeconds: 3 } }],
        readinessGates: [{ conditionType: 'x' }],
        terminationGracePeriodSeconds: 9,
      },
    }) as SimPod;
    assert.deepEqual(
      [
        parsed.metadata.annotations,
        parsed.metadata.deletionGracePeriodSeconds,
        parsed.spec.containers[0]?.readinessProbe,
        parsed.spec.readinessGates,
        parsed.spec.terminationGracePeriodSeconds,
      ],
      [{ k: 'v' }, 5, { initialDelaySeconds: 3 }, [{ conditionType: 'x' }], 9],
    );
  });

  it('rejects an out-of-range node count', () => {
    assert.throws(() => setupPodSimulator(fakeRegistry().registry, { nodes: 251 }), RangeError);
  });

  it('routes pending Pods to the scheduler and bound ones to the kubelets', () => {
    const f = fakeRegistry();
    setupPodSimulator(f.registry);
    f.add('pods', pendingPod);
    f.add('pods', boundPod);
    const q = f.drain();
    assert.deepEqual([q[SCHEDULER_CONTROLLER], q[KUBELET_CONTROLLER]], [['default/pending'], ['default/bound']]);
  });

  it('on start: rebuilds the IPAM from reported addresses and enqueues the configured Nodes for creation', async () => {
    const f = fakeRegistry();
    const setup = setupPodSimulator(f.registry, { nodes: 2 });
    f.add('nodes', node('playground-node-1'));
    f.add('pods', boundPod);
    f.drain();
    await f.controllers.get(KUBELET_CONTROLLER)?.onStart?.(new AbortController().signal);
    await f.controllers.get(NODE_CONTROLLER)?.onStart?.(new AbortController().signal);
    assert.equal(setup.allocator.inUse('playground-node-1'), 1);
    assert.deepEqual(f.drain()[NODE_CONTROLLER], ['playground-node-1', 'playground-node-2']);
    // The deleted Pod's address is released.
    f.remove('pods', boundPod);
    assert.equal(setup.allocator.inUse('playground-node-1'), 0);
  });

  it("wakes a Node's Pods and the pending ones when its kubelet stops or restarts, not on a mere heartbeat", () => {
    const f = fakeRegistry();
    setupPodSimulator(f.registry);
    const n1 = node('playground-node-1');
    f.add('nodes', n1);
    f.add('pods', pendingPod);
    f.add('pods', boundPod);
    f.drain();

    const heartbeat: SimNode = deepFreeze(
      simNodeSchema.parse({
        ...n1,
        metadata: { ...n1.metadata, resourceVersion: '2' },
        status: {
          ...n1.status,
          conditions: n1.status.conditions?.map((c) => ({
            ...c,
            lastHeartbeatTime: '2030-01-01T00:00:00Z',
          })),
        },
      }),
    );
    f.update('nodes', n1, heartbeat);
    assert.deepEqual(f.drain(), {
      [SCHEDULER_CONTROLLER]: [],
      [KUBELET_CONTROLLER]: [],
      [NODE_CONTROLLER]: [],
    });

    const stopped = node('playground-node-1', {
      annotations: { [ANNOTATION_KUBELET]: 'stopped' },
    });
    f.update('nodes', heartbeat, stopped);
    assert.deepEqual(f.drain(), {
      [SCHEDULER_CONTROLLER]: ['default/pending'],
      [KUBELET_CONTROLLER]: ['default/bound'],
      [NODE_CONTROLLER]: ['playground-node-1'],
    });
  });
});
