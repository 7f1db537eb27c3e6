import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectKey } from '../../api/core/meta.ts';
import { ScriptedApiClient } from '../../test/fake-apiserver/scripted-api-client.ts';
import type { ApiClient } from './api-client.ts';
import { apiErrorFrom } from './api-errors.ts';
import type { EventHandler } from './cache/event-handler.ts';
import { IndexedStore } from './cache/indexed-store.ts';
import { FakeClock } from './clock.ts';
import { connectionRefused } from './testing/api-error.ts';
import { FakeApiClient } from './testing/fake-api-client.ts';
import { Manager, type ManagerOptions, type ManagerOutcome, type RunnableInformer } from './manager.ts';
import type { InformerSpec } from './manager-types.ts';
import { done, type ReconcileContext, type Result } from './reconcile.ts';
import { LEASES, NODES, PODS, SERVICES } from './resource.ts';
import { captureLogger, deferred, eventually, metricValue } from './runtime-test-helpers.ts';

interface Obj {
  metadata: { namespace?: string; name?: string; labels?: Record<string, string> };
}

const parseObj = (raw: unknown): Obj => raw as Obj;

/** An informer the test syncs by hand. */
class FakeInformer<T> implements RunnableInformer<T> {
  readonly spec: InformerSpec<T>;
  readonly store: IndexedStore<T>;
  readonly handlers: EventHandler<T>[] = [];
  signal: AbortSignal | undefined;
  #synced = false;
  #waiters: (() => void)[] = [];

  constructor(spec: InformerSpec<T>) {
    this.spec = spec;
    this.store = new IndexedStore<T>({
      keyFunc: (o) => objectKey(o as Obj),
      namespaceFunc: (o) => (o as Obj).metadata.namespace ?? '',
      indexers: spec.indexers,
    });
  }
  addEventHandler(h: EventHandler<T>): void {
    this.handlers.push(h);
  }
  hasSynced(): boolean {
    return this.#synced;
  }
  sync(objects: T[] = []): void {
    for (const o of objects) {
      this.store.upsert(o);
      for (const h of this.handlers) h.onAdd?.(o);
    }
    this.#synced = true;
    for (const w of this.#waiters) w();
  }
  /** Makes start() reject, as a bug inside an informer would. */
  crash: (error: Error) => void = () => undefined;
  start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      this.crash = reject;
    });
  }
  waitForSync(signal: AbortSignal): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      signal.addEventListener('abort', () => resolve(false), { once: true });
      this.#waiters.push(() => resolve(true));
    });
  }
}

function setup(opts: Partial<ManagerOptions> & { client?: ApiClient; clock?: FakeClock } = {}) {
  const clock = opts.clock ?? new FakeClock();
  const client = opts.client ?? new FakeApiClient();
  const { logger, lines } = captureLogger('debug');
  const informers: FakeInformer<unknown>[] = [];
  const manager = new Manager({
    logger,
    client,
    clock,
    hostname: 'node-1',
    newInformer: <T>(spec: InformerSpec<T>) => {
      const i = new FakeInformer<T>(spec);
      informers.push(i as FakeInformer<unknown>);
      return i;
    },
    ...opts,
  });
  const stop = new AbortController();
  let outcome: ManagerOutcome | undefined;
  const start = () => {
    const p = manager.start(stop.signal);
    void p.then((o) => {
      outcome = o;
    });
    return p;
  };
  return { clock, client, lines, manager, informers, stop, start, outcome: () => outcome };
}

/** A reconciler whose calls the test controls. */
function gatedReconciler() {
  const calls: { key: string; ctx: ReconcileContext; gate: ReturnType<typeof deferred<Result>> }[] = [];
  return {
    calls,
    reconciler: {
      reconcile: (r: { key: string }, ctx: ReconcileContext): Promise<Result> => {
        const gate = deferred<Result>();
        calls.push({ key: r.key, ctx, gate });
        return gate.promise;
      },
    },
  };
}

