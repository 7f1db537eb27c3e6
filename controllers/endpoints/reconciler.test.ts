import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { objectKey, type ObjectReference } from '../../api/core/meta.ts';
import type { Endpoints, Pod, Service } from '../../api/core/v1.ts';
import { ApiError } from '../runtime/api-errors.ts';
import { IndexedStore } from '../runtime/cache/indexed-store.ts';
import { FakeClock } from '../runtime/clock.ts';
import type { EventRecorder } from '../runtime/manager-types.ts';
import { type ReconcileContext, StaleCacheError } from '../runtime/reconcile.ts';
import { CacheCatchUp } from '../shared/cache-catch-up.ts';
import { WrittenEndpoints } from './written-endpoints.ts';
import { ENDPOINTS } from '../runtime/resource.ts';
import { type FakeCall, FakeApiClient } from '../runtime/testing/fake-api-client.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { TriggerTimeTracker } from '../shared/trigger-time-tracker.ts';
import { EndpointsReconciler, EndpointsSyncError } from './reconciler.ts';
import { StaleEndpointsTracker } from './stale-endpoints-tracker.ts';
import { podAddress, testEndpoints, testPod, testPods, testService } from './test-fixtures.ts';

const ns = 'ns';
const MANAGED = { 'endpoints.kubernetes.io/managed-by': 'endpoint-controller' };
const TRIGGER = 'endpoints.kubernetes.io/last-change-trigger-time';

class RecordingEvents implements EventRecorder {
  readonly events: { object: ObjectReference; type: string; reason: string; message: string }[] = [];
  event(object: Readonly<ObjectReference>, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ object: { ...object }, type, reason, message });
  }
}

const apiError = (code: number, reason: ApiError['reason'], causes: ApiError['causes'] = []) =>
  new ApiError({ code, reason, message: 'injected', causes, verb: 'x', path: '/x' });

function newStore<T extends { metadata: { namespace?: string | undefined; name?: string | undefined } }>(items: T[] = []) {
  const store = new IndexedStore<T>({ keyFunc: (o) => objectKey(o), namespaceFunc: (o) => o.metadata.namespace ?? '' });
  for (const item of items) store.upsert(deepFreeze(item));
  return store;
}

function harness(given: { services?: Service[]; pods?: Pod[]; endpoints?: Endpoints[] } = {}) {
  const services = newStore(given.services);
  const pods = newStore(given.pods);
  const endpoints = newStore(given.endpoints);
  const client = new FakeApiClient();
  client.seed(ENDPOINTS, ...(given.endpoints ?? []));
  const events = new RecordingEvents();
  const triggerTimes = new TriggerTimeTracker();
  const staleEndpoints = new StaleEndpointsTracker();
  const catchUp = new CacheCatchUp();
  const written = new WrittenEndpoints();
  const reconciler = new EndpointsReconciler({
    services,
    pods,
    endpoints,
    client,
    clock: new FakeClock(),
    events,
    triggerTimes,
    staleEndpoints,
    catchUp,
    written,
  });
  const ctx: ReconcileContext = { logger: pino({ level: 'silent' }), reconcileId: 'r1', signal: new AbortController().signal };
  const sync = (key = `${ns}/foo`) => reconciler.reconcile({ key }, ctx);
  return { services, pods, endpoints, client, events, triggerTimes, staleEndpoints, catchUp, written, sync };
}

const bodyOf = (call: FakeCall | undefined) => call?.body as Endpoints;

/** One ready Pod, while the cached Endpoints (version 1) still lists it as not ready: the first sync writes. */
function readyPodBehindCachedEndpoints() {
  return harness({
    services: [testService()],
    pods: testPods(ns, 1, 1),
    endpoints: [
      testEndpoints({
        metadata: { resourceVersion: '1' },
        subsets: [{ notReadyAddresses: [podAddress(ns, 0)], ports: [{ port: 8080, protocol: 'TCP' }] }],
      }),
    ],
  });
}

