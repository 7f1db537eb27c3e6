import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node, Pod, Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { ANNOTATION_LAST_CHANGE_TRIGGER_TIME, LABEL_HEADLESS, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../../api/labels.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { ANNOTATION_TOPOLOGY_MODE } from './hints.ts';
import { planHasWrites, type ReconcileSlicesInput, recycleSlices, reconcileSlices, type SlicePlan, sliceToFill } from './plan.ts';
import { endpointFor, MANAGED_BY, makeNode, makePod, makeService, makeSlice, nodeLookup } from './test-fixtures.ts';

// Upstream's scenarios (k8s.io/endpointslice reconciler_test.go: TestReconcile*) as tables over the pure plan. Endpoint
// placement is random upstream (Go map order); here it follows Pod order, so the counts per slice are what upstream
// asserts.

const TRIGGER = Date.parse('2026-02-03T04:05:06Z');
const node1 = makeNode('node-1');

interface Given {
  service?: Service;
  pods?: Pod[];
  nodes?: Node[];
  existing?: EndpointSlice[];
  max?: number;
  triggerTime?: number;
}

function plan(g: Given): SlicePlan {
  const input: ReconcileSlicesInput = deepFreeze({
    service: g.service ?? makeService(),
    pods: g.pods ?? [],
    nodes: nodeLookup(...(g.nodes ?? [node1])),
    existingSlices: g.existing ?? [],
    maxEndpointsPerSlice: g.max ?? 100,
    triggerTime: 'triggerTime' in g ? g.triggerTime : TRIGGER,
    managedBy: MANAGED_BY,
  });
  return reconcileSlices(input);
}

interface Summary {
  creates: number[];
  updates: string[];
  deletes: string[];
  added: number;
  removed: number;
  errors?: number;
}
/** Per address type: endpoint counts of creates, `name:count` of updates, names of deletes. */
function summary(p: SlicePlan): Record<string, Summary | string[]> {
  const out: Record<string, Summary | string[]> = {};
  for (const t of p.addressTypes) {
    out[t.addressType] = {
      creates: t.toCreate.map((s) => s.endpoints?.length ?? 0),
      updates: t.toUpdate.map((s) => `${s.metadata.name}:${s.endpoints?.length ?? 0}`),
      deletes: t.toDelete.map((s) => s.metadata.name ?? ''),
      added: t.endpointsAdded,
      removed: t.endpointsRemoved,
      ...(t.errors.length > 0 ? { errors: t.errors.length } : {}),
    };
  }
  if (p.toDeleteUnsupported.length > 0) out.unsupported = p.toDeleteUnsupported.map((s) => s.metadata.name ?? '');
  return out;
}

const pods = (n: number, from = 0, ready: (i: number) => boolean = (i) => i % 3 !== 0): Pod[] =>
  Array.from({ length: n }, (_, k) => makePod(from + k, { ready: ready(from + k) }));
const sliceOf = (name: string, ps: Pod[], opts: Parameters<typeof makeSlice>[2] = {}) =>
  makeSlice(
    name,
    ps.map((p) => endpointFor(p)),
    opts,
  );
const none = (o: Partial<Summary> = {}): Summary => ({ creates: [], updates: [], deletes: [], added: 0, removed: 0, ...o });

describe('reconcileSlices: packing and churn (upstream reconciler_test.go)', () => {
  const p250 = pods(250);
  const p300 = pods(300);
  // The slices the first reconcile of 250 Pods writes, as the cache then holds them.
  const initial250 = [sliceOf('s0', p250.slice(0, 100)), sliceOf('s1', p250.slice(100, 200)), sliceOf('s2', p250.slice(200))];
  const withPort = (targetPort: number) => makeService({ spec: { ports: [{ name: 'foo', port: 80, targetPort, protocol: 'TCP' }] } });
  const updatePackingPods = [...pods(80, 0, () => true), ...pods(20, 100, () => true)];

  const cases: { name: string; given: Given; want: ReturnType<typeof summary> }[] = [
    { name: 'TestReconcileEmpty: no Pods gives one placeholder', given: {}, want: { IPv4: none({ creates: [0] }) } },
    {
      name: 'TestReconcileManyPods: 250 Pods give [100, 100, 50]',
      given: { pods: p250 },
      want: { IPv4: none({ creates: [100, 100, 50], added: 250 }) },
    },
    {
      name: 'TestReconcileEndpointSlicesSomePreexisting: [62, 61] + 127 new → update to 89 and create 100',
      given: {
        pods: p250,
        existing: [
          sliceOf(
            's1',
            p250.filter((_, i) => i % 4 === 1 && i < 246),
          ),
          sliceOf(
            's2',
            p250.filter((_, i) => i % 4 === 3 && i < 246),
          ),
        ],
      },
      want: { IPv4: none({ creates: [100], updates: ['s1:89'], added: 127 }) },
    },
    {
      name: 'TestReconcileEndpointSlicesSomePreexistingWorseAllocation: [74, 74] + 152 new → creates 100 and 52, no update',
      given: {
        pods: p300,
        existing: [
          sliceOf(
            's1',
            p300.filter((_, i) => i % 4 === 1 && i < 296),
          ),
          sliceOf(
            's2',
            p300.filter((_, i) => i % 4 === 3 && i < 296),
          ),
        ],
      },
      want: { IPv4: none({ creates: [100, 52], added: 152 }) },
    },
    {
      name: 'TestReconcileEndpointSlicesUpdating: a port change updates every slice in place (recycled)',
      given: { service: withPort(81), pods: p250, existing: initial250 },
      want: { IPv4: none({ updates: ['s0:50', 's1:100', 's2:100'], added: 250 }) },
    },
    {
      name: 'TestReconcileEndpointSlicesServicesLabelsUpdating: a Service label change updates every slice',
      given: { service: makeService({ metadata: { labels: { foo: 'bar' } } }), pods: p250, existing: initial250 },
      want: { IPv4: none({ updates: ['s0:100', 's1:100', 's2:50'] }) },
    },
    {
      name: 'TestReconcileEndpointSlicesServicesReservedLabels: reserved Service labels change nothing',
      given: {
        service: makeService({
          metadata: { labels: { [LABEL_SERVICE_NAME]: 'bad', [LABEL_MANAGED_BY]: 'actor', [LABEL_HEADLESS]: 'invalid' } },
        }),
        pods: p250,
        existing: initial250,
      },
      want: { IPv4: none() },
    },
    {
      name: 'TestReconcileEndpointSlicesRecycling: 10 slices of 30 unchanged → no writes',
      given: { pods: p300, existing: Array.from({ length: 10 }, (_, k) => sliceOf(`s${k}`, p300.slice(k * 30, k * 30 + 30))) },
      want: { IPv4: none() },
    },
    {
      name: 'TestReconcileEndpointSlicesRecycling: then a port change repacks into 3 updates + 7 deletes',
      given: {
        service: withPort(81),
        pods: p300,
        existing: Array.from({ length: 10 }, (_, k) => sliceOf(`s${k}`, p300.slice(k * 30, k * 30 + 30))),
      },
      want: {
        IPv4: none({ updates: ['s0:100', 's1:100', 's2:100'], deletes: ['s3', 's4', 's5', 's6', 's7', 's8', 's9'], added: 300 }),
      },
    },
    {
      name: 'TestReconcileEndpointSlicesUpdatePacking: both slices change, 15 new go to the fuller → [95, 20]',
      given: {
        pods: [
          ...updatePackingPods.map((p, i) => (i % 10 === 0 ? makePod(Number(p.metadata.name.slice(3)), { ready: false }) : p)),
          ...pods(15, 200, () => true),
        ],
        existing: [sliceOf('s1', updatePackingPods.slice(0, 80)), sliceOf('s2', updatePackingPods.slice(80))],
      },
      want: { IPv4: none({ updates: ['s1:95', 's2:20'], added: 15 }) },
    },
    {
      name: 'TestReconcileEndpointSlicesReplaceDeprecated (FQDN here): a slice of an address type the Service lacks is deleted',
      given: { pods: pods(2), existing: [sliceOf('fqdn', [], { addressType: 'FQDN' })] },
      want: { IPv4: none({ creates: [2], added: 2 }), unsupported: ['fqdn'] },
    },
    {
      name: 'TestReconcileEndpointSlicesRecreation: a slice owned by an older Service of the same name is deleted, not reused',
      given: { pods: [makePod(1)], existing: [sliceOf('old', [makePod(1)], { ownerUID: 'different' })] },
      want: { IPv4: none({ creates: [1], deletes: ['old'], added: 1 }) },
    },
    {
      name: 'TestReconcileEndpointSlicesRecreation: a slice owned by the Service is kept',
      given: { pods: [makePod(1)], existing: [sliceOf('mine', [makePod(1)])] },
      want: { IPv4: none() },
    },
    {
      name: 'TestReconcileEndpointSlicesNamedPorts: 5 port numbers give 5 slices of 60',
      given: {
        service: makeService({ spec: { ports: [{ port: 80, targetPort: 'http', protocol: 'TCP' }] } }),
        pods: Array.from({ length: 300 }, (_, i) =>
          makePod(i, { ready: i % 3 !== 0, containerPorts: [{ name: 'http', containerPort: 8080 + (i % 5), protocol: 'TCP' }] }),
        ),
      },
      want: { IPv4: none({ creates: [60, 60, 60, 60, 60], added: 300 }) },
    },
    ...[
      { max: 50, creates: [50, 50, 50, 50, 50] },
      { max: 80, creates: [80, 80, 80, 10] },
      { max: 150, creates: [150, 100] },
      { max: 250, creates: [250] },
      { max: 500, creates: [250] },
    ].map(({ max, creates }) => ({
      name: `TestReconcileMaxEndpointsPerSlice: ${max}`,
      given: { pods: p250, max },
      want: { IPv4: none({ creates, added: 250 }) },
    })),
    {
      name: 'remainder goes into the unchanged slice that ends closest to full, if it fits entirely',
      given: { pods: pods(90), existing: [sliceOf('a', pods(30)), sliceOf('b', pods(50, 30))] },
      want: { IPv4: none({ updates: ['b:60'], added: 10 }) },
    },
    {
      name: 'a remainder that fits no unchanged slice gets a new one',
      given: { pods: pods(190), existing: [sliceOf('a', pods(80)), sliceOf('b', pods(80, 80))] },
      want: { IPv4: none({ creates: [30], added: 30 }) },
    },
    {
      name: 'an endpoint that moved to another Pod identity is removed and the new one added',
      given: { pods: [makePod(1), makePod(2)], existing: [sliceOf('a', [makePod(1), makePod(3)])] },
      want: { IPv4: none({ updates: ['a:2'], added: 1, removed: 1 }) },
    },
    {
      name: 'a slice whose endpoints all disappeared is recycled for the new endpoints',
      given: { pods: [makePod(5)], existing: [sliceOf('a', [makePod(1)])] },
      want: { IPv4: none({ updates: ['a:1'], added: 1, removed: 1 }) },
    },
    {
      name: 'a duplicate endpoint in a second slice is dropped from it',
      given: { pods: [makePod(1), makePod(2)], existing: [sliceOf('a', [makePod(1), makePod(2)]), sliceOf('b', [makePod(2), makePod(3)])] },
      want: { IPv4: none({ deletes: ['b'], removed: 2 }) },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(summary(plan(c.given)), c.want));
});

describe('reconcileSlices: placeholder (upstream TestReconcile1EndpointSlice)', () => {
  const placeholder = (opts: Parameters<typeof makeSlice>[2] = {}) => makeSlice('ph', [], { ports: [], ...opts });
  const cases: { name: string; given: Given; want: ReturnType<typeof summary> }[] = [
    { name: 'no existing slice → one placeholder created', given: {}, want: { IPv4: none({ creates: [0] }) } },
    { name: 'an identical placeholder exists → nothing', given: { existing: [placeholder()] }, want: { IPv4: none() } },
    {
      name: 'a placeholder read back with ports null → nothing (no churn)',
      given: { existing: [placeholder({ ports: null })] },
      want: { IPv4: none() },
    },
    {
      name: 'an empty slice with other labels is recycled into the placeholder (update)',
      given: { existing: [placeholder({ labels: { [LABEL_SERVICE_NAME]: 'foo', [LABEL_MANAGED_BY]: MANAGED_BY, foo: 'bar' } })] },
      want: { IPv4: none({ updates: ['ph:0'] }) },
    },
    {
      name: 'an emptied slice is turned into the placeholder by an update, not delete + create',
      given: { existing: [makeSlice('s', [endpointFor(makePod(1))])] },
      want: { IPv4: none({ updates: ['s:0'] }) },
    },
    {
      name: 'TestReconcilerPodMissingNode: create, publishNotReady false → the Pod on the missing Node is skipped with an error',
      given: { pods: [makePod(0, { nodeName: 'node-0' }), makePod(1)] },
      want: { IPv4: none({ creates: [1], added: 1, errors: 1 }) },
    },
    {
      name: 'TestReconcilerPodMissingNode: create, publishNotReady true → both Pods, no error',
      given: { service: makeService({ spec: { publishNotReadyAddresses: true } }), pods: [makePod(0, { nodeName: 'node-0' }), makePod(1)] },
      want: { IPv4: none({ creates: [2], added: 2 }) },
    },
    {
      name: 'TestReconcilerPodMissingNode: update, publishNotReady false → the endpoint on the missing Node is removed',
      given: {
        pods: [makePod(0, { nodeName: 'node-0' }), makePod(1)],
        existing: [makeSlice('s', [endpointFor(makePod(0, { nodeName: 'node-0' })), endpointFor(makePod(1))])],
      },
      want: { IPv4: none({ updates: ['s:1'], removed: 1, errors: 1 }) },
    },
    {
      name: 'TestReconcilerPodMissingNode: update, publishNotReady true, all Nodes missing → nothing',
      given: {
        service: makeService({ spec: { publishNotReadyAddresses: true } }),
        pods: [makePod(0, { nodeName: 'node-0' }), makePod(1)],
        nodes: [],
        existing: [makeSlice('s', [endpointFor(makePod(0, { nodeName: 'node-0' })), endpointFor(makePod(1))])],
      },
      want: { IPv4: none() },
    },
    {
      name: 'TestReconcilerPodMissingNode: no Nodes at all → the slice is updated to the placeholder, endpoints counted removed',
      given: { pods: [makePod(0), makePod(1)], nodes: [], existing: [makeSlice('s', [endpointFor(makePod(0)), endpointFor(makePod(1))])] },
      want: { IPv4: none({ updates: ['s:0'], removed: 2, errors: 2 }) },
    },
    {
      name: 'two emptied slices: one recycled into the placeholder, one deleted',
      given: { existing: [makeSlice('a', [endpointFor(makePod(1))]), makeSlice('b', [endpointFor(makePod(2))])] },
      want: { IPv4: none({ updates: ['a:0'], deletes: ['b'] }) },
    },
    {
      name: 'v1.36: a placeholder of an older Service with the same name is kept (owner not compared)',
      given: { existing: [placeholder({ ownerUID: 'old-uid' })] },
      want: { IPv4: none() },
    },
    {
      name: 'dual-stack Service with IPv4-only Pods gets an IPv6 placeholder',
      given: { service: makeService({ spec: { ipFamilies: ['IPv4', 'IPv6'] } }), pods: [makePod(1)] },
      want: { IPv4: none({ creates: [1], added: 1 }), IPv6: none({ creates: [0] }) },
    },
    {
      name: 'Pods whose Nodes are all missing leave only the placeholder and errors',
      given: { pods: [makePod(1), makePod(2)], nodes: [] },
      want: { IPv4: none({ creates: [0], errors: 2 }) },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(summary(plan(c.given)), c.want));

  it('builds the placeholder with ports [], endpoints [], the labels, owner and generateName', () => {
    const [create] = plan({}).addressTypes[0]?.toCreate ?? [];
    assert.deepEqual(create, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        generateName: 'foo-',
        namespace: 'test',
        labels: { [LABEL_SERVICE_NAME]: 'foo', [LABEL_MANAGED_BY]: MANAGED_BY },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'foo', uid: 'svc-uid-1', controller: true, blockOwnerDeletion: true }],
        annotations: { [ANNOTATION_LAST_CHANGE_TRIGGER_TIME]: '2026-02-03T04:05:06Z' },
      },
      addressType: 'IPv4',
      endpoints: [],
      ports: [],
    });
  });

  it('recycles the emptied slice under its name, keeping no old annotations, labels or resourceVersion', () => {
    const existing = makeSlice('s', [endpointFor(makePod(1))], { annotations: { keep: 'no' } });
    const [update] = plan({ existing: [existing] }).addressTypes[0]?.toUpdate ?? [];
    assert.equal(update?.metadata.name, 's');
    assert.equal(update?.metadata.resourceVersion, undefined);
    assert.deepEqual(update?.metadata.annotations, { [ANNOTATION_LAST_CHANGE_TRIGGER_TIME]: '2026-02-03T04:05:06Z' });
    assert.deepEqual(update?.ports, []);
    assert.deepEqual(update?.endpoints, []);
  });
});