const LE = {
  namespace: 'kube-system',
  name: 'kube-endpoints-operator',
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

describe('Manager.informer', () => {
  it('shares one informer per resource and label selector and merges indexers', async () => {
    const t = setup();
    const byApp = (o: Obj) => [o.metadata.labels?.app ?? ''];
    const byTier = (o: Obj) => [o.metadata.labels?.tier ?? ''];
    const a = t.manager.informer({ resource: PODS, parse: parseObj, parseId: 'test.Obj', indexers: { byApp } });
    const b = t.manager.informer({ resource: PODS, parse: parseObj, parseId: 'test.Obj', indexers: { byTier, byApp } });
    const c = t.manager.informer({ resource: PODS, parse: parseObj, parseId: 'test.Obj', labelSelector: 'app=web' });
    const d = t.manager.informer({ resource: SERVICES, parse: parseObj, parseId: 'test.Obj' });
    assert.equal(a, b);
    assert.notEqual(a, c);
    assert.notEqual(a, d);
    assert.deepEqual(a.store.byIndex('byTier', 'x'), [], 'a merged index is queryable before start');
    const running = t.start();
    await t.clock.advance(0);
    assert.equal(t.informers.length, 3);
    assert.deepEqual(Object.keys(t.informers[0]?.spec.indexers ?? {}).sort(), ['byApp', 'byTier']);
    t.informers[0]?.sync([{ metadata: { namespace: 'ns', name: 'p', labels: { tier: 'front' } } }]);
    assert.equal(a.store.byIndex('byTier', 'front').length, 1, 'the handle reads the real store once it exists');
    t.stop.abort();
    await running;
  });

  it('refuses a conflicting index, a parse id with two parse functions and requests after start; keeps parse ids apart', async () => {
    const t = setup();
    t.manager.informer({ resource: PODS, parse: parseObj, parseId: 'test.Obj', indexers: { x: () => ['1'] } });
    assert.throws(
      () => t.manager.informer({ resource: PODS, parse: parseObj, parseId: 'test.Obj', indexers: { x: () => ['2'] } }),
      /index x registered twice/,
    );
    const shared = t.manager.informer({ resource: SERVICES, parse: parseObj, parseId: 'test.Obj' });
    assert.equal(
      t.manager.informer({ resource: SERVICES, parse: parseObj, parseId: 'test.Obj' }),
      shared,
      'the same parse function shares',
    );
    const project = (raw: unknown) => ({ metadata: {}, raw }) as Obj;
    const projected = t.manager.informer({ resource: SERVICES, parse: project, parseId: 'test.Projected' });
    assert.notEqual(projected, shared, 'another parse id gets its own informer, never objects of the first shape');
    assert.throws(
      () => t.manager.informer({ resource: SERVICES, parse: (raw) => raw as Obj, parseId: 'test.Obj' }),
      /parse id test\.Obj registered with two different parse functions/,
      'an inline lambda under a taken parse id is refused, not given a second informer',
    );
    assert.throws(
      () => t.manager.informer({ resource: NODES, parse: project, parseId: 'test.Other' }),
      /already declared as parse id test\.Projected/,
      'one parse function, one parse id',
    );
    const running = t.start();
    assert.throws(() => t.manager.informer({ resource: NODES, parse: parseObj, parseId: 'test.Obj' }), /after the manager started/);
    assert.throws(
      () => t.manager.addController({ name: 'late', reconciler: { reconcile: async () => done() } }),
      /after the manager started/,
    );
    t.stop.abort();
    await running;
  });

  it('delivers handlers registered before start, after the informer is built', async () => {
    const t = setup();
    const seen: string[] = [];
    t.manager
      .informer({ resource: PODS, parse: parseObj, parseId: 'test.Obj' })
      .addEventHandler({ onAdd: (o) => seen.push(o.metadata.name ?? '') });
    const running = t.start();
    await t.clock.advance(0);
    t.informers[0]?.sync([{ metadata: { namespace: 'ns', name: 'p1' } }]);
    assert.deepEqual(seen, ['p1']);
    t.stop.abort();
    await running;
  });
});

describe('Manager.client and eventRecorder', () => {
  it('gives each component one client with its own user agent', () => {
    const agents: string[] = [];
    const base = new FakeApiClient();
    const recording: ApiClient = Object.assign(Object.create(base) as ApiClient, {
      forComponent: (ua: string) => {
        agents.push(ua);
        return new FakeApiClient();
      },
    });
    const t = setup({ client: recording, userAgent: 'kube-endpoints-operator/0.1.0' });
    const a = t.manager.client('endpoint-controller');
    assert.equal(t.manager.client('endpoint-controller'), a);
    assert.notEqual(t.manager.client('endpointslice-controller'), a);
    assert.deepEqual(agents, [
      'kube-endpoints-operator/0.1.0/endpoint-controller',
      'kube-endpoints-operator/0.1.0/endpointslice-controller',
    ]);
    assert.equal(t.manager.eventRecorder('endpoint-controller'), t.manager.eventRecorder('endpoint-controller'));
  });
});

describe('Manager.start', () => {
  it('starts informers, waits for every cache, runs onStart, then starts workers', async () => {
    const t = setup();
    const order: string[] = [];
    t.manager.informer({ resource: PODS, parse: parseObj, parseId: 'test.Obj' });
    t.manager.informer({ resource: SERVICES, parse: parseObj, parseId: 'test.Obj' });
    const onStart = deferred();
    const handle = t.manager.addController({
      name: 'endpoints',
      reconciler: {
        reconcile: async (r) => {
          order.push(`reconcile ${r.key}`);
          return done();
        },
      },
      onStart: async () => {
        order.push('onStart');
        await onStart.promise;
      },
    });
    handle.enqueue('ns/svc');
    const running = t.start();
    await t.clock.advance(0);
    assert.equal(t.informers.length, 2);
    assert.ok(t.informers.every((i) => i.signal !== undefined && !i.signal.aborted));
    t.informers[0]?.sync();
    await t.clock.advance(0);
    assert.deepEqual(order, [], 'nothing runs until every cache has synced');
    await t.clock.advance(10_000);
    assert.ok(t.lines.some((l) => l.msg === 'Still waiting for caches to sync' && JSON.stringify(l.pending).includes('services')));
    t.informers[1]?.sync();
    await t.clock.advance(0);
    assert.deepEqual(order, ['onStart']);
    onStart.resolve();
    await t.clock.advance(0);
    assert.deepEqual(order, ['onStart', 'reconcile ns/svc']);
    t.stop.abort();
    assert.deepEqual(await running, { kind: 'stopped' });
    assert.ok(
      t.informers.every((i) => i.signal?.aborted),
      'informers stopped',
    );
  });

  it('fails when a controller start hook fails', async () => {
    const t = setup();
    t.manager.addController({
      name: 'c',
      reconciler: { reconcile: async () => done() },
      onStart: async () => {
        throw new Error('purge failed');
      },
    });
    const outcome = await t.start();
    assert.equal(outcome.kind, 'failed');
    assert.match(String((outcome as { error: Error }).error.message), /purge failed/);
  });

  it('fails, aborting all work, when an informer stops with an error after the caches synced', async () => {
    const t = setup();
    t.manager.informer({ resource: PODS, parse: parseObj, parseId: 'test.Obj' });
    const g = gatedReconciler();
    t.manager.addController({ name: 'c', reconciler: g.reconciler }).enqueue('k');
    const running = t.start();
    await t.clock.advance(0);
    t.informers[0]?.sync();
    await t.clock.advance(0);
    assert.equal(g.calls.length, 1);
    t.informers[0]?.crash(new Error('watch decoder bug'));
    await t.clock.advance(0);
    assert.equal(g.calls[0]?.ctx.signal.aborted, true);
    g.calls[0]?.gate.resolve(done());
    const outcome = await running;
    assert.equal(outcome.kind, 'failed');
    assert.ok(t.lines.some((l) => l.msg === 'Informer stopped with an error'));
  });

  it('drains in-flight reconciles on stop without aborting them, and starts no new ones', async () => {
    const t = setup();
    const g = gatedReconciler();
    const h = t.manager.addController({ name: 'c', reconciler: g.reconciler, workers: 1 });
    h.enqueue('a');
    h.enqueue('b');
    const running = t.start();
    await t.clock.advance(0);
    assert.equal(g.calls.length, 1);
    t.stop.abort();
    await t.clock.advance(20_000);
    assert.equal(t.outcome(), undefined, 'still draining');
    assert.equal(g.calls[0]?.ctx.signal.aborted, false);
    g.calls[0]?.gate.resolve(done());
    assert.deepEqual(await running, { kind: 'stopped' });
    assert.equal(g.calls.length, 1, 'b was never started');
  });

  it('aborts reconciles that outlive the graceful shutdown timeout', async () => {
    const t = setup({ gracefulShutdownTimeoutMs: 30_000 });
    const h = t.manager.addController({
      name: 'c',
      reconciler: {
        reconcile: (_r, ctx) =>
          new Promise<Result>((_res, rej) => ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason), { once: true })),
      },
    });
    h.enqueue('stuck');
    const running = t.start();
    await t.clock.advance(0);
    t.stop.abort();
    await t.clock.advance(29_999);
    assert.equal(t.outcome(), undefined);
    await t.clock.advance(1);
    assert.deepEqual(await running, { kind: 'stopped' });
    assert.ok(t.lines.some((l) => l.msg === 'Timed out waiting for in-flight reconciles; aborting them'));
  });
});

