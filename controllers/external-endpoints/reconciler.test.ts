import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { type Endpoints, endpointsSchema, type Service } from '../../api/core/v1.ts';
import { type EndpointSlice, endpointSliceSchema } from '../../api/discovery/v1.ts';
import { LABEL_ENDPOINTS_MANAGED_BY, LABEL_MANAGED_BY, LABEL_SKIP_MIRROR, MANAGED_BY_EXTERNAL_ENDPOINTS } from '../../api/labels.ts';
import { type ExternalEndpoints, type ExternalEndpointsSpecInput, externalEndpointsSchema } from '../../api/v1alpha1/external-endpoints.ts';
import { FakeClock } from '../runtime/clock.ts';
import { type Result, StaleCacheError } from '../runtime/reconcile.ts';
import { ENDPOINT_SLICES, ENDPOINTS, SERVICES } from '../runtime/resource.ts';
import { FakeApiClient } from '../runtime/testing/fake-api-client.ts';
import { newAddressPolicy } from './address-policy.ts';
import { type DnsAnswer, DnsLookupError, DnsResolver } from './dns/resolver.ts';
import { BackendHealthStore } from './health-store.ts';
import { ExternalEndpointsMetrics } from './metrics.ts';
import type { ProbeJob } from './probe/probe-scheduler.ts';
import type { ProbeResult } from './probe/prober.ts';
import { ExternalEndpointsReconciler, SLICES_BY_OBJECT_INDEX, slicesByObjectIndex } from './reconciler.ts';
import { EXTERNAL_ENDPOINTS } from './resources.ts';
import { describeSlices, MemoryStore, makeObject, makeService, RecordingEventRecorder, testContext } from './test-fixtures.ts';
import { EndpointSliceTracker } from '../shared/endpoint-slice-tracker.ts';

const KEY = 'prod/db';
const OK: ProbeResult = { ok: true, latencyMs: 2 };
const REFUSED: ProbeResult = { ok: false, latencyMs: 1, error: { reason: 'Refused', message: 'connection refused' } };
const STATUS_INTERVAL = 5000;

/** DNS answers the test controls: per name, A and AAAA answers or a failure. */
class FakeDns {
  readonly answers = new Map<string, { v4: DnsAnswer[] | 'SERVFAIL'; v6: DnsAnswer[] }>();
  queries = 0;
  async resolve4(name: string): Promise<readonly DnsAnswer[]> {
    this.queries++;
    const a = this.answers.get(name);
    if (a === undefined) throw new DnsLookupError('NXDOMAIN', `${name} (A) does not exist (NXDOMAIN)`);
    if (a.v4 === 'SERVFAIL')
      throw new DnsLookupError('ServerFailure', `${name} (A) could not be resolved: the DNS server failed (SERVFAIL)`);
    return a.v4;
  }
  async resolve6(name: string): Promise<readonly DnsAnswer[]> {
    return this.answers.get(name)?.v6 ?? [];
  }
}

/** A fake scheduler: the jobs the reconciler asked for. */
class FakeProbes {
  readonly jobs = new Map<string, ProbeJob>();
  upsert(job: ProbeJob) {
    this.jobs.set(job.key, job);
    return { allowed: true as const, address: job.target.address };
  }
  remove(key: string): void {
    this.jobs.delete(key);
  }
}

/** The reconciler on in-memory caches fed from a fake API server, as the informers would feed them. */
class Harness {
  readonly clock = new FakeClock(Date.parse('2026-03-01T12:00:00Z'));
  readonly server = new FakeApiClient();
  readonly objects = new MemoryStore<ExternalEndpoints>();
  readonly services = new MemoryStore<Service>();
  readonly slices = new MemoryStore<EndpointSlice>([], { [SLICES_BY_OBJECT_INDEX]: slicesByObjectIndex });
  readonly endpoints = new MemoryStore<Endpoints>();
  readonly recorder = new RecordingEventRecorder();
  readonly probes = new FakeProbes();
  readonly health = new BackendHealthStore();
  readonly dns = new FakeDns();
  readonly registry = new Registry();
  readonly tracker = new EndpointSliceTracker();
  reconciler: ExternalEndpointsReconciler;

