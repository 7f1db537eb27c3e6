// The endpoints benchmark: kube-controller-manager's endpoint controllers and this operator, each against its own
// fresh local control plane (etcd + kube-apiserver on loopback), on the same workloads, in one run. Both controllers
// run as child processes so that their CPU time and peak RSS are read the same way, from /proc. Measured per workload:
// initial sync convergence, churn latency (a readiness flip sent -> the write reflecting it seen on a watch), API
// writes and bytes (from the API server's own counters: the benchmark never writes Endpoints or EndpointSlices),
// zero writes on restart and on a resync of every Service (counted until the restarted controller proves a full sync
// through its own workqueue metrics), a rolling restart with its stale endpoint-seconds, controller CPU and peak RSS.
// The operator runs twice per workload: with the container env of config/manager (its NODE_OPTIONS heap cap, read
// from the manifest) and without it ("uncapped"). With --repeat N every workload runs N times, alternating which
// implementation goes first, and the tables show medians with min-max.
//
//   node hack/bench/endpoints-bench.ts [--preset quick|default|large] [--services N --pods N] [--repeat N] [--help]
//
// Prints a table on stdout, progress on stderr, writes bench-results/<timestamp>.json and (for the default preset)
// docs/bench/default.json and docs/bench/default.svg (with --update-docs: docs/bench/<preset>.*).

import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { endpointsSchema } from '../../api/core/v1.ts';
import { endpointSliceSchema } from '../../api/discovery/v1.ts';
import { type ApiClient, newApiClient } from '../../controllers/runtime/api-client.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import { ENDPOINT_SLICES, ENDPOINTS } from '../../controllers/runtime/resource.ts';
import { mulberry32 } from '../../test/parity/mulberry32.ts';
import { type ControlPlaneBinaries, locateControlPlaneBinaries } from '../local-cluster/binaries.ts';
import { ComponentProcess } from '../local-cluster/component-process.ts';
import { onProcessExit } from '../local-cluster/exit-cleanup.ts';
import { startKubeControllerManager } from '../local-cluster/kube-controller-manager.ts';
import { LocalCluster } from '../local-cluster/local-cluster.ts';
import { allocatePort, releasePort } from '../local-cluster/ports.ts';
import { ApiServerMetrics, diffWriteCounters, totalBodyBytes, totalWrites, type WriteCounters } from './apiserver-metrics.ts';
import { BENCH_USAGE, type BenchConfig, type Implementation, parseBenchArgs, type Shape } from './bench-config.ts';
import { aggregateRuns } from './aggregate.ts';
import {
  type BenchRun,
  type ImplementationResult,
  type PhaseWrites,
  renderTable,
  type ShapeResult,
  type Spread,
  type StaleEndpointSeconds,
} from './bench-report.ts';
import { writeDocsResults } from './docs-results.ts';
import { ConvergenceTracker, MAX_ENDPOINTS_ADDRESSES } from './convergence-tracker.ts';
import { loadShippedRuntime, type ShippedRuntime } from './operator-launch.ts';
import { StaleEndpointMeter } from './stale-endpoints.ts';
import { closeScraper, fullSyncDone, type QueueProgress, queueProgress, scrapeMetrics, SYNC_QUEUES } from './sync-proof.ts';
import { FlipLatencyRecorder } from './flip-latency.ts';
import { ObjectWatch } from './object-watch.ts';
import { type ProcessSample, sampleProcess } from './proc-stats.ts';
import { ProgressBar } from './progress-bar.ts';
import { summarize } from './stats.ts';
import {
  BENCH_NAMESPACE,
  BENCH_POD_PORT,
  type BenchPod,
  createBase,
  createPod,
  createService,
  inParallel,
  setPodReady,
  terminatePod,
  touchService,
  Workload,
} from './workload.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
/**
 * The checkout whose operator runs. BENCH_OPERATOR_REPO points it at another one (e.g. `git worktree add /tmp/before
 * main`) to measure a before/after pair with the same harness; that checkout must have its dependencies installed.
 */
const OPERATOR_REPO = resolve(process.env.BENCH_OPERATOR_REPO ?? REPO);
/**
 * What runs is what the image runs: the operator bundled by the checkout's hack/build-operator.ts (the Dockerfile's
 * build stage), into a directory of this run. A checkout from before the bundle runs its cmd/operator/main.ts.
 */
