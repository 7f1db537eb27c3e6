// Throughput of the work queue family on the real clock: `node hack/bench/queue-bench.ts`. Each case runs for about
// BUDGET_MS (whole rounds only), so the script ends in well under 20 s. Numbers are single runs on a shared machine:
// compare orders of magnitude, not percents (client-go util/workqueue queue_test.go: BenchmarkQueue is the upstream
// reference).
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { realClock } from '../../controllers/runtime/clock.ts';
import { DelayingQueue } from '../../controllers/runtime/queue/delaying-queue.ts';
import { queueMetrics } from '../../controllers/runtime/queue/queue-metrics.ts';
import { WorkQueue } from '../../controllers/runtime/queue/work-queue.ts';

const BUDGET_MS = 1_500;

interface Row {
  readonly name: string;
  readonly ops: number;
  readonly ms: number;
}

/** Repeats `round` (which returns how many operations it did) until the budget is spent. */
async function measure(name: string, round: () => Promise<number>): Promise<Row> {
  await round(); // warm-up: JIT and map/ring-buffer growth
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < BUDGET_MS) {
    ops += await round();
    elapsed = performance.now() - start;
  }
  return { name, ops, ms: elapsed };
}

function keys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `namespace-${i % 97}/service-${i}`);
}

/** One add + get + done per key, all keys queued first (a resync burst). */
function addGetDone(q: WorkQueue, ks: readonly string[]): () => Promise<number> {
  return async () => {
    for (const k of ks) q.add(k);
    for (let k = await q.get(); k !== undefined; k = q.len() > 0 ? await q.get() : undefined) q.done(k);
    return ks.length;
  };
}

/** `workers` concurrent loops draining the queue while every key is added (and re-added once: dedup path). */
function workers(n: number, ks: readonly string[]): () => Promise<number> {
  return async () => {
    const q = new WorkQueue();
    let processed = 0;
    const loops = Array.from({ length: n }, async () => {
      for (let k = await q.get(); k !== undefined; k = await q.get()) {
        processed++;
        q.done(k);
      }
    });
    for (const k of ks) {
      q.add(k);
      q.add(k);
    }
    while (q.len() > 0) await new Promise((resolve) => setImmediate(resolve));
    q.shutDown();
    await Promise.all(loops);
    return processed;
  };
}

/** addAfter with deadlines spread over `spreadMs` (the heap and its single timer), until every key is released. */
function addAfterUntilReleased(ks: readonly string[], spreadMs: number): () => Promise<number> {
  return async () => {
    const q = new DelayingQueue({ clock: realClock });
    for (let i = 0; i < ks.length; i++) q.addAfter(ks[i] ?? '', 1 + ((i * 7919) % spreadMs));
    while (q.len() < ks.length) await new Promise((resolve) => setTimeout(resolve, 2));
    q.shutDown();
    return ks.length;
  };
}

/** The cost of the addAfter calls alone: deadlines far enough out that none is released while measuring. */
function addAfterCalls(ks: readonly string[]): Row {
  let ops = 0;
  let ms = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < BUDGET_MS) {
    const q = new DelayingQueue({ clock: realClock });
    const c0 = performance.now();
    for (let i = 0; i < ks.length; i++) q.addAfter(ks[i] ?? '', 1_000 + ((i * 7919) % 100_000));
    ms += performance.now() - c0;
    ops += ks.length;
    q.shutDown();
  }
  return { name: `addAfter calls, ${ks.length / 1000}k keys, deadlines 1..101 s`, ops, ms };
}

const rows: Row[] = [];
rows.push(await measure('add+get+done, 1k keys', addGetDone(new WorkQueue(), keys(1_000))));
rows.push(await measure('add+get+done, 100k keys', addGetDone(new WorkQueue(), keys(100_000))));
rows.push(
  await measure(
    'add+get+done, 1k keys, prom metrics',
    addGetDone(new WorkQueue({ clock: realClock, metrics: queueMetrics(new Registry(), 'bench') }), keys(1_000)),
  ),
);
rows.push(await measure('5 workers, 10k keys added twice', workers(5, keys(10_000))));
rows.push(addAfterCalls(keys(100_000)));
rows.push(await measure('addAfter 100k keys, deadlines 1..200 ms, until all released', addAfterUntilReleased(keys(100_000), 200)));

const width = Math.max(...rows.map((r) => r.name.length));
console.log(`${'case'.padEnd(width)}  ${'ops/s'.padStart(12)}  ${'ops'.padStart(10)}  ${'ms'.padStart(7)}`);
for (const r of rows) {
  const rate = Math.round((r.ops / r.ms) * 1000);
  console.log(
    `${r.name.padEnd(width)}  ${rate.toLocaleString('en-US').padStart(12)}  ${r.ops.toLocaleString('en-US').padStart(10)}  ${r.ms.toFixed(0).padStart(7)}`,
  );
}
