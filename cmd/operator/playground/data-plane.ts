import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import { setupPodNetworkController } from '../../../controllers/playground/pod-network/controller.ts';
import { LABEL_SIMULATED_NODE } from '../../../controllers/playground/pod-simulator/simulated-objects.ts';
import type { DesiredPodNetwork } from '../../../controllers/playground/pod-network/pod-network-plan.ts';
import type { PodNetworkDriver } from '../../../controllers/playground/pod-network/pod-network-reconciler.ts';
import type { ApiClient } from '../../../controllers/runtime/api-client.ts';
import { isAlreadyExists } from '../../../controllers/runtime/api-errors.ts';
import { Manager } from '../../../controllers/runtime/manager.ts';
import { NODES, PODS, SERVICES } from '../../../controllers/runtime/resource.ts';
import { locateDataPlaneBinaries } from '../../../hack/data-plane/binaries.ts';
import {
  type ApiServerAccess,
  DataPlane,
  dataPlaneSupport,
  PLAYGROUND_INDEX,
  type PodNetwork,
} from '../../../hack/data-plane/data-plane.ts';
import type { ProxyMode } from '../../../hack/data-plane/kube-proxy-config.ts';

// The playground's data plane (docs/playground.md, "Data plane"): the simulated Nodes get network namespaces with a
// real kube-proxy each, every Pod the simulator starts gets a namespace with its Pod IP and a small server, and
// CoreDNS runs as kube-dns, so `kubectl expose` makes something curl can reach. Wired here because it joins three
// parts: hack/data-plane (namespaces and processes), controllers/playground/pod-network (which Pod needs what) and the embedded
// cluster's credentials.

/** `--playground-data-plane`: the kube-proxy mode, or off. */
export type PlaygroundDataPlaneMode = ProxyMode | 'off';

/** The cluster DNS Service address (the tenth of the local cluster's 10.0.0.0/24, as kubeadm picks). */
export const PLAYGROUND_DNS_IP = '10.0.0.10';
/** All simulated Pod CIDRs (10.244.<node>.0/24, controllers/playground/pod-simulator/simulated-node.ts). */
export const PLAYGROUND_CLUSTER_CIDR = '10.244.0.0/16';
const CLUSTER_DOMAIN = 'cluster.local';
const NODE_WAIT_MS = 60_000;

const simulatedNodeSchema = z.object({
  metadata: z.object({ name: z.string() }),
  spec: z.object({ podCIDRs: z.array(z.string()).optional() }).optional(),
  status: z.object({ addresses: z.array(z.object({ type: z.string(), address: z.string() })).optional() }).optional(),
});

/** Where a Node's network comes from: its IPv4 InternalIP and IPv4 Pod CIDR. Pure; undefined if it has neither. */
export function nodeNetworkOf(raw: unknown): { name: string; nodeIp: string; podCidr: string } | undefined {
  const parsed = simulatedNodeSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const v4 = (s: string) => /^\d{1,3}(\.\d{1,3}){3}(\/\d+)?$/.test(s);
  const nodeIp = parsed.data.status?.addresses?.find((a) => a.type === 'InternalIP' && v4(a.address))?.address;
  const podCidr = parsed.data.spec?.podCIDRs?.find(v4);
  return nodeIp === undefined || podCidr === undefined ? undefined : { name: parsed.data.metadata.name, nodeIp, podCidr };
}

/** A running playground data plane. */
export interface PlaygroundDataPlaneRun {
  readonly plane: DataPlane;
  stop(): Promise<void>;
}

/** Inputs of {@link startPlaygroundDataPlane}. */
export interface PlaygroundDataPlaneInput {
  readonly mode: PlaygroundDataPlaneMode;
  /** Simulated Nodes to wait for (0: no data plane). */
  readonly nodes: number;
  readonly access: ApiServerAccess;
  readonly kubeConfig: KubeConfig;
  readonly client: ApiClient;
  readonly logger: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Build progress lines (a cold build of kube-proxy and CoreDNS takes minutes). */
  readonly onBuildOutput: (line: string) => void;
  readonly signal: AbortSignal;
  /** The `kubernetes` Service's endpoint address the API server advertises; the data plane relays it. */
  readonly apiServerAddress?: string;
  /** Images the container runtime runs: their Pods' sandboxes join the data plane themselves. */
  readonly runsImage?: (image: string) => boolean;
}

/**
 * Starts the data plane, or says in one line why there is none (`note`). Never throws: a failure is the note.
 */