  constructor() {
    this.reconciler = this.newReconciler();
  }

  newReconciler(): ExternalEndpointsReconciler {
    return new ExternalEndpointsReconciler({
      objects: this.objects,
      services: this.services,
      endpointSlices: this.slices,
      endpoints: this.endpoints,
      client: this.server,
      clock: this.clock,
      recorder: this.recorder,
      probes: this.probes,
      health: this.health,
      resolver: new DnsResolver({ lookup: this.dns, clock: this.clock }),
      tracker: this.tracker,
      metrics: new ExternalEndpointsMetrics(this.registry),
      addressPolicy: newAddressPolicy({ allowedCIDRs: ['198.18.0.0/15', '2001:db8::/32'] }),
      maxEndpointsPerSlice: 100,
      statusMinIntervalMs: STATUS_INTERVAL,
    });
  }

  create(spec: ExternalEndpointsSpecInput, service: Service | null = makeService()): void {
    this.server.seed(EXTERNAL_ENDPOINTS, makeObject(spec));
    if (service !== null) this.server.seed(SERVICES, service);
    this.sync();
  }

  /** Copies the fake server's state into the caches, as the informers would (our slices and Endpoints only). */
  sync(): void {
    this.objects.replaceAll(this.server.objects(EXTERNAL_ENDPOINTS).map((o) => externalEndpointsSchema.parse(o)));
    this.services.replaceAll(this.server.objects(SERVICES) as unknown as Service[]);
    this.slices.replaceAll(
      this.server
        .objects(ENDPOINT_SLICES)
        .map((o) => endpointSliceSchema.parse(o))
        .filter((s) => s.metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY_EXTERNAL_ENDPOINTS),
    );
    this.endpoints.replaceAll(
      this.server
        .objects(ENDPOINTS)
        .map((o) => endpointsSchema.parse(o))
        .filter((e) => e.metadata.labels?.[LABEL_ENDPOINTS_MANAGED_BY] === MANAGED_BY_EXTERNAL_ENDPOINTS),
    );
  }

  /** Reconciles, then lets the caches catch up. */
  async reconcile(): Promise<Result> {
    const result = await this.reconciler.reconcile({ key: KEY }, testContext());
    this.sync();
    return result;
  }

  probe(address: string, result: ProbeResult): void {
    this.health.observe(BackendHealthStore.jobKey(KEY, address), result, this.clock.now());
  }

  writes(): string[] {
    return this.server.writes.map((w) => `${w.verb} ${w.resource}${w.subresource ? `/${w.subresource}` : ''}`);
  }

  published(): string[] {
    return describeSlices(this.slices.list());
  }

  object(): ExternalEndpoints {
    const o = this.objects.get(KEY);
    assert.ok(o);
    return o;
  }

  condition(type: string): string | undefined {
    const c = this.object().status?.conditions?.find((x) => x.type === type);
    return c === undefined ? undefined : `${c.status}/${c.reason}`;
  }
}

const TWO_BACKENDS: ExternalEndpointsSpecInput = {
  endpoints: [{ ip: '198.18.0.2' }, { ip: '198.18.0.6' }],
  ports: [{ name: 'pg', port: 5432 }],
  healthCheck: { type: 'TCP', intervalSeconds: 1, unhealthyThreshold: 2 },
};