const OPERATOR_BUNDLE_DIR = join(tmpdir(), `kube-endpoints-operator-bench-${process.pid}`);
let OPERATOR_MAIN = join(OPERATOR_REPO, 'cmd/operator/main.ts');

const INFORMER_BENCH = join(REPO, 'hack/bench/informer-bench.ts');
const CONTROLLERS = ['endpoints-controller', 'endpointslice-controller', 'endpointslice-mirroring-controller'];
const RESOURCES = ['endpoints', 'endpointslices'];
const PORT_LOCKS = { lockDir: join(tmpdir(), 'kube-endpoints-operator-ports') };
/** No Endpoints or EndpointSlice event for this long: the controller is done with the phase. */
const QUIET_MS = 3000;
/** A flip not seen in both resources after this long counts as timed out. */
const FLIP_TIMEOUT_MS = 60_000;
/** Fraction of Pods replaced at a time in the rolling restart (a Deployment's 25 % surge, in smaller steps). */
const ROLLING_BATCH = 0.05;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves `p`, or undefined after `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How long a restarted controller may take to prove a full sync before the window closes anyway: 120 s, or 40 ms per
 * Service when that is longer (neither implementation proved one for 5,000 Services within 120 s).
 */
const SYNC_PROOF_TIMEOUT_MS = 120_000;
const SYNC_PROOF_MS_PER_SERVICE = 40;
const syncProofTimeoutMs = (services: number) => Math.max(SYNC_PROOF_TIMEOUT_MS, services * SYNC_PROOF_MS_PER_SERVICE);
/**
 * The Node compile cache the operator image is built with (Dockerfile: NODE_COMPILE_CACHE, warmed by one start at build
 * time); the benchmark warms its own copy the same way before the first operator start.
 */
const COMPILE_CACHE_DIR = join(tmpdir(), 'kube-endpoints-operator-bench-compile-cache');

/** What the operator processes run with: the shipped container env, and extra Node flags (profiling). */
interface OperatorRuntime {
  readonly shipped: ShippedRuntime;
  readonly nodeArgs: readonly string[];
}

/** A controller process under test. */
interface ControllerRun {
  readonly process: ComponentProcess;
  readonly startedAt: number;
  /** Its metrics endpoint (workqueue metrics prove a full sync). */
  readonly metricsUrl: string;
  readonly release: () => Promise<void>;
  /** Last successful /proc reading (kept so a crashed process still reports something). */
  last: ProcessSample | undefined;
}

/** One implementation's cluster, watches and trackers for one shape. */
interface Harness {
  readonly impl: Implementation;
  readonly cluster: LocalCluster;
  readonly client: ApiClient;
  readonly metrics: ApiServerMetrics;
  readonly tracker: ConvergenceTracker;
  readonly stale: StaleEndpointMeter;
  readonly flips: FlipLatencyRecorder;
  readonly watches: ObjectWatch[];
  /** The first Endpoints or EndpointSlice event at or after `since` (the controller's first visible write). */
  readonly firstEvent: { since: number; at: number | undefined };
}

interface Snapshot {
  readonly counters: WriteCounters;
  readonly events: number;
  readonly watchBytes: number;
}

async function snapshot(h: Harness): Promise<Snapshot> {
  const counters = await h.metrics.writes(RESOURCES);
  let events = 0;
  let watchBytes = 0;
  for (const w of h.watches) {
    events += w.counts.events;
    watchBytes += w.counts.objectBytes;
  }
  return { counters, events, watchBytes };
}

function phaseWrites(a: Snapshot, b: Snapshot): PhaseWrites {
  const d = diffWriteCounters(a.counters, b.counters);
  return {
    endpoints: totalWrites(d, 'endpoints'),
    endpointSlices: totalWrites(d, 'endpointslices'),
    requestBytes: totalBodyBytes(d),
    watchEvents: b.events - a.events,
    watchBytes: b.watchBytes - a.watchBytes,
    apiServerSeconds: { endpoints: d.seconds.endpoints ?? 0, endpointSlices: d.seconds.endpointslices ?? 0 },
  };
}

async function waitQuiet(h: Harness, maxMs: number): Promise<void> {
  const deadline = performance.now() + maxMs;
  while (performance.now() < deadline) {
    const last = Math.max(...h.watches.map((w) => w.counts.lastEventAt));
    const idle = performance.now() - last;
    if (idle >= QUIET_MS) return;
    await sleep(Math.min(250, QUIET_MS - idle + 10));
  }
}

async function startController(
  impl: Implementation,
  h: Harness,
  binaries: ControlPlaneBinaries,
  config: BenchConfig,
  runtime: OperatorRuntime,
): Promise<ControllerRun> {
  const startedAt = performance.now();
  let proc: ComponentProcess | undefined;
  const unregister = onProcessExit({
    onExit: () => proc?.killNow(),
    onSignal: async () => {
      proc?.killNow();
      await proc?.waitForExit(5000);
    },
  });
  const tuning = { 'kube-api-qps': String(config.qps), 'kube-api-burst': String(config.burst) };
  if (impl === 'kube-controller-manager') {
    const port = await allocatePort(PORT_LOCKS);
    proc = await startKubeControllerManager({
      binary: binaries.kubeControllerManager,
      workDir: h.cluster.workDir,
      kubeconfigPath: h.cluster.kubeconfigPath,
      controllers: CONTROLLERS,
      securePort: port,
      startTimeoutMs: 60_000,
      // Without authentication flags only always-allowed paths are served; /metrics is added for the sync proof.
      flags: { ...tuning, 'authorization-always-allow-paths': '/healthz,/readyz,/livez,/metrics' },
      onSpawn: (p) => (proc = p),
    });
    return {
      process: proc,
      startedAt,
      metricsUrl: `https://127.0.0.1:${port}/metrics`,
      last: undefined,
      release: async () => (unregister(), releasePort(PORT_LOCKS, port)),
    };
  }
  const port = await allocatePort(PORT_LOCKS);
  // The shipped container env (NODE_OPTIONS with the heap cap) for the shipped run; none for the uncapped one.
  const env: Record<string, string> = {
    ...(impl === 'kube-endpoints-operator' ? runtime.shipped.env : {}),
    NODE_COMPILE_CACHE: COMPILE_CACHE_DIR,
  };
  proc = await ComponentProcess.spawn({
    component: 'kube-endpoints-operator',
    binary: process.execPath,
    args: [
      ...runtime.nodeArgs,
      OPERATOR_MAIN,
      `--kubeconfig=${h.cluster.kubeconfigPath}`,
      '--leader-elect=false',
      `--metrics-bind-address=127.0.0.1:${port}`,
      '--health-probe-bind-address=0',
      `--controllers=${CONTROLLERS.join(',')}`,
      ...Object.entries(tuning).map(([k, v]) => `--${k}=${v}`),
    ],
    logPath: join(h.cluster.workDir, `kube-endpoints-operator-${Math.round(startedAt)}.log`),
    cwd: OPERATOR_REPO,
    env,
  });
  return {
    process: proc,
    startedAt,
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    last: undefined,
    release: async () => (unregister(), releasePort(PORT_LOCKS, port)),
  };
}

