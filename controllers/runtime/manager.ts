import { hostname as osHostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ApiClient } from './api-client.ts';
import { describeError, isNotFound } from './api-errors.ts';
import { Informer, type InformerDeps, type InformerOptions } from './cache/informer.ts';
import { type Clock, realClock, type Timer } from './clock.ts';
import { Controller } from './controller.ts';
import { ControllerMetrics } from './controller-metrics.ts';
import { type BindAddress, type HealthCheck, HealthServer } from './health-server.ts';
import { LeaderElector, newLeaderIdentity } from './leader-election.ts';
import { ClientFactory } from './manager/client-factory.ts';
import { InformerRegistry } from './manager/informer-registry.ts';
import type { RunnableInformer } from './manager/lazy-informer.ts';
import type {
  ControllerHandle,
  ControllerOptions,
  ControllerRegistry,
  EventRecorder,
  InformerSpec,
  SharedInformer,
} from './manager-types.ts';
import { queueMetrics } from './queue/queue-metrics.ts';
import type { ResourceType } from './resource.ts';
import type { WatcherNotice } from './watch/watcher.ts';

// The manager owns everything controllers share and the order things start and stop in:
//   servers -> (leader election) -> informers -> caches synced -> each controller's onStart -> workers
// and on a stop signal: intake stops, in-flight reconciles drain (bounded), everything else is aborted, the lease is
// released, servers close. Losing the lease aborts all work at once and ends start() with 'lost-leadership', so the
// process exits and restarts as a fresh candidate, as kube-controller-manager does.

/** Leader election settings; durations in milliseconds (defaults: kube-controller-manager's 15 s / 10 s / 2 s). */
export interface ManagerLeaderElection {
  readonly namespace: string;
  readonly name: string;
  /** Default `hostname_uuid`. */
  readonly identity?: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
}

export type { RunnableInformer } from './manager/lazy-informer.ts';

/** Options of {@link Manager}; each documents its default. */
export interface ManagerOptions {
  readonly logger: Logger;
  /** The cluster to talk to. Required unless `client` is given. */
  readonly kubeConfig?: KubeConfig;
  /** A ready base client (tests, or a caller-built client); wins over `kubeConfig`. */
  readonly client?: ApiClient;
  /** Client-side QPS per component client. Default 20 (kube-controller-manager's --kube-api-qps). */
  readonly qps?: number;
  /** Client-side burst per component client. Default 30. */
  readonly burst?: number;
  /** User agent prefix; a component's client sends `<userAgent>/<component>`. Default `kube-endpoints-operator`. */
  readonly userAgent?: string;
  readonly clock?: Clock;
  /** Metrics registry, one Manager per registry. Default: a new one with prom-client's default process metrics. */
  readonly registry?: Registry;
  /** `/metrics` address; `0` disables. Default `0` (the command line defaults it to `:8080`). */
  readonly metricsBindAddress?: string;
  /** `/healthz` + `/readyz` address; `0` disables. Default `0` (the command line defaults it to `:8081`). */
  readonly healthProbeBindAddress?: string;
  /** Elect a leader before running informers and controllers. Default: no election (always leading). */
  readonly leaderElection?: ManagerLeaderElection;
  /** How long a stop waits for in-flight reconciles before aborting them. Default 30 s (controller-runtime's). */
  readonly gracefulShutdownTimeoutMs?: number;
  /** Leader identity prefix (`<hostname>_<uuid>`). Default os.hostname(). */
  readonly hostname?: string;
  /** Informer tuning shared by all informers. */
  readonly informerOptions?: InformerOptions;
  /** Reconcile id source for every controller. Default random UUIDs. */
  readonly newReconcileId?: () => string;
  /** Builds informers. Default: {@link Informer}. A seam for tests. */
  readonly newInformer?: <T>(spec: InformerSpec<T>, deps: InformerDeps) => RunnableInformer<T>;
}

