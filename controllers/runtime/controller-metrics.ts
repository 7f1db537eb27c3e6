import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';

// controller-runtime's controller metrics, by the same names, so existing dashboards and alerts work unchanged.
// Labelled by controller (and result) only: never by object, so the series count stays bounded.

/** Every reconcile outcome counted in `controller_runtime_reconcile_total{result}`. */
export const RECONCILE_RESULTS = ['success', 'error', 'requeue_after', 'terminal_error'] as const;
export type ReconcileResult = (typeof RECONCILE_RESULTS)[number];

// controller-runtime's reconcile time buckets: fine-grained below a second, where most reconciles fall.
const RECONCILE_TIME_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5,
  4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/** The metrics of one controller, label values bound. */
export interface ControllerMetricsHandle {
  reconciled(result: ReconcileResult, seconds: number): void;
  /** Any failed reconcile (error or terminal), as controller-runtime's reconcile_errors_total. */
  errored(): void;
  terminalError(): void;
  /** A thrown programming error (TypeError, ReferenceError, a non-Error value): Go's recovered panic. */
  panicked(): void;
  /** A key given up after the retry budget. */
  dropped(): void;
  activeWorkers(delta: 1 | -1): void;
}

// prom-client refuses to register a name twice, so a second ControllerMetrics on one registry reuses the families.
function reuse<M extends Metric>(registry: Registry, name: string, type: abstract new (...args: never[]) => M, create: () => M): M {
  const existing = registry.getSingleMetric(name);
  if (existing === undefined) return create();
  if (!(existing instanceof type)) throw new TypeError(`metric ${name} is already registered with another type`);
  return existing;
}

/**
 * The controller metric families on one registry, created on first use and reused afterwards. Controller names
 * must be unique per registry: two controllers with one name would share (and reset) their series.
 */
export class ControllerMetrics {
  readonly #total: Counter<'controller' | 'result'>;
  readonly #errors: Counter<'controller'>;
  readonly #terminal: Counter<'controller'>;
  readonly #panics: Counter<'controller'>;
  readonly #dropped: Counter<'controller'>;
  readonly #time: Histogram<'controller'>;
  readonly #active: Gauge<'controller'>;
  readonly #maxConcurrent: Gauge<'controller'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#total = reuse(
      registry,
      'controller_runtime_reconcile_total',
      Counter,
      () =>
        new Counter({
          name: 'controller_runtime_reconcile_total',
          help: 'Total number of reconciliations per controller',
          labelNames: ['controller', 'result'],
          registers,
        }),
    );
    this.#errors = reuse(
      registry,
      'controller_runtime_reconcile_errors_total',
      Counter,
      () =>
        new Counter({
          name: 'controller_runtime_reconcile_errors_total',
          help: 'Total number of reconciliation errors per controller',
          labelNames: ['controller'],
          registers,
        }),
    );
    this.#terminal = reuse(
      registry,
      'controller_runtime_terminal_reconcile_errors_total',
      Counter,
      () =>
        new Counter({
          name: 'controller_runtime_terminal_reconcile_errors_total',
          help: 'Total number of terminal reconciliation errors per controller',
          labelNames: ['controller'],
          registers,
        }),
    );
    this.#panics = reuse(
      registry,
      'controller_runtime_reconcile_panics_total',
      Counter,
      () =>
        new Counter({
          name: 'controller_runtime_reconcile_panics_total',
          help: 'Total number of reconciliation panics (programming errors thrown by a reconciler) per controller',
          labelNames: ['controller'],
          registers,
        }),
    );
    this.#dropped = reuse(
      registry,
      'controller_runtime_reconcile_dropped_total',
      Counter,
      () =>
        new Counter({
          name: 'controller_runtime_reconcile_dropped_total',
          help: 'Total number of keys dropped after exhausting the retry budget, per controller',
          labelNames: ['controller'],
          registers,
        }),
    );
    this.#time = reuse(
      registry,
      'controller_runtime_reconcile_time_seconds',
      Histogram,
      () =>
        new Histogram({
          name: 'controller_runtime_reconcile_time_seconds',
          help: 'Length of time per reconciliation per controller',
          labelNames: ['controller'],
          buckets: RECONCILE_TIME_BUCKETS,
          registers,
        }),
    );
    this.#active = reuse(
      registry,
      'controller_runtime_active_workers',
      Gauge,
      () =>
        new Gauge({
          name: 'controller_runtime_active_workers',
          help: 'Number of currently used workers per controller',
          labelNames: ['controller'],
          registers,
        }),
    );
    this.#maxConcurrent = reuse(
      registry,
      'controller_runtime_max_concurrent_reconciles',
      Gauge,
      () =>
        new Gauge({
          name: 'controller_runtime_max_concurrent_reconciles',
          help: 'Maximum number of concurrent reconciles per controller',
          labelNames: ['controller'],
          registers,
        }),
    );
  }

  /** Binds the label values of one controller and initialises every series to 0, so rates work from the start. */
  forController(controller: string, workers: number): ControllerMetricsHandle {
    for (const result of RECONCILE_RESULTS) this.#total.inc({ controller, result }, 0);
    for (const c of [this.#errors, this.#terminal, this.#panics, this.#dropped]) c.inc({ controller }, 0);
    this.#active.set({ controller }, 0);
    this.#maxConcurrent.set({ controller }, workers);
    const labels = { controller };
    return {
      reconciled: (result, seconds) => {
        this.#total.inc({ controller, result });
        this.#time.observe(labels, seconds);
      },
      errored: () => this.#errors.inc(labels),
      terminalError: () => this.#terminal.inc(labels),
      panicked: () => this.#panics.inc(labels),
      dropped: () => this.#dropped.inc(labels),
      activeWorkers: (delta) => this.#active.inc(labels, delta),
    };
  }
}