/**
 * Waits until the controller's workqueue metrics prove a full sync (see sync-proof.ts): every Service taken by each
 * writing queue since `baseline` (the progress before a resync; none after a start), every taken key finished, queues
 * empty. Resolves with the time of the proof, or undefined after the timeout.
 */
async function waitForFullSync(
  impl: Implementation,
  run: ControllerRun,
  services: number,
  baseline: readonly QueueProgress[],
  timeoutMs: number,
): Promise<number | undefined> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      if (fullSyncDone(queueProgress(await scrapeMetrics(run.metricsUrl), SYNC_QUEUES[impl]), services, baseline)) return performance.now();
    } catch {
      // Not serving yet.
    }
    await sleep(200);
  }
  return undefined;
}

/** The writing queues' progress so far (the baseline of a resync proof). */
async function queueBaseline(impl: Implementation, run: ControllerRun): Promise<QueueProgress[]> {
  try {
    return queueProgress(await scrapeMetrics(run.metricsUrl), SYNC_QUEUES[impl]);
  } catch {
    return [];
  }
}

/**
 * Mirrors the image build: the bundle (when the checkout has the script), then one `--help` start, which compiles every
 * module the operator loads, warms the compile cache.
 */
async function prepareOperator(): Promise<void> {
  const script = join(OPERATOR_REPO, 'hack/build-operator.ts');
  if (existsSync(script)) {
    await promisify(execFile)(process.execPath, [script, '--out', OPERATOR_BUNDLE_DIR], { cwd: OPERATOR_REPO, timeout: 300_000 });
    OPERATOR_MAIN = join(OPERATOR_BUNDLE_DIR, 'main.mjs');
    const remove = () => rmSync(OPERATOR_BUNDLE_DIR, { recursive: true, force: true });
    onProcessExit({ onExit: remove, onSignal: async () => remove() });
  }
  await promisify(execFile)(process.execPath, [OPERATOR_MAIN, '--help'], {
    cwd: OPERATOR_REPO,
    env: { NODE_COMPILE_CACHE: COMPILE_CACHE_DIR },
    timeout: 120_000,
  });
}

