import { hostname as osHostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ApiClient } from './api-client.ts';
import { Informer, type InformerDeps, type InformerOptions } from './cache/informer.ts';
import { type Clock, realClock } from './clock.ts';
import { Controller } from './controller.ts';
import { ControllerMetrics } from './controller-metrics.ts';
import type { BindAddress } from './health-server.ts';
import { LeaderElector, newLeaderIdentity } from './leader-election.ts';
import { ClientFactory } from './manager/client-factory.ts';
import { InformerDiagnostics } from './manager/informer-diagnostics.ts';
import { InformerRegistry } from './manager/informer-registry.ts';
import type { LazyInformer, RunnableInformer } from './manager/lazy-informer.ts';
import { ManagerServers } from './manager/manager-servers.ts';
import { type GroupMember, RUNNABLE_GROUPS, RunnableGroup, type RunnableGroupName } from './manager/runnable-group.ts';
import type {
  ControllerHandle,
  ControllerOptions,
  ControllerRegistry,
  EventRecorder,
  InformerSpec,
  Runnable,
  SharedInformer,
} from './manager-types.ts';
import { queueMetrics } from './queue/queue-metrics.ts';

// The manager owns everything controllers share and runs their long-lived parts in runnable groups, as
// controller-runtime's manager does (docs/adr/0007-manager-runnable-groups.md). Groups start in a declared order:
//   servers -> others -> (leader election) -> caches, synced -> leader-election (controllers' onStart, then workers
//   and the other leader-only runnables)
// and stop in the reverse one: on a stop signal, intake stops and in-flight reconciles drain (bounded), everything
// else is aborted, the lease is released, servers close. Losing the lease aborts the caches and leader-election
// groups at once and ends start() with 'lost-leadership', so the process exits and restarts as a fresh candidate, as
// kube-controller-manager does. The pieces live in controllers/runtime/manager/: clients, informer registry,
// informer diagnostics, servers, runnable groups.

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
  /** Gets, lists and watches over HTTP/2 where the server offers it (see api-dispatcher.ts). Default true. */
  readonly http2?: boolean;
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
  readonly #clients: ClientFactory;
  readonly #informers = new InformerRegistry();
  readonly #diagnostics: InformerDiagnostics;
  readonly #servers: ManagerServers;
  readonly #groups: Record<RunnableGroupName, RunnableGroup>;
  readonly #controllers: Controller[] = [];
  readonly #controllerMetrics: ControllerMetrics;
  readonly #leaderGauge: Gauge<'name'>;
  #started = false;
  #leading = false;
  #stopping = false;

  /** Throws if neither `client` nor `kubeConfig` is given, or a bind address is malformed. */
  constructor(options: ManagerOptions) {
    this.#o = options;
    this.clock = options.clock ?? realClock;
    this.logger = options.logger;
    this.metrics = options.registry ?? defaultRegistry();
    this.#controllerMetrics = new ControllerMetrics(this.metrics);
    this.#leaderGauge = new Gauge({
      name: 'leader_election_master_status',
      help: 'Whether this process currently leads (1) or not (0), per lease name',
      labelNames: ['name'],
      registers: [this.metrics],
    });
    this.#diagnostics = new InformerDiagnostics({ logger: this.logger, clock: this.clock, metrics: this.metrics });
    if (options.leaderElection !== undefined) this.#leaderGauge.set({ name: options.leaderElection.name }, 0);
    this.#clients = new ClientFactory({
      logger: this.logger,
      clock: this.clock,
      metrics: this.metrics,
      kubeConfig: options.kubeConfig,
      client: options.client,
      qps: options.qps,
      burst: options.burst,
      http2: options.http2,
      userAgent: options.userAgent ?? 'kube-endpoints-operator',
    });
    this.#groups = Object.fromEntries(RUNNABLE_GROUPS.map((g) => [g, new RunnableGroup(g)])) as Record<RunnableGroupName, RunnableGroup>;
    this.#servers = new ManagerServers({
      metricsBindAddress: options.metricsBindAddress ?? '0',
      healthProbeBindAddress: options.healthProbeBindAddress ?? '0',
      metrics: this.metrics,
      healthz: [
        { name: 'ping', check: () => undefined },
        { name: 'informers', check: () => this.#diagnostics.liveness() },
      ],
      readyz: [{ name: 'manager', check: () => this.#readiness() }],
      logger: this.logger,
    });
    for (const member of this.#servers.members()) this.#groups.servers.add(member);
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

  /**
   * Registers a controller in the leader-election group: its `onStart` runs after the caches synced, before any
   * member of the group starts. Throws after start or for a duplicate name (names label metrics and queues).
   */
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
    this.#groups['leader-election'].add({
      name: controller.name,
      prepare: (signal) => controller.runOnStart(signal),
      start: (signal) => controller.start(signal),
      drain: () => controller.shutDown(),
    });
    return controller;
  }

  /** Registers a runnable in the leader-election group, or with `needLeaderElection: false` in the others group. */
  add(runnable: Runnable): void {
    if (this.#started) throw new Error(`runnable ${runnable.name} added after the manager started`);
    this.#groups[runnable.needLeaderElection === false ? 'others' : 'leader-election'].add({
      name: runnable.name,
      start: (signal) => runnable.start(signal),
    });
  }

  /** Where the servers listen (after start), e.g. to find a port chosen with `:0`. */
  serverAddresses(): { metrics: BindAddress | undefined; health: BindAddress | undefined } {
    return this.#servers.addresses();
  }

  /** Runs until `signal` aborts (graceful stop), leadership is lost or starting fails; then cleans up. Call once. */
  async start(signal: AbortSignal): Promise<ManagerOutcome> {
    if (this.#started) throw new Error('manager started twice');
    this.#started = true;
    this.#informers.close();
    for (const informer of this.#informers.all()) this.#groups.caches.add(this.#cacheMember(informer));
    const log = this.logger;
    const { servers, others, caches } = this.#groups;
    const leaderOnly = this.#groups['leader-election'];

    let serverError: unknown;
    if (!(await servers.start((error) => (serverError ??= error)))) {
      log.error({ err: serverError }, 'Failed to start HTTP servers');
      servers.stop(new ManagerStoppedError('manager stopped'));
      await servers.stopped();
      return { kind: 'failed', error: serverError };
    }
    const addresses = this.serverAddresses();
    log.info({ metrics: addresses.metrics, health: addresses.health }, 'Started manager');

    let settle!: (o: ManagerOutcome) => void;
    const outcome = new Promise<ManagerOutcome>((resolve) => {
      settle = resolve;
    });
    const fail = (error: unknown) => settle({ kind: 'failed', error });
    const onSignal = () => settle({ kind: 'stopped' });
    if (signal.aborted) onSignal();
    else signal.addEventListener('abort', onSignal, { once: true });

    void others.start(fail);
    const lead = () => {
      this.#leading = true;
      this.#runLeading(fail).catch(fail);
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
        identity: le.identity ?? newLeaderIdentity(this.#o.hostname ?? osHostname()),
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
            const lost = new LostLeadershipError('lost leadership');
            leaderOnly.stop(lost);
            caches.stop(lost);
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
      // Graceful part of a stop: no new reconciles, in-flight ones finish, bounded by the shutdown timeout.
      await this.#waitBounded(
        leaderOnly.drain(),
        this.#o.gracefulShutdownTimeoutMs ?? 30_000,
        'Timed out waiting for in-flight reconciles; aborting them',
      );
    } else if (result.kind === 'lost-leadership') {
      log.error('Stopped all work: lost leadership');
    } else {
      log.error({ err: result.error }, 'Stopping manager after a failure');
    }
    const stopped = new ManagerStoppedError('manager stopped');
    for (const group of [leaderOnly, caches, others]) group.stop(stopped);
    await this.#waitBounded(
      Promise.all([leaderOnly.stopped(), caches.stopped(), others.stopped()]),
      HARD_STOP_WAIT_MS,
      'Timed out waiting for controllers and informers to stop',
    );
    await this.#clients.closeRecorders();
    electionStop.abort();
    await election;
    servers.stop(stopped);
    await servers.stopped();
    log.info({ outcome: result.kind }, 'Stopped manager');
    return result;
  }

  // The leader's part: the caches group, and once it is synced the leader-election group. A failure of either is
  // reported through `fail`.
  async #runLeading(fail: (error: unknown) => void): Promise<void> {
    const log = this.logger;
    const { caches } = this.#groups;
    const leaderOnly = this.#groups['leader-election'];
    log.info({ informers: caches.names() }, 'Waiting for caches to sync');
    const progress = this.#diagnostics.logSyncProgress(() => caches.pending());
    const synced = await caches.start((error, member) => {
      // The informer retries API failures forever, so a rejection is a bug that will not heal: fail liveness and stop,
      // rather than reconcile from a cache that no longer follows the cluster.
      this.#diagnostics.stoppedForGood(member.name);
      log.error({ err: error, informer: member.name }, 'Informer stopped with an error');
      fail(error);
    });
    progress.cancel();
    if (!synced || this.#stopping) return;
    log.info({ informers: caches.names().length }, 'Synced caches');

    const started = await leaderOnly.start((error, member) => {
      log.error({ err: error, runnable: member.name }, 'Leader-election runnable failed');
      fail(error);
    });
    if (started) log.info({ controllers: this.#controllers.map((c) => c.name), runnables: leaderOnly.names() }, 'Started controllers');
  }

  // A cache as a member of the caches group: the real informer is built when the group starts (on the leader only).
  #cacheMember(lazy: LazyInformer<unknown>): GroupMember {
    const newInformer = this.#o.newInformer ?? (<T>(spec: InformerSpec<T>, deps: InformerDeps) => new Informer<T>(spec, deps));
    const observe = this.#o.informerOptions?.observe;
    let real: RunnableInformer<unknown> | undefined;
    return {
      name: lazy.key,
      start: (signal) => {
        real = lazy.materialise((spec) =>
          newInformer(spec, {
            client: this.client('shared-informers'),
            clock: this.clock,
            logger: this.logger,
            options: {
              ...this.#o.informerOptions,
              observe: (n) => {
                this.#diagnostics.observe(lazy.key, lazy.spec.resource, n);
                observe?.(n);
              },
            },
          }),
        );
        return real.start(signal);
      },
      waitReady: (signal) => real?.waitForSync(signal) ?? Promise.resolve(false),
    };
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

  // Ready = able to do this replica's job: a standby is ready (it is waiting its turn, and a rollout must not stall
  // on it); the leader is ready once its caches group is.
  #readiness(): string | undefined {
    if (this.#stopping) return 'shutting down';
    if (!this.#started) return 'not started';
    if (this.#o.leaderElection !== undefined && !this.#leading) return undefined;
    const caches = this.#groups.caches;
    if (!caches.ready) {
      const described = caches.pending().map((k) => this.#diagnostics.describe(k));
      return `caches not synced: ${described.join(', ') || 'starting'}`;
    }
    return undefined;
  }
}

/** A registry with prom-client's default process and Node.js metrics (event loop lag, heap, GC). */
function defaultRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
