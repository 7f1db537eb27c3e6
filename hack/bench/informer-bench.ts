// Informer ingest benchmark: N realistic Pods (~5.4 KB of JSON each, ~40 % managedFields) listed and watched through
// the real Informer and ApiClient against the in-process fake API server. Reports time to sync and the heap retained
// per cached Pod, for the Pod projection (podSchema) and for the full object (a passthrough parse); both after the
// informer stripped managedFields. The projection must stay under 2 KB per Pod (exit code 1 otherwise).
//
//   node --expose-gc hack/bench/informer-bench.ts [--pods 10000]

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { podSchema } from '../../api/core/v1.ts';
import { Informer } from '../../controllers/runtime/cache/informer.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import type { InformerSpec } from '../../controllers/runtime/manager-types.ts';
import { PODS } from '../../controllers/runtime/resource.ts';
import { FakeApiServer } from '../../test/fake-apiserver/fake-apiserver.ts';
import { makePod } from '../../test/fake-apiserver/pod-fixture.ts';

const TARGET_BYTES_PER_POD = 2048;

interface Row {
  readonly cache: string;
  readonly pods: number;
  readonly syncMs: number;
  readonly podsPerSecond: number;
  readonly retainedBytesPerPod: number;
}

function podsArg(argv: readonly string[]): number {
  const i = argv.indexOf('--pods');
  const n = i >= 0 ? Number(argv[i + 1]) : 10_000;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--pods needs a positive integer, got ${argv[i + 1]}`);
  return n;
}

async function collect(gc: () => void): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

async function measure<T>(cache: string, spec: InformerSpec<T>, pods: number, gc: () => void): Promise<Row> {
  const server = await FakeApiServer.start();
  server.seed(Array.from({ length: pods }, (_, i) => makePod(i, { namespace: `ns-${i % 20}` })));
  const logger = pino({ level: 'silent' });
  const before = await collect(gc);
  const informer = new Informer<T>(spec, { client: server.client(), clock: realClock, logger });
  const ac = new AbortController();
  const started = performance.now();
  const running = informer.start(ac.signal);
  if (!(await informer.waitForSync(AbortSignal.timeout(300_000)))) throw new Error(`${cache}: informer did not sync`);
  const syncMs = performance.now() - started;
  const after = await collect(gc);
  // Read the store after measuring so the informer (and its cache) is provably alive at the measurement.
  if (informer.store.size !== pods) throw new Error(`${cache}: cached ${informer.store.size} of ${pods} pods`);
  ac.abort();
  await running;
  await server.close();
  return { cache, pods, syncMs, podsPerSecond: (pods / syncMs) * 1000, retainedBytesPerPod: (after - before) / pods };
}

const VARIANTS: Readonly<Record<string, InformerSpec<unknown>>> = {
  'projection (podSchema)': { resource: PODS, parse: (raw) => podSchema.parse(raw), parseId: 'v1.Pod' },
  'full object (passthrough)': { resource: PODS, parse: (raw) => raw, parseId: 'passthrough' },
  // For comparison only: the projection keeping just the Ready condition, the one condition the controllers read.
  'projection, Ready condition only': {
    resource: PODS,
    parseId: 'ready-condition-only',
    parse: (raw) => {
      const pod = podSchema.parse(raw);
      const ready = pod.status.conditions?.filter((c) => c.type === 'Ready');
      return ready === undefined ? pod : { ...pod, status: { ...pod.status, conditions: ready } };
    },
  },
};

/** Child mode: measures one variant in a fresh heap and prints its row as JSON. */
async function runVariant(name: string, pods: number, gc: () => void): Promise<void> {
  const spec = VARIANTS[name];
  if (spec === undefined) throw new Error(`unknown variant ${name}`);
  // A small warm-up round first, so one-time costs (compiled code, the connection pool, zod's compiled parsers)
  // are not charged to the measured Pods.
  await measure(name, spec, Math.min(pods, 1000), gc);
  console.log(JSON.stringify(await measure(name, spec, pods, gc)));
}

/** Parent mode: one child process per variant, so no variant inherits another's heap. */
function spawnVariant(name: string, pods: number): Row {
  const out = execFileSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--pods', String(pods), '--variant', name],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const last = out.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as Row;
}

async function main(): Promise<void> {
  const gc = globalThis.gc;
  if (gc === undefined) {
    console.error('run with --expose-gc: node --expose-gc hack/bench/informer-bench.ts');
    process.exit(2);
  }
  const argv = process.argv.slice(2);
  const pods = podsArg(argv);
  const v = argv.indexOf('--variant');
  if (v >= 0) return runVariant(argv[v + 1] ?? '', pods, gc);

  const sample = makePod(1);
  const full = JSON.stringify(sample).length;
  const { managedFields: _, ...metaWithout } = sample.metadata;
  const stripped = JSON.stringify({ ...sample, metadata: metaWithout }).length;
  console.log(`Pod JSON: ${full} B, ${stripped} B without managedFields; ${pods} pods; node ${process.version}`);
  const rows = Object.keys(VARIANTS).map((name) => spawnVariant(name, pods));

  console.log('');
  console.log('| cache | pods | time to sync | pods/s | retained heap per Pod |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.cache} | ${r.pods} | ${r.syncMs.toFixed(0)} ms | ${r.podsPerSecond.toFixed(0)} | ${(r.retainedBytesPerPod / 1024).toFixed(2)} KB |`,
    );
  }
  const projection = rows[0];
  if (projection === undefined) return;
  const ok = projection.retainedBytesPerPod < TARGET_BYTES_PER_POD;
  console.log('');
  console.log(`Projection target < ${TARGET_BYTES_PER_POD / 1024} KB/Pod: ${ok ? 'met' : 'MISSED'}`);
  if (!ok) process.exitCode = 1;
}

await main();