export async function startPlaygroundDataPlane(input: PlaygroundDataPlaneInput): Promise<{ run?: PlaygroundDataPlaneRun; note: string }> {
  if (input.mode === 'off') return { note: 'no data plane: --playground-data-plane=off' };
  if (input.nodes === 0) return { note: 'no data plane: the playground has no simulated Nodes' };
  const support = dataPlaneSupport(input.mode);
  if (!support.ok) return { note: support.reason };
  let plane: DataPlane | undefined;
  try {
    const binaries = await locateDataPlaneBinaries({
      kubebuilderAssets: input.env.KUBEBUILDER_ASSETS,
      env: input.env,
      onBuildOutput: input.onBuildOutput,
    });
    const nodes = await waitForNodes(input.client, input.nodes, input.signal);
    plane = await DataPlane.start({
      binaries,
      mode: input.mode,
      nodes,
      clusterCidr: PLAYGROUND_CLUSTER_CIDR,
      apiServer: input.access,
      ...(input.apiServerAddress === undefined ? {} : { apiServerAddress: input.apiServerAddress }),
      progress: (line) => input.logger.info({ step: line }, 'Data plane starting'),
    });
    plane.setClusterDns(PLAYGROUND_DNS_IP, CLUSTER_DOMAIN);
    await createClusterDns(input.client);
    const driver = new DataPlanePodDriver(plane);
    const manager = new Manager({
      logger: input.logger.child({ playground: 'pod-network' }),
      kubeConfig: input.kubeConfig,
      userAgent: 'kube-endpoints-operator-playground-network',
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      gracefulShutdownTimeoutMs: 5_000,
    });
    setupPodNetworkController(manager, driver, input.runsImage === undefined ? {} : { runsImage: input.runsImage });
    const stopper = new AbortController();
    const stopped = manager.start(stopper.signal).catch((err: unknown) => input.logger.error({ err }, 'Pod network failed'));
    const running = plane;
    return {
      run: {
        plane: running,
        stop: async () => {
          stopper.abort();
          await stopped;
          await running.stop();
          rmSync(PLAYGROUND_INDEX, { force: true });
        },
      },
      note: `data plane: kube-proxy (${input.mode}) on ${nodes.length} Nodes, CoreDNS at ${PLAYGROUND_DNS_IP}; try: npm run playground -- exec <pod> -- curl -s http://web`,
    };
  } catch (err) {
    await plane?.stop();
    return { note: `no data plane: ${(err as Error).message.split('\n')[0]}` };
  }
}

async function waitForNodes(
  client: ApiClient,
  count: number,
  signal: AbortSignal,
): Promise<{ name: string; nodeIp: string; podCidr: string }[]> {
  const deadline = Date.now() + NODE_WAIT_MS;
  for (;;) {
    const list = await client.list(NODES, '', { labelSelector: `${LABEL_SIMULATED_NODE}=true` }, signal);
    const nodes = list.items.map(nodeNetworkOf).filter((n) => n !== undefined);
    if (nodes.length >= count) return nodes.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    if (Date.now() > deadline) throw new Error(`only ${nodes.length} of ${count} simulated Nodes appeared within ${NODE_WAIT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** kube-dns as kubeadm names it: a Service at the cluster DNS address and a CoreDNS Pod the simulator runs. */
async function createClusterDns(client: ApiClient): Promise<void> {
  const labels = { 'k8s-app': 'kube-dns' };
  const objects: [typeof SERVICES, Record<string, unknown>][] = [
    [
      SERVICES,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kube-dns', labels },
        spec: {
          clusterIP: PLAYGROUND_DNS_IP,
          selector: labels,
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          ],
        },
      },
    ],
    [
      PODS,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'coredns', labels },
        spec: {
          containers: [
            {
              name: 'coredns',
              image: 'registry.k8s.io/coredns/coredns:v1.15.0',
              ports: [
                { name: 'dns', containerPort: 53, protocol: 'UDP' },
                { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
              ],
            },
          ],
        },
      },
    ],
  ];
  for (const [resource, body] of objects) {
    try {
      await client.create(resource, 'kube-system', body);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}

/** The pod network's driver over a DataPlane; keeps the index `npm run playground -- exec` reads. */
export class DataPlanePodDriver implements PodNetworkDriver {
  readonly #plane: DataPlane;
  readonly #have = new Map<string, { desired: DesiredPodNetwork; network: PodNetwork }>();

  constructor(plane: DataPlane) {
    this.#plane = plane;
    this.#writeIndex();
  }

  current(key: string): DesiredPodNetwork | undefined {
    return this.#have.get(key)?.desired;
  }

  async apply(key: string, desired: DesiredPodNetwork | undefined): Promise<void> {
    const old = this.#have.get(key);
    if (old !== undefined) {
      this.#have.delete(key);
      await this.#plane.removePod(old.network);
    }
    if (desired !== undefined) {
      const [namespace = '', name = ''] = key.split('/');
      const network =
        desired.program === 'cluster-dns'
          ? await this.#plane.addCoreDns({ name, node: desired.node, ip: desired.ip, clusterDomain: CLUSTER_DOMAIN })
          : await this.#plane.addPod({ name, kubeNamespace: namespace, node: desired.node, ip: desired.ip, httpPorts: desired.httpPorts });
      this.#have.set(key, { desired, network });
    }
    this.#writeIndex();
  }

  #writeIndex(): void {
    const index = {
      pid: process.pid,
      nodes: Object.fromEntries(this.#plane.nodes.map((n) => [n.name, n.namespace])),
      pods: Object.fromEntries([...this.#have].map(([key, { network }]) => [key, network.namespace])),
    };
    writeFileSync(`${PLAYGROUND_INDEX}.tmp`, JSON.stringify(index));
    renameSync(`${PLAYGROUND_INDEX}.tmp`, PLAYGROUND_INDEX);
  }
}
