import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { type EndpointAddress, type Endpoints, serviceSchema } from '../../api/core/v1.ts';
import {
  ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
  ANNOTATION_LEADER,
  ANNOTATION_OVER_CAPACITY,
  LABEL_ENDPOINTS_MANAGED_BY,
  LABEL_HEADLESS,
  MANAGED_BY_ENDPOINTS_CONTROLLER,
} from '../../api/labels.ts';
import { setupEndpointsController } from '../../controllers/endpoints/controller.ts';
import { ENDPOINTS, PODS, SERVICES } from '../../controllers/runtime/resource.ts';
import { startTestCluster } from '../envtest/test-cluster.ts';
import { createPod, createPods, getEndpoints, ipv4Range, serviceBody, setPodStatus, type TestPod } from './cluster-objects.ts';
import { assertRestartWritesNothing, eventually, type RunningOperator, startOperator } from './operator-harness.ts';

// The Endpoints controller's whole loop on a real kube-apiserver: informers, handlers, queue, reconcile and writes,
// checked by the Endpoints objects the API server ends up storing. Dual-stack Service CIDRs so that IPv6 and dual-stack
// Services can be created at all.

const env = await startTestCluster({
  name: 'endpoints-controller-test',
  apiServerFlags: { 'service-cluster-ip-range': '10.0.0.0/24,fd00:10:96::/112' },
});

/** Starts an operator running only the Endpoints controller; it stops when the test ends. */
function runOperator(t: TestContext): RunningOperator {
  const operator = startOperator(env, (r) => setupEndpointsController(r, {}));
  t.after(() => operator.stop());
  return operator;
}

/** One subset as the tests compare it: Pod names (sorted), and ports as `name/port/protocol` (sorted). */
interface SubsetView {
  readonly ready: string[];
  readonly notReady: string[];
  readonly ports: string[];
}

const podNames = (addresses: readonly EndpointAddress[] | undefined): string[] =>
  (addresses ?? []).map((a) => a.targetRef?.name ?? a.ip).sort();

/** The subsets of an Endpoints as a set of views (sorted); upstream's subset order is covered by the parity suite. */
function subsetViews(endpoints: Endpoints | undefined): SubsetView[] {
  return (endpoints?.subsets ?? [])
    .map((s) => ({
      ready: podNames(s.addresses),
      notReady: podNames(s.notReadyAddresses),
      ports: (s.ports ?? []).map((p) => `${p.name ?? ''}/${p.port}/${p.protocol ?? ''}`).sort(),
    }))
    .sort(byJSON);
}

const byJSON = (a: unknown, b: unknown): number => JSON.stringify(a).localeCompare(JSON.stringify(b));

async function expectSubsets(namespace: string, name: string, want: SubsetView[]): Promise<Endpoints> {
  let last: Endpoints | undefined;
  await eventually(`Endpoints ${namespace}/${name} to hold ${JSON.stringify(want)}`, async () => {
    last = await getEndpoints(env.client, namespace, name);
    assert.ok(last, 'no Endpoints yet');
    assert.deepEqual(subsetViews(last), [...want].sort(byJSON));
  });
  assert.ok(last);
  return last;
}

const webPort = [{ name: 'http', containerPort: 8080 }];
const pod = (name: string, ip: string | undefined, ready: boolean, extra: Partial<TestPod> = {}): TestPod => ({
  name,
  labels: { app: 'web' },
  ports: webPort,
  ...(ip === undefined ? {} : { status: { podIPs: [ip], ready } }),
  ...extra,
});

