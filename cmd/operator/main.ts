#!/usr/bin/env node
import { delimiter } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { type Logger, pino } from 'pino';
import { Manager, type ManagerOutcome } from '../../controllers/runtime/manager.ts';
import packageJson from '../../package.json' with { type: 'json' };
import { type OperatorConfig, parseConfig } from './config.ts';
import { CONTROLLER_REGISTRATIONS, CONTROLLER_REQUIRES } from './controller-registrations.ts';
import { missingResources } from './crds.ts';
import { type PlaygroundConfig, playgroundHelpText, splitPlaygroundFlags } from './playground-flags.ts';
import type { EmbeddedPlayground, startEmbeddedPlayground } from './playground/embedded-cluster.ts';
import { checkServerVersion } from './server-version.ts';

// The operator's entry point: flags -> validated config -> logger -> cluster connection -> manager -> controllers ->
// run until SIGINT/SIGTERM -> graceful stop -> exit code. The only module that reads process.argv and process.env.

/** Exit codes: 0 clean stop, 1 lost leadership or a fatal error, 2 invalid command line (as pflag-based tools). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Where main writes what is not a log line. */
export interface MainIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const defaultIo: MainIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** How the cluster was found, and what to stop at exit. */
interface ClusterConnection {
  readonly kubeConfig: KubeConfig;
  readonly source: 'flag' | 'KUBECONFIG' | 'in-cluster' | 'embedded';
  /** The embedded local cluster and its playground, when neither a kubeconfig nor a Pod gave a cluster. */
  readonly embedded?: EmbeddedPlayground;
}

/** Loads the embedded playground (cmd/operator/playground/), which the image does not ship. */
export type PlaygroundLoader = () => Promise<{ readonly startEmbeddedPlayground: typeof startEmbeddedPlayground }>;

const loadPlayground: PlaygroundLoader = () => import('./playground/embedded-cluster.ts');

/** No cluster was given, and this build (the image) has no embedded playground to start instead. */
export class PlaygroundUnavailableError extends Error {
  constructor() {
    super(
      'error: no cluster to connect to: pass --kubeconfig or set KUBECONFIG (in a Pod the service account is used); ' +
        'this build has no embedded playground to start instead',
    );
    this.name = 'PlaygroundUnavailableError';
  }
}