describe('ExternalEndpointsReconciler', () => {
  it('publishes, follows probe results, and makes zero writes once converged', async () => {
    const h = new Harness();
    h.create(TWO_BACKENDS);
    await h.reconcile();
    // Nothing probed yet: below minHealthy 1, so fail open publishes both (never an empty Service at start).
    assert.deepEqual(h.published(), ['IPv4: 198.18.0.2=RS- 198.18.0.6=RS-']);
    assert.deepEqual(
      [...h.probes.jobs.values()].map((j) => `${j.target.address}:${j.target.port}/${j.spec.type}/${j.intervalMs}`),
      ['198.18.0.2:5432/TCP/1000', '198.18.0.6:5432/TCP/1000'],
    );
    assert.equal(h.condition('BelowMinHealthy'), 'True/PublishingAll');

    h.probe('198.18.0.2', OK);
    h.probe('198.18.0.6', REFUSED);
    await h.clock.advance(STATUS_INTERVAL);
    await h.reconcile();
    assert.deepEqual(h.published(), ['IPv4: 198.18.0.2=RS- 198.18.0.6=---']);
    assert.deepEqual(
      [h.condition('Ready'), h.condition('Degraded'), h.condition('BelowMinHealthy')],
      ['True/BackendsReady', 'True/BackendsUnhealthy', 'False/EnoughHealthy'],
    );
    assert.deepEqual(
      h.recorder.events.map((e) => `${e.type} ${e.reason}`),
      ['Warning BelowMinHealthy', 'Warning BackendUnhealthy', 'Normal MinHealthyRestored'],
    );

    const before = h.server.writes.length;
    for (let i = 0; i < 3; i++) {
      h.probe('198.18.0.2', OK);
      h.probe('198.18.0.6', REFUSED);
      await h.clock.advance(1000);
      await h.reconcile();
    }
    assert.deepEqual(h.server.writes.slice(before), [], 'a converged object with steady probes writes nothing');
  });

  it('writes nothing for the same state after a restart: health carries over from status', async () => {
    const h = new Harness();
    h.create(TWO_BACKENDS);
    await h.reconcile();
    h.probe('198.18.0.2', OK);
    h.probe('198.18.0.6', REFUSED);
    await h.clock.advance(STATUS_INTERVAL);
    await h.reconcile();
    const before = h.server.writes.length;
    const events = h.recorder.events.length;

    // A new leader: fresh memory, same cluster.
    const fresh = new Harness();
    Object.assign(fresh, { server: h.server });
    fresh.sync();
    fresh.reconciler = fresh.newReconciler();
    await fresh.reconcile();
    assert.deepEqual(h.server.writes.slice(before), []);
    assert.deepEqual(fresh.published(), ['IPv4: 198.18.0.2=RS- 198.18.0.6=---']);
    assert.equal(fresh.recorder.events.length, 0, 'nothing is announced twice');
    assert.equal(h.recorder.events.length, events);
  });

  it('coalesces status writes of a flapping backend to one per interval, carrying the latest state', async () => {
    const h = new Harness();
    h.create({ ...TWO_BACKENDS, healthCheck: { type: 'TCP', intervalSeconds: 1, unhealthyThreshold: 1 } });
    await h.reconcile();
    h.probe('198.18.0.2', OK);
    h.probe('198.18.0.6', OK);
    await h.clock.advance(STATUS_INTERVAL);
    await h.reconcile();
    const statusWrites = () => h.writes().filter((w) => w === 'patch externalendpoints/status').length;
    const start = statusWrites();
    const results: Result[] = [];
    for (let i = 0; i < 4; i++) {
      h.probe('198.18.0.6', i % 2 === 0 ? REFUSED : OK);
      await h.clock.advance(1000);
      results.push(await h.reconcile());
    }
    // The slice follows every flip at once; status waits for its interval.
    assert.equal(h.writes().filter((w) => w === 'update endpointslices').length, 4);
    assert.equal(statusWrites() - start, 0);
    assert.deepEqual(results.at(-1), { kind: 'requeueAfter', ms: 1000 });
    h.probe('198.18.0.6', REFUSED);
    await h.clock.advance(1000);
    await h.reconcile();
    assert.equal(statusWrites() - start, 1);
    assert.equal(h.object().status?.endpoints?.find((e) => e.address === '198.18.0.6')?.health, 'Unhealthy');
  });

  it('waits for its Service: nothing published while missing, slices once it appears', async () => {
    const h = new Harness();
    h.create(TWO_BACKENDS, null);
    await h.reconcile();
    assert.deepEqual(h.writes(), ['patch externalendpoints/status']);
    assert.equal(h.condition('ServiceFound'), 'False/ServiceNotFound');
    assert.equal(h.probes.jobs.size, 0, 'nothing is probed for an object that publishes nothing');
    assert.deepEqual(
      h.recorder.events.map((e) => e.reason),
      ['ServiceNotFound'],
    );

    h.server.seed(SERVICES, makeService());
    h.sync();
    await h.clock.advance(STATUS_INTERVAL);
    await h.reconcile();
    assert.equal(h.condition('ServiceFound'), 'True/ServiceFound');
    assert.deepEqual(h.published(), ['IPv4: 198.18.0.2=RS- 198.18.0.6=RS-']);
  });

  it('refuses a Service with a selector: condition, Warning, and our slices removed', async () => {
    const h = new Harness();
    h.create(TWO_BACKENDS);
    await h.reconcile();
    assert.equal(h.slices.size, 1);
    h.server.seed(SERVICES, makeService({ selector: { app: 'db' } }));
    h.sync();
    await h.clock.advance(STATUS_INTERVAL);
    await h.reconcile();
    assert.equal(h.slices.size, 0);
    assert.equal(h.condition('ServiceFound'), 'False/ServiceHasSelector');
    assert.equal(h.condition('Ready'), 'False/NotPublished');
    assert.deepEqual(h.recorder.events.at(-1)?.reason, 'ServiceHasSelector');
    assert.equal(h.probes.jobs.size, 0);
    const before = h.server.writes.length;
    await h.reconcile();
    assert.deepEqual(h.server.writes.slice(before), []);
  });

  it('removes slices, legacy Endpoints, probes and metrics when the object is deleted', async () => {
    const h = new Harness();
    h.create({ ...TWO_BACKENDS, publishEndpoints: true });
    await h.reconcile();
    h.probe('198.18.0.2', OK);
    assert.equal(h.endpoints.size, 1);
    await h.server.delete(EXTERNAL_ENDPOINTS, 'prod', 'db');
    h.sync();
    await h.reconcile();
    assert.equal(h.slices.size, 0);
    assert.equal(h.endpoints.size, 0);
    assert.equal(h.probes.jobs.size, 0);
    assert.deepEqual(
      (await h.registry.getMetricsAsJSON()).flatMap((m) => m.values).filter((v) => v.labels.name === 'db'),
      [],
    );
  });

  it('forgets everything about a deleted object: no memory, health, probe or tracked slice is left', async () => {
    const h = new Harness();
    h.dns.answers.set('db.test', { v4: [{ address: '198.18.0.10', ttl: 30 }], v6: [] });
    h.create({
      ...TWO_BACKENDS,
      endpoints: [{ ip: '198.18.0.2' }, { ip: '198.18.0.6', tier: 1 }, { dnsName: 'db.test' }],
      publishEndpoints: true,
      slowStart: { minReadySeconds: 5 },
    });
    await h.reconcile();
    h.probe('198.18.0.2', OK);
    await h.reconcile();
    const slices = h.slices.list();
    assert.ok(slices.length > 0);
    assert.ok(h.reconciler.remembers(KEY));
    assert.ok(h.health.addresses(KEY).length > 0);
    assert.ok(slices.every((s) => h.tracker.has(s)));

    await h.server.delete(EXTERNAL_ENDPOINTS, 'prod', 'db');
    h.sync();
    await h.reconcile();
    assert.equal(h.reconciler.remembers(KEY), false);
    assert.deepEqual(h.health.addresses(KEY), []);
    assert.equal(h.probes.jobs.size, 0);
    assert.deepEqual(
      slices.map((s) => h.tracker.has(s)),
      slices.map(() => false),
    );
    assert.equal(h.tracker.staleSlices('prod', 'db', []), false);
  });

  it('drains a backend in maintenance without probing it', async () => {
    const h = new Harness();
    h.create({ ...TWO_BACKENDS, endpoints: [{ ip: '198.18.0.2' }, { ip: '198.18.0.6', maintenance: true }] });
    await h.reconcile();
    h.probe('198.18.0.2', OK);
    await h.reconcile();
    assert.deepEqual(h.published(), ['IPv4: 198.18.0.2=RS- 198.18.0.6=-ST']);
    assert.deepEqual([...h.probes.jobs.keys()], ['prod/db|198.18.0.2']);
  });

  it('fails closed when asked: below minHealthy nothing is ready, healthy backends included', async () => {
    const h = new Harness();
    h.create({ ...TWO_BACKENDS, failurePolicy: { minHealthy: 2, whenBelowMinHealthy: 'PublishNone' } });
    await h.reconcile();
    h.probe('198.18.0.2', OK);
    h.probe('198.18.0.6', REFUSED);
    await h.reconcile();
    assert.deepEqual(h.published(), ['IPv4: 198.18.0.2=--- 198.18.0.6=---']);
    h.probe('198.18.0.6', OK);
    await h.reconcile();
    assert.deepEqual(h.published(), ['IPv4: 198.18.0.2=RS- 198.18.0.6=RS-']);
  });

  it('resolves dnsNames, re-resolves at the TTL, and keeps the last good addresses on SERVFAIL', async () => {
    const h = new Harness();
    h.dns.answers.set('db.test', { v4: [{ address: '198.18.0.10', ttl: 30 }], v6: [{ address: '2001:db8::10', ttl: 30 }] });
    h.create({ endpoints: [{ dnsName: 'db.test' }], ports: [{ name: 'pg', port: 5432 }] });
    const first = await h.reconcile();
    assert.deepEqual(first, { kind: 'requeueAfter', ms: 30_000 });
    assert.deepEqual(h.published(), ['IPv4: 198.18.0.10=RS-', 'IPv6: 2001:db8::10=RS-']);
    assert.equal(h.condition('DNSResolved'), 'True/Resolved');

    // Before the TTL: no lookup at all.
    const queries = h.dns.queries;
    await h.clock.advance(10_000);
    await h.reconcile();
    assert.equal(h.dns.queries, queries);

    // At the TTL the name moved: the new address appears, the old one is dropped as its own TTL ran out.
    h.dns.answers.set('db.test', { v4: [{ address: '198.18.0.14', ttl: 30 }], v6: [{ address: '2001:db8::10', ttl: 30 }] });
    await h.clock.advance(20_000);
    await h.reconcile();
    assert.deepEqual(h.published(), ['IPv4: 198.18.0.14=RS-', 'IPv6: 2001:db8::10=RS-']);

    h.dns.answers.set('db.test', { v4: 'SERVFAIL', v6: [{ address: '2001:db8::10', ttl: 30 }] });
    await h.clock.advance(30_000);
    await h.reconcile();
    assert.deepEqual(h.published(), ['IPv4: 198.18.0.14=RS-', 'IPv6: 2001:db8::10=RS-'], 'the last good IPv4 address is kept');
    assert.equal(h.condition('DNSResolved'), 'False/ResolutionFailed');
    assert.deepEqual(
      h.recorder.events.map((e) => e.reason),
      ['DNSResolutionFailed'],
    );
  });

  it('neither probes nor publishes refused addresses, and says why', async () => {
    const h = new Harness();
    h.dns.answers.set('meta.test', { v4: [{ address: '169.254.169.254', ttl: 60 }], v6: [] });
    h.create({ ...TWO_BACKENDS, endpoints: [{ ip: '198.18.0.2' }, { ip: '192.0.2.10' }, { dnsName: 'meta.test' }] });
    await h.reconcile();
    assert.deepEqual(h.published(), ['IPv4: 198.18.0.2=RS-']);
    assert.deepEqual([...h.probes.jobs.keys()], ['prod/db|198.18.0.2']);
    assert.equal(h.condition('Degraded'), 'True/InvalidAddress');
    assert.deepEqual(
      h.object().status?.endpoints?.map((e) => `${e.address} ${e.reason ?? ''}`),
      ['198.18.0.2 ', '192.0.2.10 AddressNotAllowed', '169.254.169.254 LinkLocalAddress'],
    );
    assert.deepEqual(h.recorder.events.filter((e) => e.reason === 'AddressRefused').length, 2);
  });

  it('writes a skip-mirror Endpoints object when asked, and never touches a foreign one', async () => {
    const h = new Harness();
    h.create({ ...TWO_BACKENDS, publishEndpoints: true });
    await h.reconcile();
    const legacy = h.endpoints.get(KEY);
    assert.equal(legacy?.metadata.labels?.[LABEL_SKIP_MIRROR], 'true');
    assert.deepEqual(
      legacy?.subsets?.[0]?.addresses?.map((a) => a.ip),
      ['198.18.0.2', '198.18.0.6'],
    );

    const other = new Harness();
    other.server.seed(ENDPOINTS, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'db', namespace: 'prod' }, subsets: [] });
    other.create({ ...TWO_BACKENDS, publishEndpoints: true });
    await other.reconcile();
    assert.equal(other.condition('Degraded'), 'True/EndpointsConflict');
    const before = other.writes().length;
    await other.clock.advance(1000);
    await other.reconcile();
    assert.deepEqual(other.writes().slice(before), [], 'the conflict is not retried on every reconcile');
    assert.deepEqual((await other.server.get(ENDPOINTS, 'prod', 'db')) as unknown as { subsets: unknown[] }, {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'db', namespace: 'prod', resourceVersion: '1' },
      subsets: [],
    });
  });

  it('refuses to act on a cache that has not seen its own writes (no duplicate slices)', async () => {
    const h = new Harness();
    h.create(TWO_BACKENDS);
    await h.reconciler.reconcile({ key: KEY }, testContext()); // no sync: the cache lags
    await assert.rejects(h.reconciler.reconcile({ key: KEY }, testContext()), StaleCacheError);
    assert.equal(h.writes().filter((w) => w === 'create endpointslices').length, 1);
  });

  it('takes AlreadyExists for its own not-yet-cached Endpoints as a stale cache, not as a foreign object', async () => {
    const h = new Harness();
    h.create({ ...TWO_BACKENDS, publishEndpoints: true });
    await h.reconcile();
    h.endpoints.remove(KEY); // the Endpoints informer lags behind the slice informer
    await h.clock.advance(STATUS_INTERVAL);
    await assert.rejects(h.reconciler.reconcile({ key: KEY }, testContext()), StaleCacheError);
    h.sync();
    await h.reconcile();
    assert.equal(h.condition('Degraded'), 'False/AllBackendsHealthy');
  });

  it('stops probing backends that left the spec', async () => {
    const h = new Harness();
    h.create(TWO_BACKENDS);
    await h.reconcile();
    h.server.seed(EXTERNAL_ENDPOINTS, makeObject({ ...TWO_BACKENDS, endpoints: [{ ip: '198.18.0.2' }] }, { generation: 2 }));
    h.sync();
    await h.reconcile();
    assert.deepEqual([...h.probes.jobs.keys()], ['prod/db|198.18.0.2']);
    assert.deepEqual(h.health.addresses(KEY), ['198.18.0.2']);
    assert.deepEqual(h.published(), ['IPv4: 198.18.0.2=RS-']);
  });
});