/** Makes the client answer updates with something that is not an Endpoints, so the reconciler cannot keep it. */
function answerUnparseably(client: FakeApiClient): void {
  const update = client.update.bind(client);
  client.update = async (r, namespace, name, body, opts) => {
    const answer = (await update(r, namespace, name, body, opts)) as Endpoints;
    return { ...answer, subsets: 'unparseable' };
  };
}

describe('EndpointsReconciler', () => {
  it('makes zero API calls for an unchanged Service (TestSyncEndpointsItemsPreexistingIdentical)', async () => {
    const h = harness({
      services: [testService()],
      pods: testPods(ns, 1, 1),
      endpoints: [testEndpoints({ subsets: [{ addresses: [podAddress(ns, 0)], ports: [{ port: 8080, protocol: 'TCP' }] }] })],
    });
    assert.deepEqual(await h.sync(), { kind: 'done' });
    assert.deepEqual(h.client.calls, []);
  });

  it('leaves the Endpoints of a selector-less Service alone and does not track it (TestSyncEndpointsItemsPreserveNoSelector)', async () => {
    const h = harness({
      services: [testService({ spec: { selector: undefined } })],
      pods: testPods(ns, 1, 1),
      endpoints: [testEndpoints({ subsets: [{ addresses: [{ ip: '6.7.8.9' }], ports: [{ port: 1000 }] }] })],
    });
    await h.sync();
    assert.deepEqual(h.client.calls, []);
    assert.equal(h.triggerTimes.has(ns, 'foo'), false);
  });

  for (const [variant, spec] of [
    ['with selector and ports', {}],
    ['without selector', { selector: undefined }],
    ['without ports', { ports: undefined }],
    ['without selector and ports', { selector: undefined, ports: undefined }],
  ] as const) {
    it(`makes no calls for an ExternalName Service ${variant} (TestSyncServiceExternalNameType)`, async () => {
      const h = harness({
        services: [testService({ spec: { type: 'ExternalName', externalName: 'foo.example.com', ...spec } })],
        pods: testPods(ns, 1, 1),
      });
      await h.sync();
      assert.deepEqual(h.client.calls, []);
    });
  }

  it('creates an empty Endpoints for a new Service without pods (TestSyncEndpointsNewNoSubsets)', async () => {
    const h = harness({ services: [testService({ metadata: { creationTimestamp: undefined } })] });
    await h.sync();
    assert.deepEqual(h.client.calls, [
      {
        verb: 'create',
        resource: 'endpoints',
        namespace: ns,
        name: 'foo',
        body: { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'foo', namespace: ns, labels: MANAGED } },
      },
    ]);
  });

  for (const protocol of ['TCP', 'UDP', 'SCTP']) {
    it(`updates with the ${protocol} port, an empty selector selecting all pods, managed-by and headless labels (TestSyncEndpointsProtocol${protocol})`, async () => {
      const pod = testPod(ns, 0, 1, true);
      const h = harness({
        services: [testService({ spec: { selector: {}, clusterIP: '', ports: [{ port: 80, protocol, targetPort: 8080 }] } })],
        pods: [{ ...pod, metadata: { ...pod.metadata, labels: { any: 'thing' } } }],
        endpoints: [
          testEndpoints({
            metadata: { labels: {} },
            subsets: [{ addresses: [{ ip: '6.7.8.9', nodeName: '' }], ports: [{ port: 1000, protocol }] }],
          }),
        ],
      });
      await h.sync();
      assert.equal(h.client.calls.length, 1);
      assert.equal(h.client.calls[0]?.verb, 'update');
      assert.deepEqual(bodyOf(h.client.calls[0]).metadata.labels, { 'service.kubernetes.io/headless': '', ...MANAGED });
      assert.deepEqual(bodyOf(h.client.calls[0]).subsets, [{ addresses: [podAddress(ns, 0)], ports: [{ port: 8080, protocol }] }]);
      assert.equal(bodyOf(h.client.calls[0]).metadata.resourceVersion, '1');
    });
  }

  it('creates one subset with both ports for 3 pods × 2 ports, ignoring pods of other namespaces (TestSyncEndpointsItems)', async () => {
    const h = harness({
      services: [
        testService({
          spec: {
            ports: [
              { name: 'port0', port: 80, protocol: 'TCP', targetPort: 8080 },
              { name: 'port1', port: 88, protocol: 'TCP', targetPort: 8088 },
            ],
          },
        }),
      ],
      pods: [...testPods(ns, 3, 2), ...testPods('other', 5, 2)],
    });
    await h.sync();
    assert.equal(h.client.calls.length, 1);
    assert.equal(h.client.calls[0]?.verb, 'create');
    assert.deepEqual(bodyOf(h.client.calls[0]).subsets, [
      {
        addresses: [podAddress(ns, 0), podAddress(ns, 1), podAddress(ns, 2)],
        ports: [
          { name: 'port1', port: 8088, protocol: 'TCP' },
          { name: 'port0', port: 8080, protocol: 'TCP' },
        ],
      },
    ]);
  });

  it('deletes the Endpoints when the Service is gone and forgets the Service (TestSyncEndpointsServiceNotFound)', async () => {
    const h = harness({ services: [testService()] });
    await h.sync();
    h.services.remove(`${ns}/foo`);
    h.staleEndpoints.markStale(ns, 'foo', '1');
    await h.sync();
    assert.deepEqual(
      h.client.calls.map((c) => [c.verb, c.namespace, c.name]),
      [
        ['create', ns, 'foo'],
        ['delete', ns, 'foo'],
      ],
    );
    assert.equal(h.triggerTimes.has(ns, 'foo'), false);
    assert.equal(h.staleEndpoints.size, 0);
  });

  it('treats a NotFound delete as done', async () => {
    const h = harness();
    h.client.failOn = () => apiError(404, 'NotFound');
    assert.deepEqual(await h.sync(), { kind: 'done' });
    assert.equal(h.client.calls.length, 1);
  });

  it('fails (to be retried) when the delete fails otherwise, without an event', async () => {
    const h = harness();
    h.client.failOn = () => apiError(500, 'InternalError');
    await assert.rejects(h.sync(), EndpointsSyncError);
    assert.deepEqual(h.events.events, []);
  });

  it('sets the trigger-time annotation to the Service creation time on the first sync (TestLastTriggerChangeTimeAnnotation)', async () => {
    const h = harness({ services: [testService({ metadata: { creationTimestamp: '2024-03-01T12:00:00Z' } })], pods: testPods(ns, 1, 1) });
    await h.sync();
    assert.equal(bodyOf(h.client.calls[0]).metadata.annotations?.[TRIGGER], '2024-03-01T12:00:00Z');
  });

  it('replaces an old trigger-time annotation (TestLastTriggerChangeTimeAnnotation_AnnotationOverridden)', async () => {
    const h = harness({
      services: [testService({ metadata: { creationTimestamp: '2024-03-01T12:00:00Z' } })],
      pods: testPods(ns, 1, 1),
      endpoints: [testEndpoints({ metadata: { annotations: { [TRIGGER]: '2020-01-01T00:00:00Z' } } })],
    });
    await h.sync();
    assert.equal(bodyOf(h.client.calls[0]).metadata.annotations?.[TRIGGER], '2024-03-01T12:00:00Z');
  });

  it('removes the trigger-time annotation when the trigger time is zero (TestLastTriggerChangeTimeAnnotation_AnnotationCleared)', async () => {
    const h = harness({
      services: [testService({ metadata: { creationTimestamp: undefined } })],
      pods: testPods(ns, 1, 1),
      endpoints: [testEndpoints({ metadata: { annotations: { [TRIGGER]: '2020-01-01T00:00:00Z' } } })],
    });
    await h.sync();
    assert.equal(bodyOf(h.client.calls[0]).metadata.annotations, undefined);
  });

  it('advances the trigger-time state on syncs that write nothing', async () => {
    const h = harness({
      services: [testService()],
      pods: testPods(ns, 1, 1),
      endpoints: [testEndpoints({ subsets: [{ addresses: [podAddress(ns, 0)], ports: [{ port: 8080, protocol: 'TCP' }] }] })],
    });
    await h.sync();
    assert.deepEqual(h.client.calls, []);
    assert.equal(h.triggerTimes.has(ns, 'foo'), true);
  });

  it('syncs from its own update while the cache still shows the version it replaced (written-endpoints.ts)', async () => {
    const h = readyPodBehindCachedEndpoints();
    await h.sync();
    assert.equal(h.client.calls.length, 1);
    const firstVersion = (h.client.object(ENDPOINTS, ns, 'foo') as Endpoints).metadata.resourceVersion;

    // The pod flips to not ready while the Endpoints cache still holds version 1: no refusal, no wait for the watch.
    h.pods.upsert(deepFreeze(testPod(ns, 0, 1, false)));
    await h.sync();
    assert.equal(h.client.calls.length, 2);
    assert.equal(h.catchUp.size, 0);
    const second = bodyOf(h.client.calls[1]);
    assert.equal(second.metadata.resourceVersion, firstVersion, 'the update is made from our first write, not from version 1');
    assert.deepEqual(second.subsets, [{ notReadyAddresses: [podAddress(ns, 0)], ports: [{ port: 8080, protocol: 'TCP' }] }]);

    // Nothing changed since: our second write is what the sync reads, so it writes nothing.
    await h.sync();
    assert.equal(h.client.calls.length, 2);

    // The watch delivers our writes one by one: the copy is kept while the cache shows a version we replaced.
    const stored = h.client.object(ENDPOINTS, ns, 'foo') as Endpoints;
    h.endpoints.upsert(deepFreeze({ ...second, metadata: { ...second.metadata, resourceVersion: firstVersion } }));
    await h.sync();
    assert.equal(h.written.size, 1);
    h.endpoints.upsert(deepFreeze(stored));
    await h.sync();
    assert.equal(h.client.calls.length, 2);
    assert.equal(h.written.size, 0, 'the cache caught up: our copy is dropped');
  });

  it('refuses to sync from a cache older than its own update when the answer could not be kept, then writes once the cache catches up (TestMultiplePodChanges)', async () => {
    const h = readyPodBehindCachedEndpoints();
    answerUnparseably(h.client);
    await h.sync();
    assert.equal(h.client.calls.length, 1);
    assert.equal(h.written.size, 0);

    // The pod flips to not ready while the Endpoints cache still holds version 1.
    h.pods.upsert(deepFreeze(testPod(ns, 0, 1, false)));
    await assert.rejects(h.sync(), StaleCacheError);
    assert.equal(h.client.calls.length, 1);
    assert.equal(h.catchUp.caughtUp(`${ns}/foo`), true, 'the refused sync waits for the informer (controllers/shared/cache-catch-up.ts)');

    // The watch delivers version 2 (our write); the next sync works from it.
    const written = bodyOf(h.client.calls[0]);
    h.endpoints.upsert(deepFreeze({ ...written, metadata: { ...written.metadata, resourceVersion: '2' } }));
    await h.sync();
    assert.equal(h.client.calls.length, 2);
    assert.deepEqual(bodyOf(h.client.calls[1]).subsets, [
      { notReadyAddresses: [podAddress(ns, 0)], ports: [{ port: 8080, protocol: 'TCP' }] },
    ]);
  });

  it('drops its own copy when an update from it fails, and waits for the cache again', async () => {
    const h = readyPodBehindCachedEndpoints();
    await h.sync();
    assert.equal(h.written.size, 1);
    // Someone else writes the Endpoints after us: our copy is outdated and the update from it conflicts.
    const theirs = h.client.object(ENDPOINTS, ns, 'foo') as Endpoints;
    h.client.seed(ENDPOINTS, { ...theirs, metadata: { ...theirs.metadata, resourceVersion: '99', labels: { edited: 'yes' } } });
    h.pods.upsert(deepFreeze(testPod(ns, 0, 1, false)));
    await assert.rejects(h.sync(), EndpointsSyncError);
    assert.equal(h.written.size, 0);
    await assert.rejects(h.sync(), StaleCacheError, 'the cache still shows version 1, which we replaced');
  });

  it('drops its own copy when the Service is deleted', async () => {
    const h = readyPodBehindCachedEndpoints();
    await h.sync();
    assert.equal(h.written.size, 1);
    h.services.remove(`${ns}/foo`);
    await h.sync();
    assert.equal(h.written.size, 0);
  });

  it('a Service deleted while its sync waits for the informer waits for nothing', async () => {
    const h = harness({
      services: [testService()],
      pods: testPods(ns, 1, 1),
      endpoints: [testEndpoints({ metadata: { resourceVersion: '1' }, subsets: [] })],
    });
    answerUnparseably(h.client);
    await h.sync();
    h.pods.upsert(deepFreeze(testPod(ns, 0, 1, false)));
    await assert.rejects(h.sync(), StaleCacheError);
    assert.equal(h.catchUp.size, 1);
    h.services.remove(`${ns}/foo`);
    await h.sync();
    assert.equal(h.catchUp.size, 0);
  });

  it('does not mark the cache stale when the server answers an update with the same resourceVersion', async () => {
    const h = harness({
      services: [testService()],
      pods: testPods(ns, 1, 1),
      endpoints: [testEndpoints({ metadata: { resourceVersion: '1', labels: {} } })],
    });
    // The server keeps and answers the body as sent: the same resourceVersion.
    const update = h.client.update.bind(h.client);
    h.client.update = async (r, namespace, name, body, opts) => {
      await update(r, namespace, name, body, opts);
      h.client.seed(r, body as object);
      return body;
    };
    await h.sync();
    await h.sync();
    assert.equal(h.client.calls.length, 2);
    assert.equal(h.staleEndpoints.size, 0);
  });

  it('recreates the Endpoints after Service add → delete → re-add while the Endpoints cache lags (TestMultipleServiceChanges)', async () => {
    const h = harness({ services: [testService()], pods: testPods(ns, 1, 1) });
    await h.sync();
    h.services.remove(`${ns}/foo`);
    await h.sync();
    h.services.upsert(deepFreeze(testService({ metadata: { uid: 'svc-uid-2' } })));
    await h.sync();
    assert.deepEqual(
      h.client.calls.map((c) => c.verb),
      ['create', 'delete', 'create'],
    );
  });

  it('swallows a create refused because the namespace is terminating, without an event', async () => {
    const h = harness({ services: [testService()] });
    h.client.failOn = () => apiError(403, 'Forbidden', [{ reason: 'NamespaceTerminating', message: 'namespace ns is being terminated' }]);
    assert.deepEqual(await h.sync(), { kind: 'done' });
    assert.deepEqual(h.events.events, []);
  });

  it('records FailedToCreateEndpoint and fails on any other create error', async () => {
    const h = harness({ services: [testService()] });
    h.client.failOn = () => apiError(403, 'Forbidden');
    await assert.rejects(h.sync(), EndpointsSyncError);
    assert.equal(h.events.events.length, 1);
    assert.deepEqual(
      { ...h.events.events[0], message: h.events.events[0]?.message.startsWith('Failed to create endpoint for service ns/foo: ') },
      {
        object: { apiVersion: 'v1', kind: 'Endpoints', namespace: ns, name: 'foo' },
        type: 'Warning',
        reason: 'FailedToCreateEndpoint',
        message: true,
      },
    );
  });

  it('records FailedToUpdateEndpoint and fails on a conflict, leaving the cache unmarked', async () => {
    const h = harness({ services: [testService()], endpoints: [testEndpoints({ metadata: { labels: {} } })] });
    h.client.failOn = () => apiError(409, 'Conflict');
    await assert.rejects(
      h.sync(),
      (err: unknown) => err instanceof EndpointsSyncError && err.cause instanceof ApiError && err.key === 'ns/foo',
    );
    assert.equal(h.events.events[0]?.reason, 'FailedToUpdateEndpoint');
    assert.ok(h.events.events[0]?.message.startsWith('Failed to update endpoint ns/foo: '));
    assert.equal(h.staleEndpoints.size, 0);
  });

  it('follows ports and pods being added and removed over several syncs (TestSyncEndpointsAddDeletePorts)', async () => {
    const template = (name: string, ip: string, portName: string, containerPort: number): Pod => ({
      metadata: { namespace: ns, name, uid: `uid-${name}`, resourceVersion: '1', labels: { foo: 'bar' } },
      spec: { containers: [{ name: 'c', ports: [{ name: portName, containerPort }] }] },
      status: { podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const svc = (ports: Service['spec']['ports']) =>
      testService({ metadata: { creationTimestamp: undefined }, spec: { clusterIP: '1.1.1.1', ports } });
    const port1 = { name: 'portname1', port: 80, targetPort: 'svc1' };
    const port2 = { name: 'portname2', port: 81, targetPort: 'svc2' };
    const h = harness({
      services: [svc([port1])],
      pods: [template('pod1', '10.1.1.1', 'svc1', 100)],
      endpoints: [testEndpoints({ subsets: [] })],
    });
    // Our writes come back through the watch before the next sync.
    const syncAndObserve = async () => {
      await h.sync();
      const last = h.client.calls.at(-1);
      if (last?.verb === 'update') h.endpoints.upsert(deepFreeze(h.client.object(ENDPOINTS, ns, 'foo') as unknown as Endpoints));
      return bodyOf(last).subsets;
    };
    const address = (name: string, ip: string) => ({
      ip,
      nodeName: '',
      targetRef: { kind: 'Pod', namespace: ns, name, uid: `uid-${name}` },
    });

    assert.deepEqual(await syncAndObserve(), [{ addresses: [address('pod1', '10.1.1.1')], ports: [{ name: 'portname1', port: 100 }] }]);

    h.services.upsert(deepFreeze(svc([port1, port2])));
    h.pods.upsert(deepFreeze(template('pod2', '10.1.1.2', 'svc2', 101)));
    const both = await syncAndObserve();
    assert.deepEqual(
      [...(both ?? [])].sort((a, b) => (a.ports?.[0]?.port ?? 0) - (b.ports?.[0]?.port ?? 0)),
      [
        { addresses: [address('pod1', '10.1.1.1')], ports: [{ name: 'portname1', port: 100 }] },
        { addresses: [address('pod2', '10.1.1.2')], ports: [{ name: 'portname2', port: 101 }] },
      ],
    );

    h.services.upsert(deepFreeze(svc([port2])));
    assert.deepEqual(await syncAndObserve(), [{ addresses: [address('pod2', '10.1.1.2')], ports: [{ name: 'portname2', port: 101 }] }]);
    assert.deepEqual(
      h.client.calls.map((c) => c.verb),
      ['update', 'update', 'update'],
    );
  });

  it('never mutates cached objects (all stores are deep-frozen)', async () => {
    const h = harness({
      services: [testService({ metadata: { labels: { a: 'b' } } })],
      pods: testPods(ns, 2, 1, 1),
      endpoints: [
        testEndpoints({ metadata: { labels: { x: 'y' }, annotations: { k: 'v' } }, subsets: [{ addresses: [podAddress(ns, 1)] }] }),
      ],
    });
    await h.sync();
    assert.equal(h.client.calls.length, 1);
    assert.ok(Object.isFrozen(h.endpoints.get(`${ns}/foo`)));
  });
});
