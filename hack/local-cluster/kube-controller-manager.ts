import { join } from 'node:path';
import { ComponentProcess } from './component-process.ts';
import { type Flags, renderFlags } from './flags.ts';
import { probeHttp } from './http-probe.ts';

/** Inputs of {@link startKubeControllerManager}. */
export interface KubeControllerManagerOptions {
  readonly binary: string;
  /** Working directory; the log file `kube-controller-manager.log` goes here. */
  readonly workDir: string;
  /** An admin (system:masters) kubeconfig: every controller runs with that identity. */
  readonly kubeconfigPath: string;
  /** `--controllers`, e.g. endpoints-controller,endpointslice-controller,endpointslice-mirroring-controller. */
  readonly controllers: readonly string[];
  readonly securePort: number;
  /** Overrides and additions to the default flags, by name (e.g. concurrent-service-endpoint-syncs, v). */
  readonly flags?: Flags;
  readonly startTimeoutMs: number;
  /** Called with the child right after it is spawned (see ComponentSpawnOptions.onSpawn). */
  readonly onSpawn?: (process: ComponentProcess) => void;
}

/**
 * The kube-controller-manager command line (docs/local-cluster.md): only the listed controllers, no leader election (it
 * would create a Lease and delay the start), health served on loopback with an in-memory self-signed certificate. No
 * --authentication-kubeconfig: with it, kube-controller-manager keeps logging errors about the request header CA the
 * local API server does not configure; without it, only /healthz-style paths are served, which is all the launcher
 * needs. Pure.
 */
export function kubeControllerManagerArgs(
  opts: Pick<KubeControllerManagerOptions, 'kubeconfigPath' | 'controllers' | 'securePort' | 'flags'>,
): string[] {
  if (opts.controllers.length === 0) throw new Error('kube-controller-manager needs at least one controller');
  return renderFlags(
    {
      kubeconfig: opts.kubeconfigPath,
      controllers: opts.controllers.join(','),
      'leader-elect': 'false',
      'bind-address': '127.0.0.1',
      'secure-port': String(opts.securePort),
    },
    opts.flags,
  );
}

/**
 * Starts kube-controller-manager and waits for its `/healthz` to answer 200. Healthy is not yet "acting": controllers
 * start after their informers sync, so tests still poll for the first object they expect. Throws ComponentStartError.
 */
export async function startKubeControllerManager(opts: KubeControllerManagerOptions): Promise<ComponentProcess> {
  const proc = await ComponentProcess.spawn({
    component: 'kube-controller-manager',
    binary: opts.binary,
    args: kubeControllerManagerArgs(opts),
    logPath: join(opts.workDir, 'kube-controller-manager.log'),
    cwd: opts.workDir,
    ...(opts.onSpawn ? { onSpawn: opts.onSpawn } : {}),
  });
  try {
    await proc.waitUntilReady(
      'healthy (/healthz)',
      async () => (await probeHttp(`https://127.0.0.1:${opts.securePort}/healthz`, { insecure: true })).status === 200,
      { timeoutMs: opts.startTimeoutMs, intervalMs: 200 },
    );
  } catch (err) {
    await proc.stop(5_000);
    throw err;
  }
  return proc;
}
