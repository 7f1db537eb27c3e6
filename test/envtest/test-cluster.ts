import { randomBytes } from 'node:crypto';
import { after, afterEach } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { type Node, nodeSchema, type Pod, podSchema } from '../../api/core/v1.ts';
import { LABEL_TOPOLOGY_ZONE } from '../../api/labels.ts';
import { type ApiClient, newApiClient } from '../../controllers/runtime/api-client.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import { NAMESPACES, NODES, PODS } from '../../controllers/runtime/resource.ts';
import { locateControlPlaneBinaries } from '../../hack/local-cluster/binaries.ts';
import type { Flags } from '../../hack/local-cluster/flags.ts';
import { LocalCluster } from '../../hack/local-cluster/local-cluster.ts';
import { logTails } from './log-tails.ts';
import { type PodStatusInput, podStatus } from './pod-status.ts';

/** Options of {@link startTestCluster}. */
export interface TestClusterOptions {
  /** Name in progress lines and the kubeconfig. Default `test-cluster`. */
  readonly name?: string;
  /** Also run kube-controller-manager with these controllers (parity tests). Default: none. */
  readonly controllers?: readonly string[];
  readonly apiServerFlags?: Flags;
  /** See LocalClusterOptions.inClusterApi (hack/local-cluster/local-cluster.ts). */
  readonly inClusterApi?: { readonly advertiseAddress: string };
  readonly controllerManagerFlags?: Flags;
  /** Print the start phases on stderr. Default true: a cold start can take a while and should say why. */
  readonly showProgress?: boolean;
}

/** A LocalCluster plus a client and the object helpers tests share. */
export class TestCluster {
  readonly cluster: LocalCluster;
  /** Loaded from the cluster's admin kubeconfig. */
  readonly kubeConfig: KubeConfig;
  /** Our ApiClient as admin, with QPS/burst high enough that setup never throttles (1000/2000, as envtest). */
  readonly client: ApiClient;
  #namespaces = 0;

  constructor(cluster: LocalCluster) {
    this.cluster = cluster;
    this.kubeConfig = new KubeConfig();
    this.kubeConfig.loadFromFile(cluster.kubeconfigPath);
    this.client = newApiClient(this.kubeConfig, { clock: realClock, qps: 1000, burst: 2000, userAgent: 'envtest' });
  }

  /**
   * Creates a namespace with a unique name `<prefix>-<n>-<random>` and returns the name. Namespaces are never deleted:
   * without kube-controller-manager's namespace controller deletion would not finish, and the cluster is thrown away.
   */
  async createNamespace(prefix = 'test'): Promise<string> {
    this.#namespaces++;
    const name = `${prefix}-${this.#namespaces}-${randomBytes(3).toString('hex')}`;
    await this.client.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    return name;
  }

  /** Creates a Node, labelled with `topology.kubernetes.io/zone` when `zone` is given (EndpointSlice hints read it). */
  async createNode(name: string, zone?: string): Promise<Node> {
    const labels = zone === undefined ? undefined : { [LABEL_TOPOLOGY_ZONE]: zone };
    const created = await this.client.create(NODES, '', { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });
    return nodeSchema.parse(created);
  }

  /**
   * Sets a pod's status through the pods/status subresource, as a kubelet would (a merge patch: no conflict with
   * concurrent spec changes). Returns the pod as the API server stored it.
   */
  async setPodStatus(
    pod: { metadata: { namespace?: string | undefined; name?: string | undefined } },
    input: PodStatusInput,
  ): Promise<Pod> {
    const { namespace, name } = pod.metadata;
    if (namespace === undefined || name === undefined)
      throw new Error('setPodStatus needs a pod with metadata.namespace and metadata.name');
    const updated = await this.client.patch(PODS, namespace, name, { status: podStatus(input, new Date()) }, 'merge', {
      subresource: 'status',
    });
    return podSchema.parse(updated);
  }

  /** The last lines of every component log (see logTails). */
  logTails(lines = 40): Promise<string> {
    return logTails(this.cluster.logs, lines);
  }
}

/**
 * Starts a cluster for the calling test file and registers, on the file's root, an `after` hook that stops it and an
 * `afterEach` hook that prints the component log tails when a test failed. Call it at module top level
 * (`const env = await startTestCluster()`), once per file. Binaries come from KUBEBUILDER_ASSETS when complete,
 * otherwise from hack/build-control-plane.sh (which builds them on first use). Throws the start error (one line).
 */
export async function startTestCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
  const progress = opts.showProgress === false ? undefined : (message: string) => process.stderr.write(`${message}\n`);
  const binaries = await locateControlPlaneBinaries({
    kubebuilderAssets: process.env.KUBEBUILDER_ASSETS,
    env: process.env,
    onBuildOutput: (line) => process.stderr.write(`${line}\n`),
  });
  const cluster = await LocalCluster.start({
    binaries,
    name: opts.name ?? 'test-cluster',
    ...(opts.controllers ? { controllers: opts.controllers } : {}),
    ...(opts.apiServerFlags ? { apiServerFlags: opts.apiServerFlags } : {}),
    ...(opts.inClusterApi ? { inClusterApi: opts.inClusterApi } : {}),
    ...(opts.controllerManagerFlags ? { controllerManagerFlags: opts.controllerManagerFlags } : {}),
    ...(progress ? { progress } : {}),
  });
  const env = new TestCluster(cluster);
  afterEach(async (t) => {
    // TestContext.passed exists at runtime (Node 24) but is not yet in @types/node.
    if ('passed' in t && t.passed === false) process.stderr.write(`${await env.logTails()}`);
  });
  after(() => cluster.stop());
  return env;
}

/**
 * The Kubernetes version the local control plane was built at: `KEO_KUBE_VERSION` as given to
 * hack/build-control-plane.sh (which `npm test` runs first), else that script's default.
 */
export const EXPECTED_KUBE_VERSION = process.env.KEO_KUBE_VERSION ?? 'v1.37.2';

/** The minor version of {@link EXPECTED_KUBE_VERSION}, as a number (37 for v1.37.2). */
export const EXPECTED_KUBE_MINOR = Number(EXPECTED_KUBE_VERSION.split('.')[1]);
