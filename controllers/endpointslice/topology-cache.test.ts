import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node } from '../../api/core/v1.ts';
import type { EndpointSlice, SliceEndpoint } from '../../api/discovery/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { ANNOTATION_TOPOLOGY_MODE } from './hints.ts';
import { reconcileSlices } from './plan.ts';
import { endpointFor, MANAGED_BY, makeNode, makePod, makeService, makeSlice, nodeLookup } from './test-fixtures.ts';
import { givingAndReceivingZones, quantityMilliValue, serviceOverloaded, TopologyCache } from './topology-cache.ts';

// Upstream topologycache/*_test.go (k8s.io/endpointslice topologycache_test.go, utils_test.go). Zone iteration follows
// insertion order here.

describe('quantityMilliValue', () => {
  const cases: { given: string | undefined; want: number }[] = [
    { given: '4', want: 4000 },
    { given: '3800m', want: 3800 },
    { given: '1.5', want: 1500 },
    { given: '2k', want: 2_000_000 },
    { given: '1Ki', want: 1_024_000 },
    { given: '1e3', want: 1_000_000 },
    { given: '0.0001', want: 1 },
    { given: '0', want: 0 },
    { given: undefined, want: 0 },
    { given: 'lots', want: 0 },
  ];
  for (const c of cases) it(String(c.given), () => assert.equal(quantityMilliValue(c.given), c.want));
});

const node = (
  name: string,
  zone: string | undefined,
  cpu = '1',
  extra: { ready?: boolean; labels?: Record<string, string> } = {},
): Node => {
  const n = makeNode(name, zone, cpu);
  if (extra.labels !== undefined) n.metadata.labels = { ...n.metadata.labels, ...extra.labels };
  if (extra.ready === false) n.status = { ...n.status, conditions: [{ type: 'Ready', status: 'False' }] };
  return n;
};
const ep = (ip: string, zone: string | undefined, ready = true, hints?: string): SliceEndpoint => ({
  addresses: [ip],
  conditions: { ready },
  ...(zone === undefined ? {} : { zone }),
  ...(hints === undefined ? {} : { hints: { forZones: [{ name: hints }] } }),
});
const create = (...endpoints: SliceEndpoint[]): EndpointSlice => {
  const s = makeSlice('', endpoints);
  delete s.metadata.name;
  return s;
};
const hintsOf = (slices: readonly EndpointSlice[]) =>
  slices.flatMap((s) => (s.endpoints ?? []).map((e) => e.hints?.forZones?.map((z) => z.name).join(',') ?? null));

describe('TopologyCache.setNodes (upstream TestSetNodes)', () => {
  const cases: { name: string; given: Node[]; want: string }[] = [
    { name: 'no nodes', given: [], want: 'Insufficient Node information' },
    // Upstream SetNodes drops the ratios below two zones, so "Nodes only ready in one zone" is never the reason.
    { name: 'one zone', given: [node('n1', 'zone-a'), node('n2', 'zone-a')], want: 'Insufficient Node information' },
    { name: 'a node without zone', given: [node('n1', 'zone-a'), node('n2', undefined)], want: 'Insufficient Node information' },
    { name: 'a node without CPU', given: [node('n1', 'zone-a'), node('n2', 'zone-b', '0')], want: 'Insufficient Node information' },
    { name: 'two zones', given: [node('n1', 'zone-a'), node('n2', 'zone-b')], want: 'ok' },
    {
      name: 'control-plane nodes are ignored (even without zone)',
      given: [
        node('n1', 'zone-a'),
        node('n2', 'zone-b'),
        node('cp', undefined, '1', { labels: { 'node-role.kubernetes.io/control-plane': '' } }),
      ],
      want: 'ok',
    },
    {
      name: 'legacy master nodes are ignored',
      given: [node('n1', 'zone-a'), node('m', 'zone-b', '1', { labels: { 'node-role.kubernetes.io/master': '' } })],
      want: 'Insufficient Node information',
    },
    {
      name: 'unready nodes are ignored',
      given: [node('n1', 'zone-a'), node('n2', 'zone-b', '1', { ready: false })],
      want: 'Insufficient Node information',
    },
    {
      name: 'unready nodes without zone are ignored',
      given: [node('n1', 'zone-a'), node('n2', 'zone-b'), node('n3', undefined, '1', { ready: false })],
      want: 'ok',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const cache = new TopologyCache();
      cache.setNodes(deepFreeze(c.given));
      const result = cache.addHints({
        serviceKey: 'ns/svc',
        addressType: 'IPv4',
        toCreate: [create(ep('10.0.0.1', 'zone-a'), ep('10.0.0.2', 'zone-b'))],
        toUpdate: [],
        unchanged: [],
      });
      const warning = result.events.find((e) => e.type === 'Warning')?.message ?? 'ok';
      assert.ok(warning.startsWith(c.want), warning);
    });
  }
});

