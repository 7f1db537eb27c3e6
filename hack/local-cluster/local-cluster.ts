import { rmSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlPlaneBinaries } from './binaries.ts';
import { type CertificatePair, generateControlPlaneCertificates } from './certs.ts';
import { type ComponentProcess, ComponentStartError } from './component-process.ts';
import { startEtcd } from './etcd.ts';
import { onProcessExit } from './exit-cleanup.ts';
import type { Flags } from './flags.ts';
import { inClusterApiSettings, KUBERNETES_SERVICE_PORT } from './in-cluster-api.ts';
import { type KubeApiServerOptions, startKubeApiServer } from './kube-apiserver.ts';
import { startKubeControllerManager } from './kube-controller-manager.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { allocatePort, type PortAllocatorOptions, releasePort, releasePortSync } from './ports.ts';
import { createWorkDir, DEFAULT_BASE_DIRS } from './work-dir.ts';

/** Options of {@link LocalCluster.start}. Every field but `binaries` has a default. */
export interface LocalClusterOptions {
  readonly binaries: ControlPlaneBinaries;
  /** Name in progress lines and in the kubeconfig. Default `local-cluster`. */
  readonly name?: string;
  /**
   * kube-controller-manager `--controllers`; when absent or empty no controller manager runs. For parity runs:
   * endpoints-controller, endpointslice-controller, endpointslice-mirroring-controller.
   */
  readonly controllers?: readonly string[];
  /** Flag overrides of kube-apiserver, by name. */
  readonly apiServerFlags?: Flags;
  /**
   * Opt-in: Pods reach the API server through the `kubernetes` Service, whose endpoint is this (non-loopback) address
   * and the secure port; a data plane must carry it to the API server (hack/local-cluster/in-cluster-api.ts). Default:
   * none (127.0.0.1 advertised, no endpoint reconciler, no `kubernetes` endpoints).
   */
  readonly inClusterApi?: { readonly advertiseAddress: string };
  /** Flag overrides of kube-controller-manager, by name. */
  readonly controllerManagerFlags?: Flags;
  /** Flag overrides of etcd, by name. */
  readonly etcdFlags?: Flags;
  /** Candidate parents of the work directory, first writable wins. Default /dev/shm, then the OS temp dir. */
  readonly baseDirs?: readonly string[];
  /** Shared port reservation directory. Default `<os tmp>/kube-endpoints-operator-ports`. */
  readonly portLockDir?: string;
  /** Readiness budget of each component. Default 60 s (a cold API server on 2 busy cores can take 20 s and more). */
  readonly startTimeoutMs?: number;
  /** How long each component may take to exit after SIGTERM before SIGKILL. Default 10 s. */
  readonly stopTimeoutMs?: number;
  /** Attempts per component when a port turned out to be taken. Default 3. */
  readonly portAttempts?: number;
  /** The openssl executable. Default `openssl`. */
  readonly openssl?: string;
  /** Receives one line per phase, with the elapsed time. Default: silent. */
  readonly progress?: (message: string) => void;
  /**
   * Kill the components at once on SIGINT/SIGTERM/SIGHUP. Default true. An owner that handles signals itself (an
   * operator that must drain and release its Lease through this API server first) passes false, stops the cluster
   * when it is done, and passes `signal` so a signal during the start still ends it. A process exit kills the
   * components either way.
   */
  readonly handleSignals?: boolean;
  /** Aborting it during the start kills what was started and makes `start` throw. Default: none. */
  readonly signal?: AbortSignal;
}

/** The `kubernetes` Service and its endpoint, as Pods reach the API server. */
export interface InClusterApiService {
  readonly clusterIP: string;
  readonly port: number;
  readonly endpoint: { readonly address: string; readonly port: number };
}

/** A component's log file, for failure dumps. */
export interface ComponentLog {
  readonly component: string;
  readonly path: string;
}

const CONTROLLER_MANAGER = 'kube-controller-manager';

/**
 * A throw-away control plane on loopback: etcd, kube-apiserver and optionally kube-controller-manager, each in its own
 * process group, all state under one work directory on tmpfs. Any number can run side by side (own ports, own
 * directories). `stop()` is idempotent; a process exit or SIGINT/SIGTERM kills the components of a cluster that was
 * not stopped.
 */