describe('reconcileSlices: slice contents (upstream TestReconcile1Pod and others)', () => {
  const pod1 = makePod(1, { ips: ['1.2.3.4', '1234::5678:0000:0000:9abc:def0'], hostname: 'example-hostname' });
  const zoned = makeNode('node-1', 'us-central1-a');
  const ep = (addresses: string[], extra: object = {}) => ({
    addresses,
    conditions: { ready: true, serving: true, terminating: false },
    targetRef: { kind: 'Pod', namespace: 'test', name: 'pod1', uid: 'pod-uid-1' },
    nodeName: 'node-1',
    zone: 'us-central1-a',
    ...extra,
  });
  const svc = (spec: Partial<Service['spec']>, labels?: Record<string, string>) =>
    makeService({ spec, ...(labels === undefined ? {} : { metadata: { labels } }) });
  const reserved = { [LABEL_SERVICE_NAME]: 'foo', [LABEL_MANAGED_BY]: MANAGED_BY };
  const cases: { name: string; given: Service; want: { type: string; endpoints: object[]; labels: Record<string, string> }[] }[] = [
    {
      name: 'no-family-service',
      given: svc({ ipFamilies: undefined, clusterIP: '10.0.0.10' }),
      want: [{ type: 'IPv4', endpoints: [ep(['1.2.3.4'])], labels: reserved }],
    },
    { name: 'ipv4', given: svc({}), want: [{ type: 'IPv4', endpoints: [ep(['1.2.3.4'])], labels: reserved }] },
    {
      name: 'ipv4-labels',
      given: svc({}, { foo: 'bar' }),
      want: [{ type: 'IPv4', endpoints: [ep(['1.2.3.4'])], labels: { ...reserved, foo: 'bar' } }],
    },
    {
      name: 'ipv4-bad-labels: reserved labels of the Service are ignored',
      given: svc({}, { [LABEL_SERVICE_NAME]: 'bad', [LABEL_MANAGED_BY]: 'actor', [LABEL_HEADLESS]: 'invalid' }),
      want: [{ type: 'IPv4', endpoints: [ep(['1.2.3.4'])], labels: reserved }],
    },
    {
      name: 'ipv6',
      given: svc({ ipFamilies: ['IPv6'] }),
      want: [{ type: 'IPv6', endpoints: [ep(['1234::5678:0:0:9abc:def0'])], labels: reserved }],
    },
    {
      name: 'dualstack-service gives two slices',
      given: svc({ ipFamilies: ['IPv4', 'IPv6'], clusterIPs: ['10.0.0.10', '2000::1'] }),
      want: [
        { type: 'IPv4', endpoints: [ep(['1.2.3.4'])], labels: reserved },
        { type: 'IPv6', endpoints: [ep(['1234::5678:0:0:9abc:def0'])], labels: reserved },
      ],
    },
    {
      name: 'headless Service: headless label, no ports needed',
      given: svc({ clusterIP: 'None', ports: [] }),
      want: [{ type: 'IPv4', endpoints: [ep(['1.2.3.4'])], labels: { ...reserved, [LABEL_HEADLESS]: '' } }],
    },
    {
      name: 'publishNotReadyAddresses makes unready Pods ready (TestReconcile1EndpointSlicePublishNotReadyAddresses)',
      given: svc({ publishNotReadyAddresses: true }),
      want: [{ type: 'IPv4', endpoints: [ep(['1.2.3.4'])], labels: reserved }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = plan({ service: c.given, pods: [pod1], nodes: [zoned] });
      assert.deepEqual(
        p.addressTypes.flatMap((t) => t.toCreate.map((s) => ({ type: s.addressType, endpoints: s.endpoints, labels: s.metadata.labels }))),
        c.want,
      );
      for (const t of p.addressTypes) {
        for (const s of t.toCreate) assert.equal(s.metadata.annotations?.[ANNOTATION_LAST_CHANGE_TRIGGER_TIME], '2026-02-03T04:05:06Z');
      }
    });
  }

  it('publishNotReadyAddresses: an unready Pod is written ready', () => {
    const p = plan({ service: makeService({ spec: { publishNotReadyAddresses: true } }), pods: [makePod(1, { ready: false })] });
    assert.deepEqual(p.addressTypes[0]?.toCreate[0]?.endpoints?.[0]?.conditions, { ready: true, serving: false, terminating: false });
  });

  it('writes ports in upstream hash order, not Service order', () => {
    const service = makeService({
      spec: {
        ports: [
          { name: 'tcp-example', port: 80, targetPort: 80, protocol: 'TCP' },
          { name: 'udp-example', port: 161, targetPort: 161, protocol: 'UDP' },
          { name: 'sctp-example', port: 3456, targetPort: 3456, protocol: 'SCTP' },
        ],
      },
    });
    const ports = plan({ service, pods: [makePod(1)] }).addressTypes[0]?.toCreate[0]?.ports;
    assert.deepEqual(
      ports?.map((x) => x.name),
      ['udp-example', 'tcp-example', 'sctp-example'],
    );
  });

  it('zero trigger time removes the annotation from slices it writes', () => {
    const existing = makeSlice('s', [endpointFor(makePod(1))], {
      annotations: { [ANNOTATION_LAST_CHANGE_TRIGGER_TIME]: '2020-01-01T00:00:00Z', other: 'x' },
    });
    const [update] = plan({ pods: [makePod(1), makePod(2)], existing: [existing], triggerTime: undefined }).addressTypes[0]?.toUpdate ?? [];
    assert.deepEqual(update?.metadata.annotations, { other: 'x' });
  });

  it('a changed endpoint is written in its desired form, with the rest of the slice kept', () => {
    const existing = makeSlice('s', [endpointFor(makePod(1)), endpointFor(makePod(2))], { annotations: { other: 'x' } });
    const [update] = plan({ pods: [makePod(1, { ready: false }), makePod(2)], existing: [existing] }).addressTypes[0]?.toUpdate ?? [];
    assert.equal(update?.metadata.resourceVersion, '10');
    assert.equal(update?.metadata.uid, 'uid-s');
    assert.deepEqual(update?.metadata.annotations, { other: 'x', [ANNOTATION_LAST_CHANGE_TRIGGER_TIME]: '2026-02-03T04:05:06Z' });
    assert.deepEqual(
      update?.endpoints?.map((e) => e.conditions?.ready),
      [false, true],
    );
  });

  it('TestReconcileHeadlessServiceNoPorts: a port-less slice read back with ports null does not churn', () => {
    const service = makeService({ spec: { clusterIP: 'None', ports: undefined } });
    const first = plan({ service, pods: [makePod(1)] }).addressTypes[0]?.toCreate[0];
    assert.ok(first);
    const stored = {
      ...structuredClone(first),
      ports: null,
      metadata: { ...structuredClone(first.metadata), name: 'h', uid: 'u', generation: 1 },
    };
    assert.equal(planHasWrites(plan({ service, pods: [makePod(1)], existing: [stored] })), false);
  });

  it('a Node zone change updates the endpoint in place', () => {
    const existing = makeSlice('s', [endpointFor(makePod(1))]);
    assert.deepEqual(summary(plan({ pods: [makePod(1)], existing: [existing], nodes: [zoned] })), { IPv4: none({ updates: ['s:1'] }) });
  });

  it('TestSyncService: a ready terminating Pod is not ready but serving and terminating', () => {
    const ep0 = plan({ pods: [makePod(1, { terminating: true })] }).addressTypes[0]?.toCreate[0]?.endpoints?.[0];
    assert.deepEqual(ep0?.conditions, { ready: false, serving: true, terminating: true });
  });

  it('never modifies its inputs (deep-frozen inputs would throw)', () => {
    const existing = [makeSlice('s', [endpointFor(makePod(1))], { annotations: { a: 'b' } })];
    assert.doesNotThrow(() => plan({ service: makeService({ spec: { trafficDistribution: 'PreferClose' } }), pods: pods(120), existing }));
  });
});

