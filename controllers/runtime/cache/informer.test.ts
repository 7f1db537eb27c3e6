import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { type Pod, podSchema } from '../../../api/core/v1.ts';
import { FakeApiServer, type FakeApiServerOptions } from '../../../test/fake-apiserver/fake-apiserver.ts';
import { makePod } from '../../../test/fake-apiserver/pod-fixture.ts';
import { ScriptedApiClient } from '../../../test/fake-apiserver/scripted-api-client.ts';
import type { ApiClient } from '../api-client.ts';
import { type Clock, FakeClock, flushMicrotasks, realClock } from '../clock.ts';
import type { InformerSpec } from '../manager-types.ts';
import { PODS } from '../resource.ts';
import { Informer, type InformerOptions } from './informer.ts';

type Raw = Record<string, unknown> & { metadata: Record<string, unknown> };

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** What a handler saw, and what the store held at that moment. */
interface Seen {
  kind: 'add' | 'update' | 'delete';
  key: string;
  rv: string;
  oldRv?: string;
  finalStateUnknown?: boolean;
  /** For add/update: the store already returned this very object. For delete: the store no longer had the key. */
  storeConsistent: boolean;
  storeKeys: string[];
}

const keyOf = (o: { metadata: { namespace?: unknown; name?: unknown } }) => `${String(o.metadata.namespace)}/${String(o.metadata.name)}`;
const rvOf = (o: { metadata: { resourceVersion?: unknown } }) => String(o.metadata.resourceVersion);
const WARN = 40;

