import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import { Manager } from '../../../controllers/runtime/manager.ts';
import type { InClusterApiService, LocalClusterOptions } from '../../../hack/local-cluster/local-cluster.ts';
import type { ApiServerAccess } from '../../../hack/data-plane/data-plane.ts';
import { newApiClient } from '../../../controllers/runtime/api-client.ts';
import { realClock } from '../../../controllers/runtime/clock.ts';
import type { PlaygroundConfig } from '../playground-flags.ts';

// The local playground: what `npm start` adds around the embedded control plane so that `kubectl create deployment` and
// `kubectl expose` work end to end: kube-controller-manager with every usual controller except the endpoint ones (this
// operator does that job), and the pod lifecycle simulator (controllers/playground/pod-simulator/) for nodes and
// kubelets. Its flags are parsed in ../playground-flags.ts. Everything under cmd/operator/playground/ is loaded only
// when the playground starts, and is not in the image (Dockerfile, .dockerignore).

/** kube-controller-manager's `--controllers` in the playground. */
export const PLAYGROUND_CONTROLLERS: readonly string[] = [
  '*',
  // This operator is the endpoint control plane here (docs/local-cluster.md: never two writers of the same objects).
  '-endpoints-controller',
  '-endpointslice-controller',
  '-endpointslice-mirroring-controller',
  // It mints legacy Secret-based tokens and needs the signing key; nothing here uses them (the API server runs without
  // ServiceAccount admission, so Pods mount no token).
  '-serviceaccount-token-controller',
];

/**
 * The `kubernetes` Service's endpoint in the playground: an address on the data plane's node network that relays to
 * the API server (hack/data-plane/data-plane.ts: DATA_PLANE_API_ADDRESS; the test checks they agree).
 */
export const PLAYGROUND_API_ADDRESS = '198.19.255.2';
/** The dual-stack Service CIDRs (the local cluster's IPv4 default plus an IPv6 ULA range). */
export const DUAL_STACK_SERVICE_CIDRS = '10.0.0.0/24,fd00:10:96::/112';

/** What the playground adds to the embedded cluster's start options. Pure. */
export function playgroundClusterOptions(
  config: PlaygroundConfig,
): Pick<LocalClusterOptions, 'controllers' | 'controllerManagerFlags' | 'apiServerFlags' | 'inClusterApi'> {
  return {
    // With a data plane, Pods reach the API server through the `kubernetes` Service (docs/data-plane.md, "The API
    // server as a Service"): the API server advertises the address the data plane relays.
    ...(config.simulator && config.nodes > 0 && config.dataPlane !== 'off'
      ? { inClusterApi: { advertiseAddress: PLAYGROUND_API_ADDRESS } }
      : {}),
    ...(config.kubeControllerManager
      ? {
          controllers: PLAYGROUND_CONTROLLERS,
          // Every controller runs as the admin identity of the kubeconfig (docs/local-cluster.md): no per-controller
          // ServiceAccounts, tokens or signing keys to set up.
          controllerManagerFlags: {
            'use-service-account-credentials': 'false',
          },
        }
      : {}),
    ...(config.dualStack
      ? {
          apiServerFlags: {
            'service-cluster-ip-range': DUAL_STACK_SERVICE_CIDRS,
          },
        }
      : {}),
  };
}

