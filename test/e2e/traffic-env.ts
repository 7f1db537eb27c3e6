import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';
import { setupEndpointsController } from '../../controllers/endpoints/controller.ts';
import { setupEndpointSliceController } from '../../controllers/endpointslice/controller.ts';
import { setupEndpointSliceMirroringController } from '../../controllers/endpointslice-mirroring/controller.ts';
import { setupSessionAffinityController } from '../../controllers/session-affinity/controller.ts';
import { setupExternalEndpointsController } from '../../controllers/external-endpoints/controller.ts';
import { NODES, PODS, SERVICES } from '../../controllers/runtime/resource.ts';
import { locateDataPlaneBinaries } from '../../hack/data-plane/binaries.ts';
import { DataPlane, nodeAddressing, type PodNetwork } from '../../hack/data-plane/data-plane.ts';
import type { ProxyMode } from '../../hack/data-plane/kube-proxy-config.ts';
import { createPod, forceDeletePod } from '../integration/cluster-objects.ts';
import { type RunningOperator, startOperator } from '../integration/operator-harness.ts';
import { rfc3339 } from '../envtest/pod-status.ts';
import { TestCluster } from '../envtest/test-cluster.ts';
import { locateControlPlaneBinaries } from '../../hack/local-cluster/binaries.ts';
import { LocalCluster } from '../../hack/local-cluster/local-cluster.ts';

// One end-to-end traffic environment: a local control plane, the endpoint controllers (this operator's, or
// kube-controller-manager's for data-plane parity), two Nodes with a kube-proxy each (hack/data-plane/), CoreDNS as
// kube-dns, a test namespace and a client Pod network on the first Node.

/** Who writes Endpoints and EndpointSlices. */
export type EndpointControllers = 'operator' | 'kube-controller-manager';

export const NODE_NAMES = ['node-1', 'node-2'] as const;
/** The cluster DNS ClusterIP (the tenth address of the local cluster's 10.0.0.0/24, as kubeadm picks). */
export const KUBE_DNS_IP = '10.0.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
const CRD_DIR = fileURLToPath(new URL('../../config/crd/bases', import.meta.url));
const KCM_ENDPOINT_CONTROLLERS = ['endpoints-controller', 'endpointslice-controller', 'endpointslice-mirroring-controller'];

/** A Pod that serves: its API object name and its network. */
export interface ServingPod {
  readonly name: string;
  readonly network: PodNetwork;
}

export class TrafficEnv {
  readonly env: TestCluster;
  readonly plane: DataPlane;
  readonly namespace: string;
  readonly client: PodNetwork;
  readonly #operator: RunningOperator | undefined;

  constructor(env: TestCluster, plane: DataPlane, namespace: string, client: PodNetwork, operator: RunningOperator | undefined) {
    this.env = env;
    this.plane = plane;
    this.namespace = namespace;
    this.client = client;
    this.#operator = operator;
  }

  /** Creates a Pod bound to `node`, starts its server (HTTP on 8080) and reports it Running with its IP. */
  async addPod(name: string, labels: Readonly<Record<string, string>>, node: string, ready = true): Promise<ServingPod> {
    const network = await this.plane.addPod({ name, kubeNamespace: this.namespace, node, httpPorts: [8080] });
    await createPod(this.env, this.namespace, {
      name,
      labels,
      nodeName: node,
      ports: [{ name: 'http', containerPort: 8080 }],
      status: { podIPs: [network.ip], hostIP: this.plane.node(node).nodeIp, ready },
    });
    return { name, network };
  }

  /** Reports the Pod's readiness as a kubelet would. */
  async setReady(pod: ServingPod, ready: boolean): Promise<void> {
    await this.env.setPodStatus(
      { metadata: { namespace: this.namespace, name: pod.name } },
      { podIPs: [pod.network.ip], hostIP: this.plane.node(pod.network.node).nodeIp, ready },
    );
  }

  /** Deletes the Pod at once (no grace) and removes its network namespace, as a kubelet would after the kill. */
  async deletePod(pod: ServingPod): Promise<void> {
    await forceDeletePod(this.env.client, this.namespace, pod.name);
    await this.plane.removePod(pod.network);
  }

  /** Starts a graceful delete: with no kubelet to finish it, the Pod stays terminating (its server keeps running). */
  async startTermination(pod: ServingPod): Promise<void> {
    await this.env.client.delete(PODS, this.namespace, pod.name, { gracePeriodSeconds: 300 });
  }

  async createService(body: Record<string, unknown>): Promise<{ clusterIP: string; nodePort: number | undefined }> {
    const created = (await this.env.client.create(SERVICES, this.namespace, body)) as {
      spec?: { clusterIP?: string; ports?: { nodePort?: number }[] };
    };
    return { clusterIP: created.spec?.clusterIP ?? '', nodePort: created.spec?.ports?.[0]?.nodePort };
  }