/** How {@link Manager.start} ended; the command maps it to an exit code. */
export type ManagerOutcome =
  { readonly kind: 'stopped' } | { readonly kind: 'lost-leadership' } | { readonly kind: 'failed'; readonly error: unknown };

/** The reason work signals carry when leadership is lost. */
export class LostLeadershipError extends Error {
  override readonly name = 'LostLeadershipError';
}

/** The reason work signals carry when the graceful drain timed out or the manager stopped. */
export class ManagerStoppedError extends Error {
  override readonly name = 'ManagerStoppedError';
}

// After the hard abort, in-flight work has this long to notice before the manager stops waiting for it.
const HARD_STOP_WAIT_MS = 5_000;
// How often the wait for cache sync logs which informers are still listing.
const SYNC_PROGRESS_LOG_MS = 10_000;

/**
 * The controller manager. Wire controllers (via {@link ControllerRegistry}) before `start`; `start(signal)` runs until
 * the signal aborts, leadership is lost or a start step fails, and resolves with the outcome after a full cleanup.
 * Not restartable.
 */
export class Manager implements ControllerRegistry {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly #o: ManagerOptions;
  readonly #hostname: string;
  readonly #clients: ClientFactory;
  readonly #informers = new InformerRegistry();
  readonly #controllers: Controller[] = [];
  readonly #controllerMetrics: ControllerMetrics;
  readonly #leaderGauge: Gauge<'name'>;
  readonly #informerNotices: Counter<'resource' | 'notice'>;
  readonly #servers: HealthServer[] = [];
  #metricsServer: HealthServer | undefined;
  #healthServer: HealthServer | undefined;
  #started = false;
  #leading = false;
  #synced = false;
  #stopping = false;
  readonly #failedInformers = new Set<string>();
  /** Why an informer's last list failed, until a list succeeds: what readiness and the sync progress log report. */
  readonly #listFailures = new Map<string, string>();