export class LocalCluster {
  /** `https://127.0.0.1:<port>`. */
  readonly server: string;
  /** Admin (system:masters) kubeconfig, with embedded certificates. */
  readonly kubeconfigPath: string;
  readonly workDir: string;
  /** The serving CA (verify the server with it). */
  readonly caPem: string;
  /** The admin client certificate and key (CN=admin, O=system:masters). */
  readonly admin: CertificatePair;
  /** Whether a kube-controller-manager runs. */
  readonly hasControllerManager: boolean;
  /** `http://127.0.0.1:<port>` of etcd (plain HTTP, its v3 JSON gateway included), e.g. to compact it in tests. */
  readonly etcdUrl: string;
  /**
   * With {@link LocalClusterOptions.inClusterApi}: the `kubernetes` Service (ClusterIP:443) and the endpoint the API
   * server writes for it (advertise address and secure port). Undefined otherwise.
   */
  readonly kubernetesService: InClusterApiService | undefined;
  readonly #state: ClusterState;
  readonly #apiServer: ApiServerSlot;
  #apiServerRuns = 1;
  #stopping: Promise<void> | undefined;

  private constructor(
    state: ClusterState,
    apiServer: ApiServerSlot,
    init: {
      server: string;
      kubeconfigPath: string;
      caPem: string;
      admin: CertificatePair;
      etcdUrl: string;
      kubernetesService: InClusterApiService | undefined;
    },
  ) {
    this.#state = state;
    this.#apiServer = apiServer;
    this.workDir = state.workDir;
    this.etcdUrl = init.etcdUrl;
    this.server = init.server;
    this.kubeconfigPath = init.kubeconfigPath;
    this.caPem = init.caPem;
    this.admin = init.admin;
    this.kubernetesService = init.kubernetesService;
    this.hasControllerManager = state.processes.some((p) => p.component === CONTROLLER_MANAGER && p.exitStatus === undefined);
  }