const isModuleNotFound = (err: unknown): boolean => err instanceof Error && (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';

/** The operator's command. Resolves with the process exit code; never rejects. */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: MainIo = defaultIo,
  playgroundLoader: PlaygroundLoader = loadPlayground,
): Promise<number> {
  const playground = splitPlaygroundFlags(argv);
  if (playground.kind === 'error') {
    io.stderr(`${playground.message}\n`);
    return EXIT_USAGE;
  }
  const parsed = parseConfig(playground.rest);
  if (parsed.kind === 'help') {
    io.stdout(parsed.text + playgroundHelpText());
    return EXIT_OK;
  }
  if (parsed.kind === 'error') {
    io.stderr(`${parsed.message}\n`);
    return EXIT_USAGE;
  }
  const config = parsed.config;
  const logger = pino({
    level: config.logLevel,
    base: { component: 'kube-endpoints-operator' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });

  const stop = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      logger.info({ signal }, 'Received signal; stopping gracefully');
      stop.abort();
      return;
    }
    // A second signal means the operator does not want to wait for the drain (controller-runtime does the same).
    logger.warn({ signal }, 'Received second signal; exiting at once');
    logger.flush();
    process.exit(EXIT_FAILURE);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let connection: ClusterConnection | undefined;
  let code: number;
  try {
    connection = await connect(config, playground.config, env, logger, io, playgroundLoader, stop.signal);
    if (connection === undefined) {
      code = EXIT_OK; // stopped by a signal while the embedded cluster was starting
    } else {
      code = await run(config, connection, logger, stop.signal);
    }
  } catch (err) {
    if (err instanceof PlaygroundUnavailableError) io.stderr(`${err.message}\n`);
    else logger.fatal({ err }, 'Failed to run operator');
    code = EXIT_FAILURE;
  } finally {
    const embedded = connection?.embedded;
    await embedded?.playground?.stop();
    if (embedded !== undefined) {
      logger.info('Stopping embedded local cluster');
      await embedded.cluster.stop().catch((err: unknown) => logger.error({ err }, 'Failed to stop embedded local cluster'));
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
  }
  return code;
}

async function run(config: OperatorConfig, connection: ClusterConnection, logger: Logger, signal: AbortSignal): Promise<number> {
  const cluster = connection.kubeConfig.getCurrentCluster();
  logger.info(
    { server: cluster?.server, source: connection.source, controllers: config.controllers, leaderElection: config.leaderElection.enabled },
    'Loaded configuration',
  );
  const manager = new Manager({
    logger,
    kubeConfig: connection.kubeConfig,
    qps: config.kubeApi.qps,
    burst: config.kubeApi.burst,
    http2: config.kubeApi.http2,
    userAgent: `kube-endpoints-operator/${packageJson.version} (${process.platform}/${process.arch})`,
    metricsBindAddress: config.metricsBindAddress,
    healthProbeBindAddress: config.healthProbeBindAddress,
    leaderElection: config.leaderElection.enabled
      ? {
          namespace: config.leaderElection.resourceNamespace,
          name: config.leaderElection.resourceName,
          leaseDurationMs: config.leaderElection.leaseDurationMs,
          renewDeadlineMs: config.leaderElection.renewDeadlineMs,
          retryPeriodMs: config.leaderElection.retryPeriodMs,
        }
      : undefined,
  });
  const version = await checkServerVersion(manager.client('kube-endpoints-operator'), signal);
  switch (version.kind) {
    case 'tested':
      logger.info({ serverVersion: version.gitVersion }, 'Connected to API server');
      break;
    case 'untested':
      logger.warn(
        { serverVersion: version.gitVersion, testedVersions: version.tested },
        'API server version is outside the range this operator is tested against',
      );
      break;
    case 'unknown':
      logger.warn({ reason: version.reason }, 'Could not read the API server version');
      break;
  }
  for (const name of config.controllers) {
    const register = CONTROLLER_REGISTRATIONS[name];
    if (register === undefined) {
      logger.warn({ controller: name }, 'Skipped controller: not available in this build');
      continue;
    }
    const missing = await missingResources(manager.client('kube-endpoints-operator'), CONTROLLER_REQUIRES[name] ?? [], signal);
    if (missing.length > 0) {
      logger.warn(
        { controller: name, missing: missing.map((r) => `${r.plural}.${r.group}`), fix: 'kubectl apply -k config/crd' },
        'Skipped controller: its CustomResourceDefinition is not installed',
      );
      continue;
    }
    register(manager, config);
    logger.info({ controller: name }, 'Registered controller');
  }
  const outcome = await manager.start(signal);
  return exitCodeFor(outcome);
}

/** Maps how the manager ended to the process exit code. */
export function exitCodeFor(outcome: ManagerOutcome): number {
  switch (outcome.kind) {
    case 'stopped':
      return EXIT_OK;
    case 'lost-leadership':
    case 'failed':
      return EXIT_FAILURE;
  }
}

// --kubeconfig, else KUBECONFIG, else the in-cluster service account, else an embedded local control plane (where the
// build has one: the image has not, and says so in one line). No ~/.kube/config fallback: a controller that silently
// drives whatever cluster the developer last used is a hazard.
async function connect(
  config: OperatorConfig,
  playground: PlaygroundConfig,
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
  io: MainIo,
  playgroundLoader: PlaygroundLoader,
  signal: AbortSignal,
): Promise<ClusterConnection | undefined> {
  const kubeConfig = new KubeConfig();
  if (config.kubeconfig !== undefined) {
    kubeConfig.loadFromFile(config.kubeconfig);
    return { kubeConfig, source: 'flag' };
  }
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  if (fromEnv.length > 0) {
    const [first, ...rest] = fromEnv;
    kubeConfig.loadFromFile(first ?? '');
    for (const path of rest) {
      const more = new KubeConfig();
      more.loadFromFile(path);
      kubeConfig.mergeConfig(more, true);
    }
    return { kubeConfig, source: 'KUBECONFIG' };
  }
  if ((env.KUBERNETES_SERVICE_HOST ?? '') !== '') {
    kubeConfig.loadFromCluster();
    return { kubeConfig, source: 'in-cluster' };
  }

  // Loaded only here: a Pod (or any run with a kubeconfig) never pays for the local-cluster, playground and pod
  // simulator modules at start-up (docs/performance.md, start-up), and the image does not ship them.
  let embeddedPlayground: Awaited<ReturnType<PlaygroundLoader>>;
  try {
    embeddedPlayground = await playgroundLoader();
  } catch (err) {
    if (isModuleNotFound(err)) throw new PlaygroundUnavailableError();
    throw err;
  }
  logger.info('No kubeconfig given; starting an embedded local control plane');
  const embedded = await embeddedPlayground.startEmbeddedPlayground({ config: playground, env, logger, stderr: io.stderr, signal });
  return embedded === undefined ? undefined : { kubeConfig: embedded.kubeConfig, source: 'embedded', embedded };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Exit explicitly: idle keep-alive sockets and unref'd timers must not decide when the process ends.
  process.exit(await main(process.argv.slice(2), process.env));
}