function staleDiff(a: StaleEndpointSeconds, b: StaleEndpointSeconds): StaleEndpointSeconds {
  return { slices: b.slices - a.slices, endpoints: b.endpoints - a.endpoints };
}

async function sample(run: ControllerRun): Promise<ProcessSample | undefined> {
  try {
    run.last = await sampleProcess(run.process.pid);
  } catch {
    // Gone: keep the last reading.
  }
  return run.last;
}

/** Samples once more, then stops the process (SIGTERM, SIGKILL after 15 s). Returns the final reading. */
async function stopController(run: ControllerRun): Promise<ProcessSample | undefined> {
  const last = await sample(run);
  await run.process.stop(15_000);
  await run.release();
  return last;
}

async function startHarness(impl: Implementation, binaries: ControlPlaneBinaries): Promise<Harness> {
  // A /16 Service range: the default /24 holds only 254 ClusterIPs.
  const cluster = await LocalCluster.start({
    binaries,
    name: `bench-${impl}`,
    apiServerFlags: { 'service-cluster-ip-range': '10.96.0.0/16' },
  });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const client = newApiClient(kc, { clock: realClock, qps: 2000, burst: 4000, userAgent: 'endpoints-bench' });
  const metrics = new ApiServerMetrics(cluster.server, {
    caPem: cluster.caPem,
    certPem: cluster.admin.certPem,
    keyPem: cluster.admin.keyPem,
  });
  return {
    impl,
    cluster,
    client,
    metrics,
    tracker: new ConvergenceTracker({ ports: [BENCH_POD_PORT] }),
    stale: new StaleEndpointMeter(),
    flips: new FlipLatencyRecorder(),
    watches: [],
    firstEvent: { since: Infinity, at: undefined },
  };
}

async function startWatches(h: Harness): Promise<void> {
  const slices = new ObjectWatch(h.client, ENDPOINT_SLICES, BENCH_NAMESPACE, (type, raw, at) => {
    if (h.firstEvent.at === undefined && at >= h.firstEvent.since) h.firstEvent.at = at;
    const slice = endpointSliceSchema.parse(raw);
    h.tracker.applySlice(type, slice, at);
    h.stale.applySlice(type, slice, at);
    if (type !== 'DELETED') h.flips.observeSlice(slice, at);
  });
  const endpoints = new ObjectWatch(h.client, ENDPOINTS, BENCH_NAMESPACE, (type, raw, at) => {
    if (h.firstEvent.at === undefined && at >= h.firstEvent.since) h.firstEvent.at = at;
    const ep = endpointsSchema.parse(raw);
    h.tracker.applyEndpoints(type, ep, at);
    h.stale.applyEndpoints(type, ep, at);
    if (type !== 'DELETED') h.flips.observeEndpoints(ep, at);
  });
  h.watches.push(slices, endpoints);
  await Promise.all([slices.start(), endpoints.start()]);
}

async function populate(h: Harness, w: Workload, config: BenchConfig, bar: ProgressBar): Promise<number> {
  const started = performance.now();
  await createBase(h.client);
  bar.phase(`${h.impl}: creating ${w.shape.services} Services`, w.shape.services);
  await inParallel(w.services, config.createConcurrency, async (svc) => {
    await createService(h.client, svc);
    bar.tick();
  });
  const pods: BenchPod[] = [];
  for (let p = 0; p < w.shape.podsPerService; p++) for (const svc of w.services) pods.push(w.newPod(svc));
  bar.phase(`${h.impl}: creating ${pods.length} ready Pods`, pods.length);
  await inParallel(pods, config.createConcurrency, async (pod) => {
    await createPod(h.client, pod);
    w.pods.set(pod.name, pod);
    bar.tick();
  });
  bar.done();
  return performance.now() - started;
}

