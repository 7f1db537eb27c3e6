import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import { Manager } from '../../controllers/runtime/manager.ts';
import type { InClusterApiService, LocalClusterOptions } from '../../hack/local-cluster/local-cluster.ts';
import { parseGoDuration } from './go-duration.ts';
import type { PlaygroundDataPlaneMode } from './playground-data-plane.ts';
import type { ApiServerAccess } from '../../hack/data-plane/data-plane.ts';
import { newApiClient } from '../../controllers/runtime/api-client.ts';
import { realClock } from '../../controllers/runtime/clock.ts';

// The local playground: what `npm start` adds around the embedded control plane so that `kubectl create deployment` and
// `kubectl expose` work end to end: kube-controller-manager with every usual controller except the endpoint ones (this
// operator does that job), and the pod lifecycle simulator (controllers/pod-simulator/) for nodes and kubelets.
// Its flags are parsed here, before config.ts sees the command line, so the operator's flag table stays about the
// operator; they only matter when the embedded control plane starts.

/** The playground settings (`--playground-*` flags). */
export interface PlaygroundConfig {
  /** Run kube-controller-manager (Deployments, ReplicaSets, garbage collection, node lifecycle, ...). */
  readonly kubeControllerManager: boolean;
  /** Run the pod lifecycle simulator (fake Nodes, binding, kubelets). */
  readonly simulator: boolean;
  /** Fake Nodes. */
  readonly nodes: number;
  /** IPv4 + IPv6 pod addresses, and a dual-stack Service CIDR. */
  readonly dualStack: boolean;
  /** Readiness delay of containers without a readiness probe. */
  readonly readinessDelayMs: number;
  /** kube-proxy mode of the data plane (real Pod networks, kube-proxy, CoreDNS), or off. */
  readonly dataPlane: PlaygroundDataPlaneMode;
}

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

/** The dual-stack Service CIDRs (the local cluster's IPv4 default plus an IPv6 ULA range). */
/**
 * The `kubernetes` Service's endpoint in the playground: an address on the data plane's node network that relays to
 * the API server (hack/data-plane/data-plane.ts: DATA_PLANE_API_ADDRESS; not imported, as main.ts loads this file on
 * every start).
 */
export const PLAYGROUND_API_ADDRESS = '198.19.255.2';
export const DUAL_STACK_SERVICE_CIDRS = '10.0.0.0/24,fd00:10:96::/112';

const TRUE_WORDS = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

const boolValue = z.string().transform((s, ctx): boolean => {
  if (TRUE_WORDS.has(s)) return true;
  if (FALSE_WORDS.has(s)) return false;
  ctx.addIssue({
    code: 'custom',
    message: `must be true or false (got "${s}")`,
  });
  return z.NEVER;
});

interface PlaygroundFlag {
  readonly kind: 'boolean' | 'string';
  readonly default: string;
  readonly help: string;
  readonly schema: z.ZodType<unknown, string>;
}

const PLAYGROUND_FLAGS = {
  'playground-kube-controller-manager': {
    kind: 'boolean',
    default: 'true',
    help: 'Playground (embedded cluster only): run kube-controller-manager with every default controller but the endpoint ones.',
    schema: boolValue,
  },
  'playground-simulator': {
    kind: 'boolean',
    default: 'true',
    help: 'Playground: run the pod lifecycle simulator (fake Nodes, Pod binding, IPs, readiness, termination).',
    schema: boolValue,
  },
  'playground-nodes': {
    kind: 'string',
    default: '3',
    help: 'Playground: simulated Nodes, in zones zone-a, zone-b, zone-c round-robin (0..250).',
    schema: z.string().transform((s, ctx): number => {
      const n = /^\d+$/.test(s.trim()) ? Number(s) : Number.NaN;
      if (Number.isInteger(n) && n >= 0 && n <= 250) return n;
      ctx.addIssue({
        code: 'custom',
        message: `must be an integer between 0 and 250 (got "${s}")`,
      });
      return z.NEVER;
    }),
  },
  'playground-dual-stack': {
    kind: 'boolean',
    default: 'false',
    help: 'Playground: give Pods an IPv4 and an IPv6 address, and the API server IPv4 and IPv6 Service CIDRs.',
    schema: boolValue,
  },
  'playground-readiness-delay': {
    kind: 'string',
    default: '1s',
    help: 'Playground: how long a container without readiness probe takes to become ready.',
    schema: z.string().transform((s, ctx): number => {
      const ms = parseGoDuration(s.trim());
      if (ms !== undefined && ms >= 0) return ms;
      ctx.addIssue({
        code: 'custom',
        message: `must be a duration such as 0s, 500ms or 2s (got "${s}")`,
      });
      return z.NEVER;
    }),
  },
  'playground-data-plane': {
    kind: 'string',
    default: 'nftables',
    help: 'Playground: a data plane for the simulated Pods (network namespaces, kube-proxy in this mode, CoreDNS): nftables, iptables or off. Needs root and nft/iptables; without them the playground starts without one and says why.',
    schema: z.string().transform((s, ctx): PlaygroundDataPlaneMode => {
      const v = s.trim();
      if (v === 'nftables' || v === 'iptables' || v === 'off') return v;
      ctx.addIssue({ code: 'custom', message: `must be nftables, iptables or off (got "${s}")` });
      return z.NEVER;
    }),
  },
} as const satisfies Record<string, PlaygroundFlag>;