  /** The last lines of every data-plane and control-plane log, for a failed test. */
  async logTails(lines = 25): Promise<string> {
    const parts: string[] = [];
    for (const path of this.plane.logs()) {
      const text = await readFile(path, 'utf8').catch(() => '');
      parts.push(`--- ${path}\n${text.split('\n').slice(-lines).join('\n')}`);
    }
    return `${parts.join('\n')}\n${await this.env.logTails(lines)}`;
  }

  /** Stops the data plane, the operator and the cluster, in that order. Idempotent. */
  async stop(): Promise<void> {
    await this.plane.stop();
    await this.#operator?.stop();
    await this.env.cluster.stop();
  }
}

/**
 * Starts the environment (from a `before` hook: the cluster is this environment's, not the file's). The caller has
 * checked dataPlaneSupport(mode), and stops the environment.
 */
export async function startTrafficEnv(mode: ProxyMode, controllers: EndpointControllers): Promise<TrafficEnv> {
  const locate = {
    kubebuilderAssets: process.env.KUBEBUILDER_ASSETS,
    env: process.env,
    onBuildOutput: (line: string) => process.stderr.write(`${line}\n`),
  };
  const binaries = await locateDataPlaneBinaries(locate);
  const cluster = await LocalCluster.start({
    binaries: await locateControlPlaneBinaries(locate),
    name: `e2e-${mode}-${controllers}`,
    ...(controllers === 'kube-controller-manager' ? { controllers: KCM_ENDPOINT_CONTROLLERS } : {}),
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  const env = new TestCluster(cluster);
  let operator: RunningOperator | undefined;
  let plane: DataPlane | undefined;
  try {
    if (controllers === 'operator') {
      // The CRDs first: the SessionAffinityPolicy controller's informer lists its kind at start.
      await promisify(execFile)('kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'apply', '-f', CRD_DIR], { timeout: 60_000 });
      operator = startOperator(env, (r) => {
        setupEndpointsController(r);
        setupEndpointSliceController(r);
        setupEndpointSliceMirroringController(r);
        setupSessionAffinityController(r);
        // Backends outside the cluster are test hosts (test/nethost): only their range may be probed.
        setupExternalEndpointsController(r, { probeAllowedCIDRs: ['198.18.0.0/15'], statusMinIntervalMs: 500 });
      });
    }
    for (const [i, name] of NODE_NAMES.entries()) {
      const { nodeIp, podCidr } = nodeAddressing(i + 1);
      await env.client.create(NODES, '', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name },
        spec: { podCIDR: podCidr, podCIDRs: [podCidr] },
      });
      const now = rfc3339(new Date());
      await env.client.patch(
        NODES,
        '',
        name,
        {
          status: {
            addresses: [
              { type: 'InternalIP', address: nodeIp },
              { type: 'Hostname', address: name },
            ],
            conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now, lastTransitionTime: now }],
          },
        },
        'merge',
        { subresource: 'status' },
      );
    }
    plane = await DataPlane.start({
      binaries,
      mode,
      nodes: NODE_NAMES.map((name) => ({ name })),
      apiServer: {
        server: env.cluster.server,
        caPem: env.cluster.caPem,
        clientCertPem: env.cluster.admin.certPem,
        clientKeyPem: env.cluster.admin.keyPem,
      },
      progress: (line) => process.stderr.write(`${line}\n`),
    });
    const namespace = await env.createNamespace('e2e');
    plane.setClusterDns(KUBE_DNS_IP, CLUSTER_DOMAIN);
    // CoreDNS as kube-dns: its Pod and Service, as kubeadm's addon manifests name them.
    const dns = await plane.addCoreDns({ name: 'coredns-0', node: NODE_NAMES[0], clusterDomain: CLUSTER_DOMAIN });
    await createPod(env, 'kube-system', {
      name: 'coredns-0',
      labels: { 'k8s-app': 'kube-dns' },
      nodeName: NODE_NAMES[0],
      ports: [
        { name: 'dns', containerPort: 53, protocol: 'UDP' },
        { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
      ],
      status: { podIPs: [dns.ip], hostIP: plane.node(NODE_NAMES[0]).nodeIp },
    });
    await env.client.create(SERVICES, 'kube-system', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', labels: { 'k8s-app': 'kube-dns' } },
      spec: {
        clusterIP: KUBE_DNS_IP,
        selector: { 'k8s-app': 'kube-dns' },
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
      },
    });
    const client = await plane.addClient('client', NODE_NAMES[0], namespace);
    return new TrafficEnv(env, plane, namespace, client, operator);
  } catch (err) {
    await plane?.stop();
    await operator?.stop();
    await cluster.stop();
    throw err;
  }
}
