import { objectKey } from '../../../api/core/meta.ts';
import type { ControllerHandle, ControllerRegistry } from '../../runtime/manager-types.ts';
import { PODS } from '../../runtime/resource.ts';
import { type NetworkPod, networkPodSchema } from './network-pod.ts';
import { type PodNetworkDriver, PodNetworkReconciler } from './pod-network-reconciler.ts';

// The playground's pod network: every bound Pod with an address gets a network namespace with that address and a
// server on its ports (docs/playground.md, "Data plane"). Registered next to the pod simulator, on its manager.

export const POD_NETWORK_CONTROLLER = 'playground-pod-network';

/** Registers the controller and its Pod informer. Must be called before the manager starts. */
export function setupPodNetworkController(
  registry: ControllerRegistry,
  driver: PodNetworkDriver,
  opts: { readonly workers?: number; readonly runsImage?: (image: string) => boolean } = {},
): ControllerHandle {
  const pods = registry.informer<NetworkPod>({
    resource: PODS,
    parse: (raw) => networkPodSchema.parse(raw),
    parseId: 'playground.NetworkPod',
  });
  const controller = registry.addController({
    name: POD_NETWORK_CONTROLLER,
    reconciler: new PodNetworkReconciler(pods.store, driver, opts.runsImage),
    workers: opts.workers ?? 2,
  });
  pods.addEventHandler({
    onAdd: (pod) => controller.enqueue(objectKey(pod)),
    onUpdate: (_old, pod) => controller.enqueue(objectKey(pod)),
    onDelete: (pod) => controller.enqueue(objectKey(pod)),
  });
  return controller;
}
