import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { type Endpoints, endpointsSchema } from '../../api/core/v1.ts';
import { type EndpointSlice, endpointSliceSchema } from '../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_SKIP_MIRROR, MANAGED_BY_EXTERNAL_ENDPOINTS } from '../../api/labels.ts';
import { type ExternalEndpoints, type ExternalEndpointsSpecInput, externalEndpointsSchema } from '../../api/v1alpha1/external-endpoints.ts';
import { API_VERSION } from '../../api/v1alpha1/group-version.ts';
import { setupExternalEndpointsController } from '../../controllers/external-endpoints/controller.ts';
import { EXTERNAL_ENDPOINTS, SECRETS } from '../../controllers/external-endpoints/resources.ts';
import { newApiClient, type RequestRecord } from '../../controllers/runtime/api-client.ts';
import { isNotFound } from '../../controllers/runtime/api-errors.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import { Manager } from '../../controllers/runtime/manager.ts';
import { ENDPOINT_SLICES, ENDPOINTS, EVENTS, SERVICES } from '../../controllers/runtime/resource.ts';
import { startTestCluster } from '../envtest/test-cluster.ts';
import { waitFor } from '../envtest/wait-for.ts';
import { TestDnsServer } from '../nethost/dns-server.ts';
import { createPostgresCluster, postgresSupport } from '../nethost/postgres.ts';
import { mariadbSupport, startMariaDB } from '../nethost/mysql.ts';
import { promoteRedis, redisSupport, startRedisPrimary, startRedisReplica } from '../nethost/redis.ts';
import { startRelay } from '../nethost/relay.ts';
import { createTestHost, type TestHost, type TestServer, testHostSupport } from '../nethost/test-host.ts';
import { waitForCrdsEstablished } from '../envtest/crds-established.ts';

// ExternalEndpoints against a real kube-apiserver with real backends: HTTP servers in network namespaces (endpoint
// addresses cannot be loopback), probed from the root namespace by the operator's own prober; names resolved through
// a DNS server the test controls. No kube-controller-manager runs here, so no garbage collector either: deleting an
// ExternalEndpoints object proves the controller's own cleanup, not GC (owner references are asserted separately).

const support = testHostSupport();
const skip = support.ok ? false : support.reason;

const env = skip ? undefined : await startTestCluster({ name: 'external-endpoints-test' });
const run = promisify(execFile);

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete']);
const INTERVAL_S = 1;
const UNHEALTHY_THRESHOLD = 2;
const JITTER = 0.1; // the scheduler's default

interface Operator {
  readonly requests: RequestRecord[];
  stop(): Promise<void>;
}

function cluster() {
  assert.ok(env);
  return env;
}

function startOperator(dnsServer: string): Operator {
  const requests: RequestRecord[] = [];
  const client = newApiClient(cluster().kubeConfig, {
    clock: realClock,
    qps: 1000,
    burst: 2000,
    userAgent: 'external-endpoints-test',
    observer: (r) => requests.push(r),
  });
  const manager = new Manager({
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    client,
    registry: new Registry(),
    gracefulShutdownTimeoutMs: 5_000,
  });
  setupExternalEndpointsController(manager, {
    probeAllowedCIDRs: ['198.18.0.0/15'], // only the test hosts may be probed
    probeConcurrency: 4,
    dnsServers: [dnsServer],
    statusMinIntervalMs: 500,
  });
  const abort = new AbortController();
  const outcome = manager.start(abort.signal);
  let stopped: Promise<void> | undefined;
  return {
    requests,
    stop: () => {
      stopped ??= (async () => {
        abort.abort();
        await outcome;
      })();
      return stopped;
    },
  };
}

// ---- helpers ---------------------------------------------------------------------------------------------------------

async function createService(ns: string, name: string, selector?: Record<string, string>): Promise<void> {
  await cluster().client.create(SERVICES, ns, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }], ...(selector === undefined ? {} : { selector }) },
  });
}

async function createObject(ns: string, name: string, spec: ExternalEndpointsSpecInput): Promise<void> {
  await cluster().client.create(EXTERNAL_ENDPOINTS, ns, { apiVersion: API_VERSION, kind: 'ExternalEndpoints', metadata: { name }, spec });
}

async function patchSpec(ns: string, name: string, spec: Partial<ExternalEndpointsSpecInput>): Promise<void> {
  await cluster().client.patch(EXTERNAL_ENDPOINTS, ns, name, { spec }, 'merge');
}

async function getObject(ns: string, name: string): Promise<ExternalEndpoints> {
  return externalEndpointsSchema.parse(await cluster().client.get(EXTERNAL_ENDPOINTS, ns, name));
}

async function slicesOf(ns: string, name: string): Promise<EndpointSlice[]> {
  const list = await cluster().client.list(ENDPOINT_SLICES, ns, { labelSelector: `${LABEL_SERVICE_NAME}=${name}` });
  return list.items.map((i) => endpointSliceSchema.parse(i));
}

/** `address=RST` per published endpoint (R ready, S serving, T terminating, `-` for false), sorted. */
async function published(ns: string, name: string): Promise<string[]> {
  return (await slicesOf(ns, name))
    .flatMap((s) =>
      (s.endpoints ?? []).map(
        (e) =>
          `${e.addresses.join(',')}=${e.conditions?.ready ? 'R' : '-'}${e.conditions?.serving ? 'S' : '-'}${e.conditions?.terminating ? 'T' : '-'}`,
      ),
    )
    .sort();
}

async function waitForPublished(ns: string, name: string, want: string[], timeoutMs = 15_000): Promise<void> {
  const sorted = [...want].sort();
  await waitFor(
    async () => {
      const got = await published(ns, name);
      // A throw is "not yet" for waitFor, and its message is what the timeout reports.
      if (JSON.stringify(got) !== JSON.stringify(sorted)) throw new Error(`published ${JSON.stringify(got)}`);
      return true;
    },
    { description: `slices of ${ns}/${name} to publish ${JSON.stringify(sorted)}`, timeoutMs, intervalMs: 50 },
  );
}

