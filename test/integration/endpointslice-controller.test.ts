import assert from 'node:assert/strict';
import { before, describe, it, type TestContext } from 'node:test';
import { serviceSchema } from '../../api/core/v1.ts';
import { type EndpointSlice, endpointSliceSchema, type SliceEndpoint } from '../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME, MANAGED_BY_ENDPOINTSLICE_CONTROLLER } from '../../api/labels.ts';
import { setupEndpointSliceController } from '../../controllers/endpointslice/controller.ts';
import { ENDPOINT_SLICES, PODS, SERVICES } from '../../controllers/runtime/resource.ts';
import { startTestCluster } from '../envtest/test-cluster.ts';
import {
  createPod,
  createPods,
  DEFAULT_NODE_NAME,
  forceDeletePod,
  listEvents,
  listSlices,
  serviceBody,
  setPodStatus,
  type TestPod,
} from './cluster-objects.ts';
import { assertRestartWritesNothing, eventually, type RunningOperator, startOperator } from './operator-harness.ts';

// The EndpointSlice controller's whole loop on a real kube-apiserver. Slices hold at most 10 endpoints here so that a
// few dozen Pods cross slice boundaries. No garbage collector and no kubelet run: slices of a deleted Service stay,
// and a gracefully deleted Pod stays terminating until it is force-deleted.

const MAX_ENDPOINTS_PER_SLICE = 10;
const MANAGED_BY = MANAGED_BY_ENDPOINTSLICE_CONTROLLER;

const env = await startTestCluster({
  name: 'endpointslice-controller-test',
  apiServerFlags: { 'service-cluster-ip-range': '10.0.0.0/24,fd00:10:96::/112' },
});

before(async () => {
  // The controller reads each endpoint's zone from its Pod's Node, and skips Pods whose Node it does not know.
  await env.createNode(DEFAULT_NODE_NAME, 'zone-a');
  await env.createNode('node-2', 'zone-b');
});

/** Starts an operator running only the EndpointSlice controller; it stops when the test ends. */
function runOperator(t: TestContext): RunningOperator {
  const operator = startOperator(env, (r) => setupEndpointSliceController(r, { maxEndpointsPerSlice: MAX_ENDPOINTS_PER_SLICE }));
  t.after(() => operator.stop());
  return operator;
}

/** One endpoint as the tests compare it; conditions as `ready/serving/terminating` flags, e.g. `RS-`. */
interface EndpointView {
  readonly addresses: string;
  readonly conditions: string;
  readonly nodeName: string;
  readonly zone: string;
}

const flags = (c: SliceEndpoint['conditions']): string => `${c?.ready ? 'R' : '-'}${c?.serving ? 'S' : '-'}${c?.terminating ? 'T' : '-'}`;

/** Every endpoint of the slices by Pod name; a Pod listed twice fails (an endpoint belongs to one slice). */
function endpointsByPod(slices: readonly EndpointSlice[]): Record<string, EndpointView> {
  const out: Record<string, EndpointView> = {};
  for (const slice of slices) {
    for (const e of slice.endpoints ?? []) {
      const pod = e.targetRef?.name ?? '';
      assert.equal(out[pod], undefined, `${pod} is listed in more than one slice`);
      out[pod] = { addresses: e.addresses.join(','), conditions: flags(e.conditions), nodeName: e.nodeName ?? '', zone: e.zone ?? '' };
    }
  }
  return out;
}

/** The Pod names the slices list, sorted. */
const podsIn = (slices: readonly EndpointSlice[]): string[] => Object.keys(endpointsByPod(slices)).sort();

/** Asserts the slice-size invariant: no slice over the cap, and no empty slice unless it is the only one. */
function assertPacked(slices: readonly EndpointSlice[]): void {
  for (const s of slices) {
    const n = (s.endpoints ?? []).length;
    assert.ok(n <= MAX_ENDPOINTS_PER_SLICE, `${s.metadata.name} holds ${n} endpoints`);
    assert.ok(n > 0 || slices.length === 1, `${s.metadata.name} is empty beside other slices`);
  }
}