  /**
   * Starts a cluster and resolves once the API server is ready, the `default` namespace exists and (when asked) the
   * controller manager is healthy. On failure everything started so far is stopped, the work directory is removed
   * except the logs, and the error is one line naming the component and its log file (ComponentStartError).
   */
  static async start(opts: LocalClusterOptions): Promise<LocalCluster> {
    const started = performance.now();
    const name = opts.name ?? 'local-cluster';
    const progress = (message: string) => opts.progress?.(`[${name} ${((performance.now() - started) / 1000).toFixed(1)}s] ${message}`);
    const workDir = await createWorkDir(opts.baseDirs ?? DEFAULT_BASE_DIRS);
    const state: ClusterState = {
      workDir,
      processes: [],
      ports: [],
      portLock: { lockDir: opts.portLockDir ?? join(tmpdir(), 'kube-endpoints-operator-ports') },
      stopTimeoutMs: opts.stopTimeoutMs ?? 10_000,
      unregisterExitCleanup: () => undefined,
    };
    const interrupt = () => {
      state.interrupted ??= killAndRemove(state);
      return state.interrupted;
    };
    state.unregisterExitCleanup = onProcessExit({
      onExit: () => killAndRemoveNow(state),
      ...(opts.handleSignals === false ? {} : { onSignal: interrupt }),
    });
    const abortSignal = opts.signal;
    const onAbort = () => void interrupt();
    if (abortSignal?.aborted) onAbort();
    else abortSignal?.addEventListener('abort', onAbort, { once: true });
    // Between phases: a start interrupted while no component was being awaited must not go on spawning.
    const checkInterrupted = () => {
      if (state.interrupted !== undefined) throw new Error(`${name}: start interrupted`, { cause: abortSignal?.reason });
    };
    const startTimeoutMs = opts.startTimeoutMs ?? 60_000;
    const attempts = opts.portAttempts ?? 3;
    const { binaries } = opts;
    const onSpawn = (p: ComponentProcess) => state.processes.push(p);
    try {
      progress(`Created work directory ${workDir}`);
      const inCluster =
        opts.inClusterApi === undefined
          ? undefined
          : inClusterApiSettings(opts.inClusterApi.advertiseAddress, opts.apiServerFlags?.['service-cluster-ip-range']);
      const certs = await generateControlPlaneCertificates({
        workDir: join(workDir, 'pki'),
        ...(opts.openssl ? { openssl: opts.openssl } : {}),
        ...(inCluster === undefined ? {} : { extraServingNames: inCluster.servingNames }),
      });
      const certDir = join(workDir, 'certs');
      await mkdir(certDir, { recursive: true });
      const files = {
        certDir,
        clientCaFile: join(certDir, 'client-ca.crt'),
        serviceAccountPublicKeyFile: join(certDir, 'sa-signer.pub'),
        serviceAccountSigningKeyFile: join(certDir, 'sa-signer.key'),
      };
      await Promise.all([
        writeFile(join(certDir, 'apiserver.crt'), certs.serving.certPem),
        writeFile(join(certDir, 'apiserver.key'), certs.serving.keyPem, { mode: 0o600 }),
        writeFile(files.clientCaFile, certs.clientCa.certPem),
        writeFile(files.serviceAccountPublicKeyFile, certs.serviceAccount.publicKeyPem),
        writeFile(files.serviceAccountSigningKeyFile, certs.serviceAccount.privateKeyPem, { mode: 0o600 }),
      ]);
      progress('Generated certificates');
      checkInterrupted();

      const etcd = await withFreshPorts(state, 2, attempts, progress, ([clientPort = 0, peerPort = 0]) =>
        startEtcd({
          binary: binaries.etcd,
          dataDir: join(workDir, 'etcd-data'),
          workDir,
          clientPort,
          peerPort,
          startTimeoutMs,
          onSpawn,
          ...(opts.etcdFlags ? { flags: opts.etcdFlags } : {}),
        }),
      );
      progress(`Started etcd on ${etcd.url}`);
      checkInterrupted();

      let apiServerOptions: KubeApiServerOptions | undefined;
      const apiServerProcess = await withFreshPorts(state, 1, attempts, progress, ([port = 0]) => {
        apiServerOptions = {
          binary: binaries.kubeApiServer,
          workDir,
          files,
          etcdUrl: etcd.url,
          securePort: port,
          servingCaPem: certs.servingCa.certPem,
          admin: certs.admin,
          startTimeoutMs,
          onSpawn,
          ...(opts.apiServerFlags || inCluster ? { flags: { ...inCluster?.flags, ...opts.apiServerFlags } } : {}),
        };
        return startKubeApiServer(apiServerOptions);
      });
      if (apiServerOptions === undefined) throw new Error('unreachable: kube-apiserver started without options');
      const apiServer: ApiServerSlot = { options: apiServerOptions, process: apiServerProcess };
      const server = `https://127.0.0.1:${apiServerOptions.securePort}`;
      progress(`Started kube-apiserver on ${server}`);

      const kubeconfigPath = join(workDir, 'admin.kubeconfig');
      await writeKubeconfig(kubeconfigPath, {
        name,
        server,
        caPem: certs.servingCa.certPem,
        clientCertPem: certs.admin.certPem,
        clientKeyPem: certs.admin.keyPem,
      });

      checkInterrupted();
      const controllers = opts.controllers ?? [];
      if (controllers.length > 0) {
        await withFreshPorts(state, 1, attempts, progress, ([port = 0]) =>
          startKubeControllerManager({
            binary: binaries.kubeControllerManager,
            workDir,
            kubeconfigPath,
            controllers,
            securePort: port,
            startTimeoutMs,
            onSpawn,
            ...(opts.controllerManagerFlags ? { flags: opts.controllerManagerFlags } : {}),
          }),
        );
        progress(`Started kube-controller-manager with ${controllers.join(',')}`);
      }
      checkInterrupted();
      progress(`Cluster ready; kubeconfig ${kubeconfigPath}`);
      return new LocalCluster(state, apiServer, {
        server,
        kubeconfigPath,
        caPem: certs.servingCa.certPem,
        admin: certs.admin,
        etcdUrl: etcd.url,
        kubernetesService:
          inCluster === undefined || opts.inClusterApi === undefined
            ? undefined
            : {
                clusterIP: inCluster.clusterIP,
                port: KUBERNETES_SERVICE_PORT,
                endpoint: { address: opts.inClusterApi.advertiseAddress, port: apiServerOptions.securePort },
              },
      });
    } catch (err) {
      // Interrupted by a signal: its cleanup owns the teardown and removes the logs too (nobody will read them).
      if (state.interrupted !== undefined) {
        await state.interrupted;
        throw err;
      }
      await stopProcesses(state);
      state.unregisterExitCleanup();
      await removeAllButLogs(workDir);
      throw err;
    } finally {
      abortSignal?.removeEventListener('abort', onAbort);
    }
  }