function conditionOf(object: ExternalEndpoints, type: string): string | undefined {
  const c = object.status?.conditions?.find((x) => x.type === type);
  return c === undefined ? undefined : `${c.status}/${c.reason}`;
}

async function waitForCondition(ns: string, name: string, type: string, want: string, timeoutMs = 15_000): Promise<ExternalEndpoints> {
  return waitFor(
    async () => {
      const o = await getObject(ns, name);
      if (conditionOf(o, type) !== want) throw new Error(`${type} is ${conditionOf(o, type)}`);
      return o;
    },
    { description: `condition ${type} of ${ns}/${name} to be ${want}`, timeoutMs },
  );
}

/** Waits until status shows each address with the given health (and published ready exactly when Healthy). */
async function waitForHealth(ns: string, name: string, want: Record<string, string>, timeoutMs = 15_000): Promise<ExternalEndpoints> {
  return waitFor(
    async () => {
      const o = await getObject(ns, name);
      const got = Object.fromEntries((o.status?.endpoints ?? []).map((e) => [e.address, `${e.health}${e.ready ? '/ready' : ''}`]));
      const expected = Object.fromEntries(Object.entries(want).map(([a, h]) => [a, `${h}${h === 'Healthy' ? '/ready' : ''}`]));
      if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`status shows ${JSON.stringify(got)}`);
      return o;
    },
    { description: `health of ${ns}/${name} to be ${JSON.stringify(want)}`, timeoutMs },
  );
}