async function measureInitialSync(
  h: Harness,
  w: Workload,
  binaries: ControlPlaneBinaries,
  config: BenchConfig,
  bar: ProgressBar,
  errors: string[],
  runtime: OperatorRuntime,
): Promise<{ run: ControllerRun; result: ImplementationResult['initialSync'] }> {
  const now = performance.now();
  for (const svc of w.services) h.tracker.expect(svc, w.expected(svc), now);
  const before = await snapshot(h);
  h.firstEvent.since = performance.now();
  h.firstEvent.at = undefined;
  const run = await startController(h.impl, h, binaries, config, runtime);
  bar.phase(`${h.impl}: initial sync`, w.services.length * 2);
  const timeoutMs = 120_000 + (4000 * w.services.length) / config.qps;
  const ticker = setInterval(() => {
    const p = h.tracker.pending;
    bar.set(w.services.length * 2 - p.slices - p.endpoints);
    void sample(run);
  }, 500);
  const converged = await within(h.tracker.whenConverged(), timeoutMs);
  clearInterval(ticker);
  bar.done();
  if (converged === undefined)
    errors.push(`initial sync did not converge within ${Math.round(timeoutMs / 1000)} s (${JSON.stringify(h.tracker.pending)})`);
  const endpointsAt = h.tracker.endpointsConvergedAt;
  const slicesAt = h.tracker.slicesConvergedAt;
  await waitQuiet(h, 60_000);
  const after = await snapshot(h);
  const cpu = (await sample(run))?.cpuSeconds ?? 0;
  return {
    run,
    result: {
      firstWriteMs: h.firstEvent.at === undefined ? undefined : h.firstEvent.at - run.startedAt,
      endpointsMs: endpointsAt === undefined ? undefined : endpointsAt - run.startedAt,
      endpointSlicesMs: slicesAt === undefined ? undefined : slicesAt - run.startedAt,
      writes: phaseWrites(before, after),
      cpuSeconds: cpu,
    },
  };
}

async function measureChurn(
  h: Harness,
  w: Workload,
  run: ControllerRun,
  config: BenchConfig,
  bar: ProgressBar,
  errors: string[],
  seed: number,
): Promise<NonNullable<ImplementationResult['churn']>> {
  const flips = w.shape.churnFlips;
  const rand = mulberry32(seed);
  const pods = [...w.pods.values()];
  const before = await snapshot(h);
  const cpuBefore = (await sample(run))?.cpuSeconds ?? 0;
  const staleBefore = h.stale.read(performance.now());
  const intervalMs = 1000 / config.churnRate;
  bar.phase(`${h.impl}: churn, ${flips} readiness flips at ${config.churnRate}/s`, flips);
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < flips; i++) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    // A Pod with a flip still in flight is skipped: a second flip would make the match ambiguous.
    let pod: BenchPod | undefined;
    for (let attempt = 0; attempt < 50 && pod === undefined; attempt++) {
      const candidate = pods[Math.floor(rand() * pods.length)];
      if (candidate !== undefined && !h.flips.isPending(candidate.ip)) pod = candidate;
    }
    if (pod === undefined) continue;
    pod.ready = !pod.ready;
    const sentAt = performance.now();
    h.flips.sent(pod.ip, pod.ready, sentAt, w.shape.podsPerService <= MAX_ENDPOINTS_ADDRESSES);
    if (pod.ready) h.stale.podReady(pod.ip, sentAt);
    else h.stale.podNotReady(pod.ip, sentAt);
    h.tracker.expectReady(pod.service, pod.ip, pod.ready, sentAt);
    inFlight.push(setPodReady(h.client, pod));
    bar.tick();
  }
  await Promise.all(inFlight);
  const deadline = performance.now() + FLIP_TIMEOUT_MS;
  while (h.flips.pending > 0 && performance.now() < deadline) await sleep(100);
  h.flips.expire(performance.now());
  bar.done();
  if (h.flips.timedOut > 0)
    errors.push(`${h.flips.timedOut} readiness flips not seen in both resources within ${FLIP_TIMEOUT_MS / 1000} s`);
  if ((await within(h.tracker.whenConverged(), 120_000)) === undefined) errors.push('churn: did not converge within 120 s');
  const staleAfter = h.stale.read(performance.now());
  await waitQuiet(h, 60_000);
  const after = await snapshot(h);
  const cpuAfter = (await sample(run))?.cpuSeconds ?? cpuBefore;
  return {
    staleEndpointSeconds: staleDiff(staleBefore, staleAfter),
    flips,
    ratePerSecond: config.churnRate,
    endpointSlices: summarize(h.flips.sliceLatencies),
    endpoints: summarize(h.flips.endpointsLatencies),
    timedOut: h.flips.timedOut,
    writes: phaseWrites(before, after),
    cpuSeconds: cpuAfter - cpuBefore,
  };
}