describe('reconcileSlices: traffic distribution hints (upstream TestReconcile_TrafficDistribution)', () => {
  const zoned = [makeNode('node-1', 'zone-a')];
  const hints = (p: SlicePlan) =>
    p.addressTypes.flatMap((t) => [...t.toCreate, ...t.toUpdate]).flatMap((s) => (s.endpoints ?? []).map((e) => e.hints ?? null));
  const cases: { name: string; given: Given; want: { hints: unknown[]; trafficDistribution: string | undefined; topology: string } }[] = [
    {
      name: 'PreferClose gives zone hints',
      given: { service: makeService({ spec: { trafficDistribution: 'PreferClose' } }), pods: [makePod(1)], nodes: zoned },
      want: { hints: [{ forZones: [{ name: 'zone-a' }] }], trafficDistribution: 'PreferClose', topology: 'Disabled' },
    },
    {
      name: 'PreferSameNode gives zone and node hints',
      given: { service: makeService({ spec: { trafficDistribution: 'PreferSameNode' } }), pods: [makePod(1)], nodes: zoned },
      want: {
        hints: [{ forZones: [{ name: 'zone-a' }], forNodes: [{ name: 'node-1' }] }],
        trafficDistribution: 'PreferSameNode',
        topology: 'Disabled',
      },
    },
    {
      name: 'no trafficDistribution: no hints',
      given: { service: makeService(), pods: [makePod(1)], nodes: zoned },
      want: { hints: [null], trafficDistribution: undefined, topology: 'Disabled' },
    },
    {
      name: 'the topology annotation wins over trafficDistribution (no cache: hints removed)',
      given: {
        service: makeService({
          metadata: { annotations: { [ANNOTATION_TOPOLOGY_MODE]: 'Auto' } },
          spec: { trafficDistribution: 'PreferClose' },
        }),
        pods: [makePod(1)],
        nodes: zoned,
      },
      want: { hints: [null], trafficDistribution: undefined, topology: 'Disabled' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = plan(c.given);
      assert.deepEqual({ hints: hints(p), trafficDistribution: p.trafficDistribution, topology: p.topologyLabel }, c.want);
    });
  }

  it('hints missing on an unchanged slice make it an update', () => {
    const existing = makeSlice('s', [endpointFor(makePod(1), { zone: 'zone-a' })]);
    const p = plan({
      service: makeService({ spec: { trafficDistribution: 'PreferClose' } }),
      pods: [makePod(1)],
      nodes: zoned,
      existing: [existing],
    });
    assert.deepEqual(summary(p), { IPv4: none({ updates: ['s:1'] }) });
  });

  it('stale hints on an unchanged slice are removed when trafficDistribution goes away', () => {
    const existing = makeSlice('s', [endpointFor(makePod(1), { zone: 'zone-a', hints: { forZones: [{ name: 'zone-a' }] } })]);
    const p = plan({ pods: [makePod(1)], nodes: zoned, existing: [existing] });
    assert.deepEqual(summary(p), { IPv4: none({ updates: ['s:1'] }) });
    assert.equal(p.addressTypes[0]?.toUpdate[0]?.endpoints?.[0]?.hints, undefined);
  });
});