describe('TopologyCache.addHints (upstream TestAddHints)', () => {
  const twoZones = [node('n1', 'zone-a'), node('n2', 'zone-b')];
  const threeZones = [node('n1', 'zone-a'), node('n2', 'zone-b'), node('n3', 'zone-c')];
  const cases: {
    name: string;
    given: { nodes: Node[]; create?: EndpointSlice[]; update?: EndpointSlice[]; unchanged?: EndpointSlice[] };
    want: { create: (string | null)[]; update: (string | null)[]; events: string[] };
  }[] = [
    {
      name: 'insufficient node info: hints removed with a Warning',
      given: {
        nodes: [],
        create: [create(ep('10.0.0.1', 'zone-a'))],
        unchanged: [makeSlice('u', [ep('10.0.0.2', 'zone-a', true, 'zone-a')])],
      },
      want: {
        create: [null],
        update: [null],
        events: [
          'Warning TopologyAwareHintsDisabled Insufficient Node information: allocatable CPU or zone not specified on one or more nodes, addressType: IPv4',
        ],
      },
    },
    {
      name: 'more zones than endpoints',
      given: { nodes: threeZones, create: [create(ep('10.0.0.1', 'zone-a'), ep('10.0.0.2', 'zone-b'))] },
      want: {
        create: [null, null],
        update: [],
        events: ['Warning TopologyAwareHintsDisabled Insufficient number of endpoints (2 endpoints, 3 zones), addressType: IPv4'],
      },
    },
    {
      name: 'balanced endpoints get their own zone',
      given: {
        nodes: twoZones,
        create: [create(ep('10.0.0.1', 'zone-a'), ep('10.0.0.2', 'zone-b'), ep('10.0.0.3', 'zone-a'), ep('10.0.0.4', 'zone-b'))],
      },
      want: {
        create: ['zone-a', 'zone-b', 'zone-a', 'zone-b'],
        update: [],
        events: ['Normal TopologyAwareHintsEnabled Topology Aware Hints has been enabled, addressType: IPv4'],
      },
    },
    {
      name: 'an endpoint without zone disables hints',
      given: { nodes: twoZones, create: [create(ep('10.0.0.1', 'zone-a'), ep('10.0.0.2', undefined))] },
      want: {
        create: [null, null],
        update: [],
        events: ['Warning TopologyAwareHintsDisabled One or more endpoints do not have a zone specified, addressType: IPv4'],
      },
    },
    {
      name: 'all endpoints in one zone are redistributed to the others',
      given: { nodes: threeZones, create: [create(...Array.from({ length: 6 }, (_, i) => ep(`10.0.0.${i}`, 'zone-a')))] },
      want: {
        create: ['zone-b', 'zone-b', 'zone-c', 'zone-c', 'zone-a', 'zone-a'],
        update: [],
        events: ['Normal TopologyAwareHintsEnabled Topology Aware Hints has been enabled, addressType: IPv4'],
      },
    },
    {
      name: 'unchanged slices keep valid hints and invalid ones become updates; not-ready endpoints keep theirs',
      given: {
        nodes: twoZones,
        create: [create(ep('10.0.0.1', 'zone-a'), ep('10.0.0.9', 'zone-a', false, 'zone-x'))],
        unchanged: [
          makeSlice('valid', [ep('10.0.0.2', 'zone-b', true, 'zone-b')]),
          makeSlice('invalid', [ep('10.0.0.3', 'zone-a', true, 'zone-gone'), ep('10.0.0.4', 'zone-b')]),
        ],
      },
      want: {
        create: ['zone-a', 'zone-x'],
        update: ['zone-a', 'zone-b'],
        events: ['Normal TopologyAwareHintsEnabled Topology Aware Hints has been enabled, addressType: IPv4'],
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const cache = new TopologyCache();
      cache.setNodes(deepFreeze(c.given.nodes));
      const info = deepFreeze({
        serviceKey: 'ns/svc',
        addressType: 'IPv4' as const,
        toCreate: c.given.create ?? [],
        toUpdate: c.given.update ?? [],
        unchanged: c.given.unchanged ?? [],
      });
      const got = cache.addHints(info);
      assert.deepEqual(
        {
          create: hintsOf(got.toCreate),
          update: hintsOf(got.toUpdate),
          events: got.events.map((e) => `${e.type} ${e.reason} ${e.message}`),
        },
        c.want,
      );
    });
  }

  it('emits the Enabled event only the first time, and remembers the Service until hints are removed', () => {
    const cache = new TopologyCache();
    cache.setNodes([node('n1', 'zone-a'), node('n2', 'zone-b')]);
    const info = {
      serviceKey: 'ns/svc',
      addressType: 'IPv4' as const,
      toCreate: [create(ep('10.0.0.1', 'zone-a'), ep('10.0.0.2', 'zone-b'))],
      toUpdate: [],
      unchanged: [],
    };
    assert.equal(cache.addHints(info).events.length, 1);
    assert.equal(cache.addHints(info).events.length, 0);
    assert.equal(cache.hasPopulatedHints('ns/svc'), true);
    cache.removeHints('ns/svc', 'IPv4');
    assert.equal(cache.hasPopulatedHints('ns/svc'), false);
  });
});