async function measureRollingRestart(
  h: Harness,
  w: Workload,
  run: ControllerRun,
  config: BenchConfig,
  bar: ProgressBar,
  errors: string[],
): Promise<NonNullable<ImplementationResult['rollingRestart']>> {
  const old = [...w.pods.values()];
  const batch = Math.max(1, Math.round(old.length * ROLLING_BATCH));
  const replacements = old.map((p) => w.newPod(p.service));
  const before = await snapshot(h);
  const cpuBefore = (await sample(run))?.cpuSeconds ?? 0;
  const queuesBefore = await queueBaseline(h.impl, run);
  // The final state is the expectation from the start: it cannot be met before the last old Pod is gone.
  const started = performance.now();
  const staleBefore = h.stale.read(started);
  for (const p of old) w.pods.delete(p.name);
  for (const p of replacements) w.pods.set(p.name, p);
  for (const svc of w.services) h.tracker.expect(svc, w.expected(svc), started);
  bar.phase(`${h.impl}: rolling restart of ${old.length} Pods, ${batch} at a time`, old.length);
  for (let i = 0; i < old.length; i += batch) {
    const news = replacements.slice(i, i + batch);
    const olds = old.slice(i, i + batch);
    await inParallel(news, config.createConcurrency, (pod) => createPod(h.client, pod));
    // From the moment its delete is sent, an old Pod is terminating: published ready, it is a stale endpoint.
    await inParallel(olds, config.createConcurrency, (p) => {
      h.stale.podNotReady(p.ip, performance.now());
      return terminatePod(h.client, p, 'graceful');
    });
    await inParallel(olds, config.createConcurrency, (p) => terminatePod(h.client, p, 'final'));
    bar.tick(olds.length);
    void sample(run);
  }
  const rolloutMs = performance.now() - started;
  bar.done();
  const converged = await within(h.tracker.whenConverged(), 300_000);
  if (converged === undefined) errors.push(`rolling restart did not converge within 300 s (${JSON.stringify(h.tracker.pending)})`);
  const staleAfter = h.stale.read(performance.now());
  await waitQuiet(h, 60_000);
  const after = await snapshot(h);
  const cpuAfter = (await sample(run))?.cpuSeconds ?? cpuBefore;
  const queuesAfter = await queueBaseline(h.impl, run);
  // SYNC_QUEUES lists the Endpoints queue first, then the EndpointSlice queue.
  const requeued = (i: number) => {
    const a = queuesAfter[i];
    const b = queuesBefore[i];
    return a === undefined || b === undefined ? undefined : a.retries - b.retries;
  };
  const [endpointsRetries, sliceRetries] = [requeued(0), requeued(1)];
  return {
    pods: old.length,
    batch,
    rolloutMs,
    convergeMs: converged === undefined ? undefined : converged - started,
    afterLastChangeMs: converged === undefined ? undefined : Math.max(0, converged - started - rolloutMs),
    staleEndpointSeconds: staleDiff(staleBefore, staleAfter),
    writes: phaseWrites(before, after),
    cpuSeconds: cpuAfter - cpuBefore,
    ...(endpointsRetries === undefined || sliceRetries === undefined
      ? {}
      : { retries: { endpoints: endpointsRetries, endpointSlices: sliceRetries } }),
  };
}

