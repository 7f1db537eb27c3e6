import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { onProcessExit } from '../../hack/local-cluster/exit-cleanup.ts';
import type { TestCluster } from '../envtest/test-cluster.ts';
import { waitFor } from '../envtest/wait-for.ts';
import type { ControllerProcess } from './controller-process.ts';
import { ENDPOINT_CONTROLLERS } from './kcm-process.ts';
import { PARITY_TUNING } from './parity-env.ts';
import { parseSamples, sumSamples } from './prometheus-text.ts';

// This operator as a user runs it, `node cmd/operator/main.ts --kubeconfig …`, as a child process of the test: the
// three endpoint controllers, no leader election, the parity tuning, metrics and health on free loopback ports. Each
// run logs (JSON, one line per entry) to `operator-<n>.log` in the cluster's work directory.

const MAIN = join(import.meta.dirname, '../../cmd/operator/main.ts');

/** The client verbs of the operator's rest_client_requests_total that change the cluster. */
const WRITE_VERBS = ['create', 'update', 'patch', 'delete'];

const startedLine = z.looseObject({
  msg: z.literal('Started manager'),
  metrics: z.object({ port: z.number() }),
  health: z.object({ port: z.number() }),
});

interface Run {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logPath: string;
  readonly exited: Promise<void>;
  exitedYet: boolean;
  metricsPort?: number;
}

export class OperatorProcess implements ControllerProcess {
  readonly side = 'operator';
  readonly #cluster: TestCluster;
  readonly #logs: string[] = [];
  #run: Run | undefined;
  #runs = 0;

  constructor(cluster: TestCluster) {
    this.#cluster = cluster;
    const unregister = onProcessExit({ onExit: () => this.#signal('SIGKILL') });
    after(async () => {
      await this.stop();
      unregister();
    });
  }

  get running(): boolean {
    return this.#run !== undefined && !this.#run.exitedYet;
  }

  get runs(): number {
    return this.#runs;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error('the operator is already running');
    this.#runs++;
    const logPath = join(this.#cluster.cluster.workDir, `operator-${this.#runs}.log`);
    this.#logs.push(logPath);
    const fd = openSync(logPath, 'w');
    let child: ChildProcess;
    try {
      child = spawn(
        process.execPath,
        [
          MAIN,
          `--kubeconfig=${this.#cluster.cluster.kubeconfigPath}`,
          '--leader-elect=false',
          `--controllers=${ENDPOINT_CONTROLLERS.join(',')}`,
          `--max-endpoints-per-slice=${PARITY_TUNING.maxEndpointsPerSlice}`,
          `--mirroring-max-endpoints-per-subset=${PARITY_TUNING.mirroringMaxEndpointsPerSubset}`,
          '--metrics-bind-address=127.0.0.1:0',
          '--health-probe-bind-address=127.0.0.1:0',
          '--log-level=info',
        ],
        // Only PATH: the caller's KUBECONFIG or POD_NAMESPACE must not change what it connects to.
        { env: { PATH: process.env.PATH ?? '' }, detached: true, stdio: ['ignore', fd, fd] },
      );
    } finally {
      closeSync(fd);
    }
    child.unref();
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid ?? -1));
      child.once('error', reject);
    });
    const run: Run = {
      child,
      pid,
      logPath,
      exitedYet: false,
      exited: new Promise((resolve) =>
        child.once('exit', () => {
          run.exitedYet = true;
          resolve();
        }),
      ),
    };
    this.#run = run;
    let healthPort: number | undefined;
    await waitFor(
      async () => {
        if (run.exitedYet) throw new Error(`the operator exited during its start; log: ${logPath}\n${await readFile(logPath, 'utf8')}`);
        if (healthPort === undefined) {
          for (const line of (await readFile(logPath, 'utf8')).split('\n')) {
            const started = startedLine.safeParse(safeJson(line));
            if (started.success) {
              healthPort = started.data.health.port;
              run.metricsPort = started.data.metrics.port;
            }
          }
          if (healthPort === undefined) return false;
        }
        // Ready once every informer has synced (Manager: readiness).
        const res = await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined);
        await res?.arrayBuffer();
        return res?.status === 200;
      },
      { description: 'the operator to sync its caches (/readyz)', timeoutMs: 60_000, intervalMs: 100 },
    );
  }

  async #metrics() {
    const port = this.#run?.metricsPort;
    if (port === undefined || !this.running) throw new Error('the operator is not running');
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    return parseSamples(await res.text());
  }

  /** Sum of the depths and of the adds of its work queues. */
  async queues(): Promise<{ depth: number; adds: number }> {
    const samples = await this.#metrics();
    return { depth: sumSamples(samples, 'workqueue_depth'), adds: sumSamples(samples, 'workqueue_adds_total') };
  }

  /** The create/update/patch/delete requests this run made, by its own client metrics. */
  async writes(): Promise<number> {
    return sumSamples(await this.#metrics(), 'rest_client_requests_total', { verb: WRITE_VERBS });
  }

  async kill(): Promise<void> {
    const run = this.#run;
    if (run === undefined || run.exitedYet) return;
    this.#signal('SIGKILL');
    await run.exited;
  }

  async stop(): Promise<void> {
    const run = this.#run;
    if (run === undefined || run.exitedYet) return;
    this.thaw();
    this.#signal('SIGTERM');
    const timer = new AbortController();
    const exited = await Promise.race([run.exited.then(() => true), sleep(15_000, false, { signal: timer.signal }).catch(() => true)]);
    timer.abort();
    if (!exited) {
      this.#signal('SIGKILL');
      await run.exited;
    }
  }

  freeze(): void {
    this.#signal('SIGSTOP');
  }

  thaw(): void {
    this.#signal('SIGCONT');
  }

  async logText(): Promise<string> {
    const texts = await Promise.all(this.#logs.map((p) => readFile(p, 'utf8').catch(() => '')));
    return texts.join('\n');
  }

  #signal(signal: NodeJS.Signals): void {
    const run = this.#run;
    if (run === undefined || run.exitedYet) return;
    try {
      process.kill(-run.pid, signal);
    } catch {
      // already gone
    }
  }
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