async function eventReasons(ns: string, name: string): Promise<string[]> {
  const list = await cluster().client.list(EVENTS, ns, { fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => (e as { reason?: string }).reason ?? '').sort();
}

function writesSince(operator: Operator, from: number): RequestRecord[] {
  return operator.requests.slice(from).filter((r) => WRITE_VERBS.has(r.verb));
}

// ---- tests -------------------------------------------------------------------------------------------------------------

describe('ExternalEndpoints with real backends', { skip }, () => {
  const hosts: TestHost[] = [];
  let a: TestHost;
  let b: TestHost;
  let serverA: TestServer;
  let dns: TestDnsServer;
  let operator: Operator;

  before(async () => {
    const env = cluster();
    const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', env.cluster.kubeconfigPath, ...args], { timeout: 60_000 });
    await kubectl('apply', '-f', join(import.meta.dirname, '../../config/crd/bases'));
    await waitForCrdsEstablished(env.client, ['externalendpoints.kube-endpoints-operator.io']);
    [a, b] = await Promise.all([createTestHost({ name: 'web-a' }), createTestHost({ name: 'web-b' })]);
    hosts.push(a, b);
    [serverA] = await Promise.all([a.startServer('http'), b.startServer('http')]);
    dns = await TestDnsServer.start();
    operator = startOperator(dns.server);
  });

  after(async () => {
    await operator?.stop();
    await dns?.close();
    await Promise.all(hosts.map((h) => h.remove()));
  });

  it('publishes healthy HTTP backends, flips a killed one within interval x threshold, and recovers it', async (t) => {
    const ns = await cluster().createNamespace('xep');
    await createService(ns, 'web');
    await createObject(ns, 'web', {
      endpoints: [{ ip: a.address, zone: 'zone-a' }, { ip: b.address }],
      ports: [{ name: 'http', port: 8080 }],
      healthCheck: {
        type: 'HTTP',
        http: { path: '/healthz' },
        intervalSeconds: INTERVAL_S,
        timeoutSeconds: 1,
        unhealthyThreshold: UNHEALTHY_THRESHOLD,
      },
      publishEndpoints: true,
    });
    await waitForPublished(ns, 'web', [`${a.address}=RS-`, `${b.address}=RS-`]);
    // Ready from the start (fail open while nothing is probed yet); wait until both have passed a probe.
    const object = await waitForHealth(ns, 'web', { [a.address]: 'Healthy', [b.address]: 'Healthy' });
    assert.equal(conditionOf(object, 'Ready'), 'True/BackendsReady');
    assert.equal(conditionOf(object, 'Degraded'), 'False/AllBackendsHealthy');

    const [slice] = await slicesOf(ns, 'web');
    assert.ok(slice);
    assert.equal(slice.metadata.labels?.[LABEL_MANAGED_BY], MANAGED_BY_EXTERNAL_ENDPOINTS);
    assert.deepEqual(slice.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.deepEqual(
      slice.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}/${o.uid}/${o.controller}`),
      [`ExternalEndpoints/web/${object.metadata.uid}/true`],
      'owned by the object, so garbage collection removes it with it',
    );
    assert.equal(slice.endpoints?.find((e) => e.addresses[0] === a.address)?.zone, 'zone-a');
    const legacy: Endpoints = endpointsSchema.parse(await cluster().client.get(ENDPOINTS, ns, 'web'));
    assert.equal(legacy.metadata.labels?.[LABEL_SKIP_MIRROR], 'true');
    assert.deepEqual(legacy.subsets?.[0]?.addresses?.map((x) => x.ip).sort(), [a.address, b.address].sort());

    // The server stops listening as soon as it gets SIGTERM, so the clock starts before the kill, not after its exit.
    const killedAt = Date.now();
    await serverA.kill();
    t.diagnostic(`server exited ${Date.now() - killedAt} ms after SIGTERM`);
    await waitForPublished(ns, 'web', [`${a.address}=---`, `${b.address}=RS-`], 10_000);
    const flipMs = Date.now() - killedAt;
    const boundMs = INTERVAL_S * 1000 * UNHEALTHY_THRESHOLD * (1 + JITTER);
    t.diagnostic(
      `killed backend published not ready after ${flipMs} ms (interval x threshold = ${INTERVAL_S * 1000 * UNHEALTHY_THRESHOLD} ms)`,
    );
    // The probe phase, the jitter and the watch/reconcile path are all inside this allowance.
    assert.ok(flipMs <= boundMs + 1000, `flip took ${flipMs} ms, over ${boundMs} ms + 1 s`);
    const down = await waitForHealth(ns, 'web', { [a.address]: 'Unhealthy', [b.address]: 'Healthy' });
    assert.equal(conditionOf(down, 'Degraded'), 'True/BackendsUnhealthy');
    const entry = down.status?.endpoints?.find((e) => e.address === a.address);
    assert.deepEqual([entry?.health, entry?.healthy, entry?.ready, entry?.reason], ['Unhealthy', false, false, 'Refused']);
    assert.ok((await eventReasons(ns, 'web')).includes('BackendUnhealthy'));
    await waitFor(
      async () => {
        const e = endpointsSchema.parse(await cluster().client.get(ENDPOINTS, ns, 'web'));
        return e.subsets?.[0]?.notReadyAddresses?.some((x) => x.ip === a.address) === true;
      },
      { description: 'the legacy Endpoints to list the killed backend as not ready' },
    );

    const restartedAt = Date.now();
    serverA = await a.startServer('http');
    await waitForPublished(ns, 'web', [`${a.address}=RS-`, `${b.address}=RS-`], 10_000);
    t.diagnostic(`restarted backend published ready again after ${Date.now() - restartedAt} ms`);
    await waitForCondition(ns, 'web', 'Degraded', 'False/AllBackendsHealthy');
    assert.ok((await eventReasons(ns, 'web')).includes('BackendHealthy'));
  });

  it('makes zero writes while nothing changes (steady probes over three intervals)', async (t) => {
    const ns = await cluster().createNamespace('xep');
    await createService(ns, 'steady');
    await createObject(ns, 'steady', {
      endpoints: [{ ip: a.address }, { ip: b.address }],
      ports: [{ name: 'http', port: 8080 }],
      healthCheck: { type: 'HTTP', intervalSeconds: INTERVAL_S, timeoutSeconds: 1 },
    });
    await waitForPublished(ns, 'steady', [`${a.address}=RS-`, `${b.address}=RS-`]);
    await waitForHealth(ns, 'steady', { [a.address]: 'Healthy', [b.address]: 'Healthy' });
    // Let the coalesced status write and its echo settle.
    await new Promise((r) => setTimeout(r, 1500));
    const from = operator.requests.length;
    const probesBefore = serverA
      .output()
      .split('\n')
      .filter((l) => l.startsWith('REQUEST')).length;
    await new Promise((r) => setTimeout(r, 3 * INTERVAL_S * 1000 + 500));
    const probes =
      serverA
        .output()
        .split('\n')
        .filter((l) => l.startsWith('REQUEST')).length - probesBefore;
    const writes = writesSince(operator, from);
    t.diagnostic(`${probes} probes reached backend A in 3.5 s; API writes: ${writes.length}`);
    assert.ok(probes >= 3, 'the backends were probed meanwhile');
    assert.deepEqual(
      writes.map((w) => `${w.verb} ${w.resource}`),
      [],
    );
  });

  it('resolves a dnsName through the test DNS server, follows the TTL, and keeps the last good address on SERVFAIL', async (t) => {
    const ns = await cluster().createNamespace('xep');
    const name = `db.${ns}.test`;
    dns.set(name, { a: [{ address: a.address, ttl: 2 }] });
    await createService(ns, 'db');
    await createObject(ns, 'db', {
      endpoints: [{ dnsName: name }],
      ports: [{ name: 'http', port: 8080 }],
      dns: { minRefreshSeconds: 1, maxRefreshSeconds: 5 },
    });
    await waitForPublished(ns, 'db', [`${a.address}=RS-`]);
    const resolved = await waitForCondition(ns, 'db', 'DNSResolved', 'True/Resolved');
    assert.equal(resolved.status?.endpoints?.[0]?.resolvedFrom, name);

    dns.set(name, { a: [{ address: b.address, ttl: 2 }] });
    const movedAt = Date.now();
    await waitForPublished(ns, 'db', [`${b.address}=RS-`], 10_000);
    t.diagnostic(`record change published after ${Date.now() - movedAt} ms (TTL 2 s)`);

    const queriesBefore = dns.queries.filter((q) => q.name === name && q.type === 'A').length;
    await new Promise((r) => setTimeout(r, 4500));
    const queries = dns.queries.filter((q) => q.name === name && q.type === 'A').length - queriesBefore;
    t.diagnostic(`${queries} A queries in 4.5 s with TTL 2 s`);
    assert.ok(queries >= 2 && queries <= 4, `re-resolved at the TTL: ${queries} queries in 4.5 s`);

    dns.behave(name, 'SERVFAIL');
    await waitForCondition(ns, 'db', 'DNSResolved', 'False/ResolutionFailed', 10_000);
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(await published(ns, 'db'), [`${b.address}=RS-`], 'the last good address is kept');
    assert.ok((await eventReasons(ns, 'db')).includes('DNSResolutionFailed'));
    dns.behave(name, 'answer');
    await waitForCondition(ns, 'db', 'DNSResolved', 'True/Resolved', 10_000);
  });

  it('waits for a Service created after the object, and withdraws when the Service gets a selector', async () => {
    const ns = await cluster().createNamespace('xep');
    await createObject(ns, 'late', { endpoints: [{ ip: a.address }], ports: [{ name: 'http', port: 8080 }] });
    await waitForCondition(ns, 'late', 'ServiceFound', 'False/ServiceNotFound');
    assert.deepEqual(await slicesOf(ns, 'late'), []);

    await createService(ns, 'late');
    await waitForCondition(ns, 'late', 'ServiceFound', 'True/ServiceFound');
    await waitForPublished(ns, 'late', [`${a.address}=RS-`]);

    await cluster().client.patch(SERVICES, ns, 'late', { spec: { selector: { app: 'late' } } }, 'merge');
    const refused = await waitForCondition(ns, 'late', 'ServiceFound', 'False/ServiceHasSelector');
    assert.equal(conditionOf(refused, 'Ready'), 'False/NotPublished');
    await waitForPublished(ns, 'late', []);
    await waitFor(async () => (await eventReasons(ns, 'late')).includes('ServiceHasSelector'), {
      description: 'a ServiceHasSelector Event',
    });
  });

  it('publishes nothing for a Service that has a selector from the start', async () => {
    const ns = await cluster().createNamespace('xep');
    await createService(ns, 'sel', { app: 'sel' });
    await createObject(ns, 'sel', { endpoints: [{ ip: a.address }], ports: [{ name: 'http', port: 8080 }] });
    await waitForCondition(ns, 'sel', 'ServiceFound', 'False/ServiceHasSelector');
    await waitFor(async () => (await eventReasons(ns, 'sel')).includes('ServiceHasSelector'), {
      description: 'a ServiceHasSelector Event',
    });
    assert.deepEqual(await slicesOf(ns, 'sel'), []);
  });

  it('removes its slices and Endpoints when the object is deleted (no garbage collector runs here)', async () => {
    const ns = await cluster().createNamespace('xep');
    await createService(ns, 'gone');
    await createObject(ns, 'gone', { endpoints: [{ ip: a.address }], ports: [{ name: 'http', port: 8080 }], publishEndpoints: true });
    await waitForPublished(ns, 'gone', [`${a.address}=RS-`]);
    await waitFor(async () => (await cluster().client.get(ENDPOINTS, ns, 'gone')) !== undefined, { description: 'legacy Endpoints' });
    await cluster().client.delete(EXTERNAL_ENDPOINTS, ns, 'gone');
    await waitFor(async () => (await slicesOf(ns, 'gone')).length === 0, { description: 'slices removed' });
    await waitFor(
      async () =>
        cluster()
          .client.get(ENDPOINTS, ns, 'gone')
          .then(
            () => false,
            (err: unknown) => isNotFound(err),
          ),
      { description: 'legacy Endpoints removed' },
    );
  });

  it('drains a backend in maintenance: serving, not ready, terminating', async () => {
    const ns = await cluster().createNamespace('xep');
    await createService(ns, 'drain');
    await createObject(ns, 'drain', {
      endpoints: [{ ip: a.address }, { ip: b.address, maintenance: true }],
      ports: [{ name: 'http', port: 8080 }],
      healthCheck: { type: 'HTTP', intervalSeconds: INTERVAL_S },
    });
    await waitForPublished(ns, 'drain', [`${a.address}=RS-`, `${b.address}=-ST`]);
  });

  it('fails over to the backup tier within interval x threshold, and fails back only after the hold-down', async (t) => {
    const ns = await cluster().createNamespace('xep');
    const HOLD_DOWN_S = 3;
    await createService(ns, 'tiers');
    await createObject(ns, 'tiers', {
      endpoints: [{ ip: a.address }, { ip: b.address, tier: 1 }],
      ports: [{ name: 'http', port: 8080 }],
      healthCheck: { type: 'HTTP', http: { path: '/healthz' }, intervalSeconds: INTERVAL_S, unhealthyThreshold: UNHEALTHY_THRESHOLD },
      failover: { minHealthy: 1, failbackHoldDownSeconds: HOLD_DOWN_S },
    });
    // The backup is probed and published, but not ready (standby), while the primary is healthy.
    await waitForPublished(ns, 'tiers', [`${a.address}=RS-`, `${b.address}=---`]);
    const steady = await waitFor(
      async () => {
        const o = await getObject(ns, 'tiers');
        const e = Object.fromEntries((o.status?.endpoints ?? []).map((x) => [x.address, `${x.health}/${x.ready}/${x.reason ?? ''}`]));
        return e[a.address] === 'Healthy/true/' && e[b.address] === 'Healthy/false/Standby' ? o : false;
      },
      { description: 'primary ready, backup healthy standby', timeoutMs: 15_000 },
    );
    assert.equal(steady.status?.activeTier, 0);
    assert.equal(steady.status?.readyCount, 1);

    const killedAt = Date.now();
    await serverA.kill();
    await waitForPublished(ns, 'tiers', [`${a.address}=---`, `${b.address}=RS-`], 10_000);
    const failoverMs = Date.now() - killedAt;
    t.diagnostic(
      `failover to tier 1 published ${failoverMs} ms after the primary was killed (interval x threshold = ${INTERVAL_S * 1000 * UNHEALTHY_THRESHOLD} ms)`,
    );
    assert.ok(failoverMs <= INTERVAL_S * 1000 * UNHEALTHY_THRESHOLD * (1 + JITTER) + 1000, `failover took ${failoverMs} ms`);
    await waitFor(async () => (await getObject(ns, 'tiers')).status?.activeTier === 1, { description: 'status.activeTier 1' });
    await waitFor(async () => (await eventReasons(ns, 'tiers')).includes('Failover'), { description: 'a Failover Event' });

    const restartedAt = Date.now();
    serverA = await a.startServer('http');
    // The primary is healthy again long before the hold-down ends; traffic stays on the backup meanwhile.
    await waitFor(
      async () => {
        const o = await getObject(ns, 'tiers');
        return o.status?.endpoints?.find((e) => e.address === a.address)?.health === 'Healthy';
      },
      { description: 'the primary healthy again', timeoutMs: 10_000 },
    );
    const healthyAt = Date.now();
    assert.deepEqual(await published(ns, 'tiers'), [`${a.address}=---`, `${b.address}=RS-`].sort(), 'held on the backup');
    await waitForPublished(ns, 'tiers', [`${a.address}=RS-`, `${b.address}=---`], 15_000);
    const failbackMs = Date.now() - restartedAt;
    t.diagnostic(
      `failback to tier 0 published ${failbackMs} ms after the primary restarted (${Date.now() - healthyAt} ms after status showed it healthy; hold-down ${HOLD_DOWN_S} s)`,
    );
    assert.ok(failbackMs >= HOLD_DOWN_S * 1000, `failed back after ${failbackMs} ms, before the ${HOLD_DOWN_S} s hold-down`);
    await waitFor(async () => (await getObject(ns, 'tiers')).status?.activeTier === 0, { description: 'status.activeTier 0' });
    await waitFor(async () => (await eventReasons(ns, 'tiers')).includes('Failback'), { description: 'a Failback Event' });
  });

  it('slow start: admits new backends after minReadySeconds, one per interval', async (t) => {
    const ns = await cluster().createNamespace('xep');
    const c = await createTestHost({ name: 'web-c' });
    hosts.push(c);
    await c.startServer('http');
    const MIN_READY_S = 1;
    const WINDOW_S = 3;
    await createService(ns, 'slow');
    await createObject(ns, 'slow', {
      endpoints: [{ ip: a.address }],
      ports: [{ name: 'http', port: 8080 }],
      healthCheck: { type: 'HTTP', http: { path: '/healthz' }, intervalSeconds: INTERVAL_S },
      slowStart: { minReadySeconds: MIN_READY_S, maxNewReadyPerInterval: 1, intervalSeconds: WINDOW_S },
    });
    await waitForPublished(ns, 'slow', [`${a.address}=RS-`]);
    await waitForHealth(ns, 'slow', { [a.address]: 'Healthy' });

    // Each admission is bracketed by two polls: it happened after the start of the last poll that did not see it
    // (`after`) and before the end of the first that did (`by`), both relative to the start of the patch.
    const patchedAt = Date.now();
    await patchSpec(ns, 'slow', { endpoints: [{ ip: a.address }, { ip: b.address }, { ip: c.address }] });
    const admitted = new Map<string, { after: number; by: number }>();
    const reasons = new Set<string>();
    let lastPollStart = 0;
    await waitFor(
      async () => {
        const pollStart = Date.now() - patchedAt;
        const seen = await published(ns, 'slow');
        const pollEnd = Date.now() - patchedAt;
        for (const e of seen) {
          const [address = '', flags] = e.split('=');
          if (flags === 'RS-' && !admitted.has(address)) admitted.set(address, { after: lastPollStart, by: pollEnd });
        }
        lastPollStart = pollStart;
        if (admitted.size < 3)
          for (const e of (await getObject(ns, 'slow')).status?.endpoints ?? []) if (e.reason !== undefined) reasons.add(e.reason);
        return admitted.has(b.address) && admitted.has(c.address);
      },
      { description: 'both new backends admitted', timeoutMs: 20_000, intervalMs: 20 },
    );
    const [first, second] = [admitted.get(b.address), admitted.get(c.address)].sort((x, y) => (x?.by ?? 0) - (y?.by ?? 0));
    assert.ok(first !== undefined && second !== undefined);
    t.diagnostic(
      `new backends became ready within [${first.after}, ${first.by}] ms and [${second.after}, ${second.by}] ms after they were added (minReadySeconds ${MIN_READY_S}, 1 per ${WINDOW_S} s); status reasons seen: ${[...reasons].join(', ')}`,
    );
    assert.ok(first.by >= MIN_READY_S * 1000, `the first was ready ${first.by} ms after it was added, before minReadySeconds`);
    // Without pacing both would be admitted together, within one poll; with it, the window lies between them.
    assert.ok(
      second.by - first.after >= WINDOW_S * 1000,
      `admitted at most ${second.by - first.after} ms apart, under the ${WINDOW_S} s window`,
    );
    assert.ok(second.after - first.by > 0, 'admitted in different polls');
    assert.ok(reasons.has('SlowStart'), 'status says why a healthy backend is not ready yet');
    assert.deepEqual(await published(ns, 'slow'), [`${a.address}=RS-`, `${b.address}=RS-`, `${c.address}=RS-`].sort());
  });

  it('PostgreSQL: db-write follows the primary and db-read the replica, through a promotion', async (t) => {
    const missing = postgresSupport();
    if (missing !== undefined) {
      t.skip(missing);
      return;
    }
    const ns = await cluster().createNamespace('xep');
    const [pa, pb] = await Promise.all([createTestHost({ name: 'pg-a' }), createTestHost({ name: 'pg-b' })]);
    hosts.push(pa, pb);
    const pg = await createPostgresCluster();
    const relay = await startRelay(pb.gatewayAddress, { address: pa.address, port: 5432 });
    try {
      const primary = await pg.startPrimary(pa);
      const replica = await pg.startReplica(pb, relay);
      await cluster().client.create(SECRETS, ns, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'pg-probe', labels: { 'kube-endpoints-operator.io/probe-credentials': 'true' } },
        stringData: { username: 'postgres', password: pg.password },
      });
      const check = (role: 'Primary' | 'Replica', secret = 'pg-probe') => ({
        type: 'PostgreSQL' as const,
        intervalSeconds: INTERVAL_S,
        timeoutSeconds: 1,
        unhealthyThreshold: UNHEALTHY_THRESHOLD,
        postgresql: { role, credentialsSecretRef: { name: secret } },
      });
      const endpoints = [{ ip: pa.address }, { ip: pb.address }];
      const ports = [{ name: 'http', port: 5432 }];
      for (const name of ['db-write', 'db-read', 'db-nocreds']) await createService(ns, name);
      await createObject(ns, 'db-write', { endpoints, ports, healthCheck: check('Primary') });
      await createObject(ns, 'db-read', {
        endpoints,
        ports,
        healthCheck: check('Replica'),
        failurePolicy: { minHealthy: 1, whenBelowMinHealthy: 'PublishNone' },
      });
      await createObject(ns, 'db-nocreds', { endpoints, ports, healthCheck: check('Primary', 'missing') });

      await waitForPublished(ns, 'db-write', [`${pa.address}=RS-`, `${pb.address}=---`]);
      await waitForPublished(ns, 'db-read', [`${pa.address}=---`, `${pb.address}=RS-`]);
      const write = await waitForHealth(ns, 'db-write', { [pa.address]: 'Healthy', [pb.address]: 'Unhealthy' });
      assert.equal(write.status?.endpoints?.find((e) => e.address === pb.address)?.reason, 'WrongRole');

      const nocreds = await waitForCondition(ns, 'db-nocreds', 'Degraded', 'True/CredentialsUnavailable');
      assert.match(nocreds.status?.conditions?.find((c) => c.type === 'Degraded')?.message ?? '', /Secret .*\/missing not found/);
      await waitFor(async () => (await eventReasons(ns, 'db-nocreds')).includes('CredentialsUnavailable'), {
        description: 'a CredentialsUnavailable Event',
      });

      // The primary fails and the replica is promoted: the write Service must follow.
      const failedAt = Date.now();
      await primary.process.kill('SIGKILL');
      await pg.promote(replica);
      const promotedMs = Date.now() - failedAt;
      await waitForPublished(ns, 'db-write', [`${pa.address}=---`, `${pb.address}=RS-`], 15_000);
      const followMs = Date.now() - failedAt;
      t.diagnostic(
        `db-write published the promoted replica ${followMs} ms after the primary was killed (promotion took ${promotedMs} ms; interval x threshold = ${INTERVAL_S * 1000 * UNHEALTHY_THRESHOLD} ms)`,
      );
      assert.ok(
        followMs <= promotedMs + INTERVAL_S * 1000 * UNHEALTHY_THRESHOLD * (1 + JITTER) + 1000,
        `the write Service followed after ${followMs} ms`,
      );
      // The old replica is a primary now and the old primary is gone: the read Service (fail closed) has nothing.
      await waitForPublished(ns, 'db-read', [`${pa.address}=---`, `${pb.address}=---`], 15_000);

      // Credentials never reach status or Events.
      const all = JSON.stringify([
        await getObject(ns, 'db-write'),
        await getObject(ns, 'db-read'),
        (await cluster().client.list(EVENTS, ns)).items,
      ]);
      assert.ok(!all.includes(pg.password), 'the password appears in status or Events');
    } finally {
      await Promise.all([pa.remove(), pb.remove()]);
      await relay.close();
      await pg.remove();
    }
  });

  it('Redis: cache-write follows the master and cache-read the replica, through REPLICAOF NO ONE', async (t) => {
    const missing = redisSupport();
    if (missing !== undefined) {
      t.skip(missing);
      return;
    }
    const ns = await cluster().createNamespace('xep');
    const [ra, rb] = await Promise.all([createTestHost({ name: 'redis-a' }), createTestHost({ name: 'redis-b' })]);
    hosts.push(ra, rb);
    const relay = await startRelay(rb.gatewayAddress, { address: ra.address, port: 6379 });
    const servers: { remove(): Promise<void> }[] = [];
    try {
      const password = `pw-${Math.random().toString(36).slice(2)}`;
      const primary = await startRedisPrimary(ra, password);
      servers.push(primary);
      const replica = await startRedisReplica(rb, relay, password);
      servers.push(replica);
      await cluster().client.create(SECRETS, ns, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'redis-probe', labels: { 'kube-endpoints-operator.io/probe-credentials': 'true' } },
        stringData: { username: 'default', password },
      });
      const check = (role: 'Primary' | 'Replica') => ({
        type: 'Redis' as const,
        intervalSeconds: INTERVAL_S,
        timeoutSeconds: 1,
        unhealthyThreshold: UNHEALTHY_THRESHOLD,
        redis: { role, credentialsSecretRef: { name: 'redis-probe' } },
      });
      const endpoints = [{ ip: ra.address }, { ip: rb.address }];
      const ports = [{ name: 'http', port: 6379 }];
      for (const name of ['cache-write', 'cache-read']) await createService(ns, name);
      await createObject(ns, 'cache-write', { endpoints, ports, healthCheck: check('Primary') });
      await createObject(ns, 'cache-read', {
        endpoints,
        ports,
        healthCheck: check('Replica'),
        failurePolicy: { minHealthy: 1, whenBelowMinHealthy: 'PublishNone' },
      });
      await waitForPublished(ns, 'cache-write', [`${ra.address}=RS-`, `${rb.address}=---`]);
      await waitForPublished(ns, 'cache-read', [`${ra.address}=---`, `${rb.address}=RS-`]);
      const write = await waitForHealth(ns, 'cache-write', { [ra.address]: 'Healthy', [rb.address]: 'Unhealthy' });
      assert.equal(write.status?.endpoints?.find((e) => e.address === rb.address)?.reason, 'WrongRole');

      const failedAt = Date.now();
      await primary.process.kill('SIGKILL');
      await promoteRedis(replica, password);
      const promotedMs = Date.now() - failedAt;
      await waitForPublished(ns, 'cache-write', [`${ra.address}=---`, `${rb.address}=RS-`], 15_000);
      const followMs = Date.now() - failedAt;
      t.diagnostic(
        `cache-write published the promoted replica ${followMs} ms after the master was killed (promotion took ${promotedMs} ms; interval x threshold = ${INTERVAL_S * 1000 * UNHEALTHY_THRESHOLD} ms)`,
      );
      assert.ok(
        followMs <= promotedMs + INTERVAL_S * 1000 * UNHEALTHY_THRESHOLD * (1 + JITTER) + 1000,
        `the write Service followed after ${followMs} ms`,
      );
      await waitForPublished(ns, 'cache-read', [`${ra.address}=---`, `${rb.address}=---`], 15_000);
      const all = JSON.stringify([await getObject(ns, 'cache-write'), (await cluster().client.list(EVENTS, ns)).items]);
      assert.ok(!all.includes(password), 'the password appears in status or Events');
    } finally {
      await Promise.all(servers.map((s) => s.remove()));
      await Promise.all([ra.remove(), rb.remove()]);
      await relay.close();
    }
  });

  it('MySQL (MariaDB): db-write follows read_only = 0 and db-read read_only = 1, through a flip', async (t) => {
    const missing = mariadbSupport();
    if (missing !== undefined) {
      t.skip(missing);
      return;
    }
    const ns = await cluster().createNamespace('xep');
    const [ma, mb] = await Promise.all([createTestHost({ name: 'maria-a' }), createTestHost({ name: 'maria-b' })]);
    hosts.push(ma, mb);
    const servers: { remove(): Promise<void> }[] = [];
    try {
      const password = `pw-${Math.random().toString(36).slice(2)}`;
      const startedAt = Date.now();
      // Both started at once; whichever started is removed in the end even when the other failed.
      const started = await Promise.allSettled([startMariaDB(ma, 'probe', password, false), startMariaDB(mb, 'probe', password, true)]);
      for (const r of started) if (r.status === 'fulfilled') servers.push(r.value);
      const [primary, replica] = started.map((r) => {
        if (r.status === 'rejected') throw r.reason;
        return r.value;
      });
      assert.ok(primary !== undefined && replica !== undefined);
      t.diagnostic(`two MariaDB servers started in ${Date.now() - startedAt} ms`);
      await cluster().client.create(SECRETS, ns, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'mysql-probe', labels: { 'kube-endpoints-operator.io/probe-credentials': 'true' } },
        stringData: { username: 'probe', password },
      });
      const check = (role: 'Primary' | 'Replica') => ({
        type: 'MySQL' as const,
        intervalSeconds: INTERVAL_S,
        timeoutSeconds: 1,
        unhealthyThreshold: UNHEALTHY_THRESHOLD,
        mysql: { role, credentialsSecretRef: { name: 'mysql-probe' } },
      });
      const endpoints = [{ ip: ma.address }, { ip: mb.address }];
      const ports = [{ name: 'http', port: 3306 }];
      const closed = { minHealthy: 1, whenBelowMinHealthy: 'PublishNone' as const };
      for (const name of ['db-write', 'db-read']) await createService(ns, name);
      await createObject(ns, 'db-write', { endpoints, ports, healthCheck: check('Primary'), failurePolicy: closed });
      await createObject(ns, 'db-read', { endpoints, ports, healthCheck: check('Replica'), failurePolicy: closed });
      await waitForPublished(ns, 'db-write', [`${ma.address}=RS-`, `${mb.address}=---`]);
      await waitForPublished(ns, 'db-read', [`${ma.address}=---`, `${mb.address}=RS-`]);
      const write = await waitForHealth(ns, 'db-write', { [ma.address]: 'Healthy', [mb.address]: 'Unhealthy' });
      assert.equal(write.status?.endpoints?.find((e) => e.address === mb.address)?.reason, 'WrongRole');

      // A switchover as an orchestrator does it: demote the old primary, then make the new one writable.
      const flipAt = Date.now();
      await primary.sql('SET GLOBAL read_only = 1');
      await replica.sql('SET GLOBAL read_only = 0');
      const flippedMs = Date.now() - flipAt;
      await waitForPublished(ns, 'db-write', [`${ma.address}=---`, `${mb.address}=RS-`], 15_000);
      const followMs = Date.now() - flipAt;
      await waitForPublished(ns, 'db-read', [`${ma.address}=RS-`, `${mb.address}=---`], 15_000);
      const readMs = Date.now() - flipAt;
      t.diagnostic(
        `db-write followed the flip after ${followMs} ms, db-read after ${readMs} ms (flip took ${flippedMs} ms; interval x threshold = ${INTERVAL_S * 1000 * UNHEALTHY_THRESHOLD} ms)`,
      );
      assert.ok(
        followMs <= flippedMs + INTERVAL_S * 1000 * UNHEALTHY_THRESHOLD * (1 + JITTER) + 1000,
        `the write Service followed after ${followMs} ms`,
      );

      // Wrong credentials are AuthFailed, and the password never shows.
      await primary.sql(`ALTER USER 'probe'@'%' IDENTIFIED BY 'other-${password}'`);
      await waitFor(
        async () => (await getObject(ns, 'db-read')).status?.endpoints?.find((e) => e.address === ma.address)?.reason === 'AuthFailed',
        { description: 'refused credentials reported as AuthFailed', timeoutMs: 15_000 },
      );
      const all = JSON.stringify([
        await getObject(ns, 'db-write'),
        await getObject(ns, 'db-read'),
        (await cluster().client.list(EVENTS, ns)).items,
      ]);
      assert.ok(!all.includes(password), 'the password appears in status or Events');
    } finally {
      await Promise.all(servers.map((s) => s.remove()));
      await Promise.all([ma.remove(), mb.remove()]);
    }
  });

  it('gRPC health: NOT_SERVING and a killed server go unready within interval x threshold, SERVING comes back', async (t) => {
    const ns = await cluster().createNamespace('xep');
    const [ga, gb] = await Promise.all([createTestHost({ name: 'grpc-a' }), createTestHost({ name: 'grpc-b' })]);
    hosts.push(ga, gb);
    try {
      const [serverGa] = await Promise.all([ga.startServer('grpc-health'), gb.startServer('grpc-health')]);
      await createService(ns, 'rpc');
      await createObject(ns, 'rpc', {
        endpoints: [{ ip: ga.address }, { ip: gb.address }],
        ports: [{ name: 'http', port: 50051, appProtocol: 'kubernetes.io/h2c' }],
        healthCheck: {
          type: 'GRPC',
          grpc: { service: 'orders.v1.Orders' },
          intervalSeconds: INTERVAL_S,
          unhealthyThreshold: UNHEALTHY_THRESHOLD,
        },
      });
      await waitForHealth(ns, 'rpc', { [ga.address]: 'Healthy', [gb.address]: 'Healthy' });
      assert.match(serverGa.output(), /^CHECK orders\.v1\.Orders$/m, 'the service name is sent');

      const notServingAt = Date.now();
      process.kill(serverGa.pid, 'SIGUSR1');
      await serverGa.waitForOutput(/^STATUS NOT_SERVING$/m, 5000);
      await waitForPublished(ns, 'rpc', [`${ga.address}=---`, `${gb.address}=RS-`], 10_000);
      const flipMs = Date.now() - notServingAt;
      t.diagnostic(
        `NOT_SERVING published not ready after ${flipMs} ms (interval x threshold = ${INTERVAL_S * 1000 * UNHEALTHY_THRESHOLD} ms)`,
      );
      assert.ok(flipMs <= INTERVAL_S * 1000 * UNHEALTHY_THRESHOLD * (1 + JITTER) + 1000, `flip took ${flipMs} ms`);
      // Status follows the slices (status writes are rate limited), so it is awaited, not read once.
      await waitFor(
        async () => (await getObject(ns, 'rpc')).status?.endpoints?.find((e) => e.address === ga.address)?.reason === 'NotServing',
        { description: 'the NOT_SERVING server reported as NotServing' },
      );

      process.kill(serverGa.pid, 'SIGUSR2');
      await waitForPublished(ns, 'rpc', [`${ga.address}=RS-`, `${gb.address}=RS-`], 10_000);

      await serverGa.kill();
      await waitForPublished(ns, 'rpc', [`${ga.address}=---`, `${gb.address}=RS-`], 10_000);
      await waitFor(
        async () => (await getObject(ns, 'rpc')).status?.endpoints?.find((e) => e.address === ga.address)?.reason === 'Refused',
        { description: 'the killed server reported as Refused' },
      );
    } finally {
      await Promise.all([ga.remove(), gb.remove()]);
    }
  });

  it('TCP send/expect: a wedged server that still accepts connections goes unready, a plain TCP check misses it', async (t) => {
    const ns = await cluster().createNamespace('xep');
    const [pa, pb] = await Promise.all([createTestHost({ name: 'ping-a' }), createTestHost({ name: 'ping-b' })]);
    hosts.push(pa, pb);
    try {
      const [serverPa] = await Promise.all([pa.startServer('ping'), pb.startServer('ping')]);
      const endpoints = [{ ip: pa.address }, { ip: pb.address }];
      const ports = [{ name: 'http', port: 7000 }];
      await Promise.all([createService(ns, 'ping'), createService(ns, 'ping-connect')]);
      await createObject(ns, 'ping', {
        endpoints,
        ports,
        healthCheck: {
          type: 'TCP',
          tcp: { send: 'PING\\r\\n', expect: '^\\+PONG\\r\\n', maxReadBytes: 64 },
          intervalSeconds: INTERVAL_S,
          unhealthyThreshold: UNHEALTHY_THRESHOLD,
        },
      });
      await createObject(ns, 'ping-connect', {
        endpoints,
        ports,
        healthCheck: { type: 'TCP', intervalSeconds: INTERVAL_S, unhealthyThreshold: UNHEALTHY_THRESHOLD },
      });
      await waitForHealth(ns, 'ping', { [pa.address]: 'Healthy', [pb.address]: 'Healthy' });
      await waitForPublished(ns, 'ping', [`${pa.address}=RS-`, `${pb.address}=RS-`]);
      assert.match(serverPa.output(), /^PING /m, 'the bytes are sent');

      const wedgedAt = Date.now();
      process.kill(serverPa.pid, 'SIGUSR1');
      await serverPa.waitForOutput(/^STATE WEDGED$/m, 5000);
      await waitForPublished(ns, 'ping', [`${pa.address}=---`, `${pb.address}=RS-`], 10_000);
      const flipMs = Date.now() - wedgedAt;
      t.diagnostic(
        `the wedged server was published not ready after ${flipMs} ms (interval x threshold = ${INTERVAL_S * 1000 * UNHEALTHY_THRESHOLD} ms)`,
      );
      // A wedged answer is only judged at the probe's timeout (1 s): the connection stays open, a match could still come.
      assert.ok(flipMs <= INTERVAL_S * 1000 * UNHEALTHY_THRESHOLD * (1 + JITTER) + 1000 + 1000, `flip took ${flipMs} ms`);
      // Status follows the slices (status writes are rate limited).
      const down = await waitFor(
        async () => {
          const e = (await getObject(ns, 'ping')).status?.endpoints?.find((x) => x.address === pa.address);
          return e?.reason === 'UnexpectedAnswer' ? e : false;
        },
        { description: 'the wedged server reported as UnexpectedAnswer' },
      );
      assert.match(down.lastError ?? '', /-LOADING/);
      // The plain TCP check over the same server still sees it healthy: the handshake completes.
      const connect = await getObject(ns, 'ping-connect');
      assert.equal(connect.status?.endpoints?.find((e) => e.address === pa.address)?.health, 'Healthy');

      process.kill(serverPa.pid, 'SIGUSR2');
      await waitForPublished(ns, 'ping', [`${pa.address}=RS-`, `${pb.address}=RS-`], 10_000);
    } finally {
      await Promise.all([pa.remove(), pb.remove()]);
    }
  });

  it('fails open (all ready) or closed (none ready) when too few backends are healthy', async () => {
    const ns = await cluster().createNamespace('xep');
    await createService(ns, 'rail');
    await createObject(ns, 'rail', {
      endpoints: [{ ip: a.address }, { ip: b.address }],
      ports: [{ name: 'http', port: 8080 }],
      // Nothing listens on port 9 of the test hosts: every probe is refused.
      healthCheck: { type: 'TCP', port: 9, intervalSeconds: INTERVAL_S, unhealthyThreshold: 1 },
      failurePolicy: { minHealthy: 1, whenBelowMinHealthy: 'PublishAll' },
    });
    const open = await waitFor(
      async () => {
        const o = await getObject(ns, 'rail');
        return o.status?.endpoints?.every((e) => e.health === 'Unhealthy') === true ? o : false;
      },
      { description: 'both backends unhealthy', timeoutMs: 15_000 },
    );
    assert.equal(conditionOf(open, 'BelowMinHealthy'), 'True/PublishingAll');
    await waitForPublished(ns, 'rail', [`${a.address}=RS-`, `${b.address}=RS-`]);

    await patchSpec(ns, 'rail', { failurePolicy: { minHealthy: 1, whenBelowMinHealthy: 'PublishNone' } });
    await waitForPublished(ns, 'rail', [`${a.address}=---`, `${b.address}=---`]);
    await waitForCondition(ns, 'rail', 'BelowMinHealthy', 'True/PublishingNone');
  });
});