  /** Throws if neither `client` nor `kubeConfig` is given, or a bind address is malformed. */
  constructor(options: ManagerOptions) {
    this.#o = options;
    this.clock = options.clock ?? realClock;
    this.logger = options.logger;
    this.#hostname = options.hostname ?? osHostname();
    this.metrics = options.registry ?? defaultRegistry();
    this.#controllerMetrics = new ControllerMetrics(this.metrics);
    this.#leaderGauge = new Gauge({
      name: 'leader_election_master_status',
      help: 'Whether this process currently leads (1) or not (0), per lease name',
      labelNames: ['name'],
      registers: [this.metrics],
    });
    this.#informerNotices = new Counter({
      name: 'informer_watch_notices_total',
      help: 'Informer list/watch lifecycle events by kind: relist, reconnect, expired (410), list_failure, watch_failure, decode_failure',
      labelNames: ['resource', 'notice'],
      registers: [this.metrics],
    });
    if (options.leaderElection !== undefined) this.#leaderGauge.set({ name: options.leaderElection.name }, 0);
    this.#clients = new ClientFactory({
      logger: this.logger,
      clock: this.clock,
      metrics: this.metrics,
      kubeConfig: options.kubeConfig,
      client: options.client,
      qps: options.qps,
      burst: options.burst,
      userAgent: options.userAgent ?? 'kube-endpoints-operator',
    });
    this.#buildServers();
  }

  /** Per-component client with its own user agent and client-side rate limiter, created once per component. */
  client(component: string): ApiClient {
    return this.#clients.client(component);
  }

  /** See {@link InformerRegistry.informer}. Throws after start. */
  informer<T>(spec: InformerSpec<T>): SharedInformer<T> {
    return this.#informers.informer(spec);
  }

  /** The Events recorder for `component` (the Event source), one per component, writing with that component's client. */
  eventRecorder(component: string): EventRecorder {
    return this.#clients.eventRecorder(component);
  }

  /** Registers a controller. Throws after start or for a duplicate name (names label metrics and queues). */
  addController(options: ControllerOptions): ControllerHandle {
    if (this.#started) throw new Error(`controller ${options.name} added after the manager started`);
    if (this.#controllers.some((c) => c.name === options.name)) throw new Error(`controller ${options.name} registered twice`);
    const controller = new Controller(options, {
      clock: this.clock,
      logger: this.logger,
      metrics: this.#controllerMetrics,
      queueMetrics: queueMetrics(this.metrics, options.name),
      newReconcileId: this.#o.newReconcileId,
    });
    this.#controllers.push(controller);
    return controller;
  }

  /** Where the servers listen (after start), e.g. to find a port chosen with `:0`. */
  serverAddresses(): { metrics: BindAddress | undefined; health: BindAddress | undefined } {
    return { metrics: this.#metricsServer?.address(), health: this.#healthServer?.address() };
  }

  /** Runs until `signal` aborts (graceful stop), leadership is lost or starting fails; then cleans up. Call once. */
  async start(signal: AbortSignal): Promise<ManagerOutcome> {
    if (this.#started) throw new Error('manager started twice');
    this.#started = true;
    this.#informers.close();
    const log = this.logger;
    try {
      for (const s of this.#servers) await s.start();
    } catch (error) {
      log.error({ err: error }, 'Failed to start HTTP servers');
      await this.#closeServers();
      return { kind: 'failed', error };
    }
    const addresses = this.serverAddresses();
    log.info({ metrics: addresses.metrics, health: addresses.health }, 'Started manager');

    const work = new AbortController();
    let settle!: (o: ManagerOutcome) => void;
    const outcome = new Promise<ManagerOutcome>((resolve) => {
      settle = resolve;
    });
    const onSignal = () => settle({ kind: 'stopped' });
    if (signal.aborted) onSignal();
    else signal.addEventListener('abort', onSignal, { once: true });

    const running: Promise<unknown>[] = [];
    const lead = () => {
      this.#leading = true;
      running.push(
        this.#runLeading(work.signal, running, settle).then(
          (failure) => {
            if (failure !== undefined) settle(failure);
          },
          (error: unknown) => settle({ kind: 'failed', error }),
        ),
      );
    };

    const le = this.#o.leaderElection;
    const electionStop = new AbortController();
    let election: Promise<void> = Promise.resolve();
    if (le === undefined) {
      lead();
    } else {
      const elector = new LeaderElector({
        client: this.client('leader-election'),
        clock: this.clock,
        logger: log,
        namespace: le.namespace,
        name: le.name,
        identity: le.identity ?? newLeaderIdentity(this.#hostname),
        leaseDurationMs: le.leaseDurationMs,
        renewDeadlineMs: le.renewDeadlineMs,
        retryPeriodMs: le.retryPeriodMs,
      });
      election = elector.run(electionStop.signal, {
        onStartedLeading: () => {
          this.#leaderGauge.set({ name: le.name }, 1);
          lead();
        },
        onStoppedLeading: (reason) => {
          this.#leaderGauge.set({ name: le.name }, 0);
          this.#leading = false;
          if (reason === 'lost') {
            // Another candidate may take over as soon as the lease expires: stop every write now, no drain.
            work.abort(new LostLeadershipError('lost leadership'));
            settle({ kind: 'lost-leadership' });
          }
        },
      });
    }

    const result = await outcome;
    signal.removeEventListener('abort', onSignal);
    this.#stopping = true;
    if (result.kind === 'stopped') {
      log.info('Stopping manager');
      await this.#drain();
    } else if (result.kind === 'lost-leadership') {
      log.error('Stopped all work: lost leadership');
    } else {
      log.error({ err: result.error }, 'Stopping manager after a failure');
    }
    if (!work.signal.aborted) work.abort(new ManagerStoppedError('manager stopped'));
    await this.#waitBounded(Promise.allSettled(running), HARD_STOP_WAIT_MS, 'Timed out waiting for controllers and informers to stop');
    await this.#clients.closeRecorders();
    electionStop.abort();
    await election;
    await this.#closeServers();
    log.info({ outcome: result.kind }, 'Stopped manager');
    return result;
  }

  // Informers, sync, onStart hooks, then workers. Returns a failure outcome, or undefined once workers are running
  // (or the work was aborted meanwhile). Promises of long-running pieces go into `running`; a failure of one of them
  // later on is reported through `fail`.
  async #runLeading(
    signal: AbortSignal,
    running: Promise<unknown>[],
    fail: (outcome: ManagerOutcome) => void,
  ): Promise<ManagerOutcome | undefined> {
    const log = this.logger;
    const newInformer = this.#o.newInformer ?? (<T>(spec: InformerSpec<T>, deps: InformerDeps) => new Informer<T>(spec, deps));
    const client = this.client('shared-informers');
    const informers: [string, RunnableInformer<unknown>][] = [];
    const observe = this.#o.informerOptions?.observe;
    for (const handle of this.#informers.all()) {
      const { key } = handle;
      const resource = handle.spec.resource;
      const informer = handle.materialise((spec) =>
        newInformer(spec, {
          client,
          clock: this.clock,
          logger: log,
          options: {
            ...this.#o.informerOptions,
            observe: (n) => {
              this.#observeInformer(key, resource, n);
              observe?.(n);
            },
          },
        }),
      );
      informers.push([key, informer]);
      running.push(
        informer.start(signal).catch((error: unknown) => {
          if (signal.aborted) return;
          // The informer retries API failures forever, so a rejection is a bug that will not heal: fail liveness
          // and stop, rather than reconcile from a cache that no longer follows the cluster.
          this.#failedInformers.add(key);
          log.error({ err: error, informer: key }, 'Informer stopped with an error');
          fail({ kind: 'failed', error });
        }),
      );
    }

    log.info({ informers: informers.map(([k]) => k) }, 'Waiting for caches to sync');
    let progress: Timer | undefined;
    const logProgress = () => {
      const pending = informers.filter(([, i]) => !i.hasSynced()).map(([k]) => k);
      const failing = Object.fromEntries(
        pending.flatMap((k) => {
          const why = this.#listFailures.get(k);
          return why === undefined ? [] : [[k, why]];
        }),
      );
      log.info({ pending, ...(Object.keys(failing).length > 0 ? { failing } : {}) }, 'Still waiting for caches to sync');
      progress = this.clock.setTimer(SYNC_PROGRESS_LOG_MS, logProgress);
    };
    progress = this.clock.setTimer(SYNC_PROGRESS_LOG_MS, logProgress);
    const synced = await Promise.all(informers.map(([, i]) => i.waitForSync(signal)));
    progress.cancel();
    if (signal.aborted || this.#stopping || synced.includes(false)) return undefined;
    this.#synced = true;
    log.info({ informers: informers.length }, 'Synced caches');

    for (const c of this.#controllers) {
      try {
        await c.runOnStart(signal);
      } catch (error) {
        if (signal.aborted) return undefined;
        log.error({ err: error, controller: c.name }, 'Controller start hook failed');
        return { kind: 'failed', error };
      }
      if (signal.aborted || this.#stopping) return undefined;
    }
    for (const c of this.#controllers) running.push(c.start(signal));
    log.info({ controllers: this.#controllers.map((c) => c.name) }, 'Started controllers');
    return undefined;
  }

  // Graceful part of a stop: no new reconciles, in-flight ones finish, bounded by the shutdown timeout.
  async #drain(): Promise<void> {
    const timeoutMs = this.#o.gracefulShutdownTimeoutMs ?? 30_000;
    await this.#waitBounded(
      Promise.all(this.#controllers.map((c) => c.shutDown())),
      timeoutMs,
      'Timed out waiting for in-flight reconciles; aborting them',
    );
  }

  async #waitBounded(p: Promise<unknown>, ms: number, message: string): Promise<void> {
    let timer: { cancel(): void } | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = this.clock.setTimer(ms, () => resolve('timeout'));
    });
    const r = await Promise.race([p.then(() => 'done' as const), timedOut]);
    timer?.cancel();
    if (r === 'timeout') this.logger.warn({ timeoutMs: ms }, message);
  }

  async #closeServers(): Promise<void> {
    await Promise.allSettled(this.#servers.map((s) => s.close()));
  }

  #buildServers(): void {
    const metricsAddr = this.#o.metricsBindAddress ?? '0';
    const healthAddr = this.#o.healthProbeBindAddress ?? '0';
    const healthz: HealthCheck[] = [
      { name: 'ping', check: () => undefined },
      {
        name: 'informers',
        check: () => (this.#failedInformers.size === 0 ? undefined : `stopped for good: ${[...this.#failedInformers].join(', ')}`),
      },
    ];
    const readyz: HealthCheck[] = [{ name: 'manager', check: () => this.#readiness() }];
    if (metricsAddr !== '0' && metricsAddr === healthAddr) {
      this.#metricsServer = new HealthServer({ bindAddress: metricsAddr, metrics: this.metrics, healthz, readyz, logger: this.logger });
      this.#healthServer = this.#metricsServer;
      this.#servers.push(this.#metricsServer);
      return;
    }
    const metrics = new HealthServer({ bindAddress: metricsAddr, metrics: this.metrics, logger: this.logger });
    const health = new HealthServer({ bindAddress: healthAddr, healthz, readyz, logger: this.logger });
    if (metrics.enabled) {
      this.#metricsServer = metrics;
      this.#servers.push(metrics);
    }
    if (health.enabled) {
      this.#healthServer = health;
      this.#servers.push(health);
    }
  }

  // Ready = able to do this replica's job: a standby is ready (it is waiting its turn, and a rollout must not stall
  // on it); the leader is ready once its caches have synced.
  #readiness(): string | undefined {
    if (this.#stopping) return 'shutting down';
    if (!this.#started) return 'not started';
    if (this.#o.leaderElection !== undefined && !this.#leading) return undefined;
    if (!this.#synced) {
      const pending = this.#informers
        .all()
        .filter((h) => !h.hasSynced())
        .map((h) => h.key);
      const described = pending.map((k) => {
        const why = this.#listFailures.get(k);
        return why === undefined ? k : `${k} (${why})`;
      });
      return `caches not synced: ${described.join(', ') || 'starting'}`;
    }
    return undefined;
  }

  #observeInformer(key: string, r: ResourceType, notice: WatcherNotice): void {
    const resource = r.plural;
    if (notice.kind === 'listed') {
      this.#listFailures.delete(key);
    } else if (notice.kind === 'retrying' && notice.phase === 'list') {
      const first = !this.#listFailures.has(key);
      const notServed = isNotFound(notice.error);
      this.#listFailures.set(
        key,
        notServed
          ? `the API server does not serve ${resourceName(r)}: ${describeError(notice.error).message}`
          : describeError(notice.error).message,
      );
      // The informer retries forever (a CRD may be installed later) and warns on every attempt; this says once, at
      // error level and in words, why every controller is being held back.
      if (first && notServed) {
        this.logger.error(
          { informer: key, resource: resourceName(r), err: describeError(notice.error) },
          'Failed to list a resource the API server does not serve; controllers wait until it is served (is its CRD installed?)',
        );
      }
    }
    const kind =
      notice.kind === 'listed' && notice.relist
        ? 'relist'
        : notice.kind === 'watch-opened' && notice.reconnect
          ? 'reconnect'
          : notice.kind === 'expired'
            ? 'expired'
            : notice.kind === 'retrying'
              ? `${notice.phase}_failure`
              : notice.kind === 'decode-failed'
                ? 'decode_failure'
                : undefined;
    if (kind !== undefined) this.#informerNotices.inc({ resource, notice: kind });
  }
}

/** `plural.group/version` (`pods/v1` for core), as kubectl names a resource. */
function resourceName(r: ResourceType): string {
  return r.group === '' ? `${r.plural}/${r.version}` : `${r.plural}.${r.group}/${r.version}`;
}

/** A registry with prom-client's default process and Node.js metrics (event loop lag, heap, GC). */
function defaultRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