function capturingLogger() {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

function recordEvents<T extends { metadata: { namespace?: unknown; name?: unknown; resourceVersion?: unknown } }>(
  informer: Informer<T>,
): Seen[] {
  const seen: Seen[] = [];
  const keys = () => [...informer.store.keys()].sort();
  informer.addEventHandler({
    onAdd: (o) =>
      seen.push({ kind: 'add', key: keyOf(o), rv: rvOf(o), storeConsistent: informer.store.get(keyOf(o)) === o, storeKeys: keys() }),
    onUpdate: (old, o) =>
      seen.push({
        kind: 'update',
        key: keyOf(o),
        rv: rvOf(o),
        oldRv: rvOf(old),
        storeConsistent: informer.store.get(keyOf(o)) === o,
        storeKeys: keys(),
      }),
    onDelete: (o, finalStateUnknown) =>
      seen.push({
        kind: 'delete',
        key: keyOf(o),
        rv: rvOf(o),
        finalStateUnknown,
        storeConsistent: informer.store.get(keyOf(o)) === undefined,
        storeKeys: keys(),
      }),
  });
  return seen;
}

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const passthrough: InformerSpec<Raw> = { resource: PODS, parse: (raw) => raw as Raw, parseId: 'test.Raw' };
const projected: InformerSpec<Pod> = { resource: PODS, parse: (raw) => podSchema.parse(raw), parseId: 'v1.Pod' };

interface SetupOptions<T> {
  readonly spec?: InformerSpec<T>;
  readonly server?: FakeApiServerOptions;
  readonly informer?: InformerOptions;
}

async function setup<T extends { metadata: { namespace?: unknown; name?: unknown; resourceVersion?: unknown } } = Raw>(
  t: TestContext,
  options: SetupOptions<T> = {},
) {
  const server = await FakeApiServer.start(options.server);
  const { logger, lines } = capturingLogger();
  const informer = new Informer<T>((options.spec ?? passthrough) as InformerSpec<T>, {
    client: server.client(),
    clock: realClock,
    logger,
    options: { backoff: { initialMs: 5, maxMs: 40 }, idleTimeoutMs: 5000, ...options.informer },
  });
  const seen = recordEvents(informer);
  const ac = new AbortController();
  let running: Promise<void> | undefined;
  t.after(async () => {
    ac.abort();
    await running;
    await server.close();
  });
  const start = async () => {
    running = informer.start(ac.signal);
    assert.equal(await informer.waitForSync(AbortSignal.timeout(5000)), true, 'informer synced');
  };
  const stop = async () => {
    ac.abort();
    await running;
  };
  return { server, informer, seen, lines, start, stop, signal: ac.signal };
}

const summary = (seen: readonly Seen[]) => seen.map((s) => `${s.kind} ${s.key}${s.finalStateUnknown ? ' (final state unknown)' : ''}`);
const warnings = (lines: readonly LogLine[]) => lines.filter((l) => l.level >= WARN);

describe('Informer against the fake API server', () => {
  it('lists, then delivers adds, updates and deletes from the watch, each after the store has it', async (t) => {
    const { server, informer, seen, start } = await setup(t);
    server.set(makePod(1));
    server.set(makePod(2));
    assert.equal(informer.hasSynced(), false);
    await start();
    assert.equal(informer.hasSynced(), true);
    assert.deepEqual([...informer.store.keys()].sort(), ['default/pod-1', 'default/pod-2']);
    server.patch('default/pod-1', (o) => {
      (o.metadata.labels as Record<string, string>).extra = 'yes';
    });
    server.delete('default/pod-2');
    server.set(makePod(3));
    await waitUntil(() => seen.length === 5, 'five events');
    assert.deepEqual(summary(seen), [
      'add default/pod-1',
      'add default/pod-2',
      'update default/pod-1',
      'delete default/pod-2',
      'add default/pod-3',
    ]);
    const update = seen[2];
    assert.ok(update !== undefined && Number(update.rv) > Number(update.oldRv));
    assert.ok(
      seen.every((s) => s.storeConsistent),
      'handlers ran after the store write',
    );
    assert.equal((informer.store.get('default/pod-1')?.metadata.labels as Record<string, string> | undefined)?.extra, 'yes');
    assert.deepEqual([...informer.store.keys()].sort(), ['default/pod-1', 'default/pod-3']);
  });

  it('pages through the list with limit and continue', async (t) => {
    const { server, informer, start } = await setup(t, { informer: { pageSize: 3 } });
    for (let i = 0; i < 7; i++) server.set(makePod(i));
    await start();
    const lists = server.requests.filter((r) => r.verb === 'list');
    assert.deepEqual(
      lists.map((r) => [r.query.limit, r.query.continue !== undefined]),
      [
        ['3', false],
        ['3', true],
        ['3', true],
      ],
    );
    assert.equal(informer.store.size, 7);
  });

  it('caches one namespace through the namespaced path', async (t) => {
    const { server, informer, start } = await setup(t, { informer: { namespace: 'ns1' } });
    server.set(makePod(1, { namespace: 'ns1' }));
    server.set(makePod(2, { namespace: 'ns2' }));
    await start();
    server.set(makePod(3, { namespace: 'ns2' }));
    server.set(makePod(4, { namespace: 'ns1' }));
    await waitUntil(() => informer.store.size === 2, 'the second ns1 pod');
    assert.deepEqual([...informer.store.keys()].sort(), ['ns1/pod-1', 'ns1/pod-4']);
    assert.ok(server.requests.every((r) => r.path === '/api/v1/namespaces/ns1/pods'));
  });

  it('resumes from the last resourceVersion after a dropped connection, without relisting', async (t) => {
    const { server, informer, seen, start } = await setup(t);
    server.set(makePod(1));
    await start();
    const updated = server.patch('default/pod-1', (o) => {
      o.metadata.annotations = { touched: 'yes' };
    });
    await waitUntil(() => seen.length === 2, 'the update');
    server.resetConnections();
    server.set(makePod(2));
    await waitUntil(() => informer.store.get('default/pod-2') !== undefined, 'the pod created while disconnected');
    assert.equal(server.count('list'), 1);
    const watches = server.requests.filter((r) => r.verb === 'watch');
    assert.equal(watches[1]?.query.resourceVersion, updated.metadata.resourceVersion);
    assert.deepEqual(summary(seen), ['add default/pod-1', 'update default/pod-1', 'add default/pod-2']);
  });

  for (const expiredWatch of ['event', 'status'] as const) {
    it(`relists after a 410 (${expiredWatch}), reports vanished objects as deleted with unknown final state, and swaps the store at once`, async (t) => {
      const { server, informer, seen, start } = await setup(t, { server: { expiredWatch } });
      for (const i of [1, 2, 3]) server.set(makePod(i));
      await start();
      server.resetConnections();
      // While disconnected: a delete, an update and a create, then the history is compacted away.
      server.delete('default/pod-2');
      server.patch('default/pod-1', (o) => {
        o.metadata.annotations = { changed: 'while away' };
      });
      server.set(makePod(4));
      server.compact();
      await waitUntil(() => seen.length === 6, 'the relist events');
      assert.equal(server.count('list'), 2);
      assert.deepEqual(summary(seen.slice(3)), ['add default/pod-4', 'update default/pod-1', 'delete default/pod-2 (final state unknown)']);
      const final = ['default/pod-1', 'default/pod-3', 'default/pod-4'];
      for (const s of seen.slice(3)) assert.deepEqual(s.storeKeys, final, `${s.kind} ${s.key} saw the whole new store`);
      assert.ok(seen.every((s) => s.storeConsistent));
      // The watch goes on from the relist.
      server.set(makePod(5));
      await waitUntil(() => informer.store.get('default/pod-5') !== undefined, 'a pod after the relist');
      assert.equal(server.count('list'), 2);
    });
  }

  it('does not report unchanged objects as updates on a relist', async (t) => {
    const { server, seen, start } = await setup(t);
    for (const i of [1, 2]) server.set(makePod(i));
    await start();
    server.resetConnections();
    server.set(makePod(3));
    server.compact();
    await waitUntil(() => seen.length === 3, 'the relist');
    await sleep(50);
    assert.deepEqual(summary(seen), ['add default/pod-1', 'add default/pod-2', 'add default/pod-3']);
  });

  it('advances its resourceVersion on bookmarks, so a resume after compaction needs no relist', async (t) => {
    const { server, informer, start } = await setup(t, { spec: { ...passthrough, labelSelector: 'app=app-1' } });
    server.set(makePod(1));
    await start();
    // Changes outside the selector move the resourceVersion without any event reaching this watch.
    for (const i of [2, 3, 4]) server.set(makePod(i));
    assert.notEqual(informer.lastSyncResourceVersion(), server.resourceVersion);
    await waitUntil(() => server.openWatches === 1, 'the watch');
    server.bookmark();
    await waitUntil(() => informer.lastSyncResourceVersion() === server.resourceVersion, 'the bookmark');
    server.resetConnections();
    server.compact();
    server.set(makePod(51));
    await waitUntil(() => informer.store.get('default/pod-51') !== undefined, 'the pod after compaction');
    assert.equal(server.count('list'), 1);
    assert.ok(server.requests.filter((r) => r.verb === 'watch').every((r) => r.query.allowWatchBookmarks === 'true'));
  });

  for (const fault of [429, 500, 403, 'reset'] as const) {
    it(`recovers from list and watch requests failing with ${fault}`, async (t) => {
      const { server, informer, lines, start } = await setup(t);
      server.set(makePod(1));
      server.failNext(2, fault, { verb: 'list' });
      await start();
      assert.equal(server.count('list'), 3);
      await waitUntil(() => server.openWatches === 1, 'the watch');
      server.failNext(2, fault, { verb: 'watch' });
      server.resetConnections();
      server.set(makePod(2));
      await waitUntil(() => informer.store.get('default/pod-2') !== undefined, 'the pod after watch failures');
      assert.equal(server.count('list'), 1 + 2, 'watch failures resume, never relist');
      assert.equal(server.count('watch'), 4);
      assert.ok(lines.filter((l) => l.msg === 'Failed to list or watch, retrying').length >= 4);
    });
  }

  it('tears down a silent watch after the idle timeout and catches up', async (t) => {
    const { server, informer, lines, start } = await setup(t, { informer: { idleTimeoutMs: 150 } });
    server.set(makePod(1));
    server.silenceNextWatches(1);
    await start();
    server.set(makePod(2));
    await waitUntil(() => informer.store.get('default/pod-2') !== undefined, 'the pod hidden by the silent watch');
    assert.equal(server.count('list'), 1);
    assert.equal(server.count('watch'), 2);
    assert.ok(lines.some((l) => l.msg === 'Failed to list or watch, retrying' && JSON.stringify(l.err).includes('idle')));
  });

  it('resumes after a malformed line and after a non-410 ERROR event in the stream', async (t) => {
    const { server, informer, start } = await setup(t);
    server.set(makePod(1));
    await start();
    await waitUntil(() => server.openWatches === 1, 'the watch');
    server.sendRawLine('{"type":"ADDED","object":');
    server.set(makePod(2));
    await waitUntil(() => informer.store.get('default/pod-2') !== undefined, 'pod-2');
    await waitUntil(() => server.openWatches === 1, 'the watch');
    server.sendWatchError({ code: 500, message: 'etcd hiccup' });
    server.set(makePod(3));
    await waitUntil(() => informer.store.get('default/pod-3') !== undefined, 'pod-3');
    assert.equal(server.count('list'), 1);
  });

  it('drops a malformed object with a warning and caches the rest', async (t) => {
    const { server, informer, lines, start } = await setup<Pod>(t, { spec: projected });
    server.set(makePod(1));
    server.set({ ...makePod(2), spec: { containers: 'not a list' } });
    server.set(makePod(3));
    await start();
    assert.deepEqual([...informer.store.keys()].sort(), ['default/pod-1', 'default/pod-3']);
    server.set({ ...makePod(4), status: { phase: 42 } });
    server.set(makePod(5));
    await waitUntil(() => informer.store.get('default/pod-5') !== undefined, 'pod-5');
    assert.equal(informer.store.get('default/pod-4'), undefined);
    assert.deepEqual(
      lines.filter((l) => l.msg === 'Dropped malformed object').map((l) => l.key),
      ['default/pod-2', 'default/pod-4'],
    );
  });

  it('keeps the last good version when an update no longer parses', async (t) => {
    const { server, informer, seen, start } = await setup<Pod>(t, { spec: projected });
    server.set(makePod(1));
    await start();
    const before = informer.store.get('default/pod-1');
    server.patch('default/pod-1', (o) => {
      o.spec = { containers: 'broken' };
    });
    server.set(makePod(2));
    await waitUntil(() => informer.store.get('default/pod-2') !== undefined, 'pod-2');
    assert.equal(informer.store.get('default/pod-1'), before);
    assert.deepEqual(summary(seen), ['add default/pod-1', 'add default/pod-2']);
  });

  it('reports no delete for an object it never cached, and deletes a cached one whose final state does not parse', async (t) => {
    const { server, informer, seen, start } = await setup<Pod>(t, { spec: projected });
    server.set(makePod(1));
    server.set({ ...makePod(2), spec: { containers: 'broken' } });
    await start();
    server.patch('default/pod-1', (o) => {
      o.spec = { containers: 'broken' };
    });
    server.delete('default/pod-1');
    server.delete('default/pod-2');
    server.set(makePod(3));
    await waitUntil(() => informer.store.get('default/pod-3') !== undefined, 'pod-3');
    assert.deepEqual(summary(seen), ['add default/pod-1', 'delete default/pod-1', 'add default/pod-3']);
    assert.equal(seen[1]?.rv, seen[0]?.rv, 'the last good version stands in for the unparseable final state');
  });

  it('strips managedFields before parsing, from the list and from the watch', async (t) => {
    const { server, informer, start } = await setup(t);
    server.set(makePod(1));
    await start();
    server.set(makePod(2));
    await waitUntil(() => informer.store.size === 2, 'pod-2');
    assert.ok(Array.isArray(server.get('default/pod-1')?.metadata.managedFields), 'the fixture has managedFields');
    for (const key of ['default/pod-1', 'default/pod-2']) {
      const meta = informer.store.get(key)?.metadata;
      assert.ok(meta !== undefined && !('managedFields' in meta), `${key} has no managedFields`);
      assert.equal(meta?.name, key.split('/')[1]);
    }
  });

  it('keeps only the projection when parsing with podSchema', async (t) => {
    const { server, informer, start } = await setup<Pod>(t, { spec: projected });
    server.set(makePod(1));
    await start();
    const pod = informer.store.get('default/pod-1');
    assert.equal(pod?.status.podIP, '10.0.0.1');
    assert.equal('annotations' in (pod?.metadata ?? {}), false);
    assert.equal('volumes' in (pod?.spec ?? {}), false);
    // The fixture has five conditions; the controllers read only Ready.
    assert.deepEqual(
      pod?.status.conditions?.map((c) => c.type),
      ['Ready'],
    );
  });

  it('replays cached objects as adds to a handler registered after sync', async (t) => {
    const { server, informer, start } = await setup(t);
    server.set(makePod(1));
    server.set(makePod(2));
    await start();
    const late = recordEvents(informer);
    assert.deepEqual(summary(late).sort(), ['add default/pod-1', 'add default/pod-2']);
  });

  it('logs a throwing handler and keeps delivering to it and to the others', async (t) => {
    const { server, informer, seen, lines, start } = await setup(t);
    let calls = 0;
    informer.addEventHandler({
      onAdd: () => {
        calls++;
        throw new Error('handler bug');
      },
    });
    server.set(makePod(1));
    await start();
    server.set(makePod(2));
    await waitUntil(() => seen.length === 2, 'pod-2');
    assert.equal(calls, 2);
    assert.equal(lines.filter((l) => l.msg === 'Event handler failed').length, 2);
  });

  it('stops quietly: no error, no warning, no further request, no open watch', async (t) => {
    const { server, lines, start, stop } = await setup(t);
    server.set(makePod(1));
    await start();
    await waitUntil(() => server.openWatches === 1, 'the watch');
    await stop();
    const requests = server.requests.length;
    await waitUntil(() => server.openWatches === 0, 'the watch to close');
    await sleep(100);
    assert.equal(server.requests.length, requests);
    assert.deepEqual(warnings(lines), []);
  });

  it('stops quietly while retrying a failing list', async (t) => {
    const { server, informer, lines, signal, stop } = await setup(t);
    server.failNext(10_000, 500, { verb: 'list' });
    const running = informer.start(signal);
    await waitUntil(() => server.count('list') >= 3, 'a few retries');
    await stop();
    await running;
    const requests = server.requests.length;
    const logged = lines.length;
    await sleep(100);
    assert.equal(server.requests.length, requests);
    assert.deepEqual(lines.slice(logged), []);
    assert.equal(lines.filter((l) => l.level > WARN).length, 0, 'retries warn, nothing is an error');
    assert.equal(informer.hasSynced(), false);
  });

  it('waitForSync answers false when aborted before the first list', async (t) => {
    const { server, informer, signal } = await setup(t);
    server.failNext(10_000, 500);
    const running = informer.start(signal);
    assert.equal(await informer.waitForSync(AbortSignal.timeout(50)), false);
    assert.ok(server.count('list') >= 1);
    t.after(() => running);
  });

  it('refuses to start twice', async (t) => {
    const { informer, signal, start } = await setup(t);
    await start();
    await assert.rejects(informer.start(signal), /started twice/);
  });
});

describe('Informer resync', () => {
  function fakeClockInformer(clock: Clock, client: ApiClient, resyncPeriodMs: number) {
    const { logger } = capturingLogger();
    return new Informer<Raw>(passthrough, { client, clock, logger, options: { resyncPeriodMs } });
  }

  it('re-delivers every cached object as an update with itself every period, once synced', async () => {
    const clock = new FakeClock();
    const client = new ScriptedApiClient();
    const informer = fakeClockInformer(clock, client, 1000);
    const seen = recordEvents(informer);
    const ac = new AbortController();
    const running = informer.start(ac.signal);
    await clock.advance(1000);
    assert.equal(seen.length, 0, 'no resync before the first list');
    client.answerList({ items: [makePod(1), makePod(2)], resourceVersion: '50', continue: undefined });
    await flushMicrotasks(200);
    await clock.advance(1000);
    await clock.advance(1000);
    const updates = seen.filter((s) => s.kind === 'update');
    assert.equal(updates.length, 4);
    assert.ok(updates.every((u) => u.rv === u.oldRv));
    ac.abort();
    await running;
    await clock.advance(5000);
    assert.equal(seen.filter((s) => s.kind === 'update').length, 4, 'no resync after stop');
    assert.equal(clock.pendingTimers(), 0);
  });

  it('is off by default', async () => {
    const clock = new FakeClock();
    const client = new ScriptedApiClient();
    const informer = fakeClockInformer(clock, client, 0);
    const seen = recordEvents(informer);
    const ac = new AbortController();
    const running = informer.start(ac.signal);
    client.answerList({ items: [makePod(1)], resourceVersion: '50', continue: undefined });
    await flushMicrotasks(200);
    await clock.advance(60 * 60 * 1000);
    assert.deepEqual(summary(seen), ['add default/pod-1']);
    ac.abort();
    await running;
  });
});
