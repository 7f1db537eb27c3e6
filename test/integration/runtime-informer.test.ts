import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectKey } from '../../api/core/meta.ts';
import { podSchema, serviceSchema } from '../../api/core/v1.ts';
import { newApiClient } from '../../controllers/runtime/api-client.ts';
import { isGone, isResourceVersionTooLarge } from '../../controllers/runtime/api-errors.ts';
import { Informer } from '../../controllers/runtime/cache/informer.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import { PODS, type ResourceType, SERVICES } from '../../controllers/runtime/resource.ts';
import { captureLogger } from '../../controllers/runtime/runtime-test-helpers.ts';
import type { WatcherNotice } from '../../controllers/runtime/watch/watcher.ts';
import { compactEtcd as compactEtcdAt, etcdRevision as etcdRevisionOf } from '../envtest/etcd-compaction.ts';
import { startTestCluster } from '../envtest/test-cluster.ts';
import { waitFor } from '../envtest/wait-for.ts';
import { FaultClient } from './runtime-fault-client.ts';

// The informer against a real kube-apiserver and etcd: the failures its unit tests can only script (an API server
// restart, etcd compaction, a server behind the client's resourceVersion) happen here for real.
//
// Pods are served WITHOUT the API server's watch cache (--watch-cache-sizes=pods#0), so their watches are etcd
// watches: a resume after a restart is served from etcd's history, and a compaction turns it into a real 410.
// Services keep the watch cache, as in production: after a restart the cache starts at the current revision.

const env = await startTestCluster({ name: 'runtime-informer', apiServerFlags: { 'watch-cache-sizes': 'pods#0' } });

interface Meta {
  readonly metadata: {
    readonly namespace?: string | undefined;
    readonly name?: string | undefined;
    readonly labels?: Record<string, string> | undefined;
  };
}

/** What a handler was told, in order. */
interface Delivery {
  readonly type: 'add' | 'update' | 'delete';
  readonly key: string;
  readonly finalStateUnknown?: boolean;
  readonly version?: string | undefined;
}

/** A running informer on `resource` in `namespace`, through its own FaultClient, recording deliveries and notices. */
function startInformer<T extends Meta>(resource: ResourceType, parse: (raw: unknown) => T, namespace: string) {
  const client = new FaultClient(
    newApiClient(env.kubeConfig, { clock: realClock, qps: 1000, burst: 1000, userAgent: 'runtime-informer-test' }),
  );
  const notices: WatcherNotice[] = [];
  const deliveries: Delivery[] = [];
  const { logger } = captureLogger('info');
  const informer = new Informer<T>(
    { resource, parse, parseId: 'test' },
    {
      client,
      clock: realClock,
      logger,
      // Short backoff: recovery time should measure the informer, not a 30 s retry cap.
      options: { namespace, backoff: { initialMs: 200, maxMs: 1_000 }, observe: (n) => notices.push(n) },
    },
  );
  const version = (o: T) => o.metadata.labels?.version;
  informer.addEventHandler({
    onAdd: (o) => deliveries.push({ type: 'add', key: objectKey(o) }),
    onUpdate: (_, o) => deliveries.push({ type: 'update', key: objectKey(o), version: version(o) }),
    onDelete: (o, finalStateUnknown) => deliveries.push({ type: 'delete', key: objectKey(o), finalStateUnknown }),
  });
  const stop = new AbortController();
  const running = informer.start(stop.signal);
  return {
    /** Resolves once the initial list is in and the watch that follows it is open: only then can it break. */
    watching: async () => {
      assert.ok(await informer.waitForSync(AbortSignal.timeout(15_000)), `${resource.plural} informer synced`);
      await waitFor(() => client.openWatches > 0, { description: `${resource.plural} watch open`, intervalMs: 10 });
    },
    client,
    informer,
    notices,
    deliveries,
    keys: () => [...informer.store.keys()].sort(),
    stop: async () => {
      stop.abort();
      await running;
    },
  };
}

const podBody = (name: string, version = '1') => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'web', version } },
  spec: { containers: [{ name: 'web', image: 'web:1' }] },
});
const serviceBody = (name: string, version = '1') => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, labels: { version } },
  spec: { selector: { app: name }, ports: [{ port: 80 }] },
});

