import type { SimPod } from '../../controllers/playground/pod-simulator/simulated-objects.ts';
import type { DataPlane } from '../data-plane/data-plane.ts';
import type { AttachedNetwork, SandboxNetwork } from './runc-engine.ts';

// The data plane as the runc engine's Pod network (docs/data-plane.md, "The API server as a Service"): a runc Pod's
// sandbox is a Pod namespace of the data plane on its Node's bridge, at the Pod IP the simulator gave it, and its
// containers reach the API server through the `kubernetes` Service, i.e. through kube-proxy's rules to the endpoint the
// data plane relays (DataPlaneOptions.apiServerAddress). The data plane may start after the engine (the playground
// starts it once the simulated Nodes exist): until `use` is called, or for a Node it does not have, the engine falls
// back to a namespace of its own.

export class DataPlaneSandboxNetwork implements SandboxNetwork {
  readonly #apiServer: { readonly host: string; readonly port: number };
  #plane: DataPlane | undefined;

  /** `kubernetesService`: the `kubernetes` Service's ClusterIP and port, as the Pods' environment names them. */
  constructor(kubernetesService: { readonly host: string; readonly port: number }, plane?: DataPlane) {
    this.#apiServer = kubernetesService;
    this.#plane = plane;
  }

  /** Puts sandboxes created from now on on `plane` (undefined: none). */
  use(plane: DataPlane | undefined): void {
    this.#plane = plane;
  }

  async attach(pod: Readonly<SimPod>, podIP: string): Promise<AttachedNetwork | undefined> {
    const plane = this.#plane;
    const node = pod.spec.nodeName ?? '';
    if (plane === undefined || !plane.nodes.some((n) => n.name === node)) return undefined;
    const network = await plane.addClient(pod.metadata.name, node, pod.metadata.namespace, podIP);
    const resolvConf = plane.resolvConfOf(network.namespace);
    return {
      netnsName: network.namespace,
      apiServer: this.#apiServer,
      ...(resolvConf === undefined ? {} : { resolvConf }),
      detach: () => plane.removePod(network),
    };
  }
}