type PlaygroundFlagName = keyof typeof PLAYGROUND_FLAGS;
const playgroundFlagsSchema = z.object({
  'playground-kube-controller-manager': PLAYGROUND_FLAGS['playground-kube-controller-manager'].schema,
  'playground-simulator': PLAYGROUND_FLAGS['playground-simulator'].schema,
  'playground-nodes': PLAYGROUND_FLAGS['playground-nodes'].schema,
  'playground-dual-stack': PLAYGROUND_FLAGS['playground-dual-stack'].schema,
  'playground-readiness-delay': PLAYGROUND_FLAGS['playground-readiness-delay'].schema,
  'playground-data-plane': PLAYGROUND_FLAGS['playground-data-plane'].schema,
});
const isPlaygroundFlag = (name: string): name is PlaygroundFlagName => Object.hasOwn(PLAYGROUND_FLAGS, name);

/** The playground's flags split from the rest of the command line, or one error line. */
export type PlaygroundFlagsResult =
  | {
      readonly kind: 'ok';
      readonly config: PlaygroundConfig;
      readonly rest: readonly string[];
    }
  | { readonly kind: 'error'; readonly message: string };

/**
 * Takes the `--playground-*` flags out of `argv` (`--flag`, `--flag=value`, `--flag value` for non-booleans; the last
 * repeat wins; nothing after `--` is touched) and validates them. The remaining arguments go to config.ts. Pure.
 */
export function splitPlaygroundFlags(argv: readonly string[]): PlaygroundFlagsResult {
  const raw: Partial<Record<PlaygroundFlagName, string>> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (!arg.startsWith('--playground-')) {
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (!isPlaygroundFlag(name))
      return {
        kind: 'error',
        message: `error: unknown flag --${name} (see --help)`,
      };
    if (eq >= 0) {
      raw[name] = arg.slice(eq + 1);
    } else if (PLAYGROUND_FLAGS[name].kind === 'boolean') {
      raw[name] = 'true';
    } else {
      const value = argv[i + 1];
      if (value === undefined) return { kind: 'error', message: `error: --${name} needs a value` };
      raw[name] = value;
      i++;
    }
  }
  const given: Record<string, string> = {};
  for (const name of Object.keys(PLAYGROUND_FLAGS) as PlaygroundFlagName[]) given[name] = raw[name] ?? PLAYGROUND_FLAGS[name].default;
  const parsed = playgroundFlagsSchema.safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      kind: 'error',
      message: `error: --${String(issue?.path[0] ?? '')} ${issue?.message ?? 'is invalid'}`,
    };
  }
  const v = parsed.data;
  return {
    kind: 'ok',
    rest,
    config: {
      kubeControllerManager: v['playground-kube-controller-manager'],
      simulator: v['playground-simulator'],
      nodes: v['playground-nodes'],
      dualStack: v['playground-dual-stack'],
      readinessDelayMs: v['playground-readiness-delay'],
      dataPlane: v['playground-data-plane'],
    },
  };
}

/** The playground section of `--help`, in the style of config.ts's help text. */
export function playgroundHelpText(): string {
  const lines = ['', 'Playground flags (used only when no kubeconfig is given and an embedded local cluster starts):'];
  for (const name of Object.keys(PLAYGROUND_FLAGS) as PlaygroundFlagName[]) {
    const spec: PlaygroundFlag = PLAYGROUND_FLAGS[name];
    lines.push(`  --${name}${spec.kind === 'boolean' ? '' : ' value'}`, `        ${spec.help} (default ${JSON.stringify(spec.default)})`);
  }
  return `${lines.join('\n')}\n`;
}

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
  // Loaded on demand: main.ts imports this file for its flags even when no playground runs.
  const { setupPodSimulator } = await import('../../controllers/pod-simulator/pod-simulator.ts');
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
          await import('./playground-runtime.ts')
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
      : // Loaded only here: main.ts imports this module for its flags on every start (docs/performance.md, start-up).
        await (
          await import('./playground-data-plane.ts')
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