  /** Log files of the components started, in start order. They are removed by {@link LocalCluster.stop}. */
  get logs(): readonly ComponentLog[] {
    // A component retried on fresh ports appears twice in the process list but reuses its log file.
    const byPath = new Map(this.#state.processes.map((p) => [p.logPath, p.component]));
    return [...byPath].map(([path, component]) => ({ component, path }));
  }

  /**
   * Stops the API server (SIGTERM, SIGKILL after `timeoutMs`, default the stop timeout) and leaves etcd and its data
   * running, so clients can be tested against an API server that goes away. While a watch is open, kube-apiserver
   * stops listening at once but does not exit on SIGTERM before the SIGKILL; a short timeout saves that wait. Resolves
   * once it has exited. Idempotent.
   */
  async stopApiServer(opts: { readonly timeoutMs?: number } = {}): Promise<void> {
    await this.#apiServer.process.stop(opts.timeoutMs ?? this.#state.stopTimeoutMs);
  }

  /**
   * Starts the API server again on the same port, with the same flags, certificates and etcd (all objects and
   * resourceVersions survive), and resolves once it is ready as at the first start. Does nothing while it runs.
   * The new run logs to `kube-apiserver-<n>.log`. Throws ComponentStartError, also when another process took the
   * port meanwhile (the address is part of every kubeconfig handed out, so there is no retrying on another port).
   */
  async startApiServer(): Promise<void> {
    if (this.#stopping !== undefined) throw new Error('the cluster is stopped');
    if (this.#apiServer.process.exitStatus === undefined) return;
    this.#apiServerRuns++;
    this.#apiServer.process = await startKubeApiServer({
      ...this.#apiServer.options,
      logFile: `kube-apiserver-${this.#apiServerRuns}.log`,
    });
  }

  /** {@link stopApiServer} then {@link startApiServer}: an API server restart, as in an upgrade. */
  async restartApiServer(opts: { readonly timeoutMs?: number } = {}): Promise<void> {
    await this.stopApiServer(opts);
    await this.startApiServer();
  }

  /**
   * Stops the components (controller manager, API server, etcd: SIGTERM to each process group, SIGKILL after the stop
   * timeout), releases the ports and removes the work directory. Idempotent; concurrent calls share one stop.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await stopProcesses(this.#state);
      this.#state.unregisterExitCleanup();
      await rm(this.#state.workDir, { recursive: true, force: true });
    })();
    return this.#stopping;
  }

  /** `await using cluster = await LocalCluster.start(...)` stops it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** The API server's start options (for restarts) and its current process. */
interface ApiServerSlot {
  readonly options: KubeApiServerOptions;
  process: ComponentProcess;
}

interface ClusterState {
  readonly workDir: string;
  /** Every child spawned, in start order (including failed attempts, whose stop is a no-op); stopped in reverse. */
  readonly processes: ComponentProcess[];
  readonly ports: number[];
  readonly portLock: PortAllocatorOptions;
  readonly stopTimeoutMs: number;
  unregisterExitCleanup: () => void;
  /** Set when a signal's cleanup started; settles when it is done. */
  interrupted?: Promise<void>;
}

/**
 * Runs `start` with `count` newly reserved ports, retrying on new ports when the component reports "address already
 * in use" (another process bound a port between our check and the component's bind).
 */
async function withFreshPorts<T>(
  state: ClusterState,
  count: number,
  attempts: number,
  progress: (message: string) => void,
  start: (ports: number[]) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) ports.push(await allocatePort(state.portLock));
    state.ports.push(...ports);
    try {
      return await start(ports);
    } catch (err) {
      if (!(err instanceof ComponentStartError && err.portInUse) || attempt >= attempts) throw err;
      progress(`${err.component} found a port taken; retrying on new ports (attempt ${attempt + 1} of ${attempts})`);
    }
  }
}

async function stopProcesses(state: ClusterState): Promise<void> {
  for (const p of [...state.processes].reverse()) await p.stop(state.stopTimeoutMs);
  await Promise.all(state.ports.map((port) => releasePort(state.portLock, port)));
}

/** Synchronous variant for process exit: no graceful shutdown, nothing awaited. */
function killAndRemoveNow(state: ClusterState): void {
  for (const p of state.processes) p.killNow();
  rmSync(state.workDir, { recursive: true, force: true });
  for (const port of state.ports) releasePortSync(state.portLock, port);
}

/**
 * For an interrupted run: no graceful shutdown either (the data is thrown away), but the children are awaited so
 * this process reaps them; otherwise they linger as zombies wherever PID 1 does not reap orphans (containers).
 */
async function killAndRemove(state: ClusterState): Promise<void> {
  for (const p of state.processes) p.killNow();
  await Promise.all(state.processes.map((p) => p.waitForExit(5_000)));
  await rm(state.workDir, { recursive: true, force: true });
  await Promise.all(state.ports.map((port) => releasePort(state.portLock, port)));
}

/** Keeps `*.log` so the path named in a start error stays readable; drops etcd data, keys and certificates. */
async function removeAllButLogs(workDir: string): Promise<void> {
  const entries = await readdir(workDir).catch(() => [] as string[]);
  await Promise.all(entries.filter((e) => !e.endsWith('.log')).map((e) => rm(join(workDir, e), { recursive: true, force: true })));
}