/** The startup message: where the cluster is, what runs, and a short kubectl script to try. Pure. */
export function playgroundBanner(
  cluster: { readonly server: string; readonly kubeconfigPath: string },
  config: PlaygroundConfig,
  dataPlaneNote?: string,
): string {
  const parts = [
    config.kubeControllerManager ? 'kube-controller-manager (without its endpoint controllers)' : undefined,
    config.simulator
      ? `${config.nodes} simulated node${config.nodes === 1 ? '' : 's'}${config.dualStack ? ' (dual-stack)' : ''}`
      : undefined,
  ].filter((p) => p !== undefined);
  const lines = [
    '',
    `Local playground running at ${cluster.server}${parts.length > 0 ? ` with ${parts.join(' and ')}` : ''}`,
    `  kubeconfig: ${cluster.kubeconfigPath}`,
    '',
    'Try, in another terminal:',
    `  export KUBECONFIG=${cluster.kubeconfigPath}`,
    '  kubectl get nodes -L topology.kubernetes.io/zone',
  ];
  if (config.kubeControllerManager) {
    lines.push(
      '  kubectl create deployment web --image=nginx --replicas=3',
      `  kubectl expose deployment web --port=80 --target-port=8080${config.dualStack ? ` --overrides='{"apiVersion":"v1","spec":{"ipFamilyPolicy":"PreferDualStack"}}'` : ''}`,
      '  kubectl get pods -o wide -l app=web',
      '  kubectl get endpointslices -l kubernetes.io/service-name=web -w   # leave running, go on in a third terminal',
      '  kubectl scale deployment web --replicas=0',
      '  kubectl scale deployment web --replicas=2',
      '  kubectl delete $(kubectl get pod -l app=web -o name | head -n 1) --wait=false   # terminating for 30 s, then replaced',
      '  kubectl annotate $(kubectl get pod -l app=web -o name | head -n 1) playground.kube-endpoints-operator.io/ready=false',
    );
  } else {
    lines.push(
      '  kubectl run web --image=nginx --labels=app=web',
      '  kubectl expose pod web --port=80 --target-port=8080',
      '  kubectl get endpointslices -l kubernetes.io/service-name=web -w',
      '  (no kube-controller-manager: Deployments make no Pods, and nothing garbage-collects)',
    );
  }
  if (!config.simulator) lines.push('  (no simulator: no Nodes, so Pods stay Pending without IPs)');
  if (dataPlaneNote !== undefined) {
    lines.push('', capitalise(dataPlaneNote));
    if (dataPlaneNote.startsWith('data plane:')) {
      lines.push(
        '  npm run playground -- exec $(kubectl get pod -l app=web -o jsonpath={.items[0].metadata.name}) -- curl -s http://web',
        '  npm run playground -- exec $(kubectl get pod -l app=web -o jsonpath={.items[0].metadata.name}) -- nslookup web',
        `  npm run playground -- exec --node playground-node-1 -- ${config.dataPlane === 'iptables' ? 'iptables-save -t nat' : 'nft list table ip kube-proxy'}`,
      );
    }
  }
  lines.push('More in docs/playground.md. Stop with Ctrl-C.', '');
  return lines.join('\n');
}

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** A running simulator (and data plane). */
export interface PlaygroundRun {
  /** One line: what data plane runs, or why none does. */
  readonly dataPlaneNote: string;
  /** Stops the data plane and the simulator's manager and resolves when they have stopped. Idempotent. */
  stop(): Promise<void>;
}

/** What the data plane needs beyond the kubeconfig: the cluster's credentials as files' contents, and the env. */
export interface PlaygroundDataPlaneAccess {
  readonly access: ApiServerAccess;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly onBuildOutput: (line: string) => void;
  /** The `kubernetes` Service and its endpoint, when the cluster advertises one (LocalCluster.kubernetesService). */
  readonly kubernetesService?: InClusterApiService | undefined;
}

/**
 * Starts the pod lifecycle simulator on a manager of its own (no leader election, no HTTP servers), when the config
 * asks for it; undefined otherwise. It stops when `signal` aborts or `stop()` is called. Never throws after start: a
 * failure is logged.
 */
