import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { newApiClient, type RequestRecord } from '../../controllers/runtime/api-client.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import { Manager } from '../../controllers/runtime/manager.ts';
import type { ControllerRegistry, InformerSpec, SharedInformer } from '../../controllers/runtime/manager-types.ts';
import type { Reconciler } from '../../controllers/runtime/reconcile.ts';
import type { TestCluster } from '../envtest/test-cluster.ts';
import { waitFor } from '../envtest/wait-for.ts';

// Runs this operator's controllers in-process against a test cluster, the way cmd/operator does, and watches it from
// the outside: every API request it makes (through the client's observer), every reconcile (through a wrapped
// reconciler) and its queue depth (through the workqueue metrics). That is what "restart makes zero writes" needs: a
// second manager on the same cluster, whose writes are counted once its caches have synced and its queues are empty.

/** Registers the controllers under test on the manager (e.g. `(r) => setupEndpointsController(r, {})`). */
export type ControllerSetup = (registry: ControllerRegistry) => void;

/** Request verbs that change the cluster. */
const WRITE_VERBS: ReadonlySet<string> = new Set(['create', 'update', 'patch', 'delete']);

/** Options of {@link startOperator}. */
export interface OperatorOptions {
  /** Client-side QPS / burst. Default kube-controller-manager's 20 / 30, so throttling behaves as in production. */
  readonly qps?: number;
  readonly burst?: number;
}

/** Options of {@link RunningOperator.waitForIdle}. */
export interface IdleOptions {
  /**
   * How long no reconcile may have started or finished. Default 1.5 s: longer than the first retry of each of the three
   * controllers (5 ms, 1 s, 1 s) and than the 1 s delay of the EndpointSlice controller's slice-triggered syncs.
   */
  readonly quietMs?: number;
  /** Default 30 s. */
  readonly timeoutMs?: number;
}

/** One controller's reconcile activity, counted by the wrapper around its reconciler. */
interface ReconcileActivity {
  started: number;
  inFlight: number;
  lastActivityMs: number;
}

/**
 * A manager started by {@link startOperator}. `requests` grows as the manager talks to the API server (informer
 * lists and watches included). A manager runs once: {@link RunningOperator.restart} stops it and starts a new one.
 */
export class RunningOperator {
  readonly requests: RequestRecord[] = [];
  readonly #manager: Manager;
  readonly #env: TestCluster;
  readonly #setup: ControllerSetup;
  readonly #options: OperatorOptions;
  readonly #informers: SharedInformer<unknown>[] = [];
  readonly #activity = new Map<string, ReconcileActivity>();
  readonly #abort = new AbortController();
  #outcome: Promise<unknown> | undefined;
  #stopped: Promise<void> | undefined;