describe('givingAndReceivingZones (upstream Test_getGivingAndReceivingZones)', () => {
  const alloc = (desired: Record<string, number>) =>
    new Map(Object.entries(desired).map(([z, d]) => [z, { minimum: 0, maximum: 0, desired: d }]));
  const cases: {
    name: string;
    given: { desired: Record<string, number>; allocated: Record<string, number> };
    want: { giving: Record<string, number>; receiving: Record<string, number> };
  }[] = [
    { name: 'empty', given: { desired: {}, allocated: {} }, want: { giving: {}, receiving: {} } },
    {
      name: 'no rebalancing needed',
      given: { desired: { 'zone-a': 1.2, 'zone-b': 1.1, 'zone-c': 1.0 }, allocated: { 'zone-a': 1, 'zone-b': 1, 'zone-c': 1 } },
      want: { giving: {}, receiving: {} },
    },
    {
      name: 'same zone preferred even when an extra move would balance slightly better',
      given: { desired: { 'zone-a': 5.1, 'zone-b': 5.1, 'zone-c': 5.8 }, allocated: { 'zone-a': 16 } },
      want: { giving: { 'zone-a': 10 }, receiving: { 'zone-c': 5, 'zone-b': 5 } },
    },
    {
      name: 'two zones needing < 1: the neediest receives',
      given: { desired: { 'zone-a': 5.0, 'zone-b': 5.6, 'zone-c': 5.4 }, allocated: { 'zone-a': 16 } },
      want: { giving: { 'zone-a': 11 }, receiving: { 'zone-b': 6, 'zone-c': 5 } },
    },
    {
      name: 'two zones with extra: the one with most extra gives',
      given: { desired: { 'zone-a': 5.0, 'zone-b': 5.6, 'zone-c': 5.4 }, allocated: { 'zone-b': 8, 'zone-c': 8 } },
      want: { giving: { 'zone-c': 3, 'zone-b': 2 }, receiving: { 'zone-a': 5 } },
    },
    {
      name: 'more allocated than allocations',
      given: { desired: { 'zone-a': 5, 'zone-b': 5, 'zone-c': 5 }, allocated: { 'zone-a': 6, 'zone-b': 6, 'zone-c': 6 } },
      want: { giving: {}, receiving: {} },
    },
    {
      name: 'negative allocations',
      given: { desired: { 'zone-a': -5, 'zone-b': -5, 'zone-c': -5 }, allocated: { 'zone-a': 6, 'zone-b': 6, 'zone-c': 6 } },
      want: { giving: {}, receiving: {} },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = givingAndReceivingZones(alloc(c.given.desired), new Map(Object.entries(c.given.allocated)));
      assert.deepEqual({ giving: Object.fromEntries(got.giving), receiving: Object.fromEntries(got.receiving) }, c.want);
    });
  }
});