describe('Manager with leader election', () => {
  it('runs informers and controllers only on the leader; the standby is ready and takes over on release', async () => {
    const clock = new FakeClock();
    const client = new FakeApiClient();
    const m1 = setup({ clock, client, leaderElection: { ...LE, identity: 'one' } });
    const m2 = setup({ clock, client, leaderElection: { ...LE, identity: 'two' }, healthProbeBindAddress: '127.0.0.1:0' });
    for (const m of [m1, m2]) m.manager.informer({ resource: PODS, parse: parseObj, parseId: 'test.Obj' });
    const r1 = m1.start();
    await clock.advance(0);
    const r2 = m2.start();
    await eventually(() => m2.manager.serverAddresses().health !== undefined);
    await clock.advance(4_000);
    assert.equal(m1.informers.length, 1);
    assert.equal(m2.informers.length, 0, 'the standby builds no informer');
    assert.equal(await metricValue(m1.manager.metrics, 'leader_election_master_status', { name: LE.name }), 1);
    assert.equal(await metricValue(m2.manager.metrics, 'leader_election_master_status', { name: LE.name }), 0);
    const port = m2.manager.serverAddresses().health?.port;
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200, 'a standby is ready');

    m1.stop.abort();
    assert.deepEqual(await r1, { kind: 'stopped' });
    assert.equal((client.object(LEASES, LE.namespace, LE.name)?.spec as { holderIdentity?: string } | undefined)?.holderIdentity, '');
    await clock.advance(4_400);
    assert.equal(m2.informers.length, 1, 'the standby took over within one jittered retry period');
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 500, 'leading but not synced yet');
    m2.informers[0]?.sync();
    await clock.advance(0);
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    m2.stop.abort();
    await r2;
  });

  it('stops all work at once and ends with lost-leadership when renewals fail past the deadline', async () => {
    const client = new FakeApiClient();
    const t = setup({ client, leaderElection: { ...LE, identity: 'one' } });
    t.manager.informer({ resource: PODS, parse: parseObj, parseId: 'test.Obj' });
    const g = gatedReconciler();
    t.manager.addController({ name: 'c', reconciler: g.reconciler }).enqueue('k');
    const running = t.start();
    await t.clock.advance(0);
    t.informers[0]?.sync();
    await t.clock.advance(0);
    assert.equal(g.calls.length, 1);
    const refused = connectionRefused();
    client.failOn = () => refused;
    await t.clock.advance(11_999);
    assert.equal(g.calls[0]?.ctx.signal.aborted, false);
    await t.clock.advance(1);
    assert.equal(g.calls[0]?.ctx.signal.aborted, true, 'the in-flight reconcile is aborted, not drained');
    assert.equal(t.informers[0]?.signal?.aborted, true);
    g.calls[0]?.gate.reject(g.calls[0].ctx.signal.reason);
    assert.deepEqual(await running, { kind: 'lost-leadership' });
    assert.equal(await metricValue(t.manager.metrics, 'leader_election_master_status', { name: LE.name }), 0);
  });
});

