import { join } from 'node:path';
import type { CertificatePair } from './certs.ts';
import { ComponentProcess } from './component-process.ts';
import { type Flags, renderFlags } from './flags.ts';
import { probeHttp } from './http-probe.ts';

/** Files the API server reads, written beforehand by the launcher. */
export interface KubeApiServerFiles {
  /** Holds apiserver.crt and apiserver.key: the API server picks those up from --cert-dir. */
  readonly certDir: string;
  readonly clientCaFile: string;
  readonly serviceAccountPublicKeyFile: string;
  readonly serviceAccountSigningKeyFile: string;
}

/** Inputs of {@link startKubeApiServer}. */
export interface KubeApiServerOptions {
  readonly binary: string;
  /** Working directory; the log file goes here. */
  readonly workDir: string;
  /** Log file name in `workDir`. Default `kube-apiserver.log`; a restart uses another so the first run's log survives. */
  readonly logFile?: string;
  readonly files: KubeApiServerFiles;
  /** `http://127.0.0.1:<port>` of etcd. */
  readonly etcdUrl: string;
  readonly securePort: number;
  /** Default 10.0.0.0/24, as envtest. */
  readonly serviceClusterIpRange?: string;
  /** Overrides and additions to the default flags, by name. */
  readonly flags?: Flags;
  /** Serving CA (to verify the server) and an admin client certificate (to read the `default` namespace). */
  readonly servingCaPem: string;
  readonly admin: CertificatePair;
  /** Budget for /readyz plus the `default` namespace together. */
  readonly startTimeoutMs: number;
  /** Called with the child right after it is spawned (see ComponentSpawnOptions.onSpawn). */
  readonly onSpawn?: (process: ComponentProcess) => void;
}

/**
 * The kube-apiserver command line: envtest's flags (controller-runtime pkg/internal/testing/controlplane/apiserver.go:
 * APIServer.defaultArgs; see docs/local-cluster.md) plus a loopback advertise address (no default route needed) and no
 * endpoint reconciler (loopback endpoints for default/kubernetes would be rejected and would clutter endpoint
 * comparisons). Pure.
 */
export function kubeApiServerArgs(
  opts: Pick<KubeApiServerOptions, 'files' | 'etcdUrl' | 'securePort' | 'serviceClusterIpRange' | 'flags'>,
): string[] {
  return renderFlags(
    {
      'etcd-servers': opts.etcdUrl,
      'cert-dir': opts.files.certDir,
      'secure-port': String(opts.securePort),
      'bind-address': '127.0.0.1',
      'advertise-address': '127.0.0.1',
      'service-cluster-ip-range': opts.serviceClusterIpRange ?? '10.0.0.0/24',
      'allow-privileged': 'true',
      // Without a kube-controller-manager nobody creates the `default` ServiceAccount every pod would need.
      'disable-admission-plugins': 'ServiceAccount',
      'authorization-mode': 'RBAC',
      'endpoint-reconciler-type': 'none',
      'service-account-issuer': `https://127.0.0.1:${opts.securePort}/`,
      'service-account-key-file': opts.files.serviceAccountPublicKeyFile,
      'service-account-signing-key-file': opts.files.serviceAccountSigningKeyFile,
      'client-ca-file': opts.files.clientCaFile,
    },
    opts.flags,
  );
}

/**
 * Starts kube-apiserver and waits until `/readyz` answers 200 and the `default` namespace exists (the bootstrap
 * controller creates it shortly after readiness; clients creating objects in `default` would race it otherwise).
 * Throws ComponentStartError (one line naming the log); a timed-out process is stopped before throwing.
 */
export async function startKubeApiServer(opts: KubeApiServerOptions): Promise<ComponentProcess> {
  const proc = await ComponentProcess.spawn({
    component: 'kube-apiserver',
    binary: opts.binary,
    args: kubeApiServerArgs(opts),
    logPath: join(opts.workDir, opts.logFile ?? 'kube-apiserver.log'),
    cwd: opts.workDir,
    ...(opts.onSpawn ? { onSpawn: opts.onSpawn } : {}),
  });
  const base = `https://127.0.0.1:${opts.securePort}`;
  const started = performance.now();
  const remaining = () => Math.max(1, opts.startTimeoutMs - (performance.now() - started));
  try {
    await proc.waitUntilReady(
      'ready (/readyz)',
      async () => (await probeHttp(`${base}/readyz`, { caPem: opts.servingCaPem })).status === 200,
      {
        timeoutMs: remaining(),
        intervalMs: 200,
      },
    );
    const tls = { caPem: opts.servingCaPem, certPem: opts.admin.certPem, keyPem: opts.admin.keyPem };
    await proc.waitUntilReady(
      'the default namespace',
      async () => (await probeHttp(`${base}/api/v1/namespaces/default`, tls)).status === 200,
      { timeoutMs: remaining(), intervalMs: 50 },
    );
  } catch (err) {
    await proc.stop(5_000);
    throw err;
  }
  return proc;
}
