import type { Store } from '../../runtime/cache/store.ts';
import { done, type ReconcileContext, type Reconciler, type Request, type Result } from '../../runtime/reconcile.ts';
import type { NetworkPod } from './network-pod.ts';
import { type DesiredPodNetwork, desiredPodNetwork, samePodNetwork } from './pod-network-plan.ts';

// The pod network as a reconcile loop keyed by Pod: read the Pod from the cache, compute the network it should have,
// and let the driver (the only I/O: network namespaces and processes) converge to it.

/** Creates and removes Pod networks. Implemented over hack/data-plane by the playground; a fake in unit tests. */
export interface PodNetworkDriver {
  /** What the driver has for `key` now (undefined: nothing). */
  current(key: string): DesiredPodNetwork | undefined;
  /** Makes `key` have exactly `desired`, replacing what it had; undefined removes it. */
  apply(key: string, desired: DesiredPodNetwork | undefined): Promise<void>;
}

export class PodNetworkReconciler implements Reconciler {
  readonly #pods: Store<NetworkPod>;
  readonly #driver: PodNetworkDriver;
  readonly #runsImage: (image: string) => boolean;

  /** `runsImage`: images a container runtime runs for real (their Pods' sandboxes join the network themselves). */
  constructor(pods: Store<NetworkPod>, driver: PodNetworkDriver, runsImage: (image: string) => boolean = () => false) {
    this.#pods = pods;
    this.#driver = driver;
    this.#runsImage = runsImage;
  }

  async reconcile(request: Request, ctx: ReconcileContext): Promise<Result> {
    const pod = this.#pods.get(request.key);
    const desired = pod === undefined ? undefined : desiredPodNetwork(pod, this.#runsImage);
    const current = this.#driver.current(request.key);
    if (samePodNetwork(current, desired)) return done();
    await this.#driver.apply(request.key, desired);
    if (desired === undefined) ctx.logger.info({ ip: current?.ip, node: current?.node }, 'Removed Pod network');
    else ctx.logger.info({ ip: desired.ip, node: desired.node, program: desired.program }, 'Created Pod network');
    return done();
  }
}