describe('Manager runnable groups', () => {
  /** A runnable that records its start and stop in `order`. */
  function recorded(order: string[], name: string, needLeaderElection?: boolean) {
    return {
      name,
      ...(needLeaderElection === undefined ? {} : { needLeaderElection }),
      start: (signal: AbortSignal) =>
        new Promise<void>((resolve) => {
          order.push(`start ${name}`);
          signal.addEventListener(
            'abort',
            () => {
              order.push(`stop ${name}`);
              resolve();
            },
            { once: true },
          );
        }),
    };
  }

  it('starts others on every replica, leader-only runnables after the caches synced and every onStart; stops in reverse', async () => {
    const client = new FakeApiClient();
    const t = setup({ client, leaderElection: { ...LE, identity: 'one' } });
    const standby = setup({ client, clock: t.clock, leaderElection: { ...LE, identity: 'two' } });
    const order: string[] = [];
    const standbyOrder: string[] = [];
    for (const [m, o] of [
      [t, order],
      [standby, standbyOrder],
    ] as const) {
      m.manager.informer({ resource: PODS, parse: parseObj, parseId: 'test.Obj' });
      m.manager.addController({
        name: 'c',
        reconciler: { reconcile: async () => done() },
        onStart: async () => void o.push('onStart c'),
      });
      m.manager.add(recorded(o, 'scheduler'));
      m.manager.add(recorded(o, 'everywhere', false));
    }
    const running = t.start();
    await t.clock.advance(0);
    const standbyRunning = standby.start();
    await t.clock.advance(4_000);
    assert.deepEqual(order, ['start everywhere'], 'the leader waits for its caches');
    assert.deepEqual(standbyOrder, ['start everywhere'], 'a standby runs only what needs no leader election');
    t.informers[0]?.sync();
    await t.clock.advance(0);
    assert.deepEqual(order, ['start everywhere', 'onStart c', 'start scheduler']);
    t.stop.abort();
    assert.deepEqual(await running, { kind: 'stopped' });
    assert.deepEqual(order.slice(3), ['stop scheduler', 'stop everywhere'], 'leader-election group first, then others');
    standby.stop.abort();
    await standbyRunning;
  });

  it('refuses a runnable after start and fails the manager when a leader-election runnable fails', async () => {
    const t = setup();
    t.manager.add({ name: 'broken', start: () => Promise.reject(new Error('probe loop bug')) });
    const outcome = await t.start();
    assert.equal(outcome.kind, 'failed');
    assert.match(String((outcome as { error: Error }).error.message), /probe loop bug/);
    assert.throws(() => t.manager.add({ name: 'late', start: async () => undefined }), /after the manager started/);
  });
});

