// Where the operator's first write goes: starts a local control plane with S Services of N Pods in all (as the
// benchmark's workloads), then starts the operator several times as config/manager ships it (NODE_OPTIONS, compile cache)
// and prints, per start, the time from spawn to each start-up log line and to the first EndpointSlice the benchmark's
// own watch sees. Before each start the previous start's slices are deleted, so every start has the same work.
//
//   node hack/profile/startup-timeline.ts [--services 1] [--pods 5000] [--starts 3] [--main cmd/operator/main.ts,dist/operator/main.mjs]
//       [--node-args="--cpu-prof --cpu-prof-dir=prof"]
//
// With several --main entry points (comma-separated) the starts alternate between them.

import { execFile, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { newApiClient } from '../../controllers/runtime/api-client.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import { ENDPOINT_SLICES, ENDPOINTS } from '../../controllers/runtime/resource.ts';
import { loadShippedRuntime } from '../bench/operator-launch.ts';
import { ObjectWatch } from '../bench/object-watch.ts';
import { sampleProcess } from '../bench/proc-stats.ts';
import { BENCH_NAMESPACE, createBase, createPod, createService, inParallel, Workload } from '../bench/workload.ts';
import { locateControlPlaneBinaries } from '../local-cluster/binaries.ts';
import { LocalCluster } from '../local-cluster/local-cluster.ts';

const nameOf = (o: unknown): string =>
  typeof o === 'object' && o !== null && 'metadata' in o && typeof o.metadata === 'object' && o.metadata !== null && 'name' in o.metadata
    ? String(o.metadata.name)
    : '';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({
  options: {
    services: { type: 'string' },
    pods: { type: 'string' },
    starts: { type: 'string' },
    main: { type: 'string' },
    'node-args': { type: 'string' },
  },
});
const serviceCount = Number(values.services ?? 1);
const podCount = Number(values.pods ?? 5000);
const starts = Number(values.starts ?? 3);
const mains = (values.main ?? 'cmd/operator/main.ts').split(',').map((m) => resolve(REPO, m.trim()));
const nodeArgs = (values['node-args'] ?? '').split(/\s+/).filter((a) => a !== '');

const binaries = await locateControlPlaneBinaries({ kubebuilderAssets: process.env.KUBEBUILDER_ASSETS, env: process.env });
// A /16 Service range, as the benchmark's: the default /24 holds only 254 ClusterIPs.
const cluster = await LocalCluster.start({
  binaries,
  name: 'startup-timeline',
  apiServerFlags: { 'service-cluster-ip-range': '10.96.0.0/16' },
});
try {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const client = newApiClient(kc, { clock: realClock, qps: 2000, burst: 4000, userAgent: 'startup-timeline' });
  const perService = Math.floor(podCount / serviceCount);
  const workload = new Workload({
    name: 'startup',
    services: serviceCount,
    podsPerService: perService,
    churnFlips: 0,
    restartAndResync: false,
    rollingRestart: false,
  });
  await createBase(client);
  await inParallel(workload.services, 48, (s) => createService(client, s));
  const pods = workload.services.flatMap((s) => Array.from({ length: perService }, () => workload.newPod(s)));
  await inParallel(pods, 48, (p) => createPod(client, p));
  process.stdout.write(`created ${serviceCount} Services and ${pods.length} Pods\n`);

  const cacheDir = join(tmpdir(), 'kube-endpoints-operator-bench-compile-cache');
  for (const main of mains)
    await promisify(execFile)(process.execPath, [main, '--help'], { cwd: REPO, env: { NODE_COMPILE_CACHE: cacheDir } });
  const shipped = await loadShippedRuntime(REPO);

  for (let s = 0; s < starts * mains.length; s++) {
    const main = mains[s % mains.length] ?? '';
    for (const r of [ENDPOINT_SLICES, ENDPOINTS]) {
      const listed = await client.list(r, BENCH_NAMESPACE);
      for (const item of listed.items) await client.delete(r, BENCH_NAMESPACE, nameOf(item));
    }
    let firstSlice: number | undefined;
    let since = Infinity;
    const watch = new ObjectWatch(client, ENDPOINT_SLICES, BENCH_NAMESPACE, (type, _o, at) => {
      if (firstSlice === undefined && type === 'ADDED' && at >= since) firstSlice = at;
    });
    await watch.start();
    const lines: string[] = [];
    since = performance.now();
    const child = spawn(
      process.execPath,
      [
        ...nodeArgs,
        main,
        `--kubeconfig=${cluster.kubeconfigPath}`,
        '--leader-elect=false',
        '--metrics-bind-address=0',
        '--health-probe-bind-address=0',
      ],
      { cwd: REPO, env: { ...process.env, ...shipped.env, NODE_COMPILE_CACHE: cacheDir }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let buf = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const at = performance.now() - since;
      buf += chunk.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const rec = JSON.parse(line) as { msg?: string; controller?: string; informer?: string; objects?: number };
          lines.push(
            `${(at / 1000).toFixed(2).padStart(6)} s  ${rec.msg ?? ''}${rec.informer !== undefined ? ` ${rec.informer}` : ''}${rec.objects !== undefined ? ` (${rec.objects})` : ''}`,
          );
        } catch {
          lines.push(`${(at / 1000).toFixed(2).padStart(6)} s  ${line}`);
        }
      }
    });
    const deadline = performance.now() + 120_000;
    while (firstSlice === undefined && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const firstMs = firstSlice === undefined ? undefined : firstSlice - since;
    await new Promise((r) => setTimeout(r, 3000));
    const sample = await sampleProcess(child.pid ?? 0);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await watch.stop();
    process.stdout.write(
      `start ${s + 1} (${relative(REPO, main)}): first EndpointSlice ${firstMs === undefined ? 'never' : `${(firstMs / 1000).toFixed(2)} s`} after spawn; peak RSS ${(sample.peakRssBytes / 2 ** 20).toFixed(0)} MiB, CPU ${sample.cpuSeconds.toFixed(2)} s (3 s after)\n`,
    );
    for (const l of lines) process.stdout.write(`  ${l}\n`);
  }
} finally {
  await cluster.stop();
}
