import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { newApiClient } from '../../../controllers/runtime/api-client.ts';
import { realClock } from '../../../controllers/runtime/clock.ts';
import { locateControlPlaneBinaries } from '../../../hack/local-cluster/binaries.ts';
import { LocalCluster } from '../../../hack/local-cluster/local-cluster.ts';
import { installCrds } from '../crds.ts';
import type { PlaygroundConfig } from '../playground-flags.ts';
import { playgroundBanner, playgroundClusterOptions, type PlaygroundRun, startPlayground } from './playground.ts';

// What main.ts starts when no kubeconfig is given and it does not run in a Pod: an embedded local control plane with
// the CRDs installed, and the playground around it. main.ts loads this module only then; the image does not ship it.

// The generated CRDs that the embedded control plane gets, as a user would `kubectl apply -k config/crd`.
const CRD_DIR = fileURLToPath(new URL('../../../config/crd/bases', import.meta.url));

/** A running embedded playground: its cluster (stopped by main after the manager's drain) and simulator. */
export interface EmbeddedPlayground {
  readonly kubeConfig: KubeConfig;
  readonly cluster: LocalCluster;
  /** The pod lifecycle simulator (and data plane), when it runs. */
  readonly playground?: PlaygroundRun;
}

/** What {@link startEmbeddedPlayground} needs from main. */
export interface EmbeddedPlaygroundInput {
  readonly config: PlaygroundConfig;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  /** Writes one line (no newline) that is not a log line: build output, the banner. */
  readonly stderr: (text: string) => void;
  readonly signal: AbortSignal;
}

/** Starts the cluster, installs the CRDs and starts the playground; undefined when `signal` aborted the start. */
export async function startEmbeddedPlayground(input: EmbeddedPlaygroundInput): Promise<EmbeddedPlayground | undefined> {
  const { config, env, logger, signal } = input;
  const binaries = await locateControlPlaneBinaries({
    kubebuilderAssets: env.KUBEBUILDER_ASSETS,
    env,
    onBuildOutput: (line) => input.stderr(`${line}\n`),
  });
  let cluster: LocalCluster;
  try {
    cluster = await LocalCluster.start({
      binaries,
      name: 'kube-endpoints-operator',
      progress: (message) => logger.info(message),
      // Our signal handler owns shutdown: the manager drains and releases its Lease through this API server, and
      // main stops the cluster only after that (a process exit still kills it). A signal during the start ends it.
      handleSignals: false,
      signal,
      ...playgroundClusterOptions(config),
    });
  } catch (err) {
    if (signal.aborted) return undefined;
    throw err;
  }
  if (signal.aborted) {
    await cluster.stop();
    return undefined;
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfigPath);
  const crds = await installCrds(newApiClient(kubeConfig, { clock: realClock }), CRD_DIR, realClock, signal);
  logger.info({ crds }, 'Installed CustomResourceDefinitions');
  const playground = await startPlayground(config, kubeConfig, logger, signal, {
    access: { server: cluster.server, caPem: cluster.caPem, clientCertPem: cluster.admin.certPem, clientKeyPem: cluster.admin.keyPem },
    env,
    onBuildOutput: (line) => input.stderr(`${line}\n`),
    kubernetesService: cluster.kubernetesService,
  });
  input.stderr(playgroundBanner(cluster, config, playground?.dataPlaneNote));
  return { kubeConfig, cluster, ...(playground === undefined ? {} : { playground }) };
}