describe('Manager HTTP endpoints', () => {
  it('serves metrics, liveness and readiness from one server when both addresses are the same', async () => {
    const t = setup({ metricsBindAddress: '127.0.0.1:0', healthProbeBindAddress: '127.0.0.1:0' });
    t.manager.informer({ resource: PODS, parse: parseObj, parseId: 'test.Obj' });
    t.manager.addController({ name: 'endpoints', reconciler: { reconcile: async () => done() } });
    const running = t.start();
    await eventually(() => t.manager.serverAddresses().health !== undefined);
    await t.clock.advance(0);
    const { metrics, health } = t.manager.serverAddresses();
    assert.ok(metrics !== undefined && health !== undefined);
    const get = (port: number, path: string) => fetch(`http://127.0.0.1:${port}${path}`);
    assert.equal(metrics.port, health.port, 'one server for both');
    assert.equal((await get(health.port, '/healthz')).status, 200);
    const notReady = await get(health.port, '/readyz');
    assert.equal(notReady.status, 500);
    assert.match(await notReady.text(), /caches not synced/);
    t.informers[0]?.sync();
    await t.clock.advance(0);
    assert.equal((await get(health.port, '/readyz')).status, 200);
    const text = await (await get(metrics.port, '/metrics')).text();
    assert.match(text, /^controller_runtime_reconcile_total\{controller="endpoints",result="terminal_error"\} 0$/m);
    assert.match(text, /^workqueue_depth\{name="endpoints"\} 0$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
    t.stop.abort();
    await running;
    await assert.rejects(get(health.port, '/healthz'), 'servers closed after stop');
  });
});

describe('Manager with the real Informer', () => {
  it('lists through the shared-informers client and starts controllers once the list is in', async () => {
    const client = new ScriptedApiClient();
    const t = setup({ client, newInformer: undefined });
    const pods = t.manager.informer({ resource: PODS, parse: parseObj, parseId: 'test.Obj' });
    let started = false;
    t.manager.addController({
      name: 'c',
      reconciler: { reconcile: async () => done() },
      onStart: async () => {
        started = true;
      },
    });
    const running = t.start();
    await t.clock.advance(0);
    assert.equal(started, false);
    client.answerList({
      items: [{ metadata: { namespace: 'ns', name: 'p1', resourceVersion: '5' } }],
      resourceVersion: '10',
      continue: undefined,
    });
    await t.clock.advance(0);
    assert.equal(started, true);
    assert.equal(pods.store.get('ns/p1')?.metadata.name, 'p1');
    t.stop.abort();
    await running;
  });

  it('says why the caches do not sync when a resource is not served: one error line, /readyz and the progress log', async () => {
    const client = new ScriptedApiClient();
    const t = setup({ client, newInformer: undefined, healthProbeBindAddress: '127.0.0.1:0', informerOptions: { random: () => 0 } });
    const widgets = { group: 'example.com', version: 'v1alpha1', plural: 'widgets', kind: 'Widget', namespaced: true };
    t.manager.informer({ resource: widgets, parse: parseObj, parseId: 'test.Obj' });
    let started = false;
    t.manager.addController({ name: 'c', reconciler: { reconcile: async () => done() }, onStart: async () => void (started = true) });
    const running = t.start();
    await eventually(() => t.manager.serverAddresses().health !== undefined);
    const notFound = () =>
      apiErrorFrom(
        404,
        '{"reason":"NotFound","message":"the server could not find the requested resource"}',
        'list',
        '/apis/example.com/v1alpha1/widgets',
        null,
      );
    client.answerList(notFound());
    await t.clock.advance(0);
    await t.clock.advance(1_000); // the first retry (800 ms) fails the same way
    client.answerList(notFound());
    await t.clock.advance(10_000); // the sync progress log
    const port = t.manager.serverAddresses().health?.port;
    const readyz = await fetch(`http://127.0.0.1:${port}/readyz?verbose`);
    assert.equal(readyz.status, 500);
    assert.match(await readyz.text(), /example\.com\/v1alpha1\/widgets\?.*does not serve widgets\.example\.com\/v1alpha1: .*404 NotFound/);
    const errors = t.lines.filter((l) => l.msg?.startsWith('Failed to list a resource the API server does not serve'));
    assert.equal(errors.length, 1, 'said once, not on every retry');
    assert.equal(errors[0]?.resource, 'widgets.example.com/v1alpha1');
    const progress = t.lines.find((l) => l.msg === 'Still waiting for caches to sync');
    assert.match(JSON.stringify(progress?.failing), /does not serve widgets/);
    assert.equal(started, false);

    // Installing the CRD heals it: the next list succeeds and the reason is gone.
    await t.clock.advance(3_200);
    client.answerList({ items: [], resourceVersion: '7', continue: undefined });
    await t.clock.advance(0);
    assert.equal(started, true);
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    t.stop.abort();
    await running;
  });
});
