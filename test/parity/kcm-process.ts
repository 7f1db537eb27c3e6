import https from 'node:https';
import { mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { locateControlPlaneBinaries } from '../../hack/local-cluster/binaries.ts';
import type { ComponentProcess } from '../../hack/local-cluster/component-process.ts';
import { onProcessExit } from '../../hack/local-cluster/exit-cleanup.ts';
import { startKubeControllerManager } from '../../hack/local-cluster/kube-controller-manager.ts';
import { allocatePort, releasePort, releasePortSync } from '../../hack/local-cluster/ports.ts';
import type { TestCluster } from '../envtest/test-cluster.ts';
import { waitFor } from '../envtest/wait-for.ts';
import type { ControllerProcess } from './controller-process.ts';
import { PARITY_TUNING } from './parity-env.ts';
import { parseSamples, sumSamples } from './prometheus-text.ts';

// kube-controller-manager's three endpoint controllers on a test cluster that was started without one, under this
// file's control: started, SIGKILLed, frozen and restarted at will. Each run logs to its own file in the cluster's work
// directory (`kcm-<n>/kube-controller-manager.log`), so a later run does not overwrite what an earlier one logged.

export const ENDPOINT_CONTROLLERS = ['endpoints-controller', 'endpointslice-controller', 'endpointslice-mirroring-controller'] as const;

/** The queue names of the three controllers in kube-controller-manager's workqueue metrics. */
const QUEUES = ['endpoint', 'endpoint_slice', 'endpoint_slice_mirroring'];

/** Printed by each controller's Run before it waits for its caches (endpoints_controller.go: Run, and the others). */
const STARTED_LINES = ['Starting endpoint controller', 'Starting endpoint slice controller', 'Starting EndpointSliceMirroring controller'];

const PORT_LOCK = { lockDir: join(tmpdir(), 'kube-endpoints-operator-ports') };

export class KcmProcess implements ControllerProcess {
  readonly side = 'kube-controller-manager';
  readonly #cluster: TestCluster;
  #process: ComponentProcess | undefined;
  #port: number | undefined;
  #runs = 0;
  readonly #logs: string[] = [];

  readonly #extraFlags: Readonly<Record<string, string>>;
  readonly #controllers: readonly string[];

  /**
   * `extraFlags`: more kube-controller-manager flags, e.g. `{ v: '4' }` to log the reflectors' watch errors.
   * `controllers`: default the three endpoint controllers; e.g. `['garbage-collector-controller']` for a garbage
   * collector alone (then `start` waits only for /healthz).
   */
  constructor(
    cluster: TestCluster,
    extraFlags: Readonly<Record<string, string>> = {},
    controllers: readonly string[] = ENDPOINT_CONTROLLERS,
  ) {
    this.#cluster = cluster;
    this.#extraFlags = extraFlags;
    this.#controllers = controllers;
    // A test that fails before its after() hook, or a Ctrl-C, must not leave the process or its port behind.
    const unregister = onProcessExit({
      onExit: () => {
        this.#process?.killNow();
        if (this.#port !== undefined) releasePortSync(PORT_LOCK, this.#port);
      },
    });
    after(async () => {
      await this.stop();
      unregister();
    });
  }

  get running(): boolean {
    return this.#process !== undefined && this.#process.exitStatus === undefined;
  }

  get runs(): number {
    return this.#runs;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error('kube-controller-manager is already running');
    await this.#releasePort();
    const binaries = await locateControlPlaneBinaries({ kubebuilderAssets: process.env.KUBEBUILDER_ASSETS, env: process.env });
    this.#runs++;
    const workDir = join(this.#cluster.cluster.workDir, `kcm-${this.#runs}`);
    await mkdir(workDir, { recursive: true });
    const port = await allocatePort(PORT_LOCK);
    this.#port = port;
    const logPath = join(workDir, 'kube-controller-manager.log');
    this.#logs.push(logPath);
    this.#process = await startKubeControllerManager({
      binary: binaries.kubeControllerManager,
      workDir,
      kubeconfigPath: this.#cluster.cluster.kubeconfigPath,
      controllers: this.#controllers,
      securePort: port,
      startTimeoutMs: 60_000,
      flags: {
        'max-endpoints-per-slice': String(PARITY_TUNING.maxEndpointsPerSlice),
        'mirroring-max-endpoints-per-subset': String(PARITY_TUNING.mirroringMaxEndpointsPerSubset),
        // /metrics readable without credentials (loopback only), for the queue depths idleness is judged by.
        'authorization-always-allow-paths': '/healthz,/readyz,/livez,/metrics',
        ...this.#extraFlags,
      },
    });
    if (!ENDPOINT_CONTROLLERS.every((c) => this.#controllers.includes(c))) return;
    // Every controller logs "Starting …" and then "Caches are synced" once its informers have synced.
    await waitFor(
      async () => {
        const log = await readFile(logPath, 'utf8');
        return STARTED_LINES.every((l) => log.includes(l)) && (log.match(/Caches are synced/g) ?? []).length >= STARTED_LINES.length;
      },
      { description: 'kube-controller-manager: the three endpoint controllers to sync their caches', timeoutMs: 60_000, intervalMs: 100 },
    );
  }

  /** Sum of the depths and of the adds of the three controllers' work queues, from its /metrics. */
  async queues(): Promise<{ depth: number; adds: number }> {
    if (this.#port === undefined || !this.running) throw new Error('kube-controller-manager is not running');
    const samples = parseSamples(await getInsecure(`https://127.0.0.1:${this.#port}/metrics`));
    return {
      depth: sumSamples(samples, 'workqueue_depth', { name: QUEUES }),
      adds: sumSamples(samples, 'workqueue_adds_total', { name: QUEUES }),
    };
  }

  async kill(): Promise<void> {
    const p = this.#process;
    if (p === undefined) return;
    p.killNow();
    await p.waitForExit(10_000);
    await this.#releasePort();
  }

  async stop(): Promise<void> {
    const p = this.#process;
    if (p === undefined) return;
    this.thaw(); // a frozen process cannot act on SIGTERM
    await p.stop(10_000);
    await this.#releasePort();
  }

  freeze(): void {
    if (this.#process !== undefined) process.kill(-this.#process.pid, 'SIGSTOP');
  }

  thaw(): void {
    if (this.running && this.#process !== undefined) process.kill(-this.#process.pid, 'SIGCONT');
  }

  async logText(): Promise<string> {
    const texts = await Promise.all(this.#logs.map((p) => readFile(p, 'utf8').catch(() => '')));
    return texts.join('\n');
  }

  async #releasePort(): Promise<void> {
    if (this.#port !== undefined && !this.running) {
      await releasePort(PORT_LOCK, this.#port);
      this.#port = undefined;
    }
  }
}

/** GET of a loopback HTTPS endpoint with kube-controller-manager's in-memory self-signed certificate. Whole body. */
function getInsecure(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { rejectUnauthorized: false, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) resolve(body);
        else reject(new Error(`GET ${url}: ${res.statusCode} ${body.slice(0, 200)}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
  });
}