async function measureShape(
  impl: Implementation,
  shape: Shape,
  binaries: ControlPlaneBinaries,
  config: BenchConfig,
  bar: ProgressBar,
  seed: number,
  runtime: OperatorRuntime,
): Promise<{ result: ImplementationResult; populateMs: number }> {
  const h = await startHarness(impl, binaries);
  const errors: string[] = [];
  const runs: ControllerRun[] = [];
  const finals: (ProcessSample | undefined)[] = [];
  try {
    const w = new Workload(shape);
    const populateMs = await populate(h, w, config, bar);
    await startWatches(h);
    const initial = await measureInitialSync(h, w, binaries, config, bar, errors, runtime);
    let run = initial.run;
    runs.push(run);
    const churn = shape.churnFlips > 0 ? await measureChurn(h, w, run, config, bar, errors, seed) : undefined;
    const rollingRestart = shape.rollingRestart ? await measureRollingRestart(h, w, run, config, bar, errors) : undefined;
    let restart: ImplementationResult['restart'];
    let resync: ImplementationResult['resync'];
    if (shape.restartAndResync) {
      finals.push(await stopController(run));
      // Writes count from the restart until the new process proves (its workqueue metrics) that it has processed every
      // Service, and the watches are quiet after that: a fixed sleep could end before a slow start had synced at all.
      const before = await snapshot(h);
      bar.phase(`${impl}: restarted; counting writes until a full sync is proven`, 0);
      const restartedAt = performance.now();
      run = await startController(impl, h, binaries, config, runtime);
      runs.push(run);
      const restartProof = await waitForFullSync(impl, run, shape.services, [], syncProofTimeoutMs(shape.services));
      if (restartProof === undefined) errors.push(`restart: no full sync proven within ${syncProofTimeoutMs(shape.services) / 1000} s`);
      await waitQuiet(h, 60_000);
      const afterRestart = await snapshot(h);
      restart = {
        windowMs: performance.now() - restartedAt,
        writes: phaseWrites(before, afterRestart),
        syncProvenMs: restartProof === undefined ? undefined : restartProof - restartedAt,
      };
      bar.phase(`${impl}: resync, touching ${shape.services} Services`, shape.services);
      const baseline = await queueBaseline(impl, run);
      const resyncStarted = performance.now();
      await inParallel(w.services, config.createConcurrency, async (svc) => {
        await touchService(h.client, svc, 1);
        bar.tick();
      });
      const resyncProof = await waitForFullSync(impl, run, shape.services, baseline, syncProofTimeoutMs(shape.services));
      if (resyncProof === undefined) errors.push(`resync: no full sync proven within ${syncProofTimeoutMs(shape.services) / 1000} s`);
      await waitQuiet(h, 60_000);
      const afterResync = await snapshot(h);
      bar.done();
      resync = {
        services: shape.services,
        windowMs: performance.now() - resyncStarted,
        writes: phaseWrites(afterRestart, afterResync),
        syncProvenMs: resyncProof === undefined ? undefined : resyncProof - resyncStarted,
      };
    }
    finals.push(await stopController(run));
    const cpuSeconds = finals.reduce((a, s) => a + (s?.cpuSeconds ?? 0), 0);
    const peakRssBytes = Math.max(0, ...finals.map((s) => s?.peakRssBytes ?? 0));
    for (const watch of h.watches) if (watch.failure !== undefined) errors.push(`watch failed: ${String(watch.failure)}`);
    return {
      populateMs,
      result: {
        implementation: impl,
        initialSync: initial.result,
        ...(churn ? { churn } : {}),
        ...(rollingRestart ? { rollingRestart } : {}),
        ...(restart ? { restart } : {}),
        ...(resync ? { resync } : {}),
        process: { cpuSeconds, peakRssBytes },
        errors,
      },
    };
  } finally {
    for (const r of runs) await r.process.stop(5000).then(r.release);
    await Promise.all(h.watches.map((w) => w.stop()));
    await h.metrics.close();
    await h.cluster.stop();
  }
}

