import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IndexedStore } from '../../runtime/cache/indexed-store.ts';
import { testContext } from '../../runtime/testing/test-context.ts';
import { type NetworkPod, networkPodSchema } from './network-pod.ts';
import type { DesiredPodNetwork } from './pod-network-plan.ts';
import { type PodNetworkDriver, PodNetworkReconciler } from './pod-network-reconciler.ts';

class FakeDriver implements PodNetworkDriver {
  readonly networks = new Map<string, DesiredPodNetwork>();
  readonly applied: [string, DesiredPodNetwork | undefined][] = [];
  current(key: string): DesiredPodNetwork | undefined {
    return this.networks.get(key);
  }
  async apply(key: string, desired: DesiredPodNetwork | undefined): Promise<void> {
    this.applied.push([key, desired]);
    if (desired === undefined) this.networks.delete(key);
    else this.networks.set(key, desired);
  }
}

function setup(pods: object[]) {
  const store = new IndexedStore<NetworkPod>({
    keyFunc: (p) => `${p.metadata.namespace}/${p.metadata.name}`,
    namespaceFunc: (p) => p.metadata.namespace,
  });
  for (const p of pods) store.upsert(networkPodSchema.parse(p));
  const driver = new FakeDriver();
  return { store, driver, reconciler: new PodNetworkReconciler(store, driver) };
}

const running = (ip: string, uid = 'u1') => ({
  metadata: { name: 'web', namespace: 'default', uid },
  spec: { nodeName: 'playground-node-1', containers: [{ name: 'app' }] },
  status: { phase: 'Running', podIPs: [{ ip }] },
});

describe('PodNetworkReconciler', () => {
  it('creates the network of a running Pod once, then does nothing', async () => {
    const { driver, reconciler } = setup([running('10.244.1.5')]);
    await reconciler.reconcile({ key: 'default/web' }, testContext());
    await reconciler.reconcile({ key: 'default/web' }, testContext());
    assert.deepEqual(
      driver.applied.map(([k, d]) => [k, d?.ip]),
      [['default/web', '10.244.1.5']],
    );
  });

  it('replaces the network of a new incarnation with the same name', async () => {
    const { store, driver, reconciler } = setup([running('10.244.1.5')]);
    await reconciler.reconcile({ key: 'default/web' }, testContext());
    store.upsert(networkPodSchema.parse(running('10.244.1.7', 'u2')));
    await reconciler.reconcile({ key: 'default/web' }, testContext());
    assert.deepEqual(
      driver.applied.map(([, d]) => d?.uid),
      ['u1', 'u2'],
    );
  });

  it('removes the network of a deleted Pod, and of nothing does nothing', async () => {
    const { store, driver, reconciler } = setup([running('10.244.1.5')]);
    await reconciler.reconcile({ key: 'default/web' }, testContext());
    store.remove('default/web');
    await reconciler.reconcile({ key: 'default/web' }, testContext());
    await reconciler.reconcile({ key: 'default/other' }, testContext());
    assert.deepEqual(
      driver.applied.map(([k, d]) => [k, d?.ip]),
      [
        ['default/web', '10.244.1.5'],
        ['default/web', undefined],
      ],
    );
  });
});