export async function startPlayground(
  config: PlaygroundConfig,
  kubeConfig: KubeConfig,
  logger: Logger,
  signal: AbortSignal,
  dataPlaneAccess?: PlaygroundDataPlaneAccess,
): Promise<PlaygroundRun | undefined> {
  if (!config.simulator) return undefined;
  // Loaded only when the simulator runs (not with --playground-simulator=false).
  const { setupPodSimulator } = await import('../../../controllers/playground/pod-simulator/pod-simulator.ts');
  const log = logger.child({ playground: 'pod-simulator' });
  const manager = new Manager({
    logger: log,
    kubeConfig,
    // The simulated kubelets of every node share this budget; a kubelet alone gets 50 qps / 100 burst upstream.
    qps: 50,
    burst: 100,
    userAgent: 'kube-endpoints-operator-playground',
    metricsBindAddress: '0',
    healthProbeBindAddress: '0',
    gracefulShutdownTimeoutMs: 5_000,
  });
  const version = z.object({ gitVersion: z.string() }).safeParse(
    await manager
      .client('playground')
      .getPath('/version', signal)
      .catch(() => undefined),
  );
  // Pods using the operator's own image run with runc when it was built (docs/playground.md, "Running images").
  const runtime =
    dataPlaneAccess === undefined
      ? { note: 'no container runtime: not an embedded playground' }
      : await (
          await import('./container-runtime.ts')
        ).startPlaygroundRuntime({
          server: dataPlaneAccess.access.server,
          caPem: dataPlaneAccess.access.caPem,
          ...(dataPlaneAccess.kubernetesService === undefined ? {} : { kubernetesService: dataPlaneAccess.kubernetesService }),
          client: newApiClient(kubeConfig, { clock: realClock, userAgent: 'kube-endpoints-operator-playground-kubelet' }),
        });
  log.info({ runtime: runtime.note }, 'Container runtime');
  const simulatorSetup = setupPodSimulator(manager, {
    nodes: config.nodes,
    dualStack: config.dualStack,
    defaultReadinessDelayMs: config.readinessDelayMs,
    ...(version.success ? { kubeletVersion: version.data.gitVersion } : {}),
    ...(runtime.engine === undefined ? {} : { containerEngine: runtime.engine }),
    onRuntimeError: (pod, message) => log.warn({ pod, message }, 'Container runtime problem'),
  });
  const stopper = new AbortController();
  const onAbort = () => stopper.abort();
  if (signal.aborted) stopper.abort();
  else signal.addEventListener('abort', onAbort, { once: true });
  const stopped = manager.start(stopper.signal).then(
    (outcome) => {
      if (outcome.kind === 'failed') log.error({ err: outcome.error }, 'Pod simulator stopped after a failure');
    },
    (err: unknown) => log.error({ err }, 'Pod simulator failed'),
  );
  const dataPlane =
    dataPlaneAccess === undefined
      ? { note: 'no data plane: not an embedded playground' }
      : // Loaded only for an embedded playground's data plane.
        await (
          await import('./data-plane.ts')
        ).startPlaygroundDataPlane({
          mode: config.dataPlane,
          nodes: config.nodes,
          access: dataPlaneAccess.access,
          kubeConfig,
          client: newApiClient(kubeConfig, { clock: realClock, userAgent: 'kube-endpoints-operator-playground' }),
          logger,
          env: dataPlaneAccess.env,
          onBuildOutput: dataPlaneAccess.onBuildOutput,
          signal,
          ...(dataPlaneAccess.kubernetesService === undefined
            ? {}
            : { apiServerAddress: dataPlaneAccess.kubernetesService.endpoint.address }),
          ...(runtime.engine === undefined ? {} : { runsImage: (image: string) => runtime.engine?.handles(image) === true }),
        });
  // runc Pods created from now on are Pods of the data plane, reaching the API server through the `kubernetes` Service.
  runtime.network?.use(dataPlane.run?.plane);
  let stopping: Promise<void> | undefined;
  return {
    dataPlaneNote: dataPlane.note,
    stop: () => {
      stopping ??= (async () => {
        signal.removeEventListener('abort', onAbort);
        stopper.abort();
        await stopped;
        // Containers still running get a short grace period: the playground is going away with its API server. They
        // stop before the data plane, which carries their connections to it (the `kubernetes` Service).
        await simulatorSetup.workers?.stopAll(5_000);
        await runtime.engine?.close();
        runtime.network?.use(undefined);
        await dataPlane.run?.stop();
      })();
      return stopping;
    },
  };
}