  constructor(env: TestCluster, setup: ControllerSetup, options: OperatorOptions = {}) {
    this.#env = env;
    this.#setup = setup;
    this.#options = options;
    const client = newApiClient(env.kubeConfig, {
      clock: realClock,
      qps: options.qps ?? 20,
      burst: options.burst ?? 30,
      observer: (r) => this.requests.push(r),
    });
    this.#manager = new Manager({
      client,
      logger: pino({ level: process.env.INTEGRATION_LOG_LEVEL ?? 'silent' }),
      // A registry per manager: a second manager in the same process must not share (or fight over) queue gauges.
      registry: new Registry(),
      gracefulShutdownTimeoutMs: 5_000,
    });
    setup(this.#observingRegistry());
  }

  /** Starts the manager; call once. */
  start(): void {
    if (this.#outcome !== undefined) throw new Error('operator started twice');
    this.#outcome = this.#manager.start(this.#abort.signal);
  }

  /** The create/update/patch/delete requests made so far, in order. */
  writes(): RequestRecord[] {
    return this.requests.filter((r) => WRITE_VERBS.has(r.verb));
  }

  /** Reconciles started so far, over all controllers. */
  reconcileCount(): number {
    let n = 0;
    for (const a of this.#activity.values()) n += a.started;
    return n;
  }

  /**
   * Resolves once every informer has synced, every work queue is empty, no reconcile is running and none has started
   * or finished for `quietMs`. Throws (WaitForTimeoutError) after `timeoutMs`. Delayed requeues that fall due later
   * than `quietMs` (a key's second and later retries) are not waited for.
   */
  async waitForIdle(options: IdleOptions = {}): Promise<void> {
    const quietMs = options.quietMs ?? 1_500;
    await waitFor(
      async () => {
        if (!this.#informers.every((i) => i.hasSynced())) return false;
        if ((await this.#queueDepth()) > 0) return false;
        const now = Date.now();
        for (const a of this.#activity.values()) if (a.inFlight > 0 || now - a.lastActivityMs < quietMs) return false;
        return true;
      },
      {
        description: 'the operator to be idle (caches synced, queues drained, no reconcile)',
        timeoutMs: options.timeoutMs ?? 30_000,
        intervalMs: 50,
      },
    );
  }

  /**
   * Waits until this operator is idle, stops it, and starts a new one with the same controllers and options on the same
   * cluster, as a rolled-out replica would; resolves with the new one once it is idle too. The caller stops the new one.
   */
  async restart(options: IdleOptions = {}): Promise<RunningOperator> {
    await this.waitForIdle(options);
    await this.stop();
    const next = startOperator(this.#env, this.#setup, this.#options);
    await next.waitForIdle(options);
    return next;
  }

  /** Stops the manager gracefully and waits for it; idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#abort.abort();
      await this.#outcome;
    })();
    return this.#stopped;
  }

  async #queueDepth(): Promise<number> {
    const depth = this.#manager.metrics.getSingleMetric('workqueue_depth');
    if (depth === undefined) return 0;
    const { values } = await depth.get();
    return values.reduce((sum, v) => sum + v.value, 0);
  }

  // The manager as the controllers see it, plus bookkeeping: informers are remembered (sync state) and reconcilers
  // wrapped (activity). Everything else is the manager's own.
  #observingRegistry(): ControllerRegistry {
    const manager = this.#manager;
    return {
      client: (component) => manager.client(component),
      clock: manager.clock,
      logger: manager.logger,
      metrics: manager.metrics,
      informer: <T>(spec: InformerSpec<T>): SharedInformer<T> => {
        const informer = manager.informer(spec);
        this.#informers.push(informer as SharedInformer<unknown>);
        return informer;
      },
      eventRecorder: (component) => manager.eventRecorder(component),
      add: (runnable) => manager.add(runnable),
      addController: (options) => {
        const activity: ReconcileActivity = { started: 0, inFlight: 0, lastActivityMs: Date.now() };
        this.#activity.set(options.name, activity);
        return manager.addController({ ...options, reconciler: observed(options.reconciler, activity) });
      },
    };
  }
}

function observed(reconciler: Reconciler, activity: ReconcileActivity): Reconciler {
  return {
    reconcile: async (request, ctx) => {
      activity.started++;
      activity.inFlight++;
      activity.lastActivityMs = Date.now();
      try {
        return await reconciler.reconcile(request, ctx);
      } finally {
        activity.inFlight--;
        activity.lastActivityMs = Date.now();
      }
    },
  };
}

/**
 * Builds a manager with the controllers `setup` registers, starts it against `env`, and returns it running. The caller
 * stops it (`t.after(() => operator.stop())`); a test that restarts stops the first and starts a second one.
 */
export function startOperator(env: TestCluster, setup: ControllerSetup, options: OperatorOptions = {}): RunningOperator {
  const operator = new RunningOperator(env, setup, options);
  operator.start();
  return operator;
}

/** A readable one-line summary of requests, for assertion messages: `update endpoints (200), delete endpointslices (200)`. */
export function describeRequests(requests: readonly RequestRecord[]): string {
  return requests.map((r) => `${r.verb} ${r.resource} (${r.code})`).join(', ') || 'none';
}

/**
 * The "restart makes zero writes" check: restarts `first` (see {@link RunningOperator.restart}) and asserts that the new
 * manager synced at least `minReconciles` keys (so the check is not vacuous) and made no create, update, patch or
 * delete request at all, Events included. Also asserts that `first` wrote, which proves writes are being counted.
 */
export async function assertRestartWritesNothing(
  t: { after(fn: () => Promise<void>): void },
  first: RunningOperator,
  minReconciles: number,
): Promise<void> {
  assert.ok(first.writes().length > 0, 'the first operator wrote (so writes are being counted)');
  const second = await first.restart();
  t.after(() => second.stop());
  assert.ok(second.reconcileCount() >= minReconciles, `the restarted operator synced only ${second.reconcileCount()} keys`);
  assert.deepEqual(second.writes(), [], `writes after restart: ${describeRequests(second.writes())}`);
}

/** Polls until `check` stops throwing and returns its result; on timeout the error names `description` and the last failure. */
export async function eventually<T>(description: string, check: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const { value } = await waitFor(async () => ({ value: await check() }), { description, timeoutMs });
  return value;
}
