import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { FakeClock, flushMicrotasks } from '../clock.ts';
import { QUEUE_DURATION_BUCKETS, queueMetrics } from './queue-metrics.ts';
import { ItemExponentialFailureRateLimiter } from './rate-limiters.ts';
import { RateLimitingQueue } from './rate-limiting-queue.ts';

/** The value of one series read back from the registry (`sample` selects e.g. `_sum`, `_count`). */
async function read(registry: Registry, metric: string, queue: string, sample = metric): Promise<number | undefined> {
  const m = await registry.getSingleMetric(metric)?.get();
  const values = m?.values ?? [];
  const value = values.find((v) => v.labels.name === queue && ('metricName' in v ? v.metricName === sample : sample === metric));
  return value?.value;
}

const ALL = [
  'workqueue_depth',
  'workqueue_adds_total',
  'workqueue_queue_duration_seconds',
  'workqueue_work_duration_seconds',
  'workqueue_unfinished_work_seconds',
  'workqueue_longest_running_processor_seconds',
  'workqueue_retries_total',
] as const;

function setup(name = 'endpoint'): { clock: FakeClock; registry: Registry; q: RateLimitingQueue } {
  const clock = new FakeClock();
  const registry = new Registry();
  const q = new RateLimitingQueue({
    clock,
    metrics: queueMetrics(registry, name),
    rateLimiter: new ItemExponentialFailureRateLimiter(5, 1_000),
  });
  return { clock, registry, q };
}

describe('queueMetrics', () => {
  it("every series of a queue exists at 0 before the queue's first event", async () => {
    const { registry } = setup('endpoint');
    await flushMicrotasks();
    for (const metric of ['workqueue_depth', 'workqueue_adds_total', 'workqueue_retries_total'] as const) {
      assert.equal(await read(registry, metric, 'endpoint'), 0, metric);
    }
    for (const metric of ['workqueue_unfinished_work_seconds', 'workqueue_longest_running_processor_seconds'] as const) {
      assert.equal(await read(registry, metric, 'endpoint'), 0, metric);
    }
    for (const metric of ['workqueue_queue_duration_seconds', 'workqueue_work_duration_seconds'] as const) {
      assert.equal(await read(registry, metric, 'endpoint', `${metric}_count`), 0, metric);
    }
    const exposition = await registry.metrics();
    for (const metric of ALL) assert.match(exposition, new RegExp(`^${metric}(_count)?\\{name="endpoint"\\} 0$`, 'm'));
  });

  it('the duration histograms use the client-go buckets, 10 ns to 10 s', async () => {
    const { registry } = setup();
    await flushMicrotasks();
    const m = await registry.getSingleMetric('workqueue_work_duration_seconds')?.get();
    const bounds = (m?.values ?? []).flatMap((v) => (typeof v.labels.le === 'number' ? [v.labels.le] : []));
    assert.deepEqual(bounds, [...QUEUE_DURATION_BUCKETS]);
    assert.deepEqual(QUEUE_DURATION_BUCKETS, [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10]);
  });

  it('adds, depth and retries move with the queue', async () => {
    const { clock, registry, q } = setup();
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/b');
    assert.equal(await read(registry, 'workqueue_adds_total', 'endpoint'), 2, 'a repeat add of a waiting key is not counted');
    assert.equal(await read(registry, 'workqueue_depth', 'endpoint'), 2);
    await q.get();
    assert.equal(await read(registry, 'workqueue_depth', 'endpoint'), 1);
    q.addAfter('ns/c', 10);
    q.addRateLimited('ns/d');
    assert.equal(await read(registry, 'workqueue_retries_total', 'endpoint'), 2);
    await clock.advance(10);
    assert.equal(await read(registry, 'workqueue_adds_total', 'endpoint'), 4);
    assert.equal(await read(registry, 'workqueue_depth', 'endpoint'), 3);
    q.shutDown();
  });

  it('queue and work durations are observed in seconds', async () => {
    const { clock, registry, q } = setup();
    q.add('ns/a');
    await clock.advance(2);
    const key = await q.get();
    await clock.advance(3_000);
    if (key !== undefined) q.done(key);
    const queued = 'workqueue_queue_duration_seconds';
    const work = 'workqueue_work_duration_seconds';
    assert.equal(await read(registry, queued, 'endpoint', `${queued}_count`), 1);
    assert.equal(await read(registry, queued, 'endpoint', `${queued}_sum`), 0.002);
    assert.equal(await read(registry, work, 'endpoint', `${work}_count`), 1);
    assert.equal(await read(registry, work, 'endpoint', `${work}_sum`), 3);
  });

  it('the unfinished-work gauges follow the keys in flight and return to 0', async () => {
    const { clock, registry, q } = setup();
    q.add('ns/a');
    await q.get();
    await clock.advance(1_000);
    q.add('ns/b');
    await q.get();
    await clock.advance(500);
    assert.equal(await read(registry, 'workqueue_unfinished_work_seconds', 'endpoint'), 2);
    assert.equal(await read(registry, 'workqueue_longest_running_processor_seconds', 'endpoint'), 1.5);
    q.done('ns/a');
    q.done('ns/b');
    await clock.advance(500);
    assert.equal(await read(registry, 'workqueue_unfinished_work_seconds', 'endpoint'), 0);
    assert.equal(await read(registry, 'workqueue_longest_running_processor_seconds', 'endpoint'), 0);
  });

  it('queues share the metrics of one registry, each under its own name, and re-creating one keeps its series', async () => {
    const registry = new Registry();
    const clock = new FakeClock();
    const first = new RateLimitingQueue({ clock, metrics: queueMetrics(registry, 'endpointslice') });
    const other = new RateLimitingQueue({ clock, metrics: queueMetrics(registry, 'endpointslice_pods') });
    first.add('ns/a');
    await first.get();
    await clock.advance(10);
    first.done('ns/a');
    other.add('ns/b');
    first.shutDown();
    other.shutDown();
    queueMetrics(registry, 'endpointslice');
    await flushMicrotasks();
    const work = 'workqueue_work_duration_seconds';
    assert.equal(await read(registry, work, 'endpointslice', `${work}_count`), 1, 're-creating must not reset the histogram');
    assert.equal(await read(registry, 'workqueue_adds_total', 'endpointslice'), 1);
    assert.equal(await read(registry, 'workqueue_adds_total', 'endpointslice_pods'), 1);
  });

  it('a metric name taken by another type is rejected', () => {
    const registry = new Registry();
    new Counter({ name: 'workqueue_depth', help: 'x', registers: [registry] });
    assert.throws(() => queueMetrics(registry, 'endpoint'), TypeError);
  });
});