describe('recycleSlices', () => {
  const svc = makeService();
  const create = (type: 'IPv4' | 'IPv6' = 'IPv4') => {
    const s = makeSlice('', [], { addressType: type });
    delete s.metadata.name;
    return s;
  };
  const cases: {
    name: string;
    given: { creates: EndpointSlice[]; deletes: EndpointSlice[] };
    want: { creates: number; updates: string[]; deletes: string[] };
  }[] = [
    {
      name: 'one create and one delete become one update',
      given: { creates: [create()], deletes: [makeSlice('d', [])] },
      want: { creates: 0, updates: ['d'], deletes: [] },
    },
    {
      name: 'more deletes than creates',
      given: { creates: [create()], deletes: [makeSlice('d1', []), makeSlice('d2', [])] },
      want: { creates: 0, updates: ['d1'], deletes: ['d2'] },
    },
    {
      name: 'more creates than deletes',
      given: { creates: [create(), create()], deletes: [makeSlice('d', [])] },
      want: { creates: 1, updates: ['d'], deletes: [] },
    },
    {
      name: 'a slice of another owner is never recycled',
      given: { creates: [create()], deletes: [makeSlice('foreign', [], { ownerUID: 'x' }), makeSlice('d', [])] },
      want: { creates: 0, updates: ['d'], deletes: ['foreign'] },
    },
    {
      name: 'address types must match',
      given: { creates: [create('IPv6')], deletes: [makeSlice('d', [])] },
      want: { creates: 1, updates: [], deletes: ['d'] },
    },
    { name: 'nothing to delete', given: { creates: [create()], deletes: [] }, want: { creates: 1, updates: [], deletes: [] } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const g = deepFreeze(c.given);
      const r = recycleSlices(svc, g.creates, [], g.deletes);
      assert.deepEqual(
        { creates: r.toCreate.length, updates: r.toUpdate.map((s) => s.metadata.name), deletes: r.toDelete.map((s) => s.metadata.name) },
        c.want,
      );
    });
  }
});

describe('sliceToFill (upstream getSliceToFill)', () => {
  const withN = (name: string, n: number) =>
    makeSlice(
      name,
      Array.from({ length: n }, (_, i) => endpointFor(makePod(i))),
    );
  const cases: { name: string; given: { sizes: number[]; count: number; max: number }; want: string | undefined }[] = [
    { name: 'no slices', given: { sizes: [], count: 1, max: 100 }, want: undefined },
    { name: 'the one that ends closest to full', given: { sizes: [10, 60, 40], count: 30, max: 100 }, want: 's1' },
    { name: 'an exact fit wins at once', given: { sizes: [70, 50], count: 30, max: 100 }, want: 's0' },
    { name: 'none can take them all', given: { sizes: [80, 90], count: 30, max: 100 }, want: undefined },
    { name: 'an empty slice can take them', given: { sizes: [0], count: 30, max: 100 }, want: 's0' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const slices = deepFreeze(c.given.sizes.map((n, i) => withN(`s${i}`, n)));
      assert.equal(sliceToFill(slices, c.given.count, c.given.max)?.metadata.name, c.want);
    });
  }
});