describe('serviceOverloaded and getOverloadedServices', () => {
  const ratios = new Map([
    ['zone-a', 0.5],
    ['zone-b', 0.5],
  ]);
  const cases: { name: string; given: Record<string, number>; want: boolean }[] = [
    { name: 'no allocations', given: {}, want: false },
    { name: 'balanced', given: { 'zone-a': 5, 'zone-b': 5 }, want: false },
    { name: 'within the 20 % margin', given: { 'zone-a': 6, 'zone-b': 5 }, want: false },
    { name: 'a zone short', given: { 'zone-a': 8, 'zone-b': 2 }, want: true },
    { name: 'a zone missing', given: { 'zone-a': 8 }, want: true },
  ];
  for (const c of cases) it(c.name, () => assert.equal(serviceOverloaded(new Map(Object.entries(c.given)), ratios), c.want));

  it('a Node change that leaves a hinted zone short re-queues the Service (Test_checkNodeTopologyDistribution)', () => {
    const cache = new TopologyCache();
    cache.setNodes([node('n1', 'zone-a'), node('n2', 'zone-b')]);
    cache.addHints({
      serviceKey: 'ns/svc',
      addressType: 'IPv4',
      toCreate: [create(ep('10.0.0.1', 'zone-a'), ep('10.0.0.2', 'zone-b'))],
      toUpdate: [],
      unchanged: [],
    });
    assert.deepEqual(cache.getOverloadedServices(), []);
    cache.setNodes([node('n1', 'zone-a', '1'), node('n2', 'zone-b', '1'), node('n3', 'zone-c', '8')]);
    assert.deepEqual(cache.getOverloadedServices(), ['ns/svc']);
  });
});

describe('reconcileSlices with a TopologyCache (upstream TestReconcileTopology)', () => {
  const zoned = [makeNode('node-a', 'zone-a'), makeNode('node-b', 'zone-b')];
  const pods = [makePod(1, { nodeName: 'node-a' }), makePod(2, { nodeName: 'node-b' })];
  const auto = makeService({
    metadata: { annotations: { [ANNOTATION_TOPOLOGY_MODE]: 'Auto' } },
    spec: { trafficDistribution: 'PreferClose' },
  });
  const run = (service = auto, cache = new TopologyCache(), existing: EndpointSlice[] = []) => {
    cache.setNodes(zoned);
    return reconcileSlices(
      deepFreeze({
        service,
        pods,
        nodes: nodeLookup(...zoned),
        existingSlices: existing,
        maxEndpointsPerSlice: 100,
        triggerTime: undefined,
        managedBy: MANAGED_BY,
        topologyCache: cache,
      }),
    );
  };

  it('the annotation enables hints from the cache, labelled Auto, and trafficDistribution is not in effect', () => {
    const p = run();
    assert.deepEqual(hintsOf(p.addressTypes[0]?.toCreate ?? []), ['zone-a', 'zone-b']);
    assert.equal(p.topologyLabel, 'Auto');
    assert.equal(p.trafficDistribution, undefined);
    assert.deepEqual(
      p.addressTypes[0]?.events.map((e) => e.reason),
      ['TopologyAwareHintsEnabled'],
    );
  });

  it('removing the annotation emits TopologyAwareHintsDisabled once and clears hints', () => {
    const cache = new TopologyCache();
    run(auto, cache);
    const plain = makeService();
    const existing = [
      makeSlice(
        's',
        pods.map((p, i) =>
          endpointFor(p, {
            zone: i === 0 ? 'zone-a' : 'zone-b',
            nodeName: p.spec.nodeName,
            hints: { forZones: [{ name: i === 0 ? 'zone-a' : 'zone-b' }] },
          }),
        ),
      ),
    ];
    const p = run(plain, cache, existing);
    assert.deepEqual(
      p.addressTypes[0]?.events.map((e) => `${e.reason} ${e.message}`),
      ['TopologyAwareHintsDisabled Topology Aware Hints has been disabled, addressType: IPv4'],
    );
    assert.deepEqual(hintsOf(p.addressTypes[0]?.toUpdate ?? []), [null, null]);
    assert.equal(cache.hasPopulatedHints('test/foo'), false);
  });
});
