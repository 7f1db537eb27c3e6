import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ComponentProcess } from './component-process.ts';
import { type Flags, renderFlags } from './flags.ts';
import { probeHttp } from './http-probe.ts';

const execFileAsync = promisify(execFile);

/** Inputs of {@link startEtcd}. */
export interface EtcdOptions {
  readonly binary: string;
  /** Created by etcd; put it on tmpfs. */
  readonly dataDir: string;
  /** Working directory of the process; the log file `etcd.log` goes here. */
  readonly workDir: string;
  readonly clientPort: number;
  /** Bound but never used (single member); still must be free. */
  readonly peerPort: number;
  readonly startTimeoutMs: number;
  /** Called with the child right after it is spawned (see ComponentSpawnOptions.onSpawn). */
  readonly onSpawn?: (process: ComponentProcess) => void;
  readonly flags?: Flags;
}

/** A running, healthy etcd. */
export interface RunningEtcd {
  readonly process: ComponentProcess;
  /** `http://127.0.0.1:<clientPort>`: the API server's --etcd-servers. */
  readonly url: string;
}

/**
 * The etcd command line (flags per envtest). `--unsafe-no-fsync` is passed only when the binary knows it (etcd 3.5+),
 * so an older etcd handed in through KUBEBUILDER_ASSETS still starts. Pure.
 */
export function etcdArgs(opts: Pick<EtcdOptions, 'dataDir' | 'clientPort' | 'peerPort' | 'flags'>, supportsNoFsync: boolean): string[] {
  const client = `http://127.0.0.1:${opts.clientPort}`;
  const defaults: Record<string, string> = {
    'data-dir': opts.dataDir,
    'listen-client-urls': client,
    'advertise-client-urls': client,
    'listen-peer-urls': `http://127.0.0.1:${opts.peerPort}`,
  };
  if (supportsNoFsync) defaults['unsafe-no-fsync'] = 'true';
  return renderFlags(defaults, opts.flags);
}

/** Starts etcd and waits for `/health` to answer 200. Throws ComponentStartError (one line naming the log). */
export async function startEtcd(opts: EtcdOptions): Promise<RunningEtcd> {
  const help = await execFileAsync(opts.binary, ['--help'], { timeout: 10_000, env: {} }).catch(
    (err: { stdout?: string; stderr?: string }) => ({
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    }),
  );
  const supportsNoFsync = `${help.stdout}${help.stderr}`.includes('--unsafe-no-fsync');
  const url = `http://127.0.0.1:${opts.clientPort}`;
  const proc = await ComponentProcess.spawn({
    component: 'etcd',
    binary: opts.binary,
    args: etcdArgs(opts, supportsNoFsync),
    logPath: join(opts.workDir, 'etcd.log'),
    cwd: opts.workDir,
    ...(opts.onSpawn ? { onSpawn: opts.onSpawn } : {}),
  });
  try {
    await proc.waitUntilReady('healthy', async () => (await probeHttp(`${url}/health`)).status === 200, { timeoutMs: opts.startTimeoutMs });
  } catch (err) {
    await proc.stop(5_000);
    throw err;
  }
  return { process: proc, url };
}