/** Waits until the watcher reported a failed watch after `from` (index into notices): it noticed the break. */
async function watchBroke(r: { readonly notices: readonly WatcherNotice[] }, from: number, what: string): Promise<void> {
  await waitFor(() => r.notices.slice(from).some((n) => n.kind === 'retrying' && n.phase === 'watch'), {
    description: `${what}: a failed watch`,
    timeoutMs: 30_000,
  });
}

const sortDeliveries = (ds: readonly Delivery[]) => [...ds].sort((a, b) => `${a.type}/${a.key}`.localeCompare(`${b.type}/${b.key}`));

const etcdRevision = () => etcdRevisionOf(env.cluster.etcdUrl);
const compactEtcd = (revision: string) => compactEtcdAt(env.cluster.etcdUrl, revision);

describe('Informer against a real API server', () => {
  it('survives an API server restart and delivers the adds, updates and deletes made while it was away', async () => {
    const ns = await env.createNamespace('restart');
    for (const name of ['keep', 'update', 'delete']) {
      await env.client.create(PODS, ns, podBody(name));
      await env.client.create(SERVICES, ns, serviceBody(name));
    }
    const pods = startInformer(PODS, (raw) => podSchema.parse(raw), ns);
    const services = startInformer(SERVICES, (raw) => serviceSchema.parse(raw), ns);
    try {
      await pods.watching();
      await services.watching();
      const mark = { pods: [pods.deliveries.length, pods.notices.length], services: [services.deliveries.length, services.notices.length] };

      const restartStarted = performance.now();
      // With watches open it would not exit on SIGTERM before the SIGKILL anyway (it stops listening at once).
      await env.cluster.stopApiServer({ timeoutMs: 2_000 });
      const apiServerStopped = performance.now();
      // Both informers lose their watch and fail to reconnect (connection refused) while the API server is down.
      await watchBroke(pods, mark.pods[1] ?? 0, 'pods');
      await watchBroke(services, mark.services[1] ?? 0, 'services');
      // Holding them off the API server once it is back makes "changed while it was away" certain, not a race
      // against the informer's next reconnect attempt.
      pods.client.hold();
      services.client.hold();
      const apiServerStarted = performance.now();
      await env.cluster.startApiServer();
      const apiServerReady = performance.now();

      const { client } = env;
      await client.create(PODS, ns, podBody('new'));
      await client.create(SERVICES, ns, serviceBody('new'));
      await client.patch(PODS, ns, 'update', { metadata: { labels: { version: '2' } } }, 'merge');
      await client.patch(SERVICES, ns, 'update', { metadata: { labels: { version: '2' } } }, 'merge');
      await client.delete(PODS, ns, 'delete', { gracePeriodSeconds: 0 });
      await client.delete(SERVICES, ns, 'delete');

      const released = performance.now();
      pods.client.release();
      services.client.release();
      const want = [`${ns}/keep`, `${ns}/new`, `${ns}/update`];
      await waitFor(() => assert.deepEqual(pods.keys(), want) === undefined && pods.deliveries.length - (mark.pods[0] ?? 0) >= 3, {
        description: 'the pod informer to catch up',
        timeoutMs: 30_000,
        intervalMs: 10,
      });
      const podsCurrent = performance.now();
      await waitFor(
        () => assert.deepEqual(services.keys(), want) === undefined && services.deliveries.length - (mark.services[0] ?? 0) >= 3,
        { description: 'the service informer to catch up', timeoutMs: 30_000, intervalMs: 10 },
      );
      const servicesCurrent = performance.now();

      // Pods: no watch cache, so the resume is served from etcd's history: the events themselves, no relist.
      const podNotices = pods.notices.slice(mark.pods[1]);
      assert.equal(
        podNotices.some((n) => n.kind === 'expired' || (n.kind === 'listed' && n.relist)),
        false,
        'the pod watch resumed without a relist',
      );
      assert.deepEqual(
        sortDeliveries(pods.deliveries.slice(mark.pods[0])),
        sortDeliveries([
          { type: 'add', key: `${ns}/new` },
          { type: 'update', key: `${ns}/update`, version: '2' },
          // A Pod delete is two writes, the deletionTimestamp and then the removal; a resumed watch sees both.
          { type: 'update', key: `${ns}/delete`, version: '1' },
          { type: 'delete', key: `${ns}/delete`, finalStateUnknown: false },
        ]),
      );

      // Services: the restarted API server's watch cache starts at the current revision, so resuming from an older
      // one is answered 410 and the informer relists; a delete it infers is a tombstone with an unknown final state.
      const serviceNotices = services.notices.slice(mark.services[1]);
      const relisted = serviceNotices.some((n) => n.kind === 'listed' && n.relist);
      assert.deepEqual(
        sortDeliveries(services.deliveries.slice(mark.services[0])),
        sortDeliveries([
          { type: 'add', key: `${ns}/new` },
          { type: 'update', key: `${ns}/update`, version: '2' },
          { type: 'delete', key: `${ns}/delete`, finalStateUnknown: relisted },
        ]),
        'nothing more: unchanged objects are not re-delivered',
      );

      const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      process.stderr.write(
        `[runtime-informer] API server stop ${s(apiServerStopped - restartStarted)}, start ${s(apiServerReady - apiServerStarted)}; ` +
          `after release: pods current in ${s(podsCurrent - released)} (resumed), services in ${s(servicesCurrent - released)} ` +
          `(${relisted ? 'relisted after 410' : 'resumed'})\n`,
      );
    } finally {
      await pods.stop();
      await services.stop();
    }
  });

  it('relists after a 410 from a compacted etcd and delivers deletes that happened meanwhile as tombstones', async () => {
    const ns = await env.createNamespace('compact');
    for (const name of ['a', 'b', 'c']) await env.client.create(PODS, ns, podBody(name));
    const pods = startInformer(PODS, (raw) => podSchema.parse(raw), ns);
    try {
      await pods.watching();
      const [deliveredBefore, noticedBefore] = [pods.deliveries.length, pods.notices.length];

      pods.client.hold({ breakWatches: true });
      await watchBroke(pods, noticedBefore, 'pods');
      await env.client.delete(PODS, ns, 'b', { gracePeriodSeconds: 0 });
      await env.client.patch(PODS, ns, 'c', { metadata: { labels: { version: '2' } } }, 'merge');
      await env.client.create(PODS, ns, podBody('d'));
      // Everything the informer has not seen is compacted away: resuming from its resourceVersion cannot work.
      const revision = await etcdRevision();
      assert.ok(BigInt(revision) > BigInt(pods.informer.lastSyncResourceVersion() ?? '0'));
      await compactEtcd(revision);
      pods.client.release();

      await waitFor(() => assert.deepEqual(pods.keys(), [`${ns}/a`, `${ns}/c`, `${ns}/d`]) === undefined, {
        description: 'the relisted cache',
        timeoutMs: 20_000,
      });
      const notices = pods.notices.slice(noticedBefore);
      const expired = notices.findIndex((n) => n.kind === 'expired');
      assert.ok(expired >= 0, `a 410 was reported: ${JSON.stringify(notices.map((n) => n.kind))}`);
      const expiredNotice = notices[expired];
      assert.ok(expiredNotice?.kind === 'expired' && isGone(expiredNotice.error), 'as Gone/Expired');
      assert.ok(
        notices.slice(expired).some((n) => n.kind === 'listed' && n.relist),
        'followed by a relist',
      );
      assert.deepEqual(
        sortDeliveries(pods.deliveries.slice(deliveredBefore)),
        sortDeliveries([
          { type: 'add', key: `${ns}/d` },
          { type: 'update', key: `${ns}/c`, version: '2' },
          { type: 'delete', key: `${ns}/b`, finalStateUnknown: true },
        ]),
      );
    } finally {
      await pods.stop();
    }
  });

  it("recognises the API server's answer to a read from a resourceVersion it has not reached as ResourceVersionTooLarge", async () => {
    // What a lagging or restored API server answers. v1.36 answers a WATCH from such a resourceVersion by waiting
    // (the stream stays empty until its timeout), so the watcher's relist on this error is covered by its unit tests;
    // this checks that the classifier it relies on matches the real Status, from the watch cache and from etcd.
    const ns = await env.createNamespace('too-large');
    for (const resource of [SERVICES, PODS]) {
      const { resourceVersion } = await env.client.list(resource, ns);
      const ahead = String(BigInt(resourceVersion) + 1_000_000n);
      const err = await env.client.list(resource, ns, { resourceVersion: ahead, resourceVersionMatch: 'NotOlderThan' }).then(
        () => assert.fail(`${resource.plural}: a read from the future succeeded`),
        (e: unknown) => e,
      );
      assert.ok(isResourceVersionTooLarge(err), `${resource.plural}: ${String(err)}`);
      assert.equal(isGone(err), false);
    }
  });
});