/** Runs the informer benchmark (retained heap per cached Pod) in its own process and reads its projection row. */
async function informerRetainedBytes(pods: number): Promise<{ pods: number; retainedBytesPerPod: number } | undefined> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', INFORMER_BENCH, '--pods', String(pods)], {
      cwd: REPO,
      timeout: 600_000,
      maxBuffer: 1 << 20,
    });
    const row = stdout.split('\n').find((l) => l.startsWith('| projection (podSchema)'));
    const kb = row === undefined ? undefined : /([\d.]+) KB \|\s*$/.exec(row)?.[1];
    return kb === undefined ? undefined : { pods, retainedBytesPerPod: Math.round(Number(kb) * 1024) };
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const parsed = parseBenchArgs(process.argv.slice(2));
  if (parsed.kind === 'help') {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`${parsed.message}\n`);
    return 2;
  }
  const config = parsed.config;
  const bar = new ProgressBar();
  const binaries = await locateControlPlaneBinaries({
    kubebuilderAssets: process.env.KUBEBUILDER_ASSETS,
    env: process.env,
    onBuildOutput: (line) => bar.log(line),
  });
  const kubernetes = /k8s-(v[\d.]+)/.exec(binaries.dir)?.[1] ?? 'unknown';
  const startedAt = new Date();
  const seed = Number(process.env.BENCH_SEED ?? startedAt.getTime() % 2 ** 32) >>> 0;
  const runtime: OperatorRuntime = { shipped: await loadShippedRuntime(OPERATOR_REPO), nodeArgs: config.operatorNodeArgs };
  if (config.implementations.some((i) => i !== 'kube-controller-manager')) await prepareOperator();
  bar.log(
    `endpoints bench: operator ${OPERATOR_MAIN}, preset ${config.preset}, QPS ${config.qps}/${config.burst} for all, seed ${seed} (BENCH_SEED), ${config.repeat} run(s); shipped operator env ${JSON.stringify(runtime.shipped.env)}`,
  );
  const shapes: ShapeResult[] = [];
  let round = 0;
  for (const [i, shape] of config.shapes.entries()) {
    const perImpl = new Map<Implementation, ImplementationResult[]>();
    let populateMs = 0;
    for (let rep = 0; rep < config.repeat; rep++) {
      // Alternate which implementation goes first, so that neither always runs on a machine warmed (or loaded) by the
      // other; with several runs the order alternates between runs as well.
      const order = round++ % 2 === 0 ? config.implementations : [...config.implementations].reverse();
      for (const impl of order) {
        bar.log(`== ${shape.name}: ${impl}${config.repeat > 1 ? ` (run ${rep + 1}/${config.repeat})` : ''}`);
        const r = await measureShape(impl, shape, binaries, config, bar, seed + i, runtime);
        populateMs = Math.max(populateMs, r.populateMs);
        perImpl.set(impl, [...(perImpl.get(impl) ?? []), r.result]);
      }
    }
    const results: ImplementationResult[] = [];
    const spread: Partial<Record<Implementation, Spread>> = {};
    for (const impl of config.implementations) {
      const all = perImpl.get(impl) ?? [];
      if (all.length === 0) continue;
      const a = aggregateRuns(all);
      results.push(a.median);
      spread[impl] = { min: a.min, max: a.max };
    }
    shapes.push({ shape, populateMs, results, ...(config.repeat > 1 ? { runs: config.repeat, spread } : {}) });
  }
  await closeScraper();
  // Only for runs whose numbers go into the docs: it takes a minute and does not depend on the workload.
  let informer: Awaited<ReturnType<typeof informerRetainedBytes>>;
  if (config.updateDocs) {
    bar.phase('informer bench: retained heap per cached Pod (10,000 Pods)', 0);
    informer = await informerRetainedBytes(10_000);
    bar.done();
  }
  const run: BenchRun = {
    startedAt: startedAt.toISOString(),
    preset: config.preset,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? 'unknown', node: process.version, kubernetes },
    repeat: config.repeat,
    tuning: {
      qps: config.qps,
      burst: config.burst,
      churnRatePerSecond: config.churnRate,
      note: `Both controllers use kube-controller-manager defaults (5 workers, batch periods 0, 100 endpoints per slice) and the same per-controller client QPS/burst. The operator runs with config/manager's container env ${JSON.stringify(runtime.shipped.env)}; "uncapped" without it.`,
    },
    shapes,
    informer,
  };
  const table = renderTable(run);
  process.stdout.write(`\n${table}\n`);
  if (informer) {
    const kb = (informer.retainedBytesPerPod / 1024).toFixed(2);
    process.stdout.write(`\nRetained heap per cached Pod (informer bench, ${informer.pods} Pods, projection): ${kb} KB (target < 2 KB)\n`);
  }
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const resultsDir = resolve(REPO, config.resultsDir);
  await mkdir(resultsDir, { recursive: true });
  const resultsPath = join(resultsDir, `${stamp}.json`);
  await writeFile(resultsPath, `${JSON.stringify(run, null, 2)}\n`);
  process.stderr.write(`wrote ${resultsPath}\n`);
  if (config.updateDocs) {
    const written = await writeDocsResults(REPO, run);
    process.stderr.write(`wrote ${written.join(' and ')}\n`);
  }
  return 0;
}

process.exitCode = await main();