describe('Endpoints controller on a real API server', () => {
  it('moves Pods between ready and not-ready addresses as their Ready condition flips', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('ready');
    const service = serviceSchema.parse(await env.client.create(SERVICES, ns, serviceBody('web', {}, { tier: 'frontend' })));
    // The first sync of a Service publishes its creation time (util/trigger_time_tracker.go:
    // ComputeEndpointLastChangeTriggerTime). Checked on the Endpoints before any Pod exists: a later sync may
    // legitimately drop the annotation (a sync that finds the informer cache stale consumes the trigger time, as
    // upstream's does, and its retry has none), so only this first write has a value a test can rely on.
    const empty = await expectSubsets(ns, 'web', []);
    assert.equal(
      empty.metadata.annotations?.[ANNOTATION_LAST_CHANGE_TRIGGER_TIME],
      service.metadata.creationTimestamp,
      'the trigger-time annotation is the Service creation time',
    );
    await createPod(env, ns, pod('a', '10.1.0.1', true));
    await createPod(env, ns, pod('b', '10.1.0.2', false));
    await createPod(env, ns, pod('no-ip', undefined, true));

    const first = await expectSubsets(ns, 'web', [{ ready: ['a'], notReady: ['b'], ports: ['http/8080/TCP'] }]);
    assert.deepEqual(first.metadata.labels, { tier: 'frontend', [LABEL_ENDPOINTS_MANAGED_BY]: MANAGED_BY_ENDPOINTS_CONTROLLER });

    await setPodStatus(env, ns, 'b', { podIPs: ['10.1.0.2'], ready: true });
    await setPodStatus(env, ns, 'a', { podIPs: ['10.1.0.1'], ready: false });
    await expectSubsets(ns, 'web', [{ ready: ['b'], notReady: ['a'], ports: ['http/8080/TCP'] }]);

    await setPodStatus(env, ns, 'a', { podIPs: ['10.1.0.1'], ready: true });
    await expectSubsets(ns, 'web', [{ ready: ['a', 'b'], notReady: [], ports: ['http/8080/TCP'] }]);
  });

  it('resolves a named targetPort on each Pod, from containers before sidecar init containers', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('named');
    await env.client.create(SERVICES, ns, serviceBody('web', { ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] }));
    const labels = { app: 'web' };
    await createPod(env, ns, { name: 'p8080', labels, ports: [{ name: 'web', containerPort: 8080 }], status: { podIPs: ['10.2.0.1'] } });
    await createPod(env, ns, { name: 'p9090', labels, ports: [{ name: 'web', containerPort: 9090 }], status: { podIPs: ['10.2.0.2'] } });
    await createPod(env, ns, {
      name: 'container-wins',
      labels,
      ports: [{ name: 'web', containerPort: 8080 }],
      sidecarPorts: [{ name: 'web', containerPort: 7070 }],
      status: { podIPs: ['10.2.0.3'] },
    });
    await createPod(env, ns, {
      name: 'sidecar',
      labels,
      sidecarPorts: [{ name: 'web', containerPort: 7070 }],
      status: { podIPs: ['10.2.0.4'] },
    });
    await createPod(env, ns, {
      name: 'no-such-port',
      labels,
      ports: [{ name: 'other', containerPort: 8080 }],
      status: { podIPs: ['10.2.0.5'] },
    });

    await expectSubsets(ns, 'web', [
      { ready: ['container-wins', 'p8080'], notReady: [], ports: ['http/8080/TCP'] },
      { ready: ['p9090'], notReady: [], ports: ['http/9090/TCP'] },
      { ready: ['sidecar'], notReady: [], ports: ['http/7070/TCP'] },
    ]);
  });

  it('groups the ports of a multi-port Service by the set of Pods serving them', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('multiport');
    await env.client.create(
      SERVICES,
      ns,
      serviceBody('web', {
        ports: [
          { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
          { name: 'metrics', port: 9100, targetPort: 'metrics', protocol: 'TCP' },
          { name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' },
        ],
      }),
    );
    const withMetrics = [
      { name: 'http', containerPort: 8080 },
      { name: 'metrics', containerPort: 9100 },
    ];
    await createPod(env, ns, pod('a', '10.3.0.1', true, { ports: withMetrics }));
    await createPod(env, ns, pod('b', '10.3.0.2', false, { ports: withMetrics }));
    await createPod(env, ns, pod('c', '10.3.0.3', true));

    // Every Pod serves http and dns (numeric targetPorts need no declaration); only a and b declare metrics.
    await expectSubsets(ns, 'web', [
      { ready: ['a'], notReady: ['b'], ports: ['metrics/9100/TCP'] },
      { ready: ['a', 'c'], notReady: ['b'], ports: ['dns/5353/UDP', 'http/8080/TCP'] },
    ]);
  });

  it('publishes hostnames of a headless Service without ports, labelled headless', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('headless');
    await env.client.create(SERVICES, ns, serviceBody('db', { clusterIP: 'None', ports: [], selector: { app: 'db' } }));
    for (const [i, name] of ['db-0', 'db-1'].entries()) {
      await createPod(env, ns, { name, labels: { app: 'db' }, hostname: name, subdomain: 'db', status: { podIPs: [`10.4.0.${i + 1}`] } });
    }
    // Another subdomain: the Pod is an address, but without a hostname.
    await createPod(env, ns, {
      name: 'other',
      labels: { app: 'db' },
      hostname: 'other',
      subdomain: 'elsewhere',
      status: { podIPs: ['10.4.0.9'] },
    });

    const endpoints = await expectSubsets(ns, 'db', [{ ready: ['db-0', 'db-1', 'other'], notReady: [], ports: [] }]);
    assert.equal(endpoints.metadata.labels?.[LABEL_HEADLESS], '');
    const hostnames = Object.fromEntries((endpoints.subsets?.[0]?.addresses ?? []).map((a) => [a.targetRef?.name, a.hostname ?? null]));
    assert.deepEqual(hostnames, { 'db-0': 'db-0', 'db-1': 'db-1', other: null });
  });

  it('with publishNotReadyAddresses lists not-ready and terminating Pods as ready, and never terminal ones', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('publish');
    await env.client.create(SERVICES, ns, serviceBody('all', { publishNotReadyAddresses: true, selector: { app: 'web' } }));
    await env.client.create(SERVICES, ns, serviceBody('web'));
    // Bound to a Node without a kubelet: a graceful delete leaves the Pod terminating.
    await createPod(env, ns, pod('ready', '10.5.0.1', true));
    await createPod(env, ns, pod('unready', '10.5.0.2', false));
    await createPod(env, ns, pod('terminating', '10.5.0.3', true));
    await createPod(env, ns, pod('failed', undefined, false, { status: { podIPs: ['10.5.0.4'], phase: 'Failed', ready: false } }));
    await env.client.delete(PODS, ns, 'terminating');

    await expectSubsets(ns, 'all', [{ ready: ['ready', 'terminating', 'unready'], notReady: [], ports: ['http/8080/TCP'] }]);
    await expectSubsets(ns, 'web', [{ ready: ['ready'], notReady: ['unready'], ports: ['http/8080/TCP'] }]);
  });

  it("takes each Pod's address of the Service's first IP family (dual-stack)", async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('dualstack');
    const dual = (families: string[]) => ({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: families, selector: { app: 'web' } });
    await env.client.create(SERVICES, ns, serviceBody('v4-first', dual(['IPv4', 'IPv6'])));
    await env.client.create(SERVICES, ns, serviceBody('v6-first', dual(['IPv6', 'IPv4'])));
    await env.client.create(
      SERVICES,
      ns,
      serviceBody('v6-only', { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'], selector: { app: 'web' } }),
    );
    await createPod(env, ns, { name: 'dual', labels: { app: 'web' }, ports: webPort, status: { podIPs: ['10.6.0.1', 'fd00:10:6::1'] } });
    await createPod(env, ns, { name: 'v4', labels: { app: 'web' }, ports: webPort, status: { podIPs: ['10.6.0.2'] } });

    const ips = async (name: string, want: string[]) =>
      eventually(`Endpoints ${name} to list ${want.join(', ')}`, async () => {
        const endpoints = await getEndpoints(env.client, ns, name);
        const got = (endpoints?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => `${a.targetRef?.name}=${a.ip}`)).sort();
        assert.deepEqual(got, want);
      });
    await ips('v4-first', ['dual=10.6.0.1', 'v4=10.6.0.2']);
    await ips('v6-first', ['dual=fd00:10:6::1']);
    await ips('v6-only', ['dual=fd00:10:6::1']);
  });

  it('truncates to 1000 addresses, ready ones first, and marks the Endpoints over capacity', async (t) => {
    const ns = await env.createNamespace('truncate');
    // 995 ready + 10 not ready: every ready address fits and 5 not-ready ones share the rest. The Pods exist before
    // the Service (and before the operator) so the controller writes once, not on each of the 2,010 Pod writes.
    const ready = ipv4Range(7, 995);
    const notReady = ipv4Range(8, 10);
    const pods: TestPod[] = [
      ...ready.map((ip, i) => ({ name: `r-${i}`, labels: { app: 'big' }, ports: webPort, status: { podIPs: [ip], ready: true } })),
      ...notReady.map((ip, i) => ({ name: `n-${i}`, labels: { app: 'big' }, ports: webPort, status: { podIPs: [ip], ready: false } })),
    ];
    const started = Date.now();
    await createPods(env, ns, pods);
    t.diagnostic(`created ${pods.length} Pods with status in ${Date.now() - started} ms`);

    const operator = runOperator(t);
    await env.client.create(SERVICES, ns, serviceBody('big'));
    let endpoints: Endpoints | undefined;
    await eventually('the truncated Endpoints of big', async () => {
      endpoints = await getEndpoints(env.client, ns, 'big');
      assert.equal(endpoints?.metadata.annotations?.[ANNOTATION_OVER_CAPACITY], 'truncated');
    });
    const subsets = endpoints?.subsets ?? [];
    assert.equal(subsets.length, 1, 'one port, one address set');
    const readyIPs = (subsets[0]?.addresses ?? []).map((a) => a.ip);
    const notReadyIPs = (subsets[0]?.notReadyAddresses ?? []).map((a) => a.ip);
    assert.deepEqual(new Set(readyIPs), new Set(ready), 'every ready address is kept');
    // Truncation keeps the first addresses in sorted order: IPs compared as strings.
    assert.deepEqual(notReadyIPs, [...notReady].sort().slice(0, 5));

    // Upstream's no-op check compares the stored (truncated) subsets with the untruncated desired ones, which never
    // match, so every sync of this Service PUTs the Endpoints, a restart's included; the API server stores nothing new.
    const restarted = await operator.restart();
    t.after(() => restarted.stop());
    assert.deepEqual(
      restarted.writes().map((r) => `${r.verb} ${r.resource}`),
      ['update endpoints'],
    );
    const afterRestart = await getEndpoints(env.client, ns, 'big');
    assert.equal(afterRestart?.metadata.resourceVersion, endpoints?.metadata.resourceVersion, 'the PUT changed nothing');

    // The Endpoints go away with their Service (so that the restart test below meets no truncated object).
    await env.client.delete(SERVICES, ns, 'big');
    await eventually('the Endpoints of the deleted Service big to be deleted', async () => {
      assert.equal(await getEndpoints(env.client, ns, 'big'), undefined);
    });
  });

  it('deletes the Endpoints when the Service is deleted', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('svcdelete');
    await env.client.create(SERVICES, ns, serviceBody('web'));
    await createPod(env, ns, pod('a', '10.9.0.1', true));
    await expectSubsets(ns, 'web', [{ ready: ['a'], notReady: [], ports: ['http/8080/TCP'] }]);

    await env.client.delete(SERVICES, ns, 'web');
    await eventually('Endpoints web to be deleted', async () => {
      assert.equal(await getEndpoints(env.client, ns, 'web'), undefined);
    });
  });

  it('recreates an Endpoints object that someone deleted', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('recreate');
    await env.client.create(SERVICES, ns, serviceBody('web'));
    await createPod(env, ns, pod('a', '10.10.0.1', true));
    const original = await expectSubsets(ns, 'web', [{ ready: ['a'], notReady: [], ports: ['http/8080/TCP'] }]);

    await env.client.delete(ENDPOINTS, ns, 'web');
    const recreated = await expectSubsets(ns, 'web', [{ ready: ['a'], notReady: [], ports: ['http/8080/TCP'] }]);
    assert.notEqual(recreated.metadata.uid, original.metadata.uid, 'a new object, not the old one');
  });

  it('purges leftover Endpoints of missing Services at start-up, but not leader-election locks or selector-less ones', async (t) => {
    const ns = await env.createNamespace('leftover');
    const endpoints = (name: string, annotations?: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, ...(annotations === undefined ? {} : { annotations }) },
      subsets: [{ addresses: [{ ip: '10.11.0.1' }], ports: [{ port: 80 }] }],
    });
    // Written while no operator runs, as after a Service deletion the controller missed.
    await env.client.create(ENDPOINTS, ns, endpoints('orphan'));
    await env.client.create(ENDPOINTS, ns, endpoints('lock', { [ANNOTATION_LEADER]: '{"holderIdentity":"someone"}' }));
    await env.client.create(SERVICES, ns, serviceBody('manual', { selector: null }));
    await env.client.create(ENDPOINTS, ns, endpoints('manual'));

    const operator = runOperator(t);
    await eventually('the orphaned Endpoints to be deleted', async () => {
      assert.equal(await getEndpoints(env.client, ns, 'orphan'), undefined);
    });
    await operator.waitForIdle();
    assert.ok(await getEndpoints(env.client, ns, 'lock'), 'a leader-election lock is never purged');
    const manual = await getEndpoints(env.client, ns, 'manual');
    assert.deepEqual(
      manual?.subsets?.[0]?.addresses?.map((a) => a.ip),
      ['10.11.0.1'],
      'a selector-less Service keeps its Endpoints',
    );
  });

  it('makes zero writes when restarted on a converged cluster', async (t) => {
    const first = runOperator(t);
    const ns = await env.createNamespace('restart');
    await env.client.create(
      SERVICES,
      ns,
      serviceBody('web', { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] }, { tier: 'x' }),
    );
    await env.client.create(SERVICES, ns, serviceBody('db', { clusterIP: 'None', selector: { app: 'web' } }));
    await env.client.create(
      SERVICES,
      ns,
      serviceBody('v6', { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6', 'IPv4'], selector: { app: 'web' } }),
    );
    for (let i = 0; i < 5; i++) {
      const status = { podIPs: [`10.12.0.${i + 1}`, `fd00:10:12::${i + 1}`], ready: i !== 0 };
      await createPod(env, ns, { name: `p${i}`, labels: { app: 'web' }, ports: webPort, status });
    }
    await expectSubsets(ns, 'web', [{ ready: ['p1', 'p2', 'p3', 'p4'], notReady: ['p0'], ports: ['http/8080/TCP'] }]);
    await expectSubsets(ns, 'v6', [{ ready: ['p1', 'p2', 'p3', 'p4'], notReady: ['p0'], ports: ['http/8080/TCP'] }]);
    await assertRestartWritesNothing(t, first, 3);
  });
});