/** Waits until the Service's slices list exactly `pods` (sorted names), and returns the slices. */
function expectPods(namespace: string, service: string, pods: readonly string[]): Promise<EndpointSlice[]> {
  return eventually(`slices of ${namespace}/${service} to list ${pods.join(', ') || 'nothing'}`, async () => {
    const slices = await listSlices(env.client, namespace, service, MANAGED_BY);
    assert.ok(slices.length > 0, 'no slices yet');
    assert.deepEqual(podsIn(slices), [...pods].sort());
    return slices;
  });
}

const webPorts = [{ name: 'http', containerPort: 8080 }];
const readyPod = (name: string, ip: string, extra: Partial<TestPod> = {}): TestPod => ({
  name,
  labels: { app: 'web' },
  ports: webPorts,
  status: { podIPs: [ip], ready: true },
  ...extra,
});
const range = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i));

describe('EndpointSlice controller on a real API server', () => {
  it('packs Pods into slices of at most maxEndpointsPerSlice as they scale up and down, down to the placeholder', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('scale');
    await env.client.create(SERVICES, ns, serviceBody('web'));
    const names = range(25, (i) => `p${i}`);
    await createPods(
      env,
      ns,
      names.map((name, i) => readyPod(name, `10.20.0.${i + 1}`)),
    );
    const up = await expectPods(ns, 'web', names);
    assertPacked(up);
    assert.ok(up.length >= 3, `25 endpoints need at least 3 slices, got ${up.length}`);
    const first = up[0];
    assert.ok(first);
    assert.equal(first.metadata.labels?.[LABEL_SERVICE_NAME], 'web');
    assert.deepEqual(first.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.equal(first.addressType, 'IPv4');

    await Promise.all(names.slice(5).map((name) => forceDeletePod(env.client, ns, name)));
    const down = await expectPods(ns, 'web', names.slice(0, 5));
    assertPacked(down);

    await Promise.all(names.slice(0, 5).map((name) => forceDeletePod(env.client, ns, name)));
    await eventually('one empty placeholder slice', async () => {
      const slices = await listSlices(env.client, ns, 'web', MANAGED_BY);
      assert.deepEqual(
        slices.map((s) => (s.endpoints ?? []).length),
        [0],
      );
    });
  });

  it('updates its slice in place through a rolling restart, one Pod at a time', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('rolling');
    await env.client.create(SERVICES, ns, serviceBody('web'));
    const old = range(4, (i) => `v1-${i}`);
    for (const [i, name] of old.entries()) await createPod(env, ns, readyPod(name, `10.21.0.${i + 1}`));
    const [original] = await expectPods(ns, 'web', old);

    let current = [...old];
    for (let i = 0; i < old.length; i++) {
      const next = `v2-${i}`;
      await createPod(env, ns, readyPod(next, `10.21.1.${i + 1}`));
      current = [...current, next];
      await expectPods(ns, 'web', current);
      await forceDeletePod(env.client, ns, `v1-${i}`);
      current = current.filter((p) => p !== `v1-${i}`);
      const slices = await expectPods(ns, 'web', current);
      assert.deepEqual(
        slices.map((s) => s.metadata.name),
        [original?.metadata.name],
        'the same slice is updated, never replaced',
      );
    }
  });

  it('flips endpoint conditions with Pod readiness, and takes node and zone from the Pod and its Node', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('flip');
    await env.client.create(SERVICES, ns, serviceBody('web'));
    await createPod(env, ns, readyPod('a', '10.22.0.1'));
    await createPod(env, ns, readyPod('b', '10.22.0.2', { nodeName: 'node-2' }));
    const view = async (want: Record<string, string>) =>
      eventually(`conditions ${JSON.stringify(want)}`, async () => {
        const endpoints = endpointsByPod(await listSlices(env.client, ns, 'web', MANAGED_BY));
        assert.deepEqual(Object.fromEntries(Object.entries(endpoints).map(([pod, e]) => [pod, e.conditions])), want);
        return endpoints;
      });

    const endpoints = await view({ a: 'RS-', b: 'RS-' });
    assert.deepEqual(endpoints.a, { addresses: '10.22.0.1', conditions: 'RS-', nodeName: DEFAULT_NODE_NAME, zone: 'zone-a' });
    assert.deepEqual(endpoints.b, { addresses: '10.22.0.2', conditions: 'RS-', nodeName: 'node-2', zone: 'zone-b' });

    await setPodStatus(env, ns, 'a', { podIPs: ['10.22.0.1'], ready: false });
    await view({ a: '---', b: 'RS-' });
    await setPodStatus(env, ns, 'a', { podIPs: ['10.22.0.1'], ready: true });
    await view({ a: 'RS-', b: 'RS-' });
  });

  it('keeps a terminating Pod as a terminating endpoint until it is gone', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('terminating');
    await env.client.create(SERVICES, ns, serviceBody('web'));
    await env.client.create(SERVICES, ns, serviceBody('all', { publishNotReadyAddresses: true, selector: { app: 'web' } }));
    await createPod(env, ns, readyPod('a', '10.23.0.1'));
    await createPod(env, ns, readyPod('b', '10.23.0.2'));
    await expectPods(ns, 'web', ['a', 'b']);

    const conditions = (service: string, want: Record<string, string>) =>
      eventually(`conditions of ${service}: ${JSON.stringify(want)}`, async () => {
        const endpoints = endpointsByPod(await listSlices(env.client, ns, service, MANAGED_BY));
        assert.deepEqual(Object.fromEntries(Object.entries(endpoints).map(([pod, e]) => [pod, e.conditions])), want);
      });
    // A graceful delete: the Pod is bound to a Node, so without a kubelet it stays, terminating and still Ready.
    await env.client.delete(PODS, ns, 'b');
    await conditions('web', { a: 'RS-', b: '-ST' });
    await conditions('all', { a: 'RS-', b: 'RST' });
    // The kubelet would mark it unready while it shuts down.
    await setPodStatus(env, ns, 'b', { podIPs: ['10.23.0.2'], ready: false });
    await conditions('web', { a: 'RS-', b: '--T' });

    await forceDeletePod(env.client, ns, 'b');
    await conditions('web', { a: 'RS-' });
    await conditions('all', { a: 'RS-' });
  });

  it('writes one slice per IP family of a dual-stack Service', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('dualstack');
    await env.client.create(SERVICES, ns, serviceBody('dual', { ipFamilyPolicy: 'RequireDualStack', selector: { app: 'web' } }));
    await env.client.create(
      SERVICES,
      ns,
      serviceBody('v6', { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'], selector: { app: 'web' } }),
    );
    await createPod(env, ns, { ...readyPod('a', ''), status: { podIPs: ['10.24.0.1', 'fd00:10:24::1'] } });
    await createPod(env, ns, { ...readyPod('b', ''), status: { podIPs: ['10.24.0.2', 'fd00:10:24::2'] } });

    const byFamily = (service: string, want: Record<string, string[]>) =>
      eventually(`slices of ${service} by address type`, async () => {
        const slices = await listSlices(env.client, ns, service, MANAGED_BY);
        const got: Record<string, string[]> = {};
        for (const s of slices) got[s.addressType] = (s.endpoints ?? []).flatMap((e) => e.addresses).sort();
        assert.deepEqual(got, want);
      });
    await byFamily('dual', { IPv4: ['10.24.0.1', '10.24.0.2'], IPv6: ['fd00:10:24::1', 'fd00:10:24::2'] });
    await byFamily('v6', { IPv6: ['fd00:10:24::1', 'fd00:10:24::2'] });
  });

  it('follows changes of the Service ports, giving Pods without the named port a port-less slice', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('ports');
    await env.client.create(SERVICES, ns, serviceBody('web'));
    const withAdmin = [...webPorts, { name: 'admin', containerPort: 9090 }];
    await createPod(env, ns, readyPod('a', '10.25.0.1', { ports: withAdmin }));
    await createPod(env, ns, readyPod('b', '10.25.0.2'));
    await expectPods(ns, 'web', ['a', 'b']);

    const portsOfPods = (want: Record<string, string>) =>
      eventually(`ports per Pod ${JSON.stringify(want)}`, async () => {
        const slices = await listSlices(env.client, ns, 'web', MANAGED_BY);
        const got: Record<string, string> = {};
        for (const s of slices) {
          const ports = (s.ports ?? []).map((p) => `${p.name}/${p.port}`).join(',');
          for (const e of s.endpoints ?? []) got[e.targetRef?.name ?? ''] = ports;
        }
        assert.deepEqual(got, want);
        assert.equal(slices.length, new Set(Object.values(want)).size, 'one slice per port set, none left over');
      });

    await env.client.patch(
      SERVICES,
      ns,
      'web',
      { spec: { ports: [{ name: 'http', port: 80, targetPort: 8081, protocol: 'TCP' }] } },
      'merge',
    );
    await portsOfPods({ a: 'http/8081', b: 'http/8081' });
    await env.client.patch(
      SERVICES,
      ns,
      'web',
      { spec: { ports: [{ name: 'admin', port: 90, targetPort: 'admin', protocol: 'TCP' }] } },
      'merge',
    );
    await portsOfPods({ a: 'admin/9090', b: '' });
  });

  it('leaves the slices of a deleted Service, owned by it, to the garbage collector', async (t) => {
    const operator = runOperator(t);
    const ns = await env.createNamespace('svcdelete');
    const service = serviceSchema.parse(await env.client.create(SERVICES, ns, serviceBody('web')));
    await createPod(env, ns, readyPod('a', '10.26.0.1'));
    const slices = await expectPods(ns, 'web', ['a']);
    assert.deepEqual(
      slices.map((s) => s.metadata.ownerReferences),
      [[{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: service.metadata.uid, controller: true, blockOwnerDeletion: true }]],
    );

    // The slice lists `a` as soon as the API server has stored the write, which can be before our client has seen the
    // response and counted it: settle first, so the count below holds only what the deletion caused.
    await operator.waitForIdle();
    const writesBefore = operator.writes().length;
    await env.client.delete(SERVICES, ns, 'web');
    await operator.waitForIdle();
    assert.deepEqual(
      (await listSlices(env.client, ns, 'web', MANAGED_BY)).map((s) => s.metadata.name),
      slices.map((s) => s.metadata.name),
    );
    assert.deepEqual(operator.writes().slice(writesBefore), [], 'no write for a deleted Service');
  });

  it('repairs a foreign edit of one of its slices', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('foreign-edit');
    await env.client.create(SERVICES, ns, serviceBody('web'));
    await createPod(env, ns, readyPod('a', '10.27.0.1'));
    await createPod(env, ns, readyPod('b', '10.27.0.2'));
    const [slice] = await expectPods(ns, 'web', ['a', 'b']);
    assert.ok(slice?.metadata.name);
    const name = slice.metadata.name;

    // What `kubectl edit` does: read, change, PUT the whole object.
    const edit = async (change: (s: EndpointSlice) => EndpointSlice) => {
      const current = endpointSliceSchema.parse(await env.client.get(ENDPOINT_SLICES, ns, name));
      await env.client.update(ENDPOINT_SLICES, ns, name, change(current));
    };
    await edit((s) => ({
      ...s,
      endpoints: (s.endpoints ?? []).map((e) => (e.targetRef?.name === 'a' ? { ...e, conditions: { ...e.conditions, ready: false } } : e)),
    }));
    await eventually('the edited condition to be restored', async () => {
      const endpoints = endpointsByPod(await listSlices(env.client, ns, 'web', MANAGED_BY));
      assert.equal(endpoints.a?.conditions, 'RS-');
    });

    await edit((s) => ({ ...s, endpoints: (s.endpoints ?? []).filter((e) => e.targetRef?.name !== 'b') }));
    await expectPods(ns, 'web', ['a', 'b']);
  });

  it('deletes a slice with its managed-by label that another owner (an older Service of the name) owns', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('foreign-owner');
    await env.client.create(SERVICES, ns, serviceBody('web'));
    await createPod(env, ns, readyPod('a', '10.28.0.1'));
    const [ours] = await expectPods(ns, 'web', ['a']);

    const stale = endpointSliceSchema.parse(
      await env.client.create(ENDPOINT_SLICES, ns, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          generateName: 'web-',
          labels: { [LABEL_SERVICE_NAME]: 'web', [LABEL_MANAGED_BY]: MANAGED_BY },
          ownerReferences: [
            { apiVersion: 'v1', kind: 'Service', name: 'web', uid: '00000000-0000-0000-0000-000000000001', controller: true },
          ],
        },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.28.0.99'], conditions: { ready: true } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      }),
    );
    await eventually('the slice of the other owner to be deleted', async () => {
      const names = (await listSlices(env.client, ns, 'web', MANAGED_BY)).map((s) => s.metadata.name);
      assert.ok(!names.includes(stale.metadata.name), `${stale.metadata.name} still exists`);
      assert.deepEqual(names, [ours?.metadata.name]);
    });
  });

  it('skips a Pod whose Node is unknown, writes the others, and adds it once the Node exists', async (t) => {
    runOperator(t);
    const ns = await env.createNamespace('no-node');
    const nodeName = `late-${ns}`;
    await env.client.create(SERVICES, ns, serviceBody('web'));
    await createPod(env, ns, readyPod('a', '10.29.0.1'));
    await createPod(env, ns, readyPod('b', '10.29.0.2', { nodeName }));

    await expectPods(ns, 'web', ['a']);
    await eventually('a FailedToUpdateEndpointSlices warning on the Service', async () => {
      const events = await listEvents(env.client, ns, 'Service', 'web');
      const failed = events.find((e) => e.reason === 'FailedToUpdateEndpointSlices');
      assert.ok(failed, `events: ${JSON.stringify(events)}`);
      assert.equal(failed.type, 'Warning');
      assert.match(failed.message, new RegExp(`Node ${nodeName} Not Found`));
    });

    // Nothing about the Pod changes: the failed sync's retry picks the Node up.
    await env.createNode(nodeName, 'zone-c');
    await expectPods(ns, 'web', ['a', 'b']);
  });

  it('makes zero writes when restarted on a converged cluster', async (t) => {
    const first = runOperator(t);
    const ns = await env.createNamespace('restart');
    await env.client.create(SERVICES, ns, serviceBody('web', {}, { tier: 'frontend' }));
    await env.client.create(SERVICES, ns, serviceBody('dual', { ipFamilyPolicy: 'RequireDualStack', selector: { app: 'web' } }));
    await env.client.create(SERVICES, ns, serviceBody('headless', { clusterIP: 'None', ports: [], selector: { app: 'web' } }));
    const pods = range(13, (i) => `p${i}`).map((name, i) => ({
      ...readyPod(name, ''),
      status: { podIPs: [`10.30.0.${i + 1}`, `fd00:10:30::${i + 1}`], ready: i % 3 !== 0 },
    }));
    await createPods(env, ns, pods);
    const names = pods.map((p) => p.name);
    await expectPods(ns, 'web', names);
    await expectPods(ns, 'headless', names);
    await assertRestartWritesNothing(t, first, 3);
  });
});
