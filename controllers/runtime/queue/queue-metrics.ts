import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { QueueMetrics } from './types.ts';

// client-go's workqueue metrics as exported by kube-controller-manager (and controller-runtime): same names, the
// queue name in the `name` label, durations in seconds, the same histogram buckets (10 ns .. 10 s, ×10 each).

/** Buckets of the two duration histograms: 1e-8 × 10^i seconds for i in 0..9. */
export const QUEUE_DURATION_BUCKETS: readonly number[] = Object.freeze([1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10]);

type Label = 'name';

function counter(registry: Registry, name: string, help: string): Counter<Label> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<Label>;
  if (existing !== undefined) throw new TypeError(`metric ${name} is already registered with another type`);
  return new Counter({ name, help, labelNames: ['name'], registers: [registry] });
}

function gauge(registry: Registry, name: string, help: string): Gauge<Label> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Gauge) return existing as Gauge<Label>;
  if (existing !== undefined) throw new TypeError(`metric ${name} is already registered with another type`);
  return new Gauge({ name, help, labelNames: ['name'], registers: [registry] });
}

function histogram(registry: Registry, name: string, help: string): Histogram<Label> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Histogram) return existing as Histogram<Label>;
  if (existing !== undefined) throw new TypeError(`metric ${name} is already registered with another type`);
  return new Histogram({ name, help, labelNames: ['name'], buckets: [...QUEUE_DURATION_BUCKETS], registers: [registry] });
}

/**
 * prom-client's `zero` replaces an existing series, which would make a re-created queue (same registry and name, e.g.
 * after leadership is regained) reset its histograms. Look first; the look-up and the zeroing run in one continuation,
 * so an observation made in between is never lost.
 */
function zeroIfAbsent(h: Histogram<Label>, name: string): void {
  void h.get().then((m) => {
    if (!m.values.some((v) => v.labels.name === name)) h.zero({ name });
  });
}

class PrometheusQueueMetrics implements QueueMetrics {
  readonly #depth: Gauge.Internal<Label>;
  readonly #adds: Counter.Internal;
  readonly #queueDuration: Histogram.Internal<Label>;
  readonly #workDuration: Histogram.Internal<Label>;
  readonly #unfinishedWork: Gauge.Internal<Label>;
  readonly #longestRunning: Gauge.Internal<Label>;
  readonly #retries: Counter.Internal;

  constructor(registry: Registry, name: string) {
    const labels = { name };
    const depth = gauge(registry, 'workqueue_depth', 'Number of keys waiting in the work queue.');
    const adds = counter(registry, 'workqueue_adds_total', 'Keys added to the work queue (repeat adds of a waiting key excluded).');
    const queueDuration = histogram(
      registry,
      'workqueue_queue_duration_seconds',
      'Seconds a key waited in the work queue before a worker took it.',
    );
    const workDuration = histogram(registry, 'workqueue_work_duration_seconds', 'Seconds a worker spent processing one key.');
    const unfinishedWork = gauge(
      registry,
      'workqueue_unfinished_work_seconds',
      'Sum of the seconds the keys now being processed have been running; steady growth means stuck workers.',
    );
    const longestRunning = gauge(
      registry,
      'workqueue_longest_running_processor_seconds',
      'Seconds the longest-running key now being processed has been running.',
    );
    const retries = counter(registry, 'workqueue_retries_total', 'Delayed adds (retries) to the work queue.');

    // Series exist from the start at 0, so rate() and absence alerts work before the first event. inc(0) keeps the
    // value of a series that already exists.
    for (const g of [depth, unfinishedWork, longestRunning]) g.inc(labels, 0);
    for (const c of [adds, retries]) c.inc(labels, 0);
    for (const h of [queueDuration, workDuration]) zeroIfAbsent(h, name);

    this.#depth = depth.labels(labels);
    this.#adds = adds.labels(labels);
    this.#queueDuration = queueDuration.labels(labels);
    this.#workDuration = workDuration.labels(labels);
    this.#unfinishedWork = unfinishedWork.labels(labels);
    this.#longestRunning = longestRunning.labels(labels);
    this.#retries = retries.labels(labels);
  }

  add(): void {
    this.#adds.inc();
  }

  get(queuedMs: number): void {
    this.#queueDuration.observe(queuedMs / 1000);
  }

  done(workMs: number): void {
    this.#workDuration.observe(workMs / 1000);
  }

  retry(): void {
    this.#retries.inc();
  }

  depth(n: number): void {
    this.#depth.set(n);
  }

  unfinishedWork(totalSeconds: number, longestSeconds: number): void {
    this.#unfinishedWork.set(totalSeconds);
    this.#longestRunning.set(longestSeconds);
  }
}

/**
 * The workqueue metrics of the queue called `name`, registered in `registry` (created on first use per registry,
 * reused afterwards; throws TypeError if one of the names is taken by another metric type). Every series for `name`
 * starts at 0. Pass the result as a queue's `metrics`: the queue itself keeps the unfinished-work gauges fresh (every
 * 500 ms on its clock while keys are being processed), so nothing else has to poll it. Names must be unique per
 * registry: two live queues with one name would fight over the depth gauge.
 */
export function queueMetrics(registry: Registry, name: string): QueueMetrics {
  return new PrometheusQueueMetrics(registry, name);
}
