import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointAddress, EndpointPort, Endpoints, EndpointSubset } from '../../api/core/v1.ts';
import type { AddressType, EndpointSlice, SliceEndpoint, SlicePort } from '../../api/discovery/v1.ts';
import {
  ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  MANAGED_BY_MIRRORING_CONTROLLER,
} from '../../api/labels.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { parseIP } from '../shared/pod-endpoints.ts';
import { desiredMirroredSlices } from './desired.ts';
import { ANNOTATION_LAST_APPLIED_CONFIGURATION } from './new-endpoint-slice.ts';
import { isEmptyPlan, type MirroringPlan, mirroredMetadataUpToDate, planMirroredSlices, totalChanges } from './plan.ts';
import { repackSubsets } from './repack-subsets.ts';

// ---- fixtures ---------------------------------------------------------------------------------------------------------

const port = (name: string, p: number, protocol = 'TCP'): EndpointPort => ({ name, port: p, protocol });
const addr = (ip: string, hostname?: string, nodeName?: string): EndpointAddress => ({
  ip,
  ...(hostname !== undefined ? { hostname } : {}),
  ...(nodeName !== undefined ? { nodeName } : {}),
});
const slicePorts = (...ports: EndpointPort[]): SlicePort[] => ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol }));
const lastApplied = '{"apiVersion":"v1","kind":"Endpoints","subsets":[]}';
const http = port('http', 80);
const httpsUDP = port('https', 443, 'UDP');
const http3000 = port('http', 3000);
const https3001 = port('https', 3001, 'UDP');

interface ExistingSpec {
  name: string;
  ports: SlicePort[];
  endpoints?: SliceEndpoint[];
  annotations?: Record<string, string>;
  ownerUID?: string;
  addressType?: AddressType;
}
/** As upstream's table: existing slices carry exactly the two mirroring labels. */
const existingSlice = (s: ExistingSpec): EndpointSlice => ({
  metadata: {
    name: s.name,
    namespace: 'test',
    uid: `uid-${s.name}`,
    labels: { [LABEL_SERVICE_NAME]: 'test-ep', [LABEL_MANAGED_BY]: MANAGED_BY_MIRRORING_CONTROLLER },
    ...(s.annotations !== undefined ? { annotations: s.annotations } : {}),
    ...(s.ownerUID !== undefined ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Endpoints', name: 'test-ep', uid: s.ownerUID }] } : {}),
  },
  addressType: s.addressType ?? 'IPv4',
  ports: s.ports,
  endpoints: s.endpoints ?? [],
});

interface Given {
  subsets: EndpointSubset[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  deletionPending?: boolean;
  max?: number;
  existing?: ExistingSpec[];
}
interface Want {
  numSlices: number;
  actions: number;
  metrics?: Partial<Metrics>;
}
interface Metrics {
  desiredSlices: number;
  actualSlices: number;
  desiredEndpoints: number;
  added: number;
  updated: number;
  removed: number;
  skipped: number;
  created: number;
  updatedSlices: number;
  deleted: number;
}

const endpointsOf = (g: Given): Endpoints =>
  deepFreeze({
    metadata: {
      name: 'test-ep',
      namespace: 'test',
      uid: g.uid ?? '',
      ...(g.labels !== undefined ? { labels: g.labels } : {}),
      ...(g.annotations !== undefined ? { annotations: g.annotations } : {}),
      ...(g.deletionPending === true ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    subsets: g.subsets,
  });

function run(g: Given) {
  const endpoints = endpointsOf(g);
  const max = g.max ?? 1000;
  const existing = deepFreeze((g.existing ?? []).map(existingSlice));
  const desired = desiredMirroredSlices(endpoints, max);
  const plan = planMirroredSlices(endpoints, existing, desired, max);
  return { endpoints, max, existing, desired, plan };
}

/** The slices after applying the plan the way the API server would. */
function applyPlan(existing: readonly EndpointSlice[], plan: MirroringPlan): EndpointSlice[] {
  const byName = new Map(existing.map((s) => [s.metadata.name ?? '', s]));
  for (const d of plan.toDelete) byName.delete(d.metadata.name ?? '');
  for (const u of plan.toUpdate) {
    assert.ok(byName.has(u.metadata.name ?? ''), `update of a slice that does not exist: ${u.metadata.name}`);
    byName.set(u.metadata.name ?? '', u);
  }
  plan.toCreate.forEach((c, i) => {
    assert.equal(c.metadata.name, undefined, 'creates use generateName');
    const name = `${c.metadata.generateName}new${i}`;
    byName.set(name, { ...c, metadata: { ...c.metadata, name } });
  });
  return [...byName.values()];
}

function metricsOf(r: ReturnType<typeof run>): Metrics {
  let desiredEndpoints = 0;
  let actualSlices = 0;
  let desiredSlices = 0;
  for (const e of r.plan.efficiency.values()) {
    desiredEndpoints += e.endpoints;
    actualSlices += e.slices;
    desiredSlices += Math.ceil(e.endpoints / r.max);
  }
  return {
    desiredSlices,
    actualSlices,
    desiredEndpoints,
    added: r.plan.totals.added,
    updated: r.plan.totals.updated,
    removed: r.plan.totals.removed,
    skipped: r.desired.addressesSkipped,
    created: r.plan.toCreate.length,
    updatedSlices: r.plan.toUpdate.length,
    deleted: r.plan.toDelete.length,
  };
}

const portsKey = (ports: readonly { name?: string; port?: number; protocol?: string; appProtocol?: string }[] | null | undefined) =>
  JSON.stringify((ports ?? []).map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? '', p.appProtocol ?? null]).sort());

/** Upstream's expectEndpointSlices: names, labels, annotations, and per subset and family the mirrored addresses. */
function expectEndpointSlices(endpoints: Endpoints, slices: readonly EndpointSlice[], max: number): void {
  for (const s of slices) {
    assert.ok((s.metadata.name ?? '').startsWith('test-ep'), `slice name ${s.metadata.name}`);
    assert.equal(s.metadata.labels?.[LABEL_SERVICE_NAME], 'test-ep');
    assert.equal(s.metadata.annotations?.[ANNOTATION_LAST_APPLIED_CONFIGURATION], undefined);
    assert.equal(s.metadata.annotations?.[ANNOTATION_LAST_CHANGE_TRIGGER_TIME], undefined);
    for (const [k, v] of Object.entries(endpoints.metadata.annotations ?? {})) {
      if (k === ANNOTATION_LAST_APPLIED_CONFIGURATION || k === ANNOTATION_LAST_CHANGE_TRIGGER_TIME) continue;
      assert.equal(s.metadata.annotations?.[k], v, `annotation ${k} mirrored`);
    }
  }
  for (const subset of repackSubsets(endpoints.subsets)) {
    for (const family of ['IPv4', 'IPv6'] as const) {
      const want = new Map<string, { ready: boolean; address: EndpointAddress }>();
      for (const [list, ready] of [
        [subset.addresses, true],
        [subset.notReadyAddresses, false],
      ] as const) {
        for (const a of list ?? []) if (parseIP(a.ip)?.family === family && want.size < max) want.set(a.ip, { ready, address: a });
      }
      const got = slices
        .filter((s) => s.addressType === family && portsKey(s.ports) === portsKey(subset.ports))
        .flatMap((s) => s.endpoints ?? []);
      assert.equal(got.length, want.size, `${family} endpoints for ports ${portsKey(subset.ports)}`);
      for (const e of got) {
        assert.equal(e.addresses.length, 1);
        const w = want.get(e.addresses[0] ?? '');
        assert.ok(w, `unexpected address ${e.addresses[0]}`);
        assert.equal(e.conditions?.ready, w.ready);
        assert.equal(e.hostname, w.address.hostname === '' ? undefined : w.address.hostname);
        assert.equal(e.nodeName, w.address.nodeName);
      }
    }
  }
}

// ---- upstream TestReconcile ---------------------------------------------------------------------------------------------

const twoSubsets = (first: EndpointAddress[], second: EndpointAddress[]): EndpointSubset[] => [
  { ports: [http, httpsUDP], addresses: first },
  { ports: [http3000, https3001], addresses: second },
];
const pods12 = [addr('10.0.0.1', 'pod-1', 'node-1'), addr('10.0.0.2', 'pod-2', 'node-2')];
const pods111213 = [addr('10.0.1.1', 'pod-11', 'node-1'), addr('10.0.1.2', 'pod-12', 'node-2'), addr('10.0.1.3', 'pod-13', 'node-3')];
const oneAddress: EndpointSubset[] = [{ ports: [http], addresses: [addr('10.0.0.1', 'pod-1')] }];
const matchingEndpoint: SliceEndpoint = { addresses: ['10.0.0.1'], hostname: 'pod-1', conditions: { ready: true } };
const UID = 'd8f2c1f6-5285-4b3c-b3c1-9b89f9e7ed7a';

const cases: { name: string; given: Given; want: Want }[] = [
  { name: 'Endpoints with no subsets', given: { subsets: [] }, want: { numSlices: 0, actions: 0, metrics: {} } },
  { name: 'Endpoints with no addresses', given: { subsets: [{ ports: [http] }] }, want: { numSlices: 0, actions: 0, metrics: {} } },
  {
    name: 'Endpoints with 1 subset, port, and address',
    given: { subsets: [{ ports: [http], addresses: [addr('10.0.0.1', 'pod-1', 'node-1')] }] },
    want: { numSlices: 1, actions: 1, metrics: { desiredSlices: 1, actualSlices: 1, desiredEndpoints: 1, added: 1, created: 1 } },
  },
  {
    name: 'Endpoints with 2 subset, different port and address',
    given: {
      subsets: [
        { ports: [http], addresses: [addr('10.0.0.1', 'pod-1', 'node-1')] },
        { ports: [port('https', 443)], addresses: [addr('10.0.0.2', 'pod-2', 'node-1')] },
      ],
    },
    want: { numSlices: 2, actions: 2, metrics: { desiredSlices: 2, actualSlices: 2, desiredEndpoints: 2, added: 2, created: 2 } },
  },
  {
    name: 'Endpoints with 2 subset, different port and same address',
    given: {
      subsets: [
        { ports: [http], addresses: [addr('10.0.0.1', 'pod-1', 'node-1')] },
        { ports: [port('https', 443)], addresses: [addr('10.0.0.1', 'pod-1', 'node-1')] },
      ],
    },
    want: { numSlices: 1, actions: 1, metrics: { desiredSlices: 1, actualSlices: 1, desiredEndpoints: 1, added: 1, created: 1 } },
  },
  {
    name: 'Endpoints with 2 subset, different address and same port',
    given: {
      subsets: [
        { ports: [http], addresses: [addr('10.0.0.1', 'pod-1', 'node-1')] },
        { ports: [http], addresses: [addr('10.0.0.2', 'pod-2', 'node-1')] },
      ],
    },
    want: { numSlices: 1, actions: 1, metrics: { desiredSlices: 1, actualSlices: 1, desiredEndpoints: 2, added: 2, created: 1 } },
  },
  {
    name: 'Endpoints with 1 subset, port, and address, pending deletion',
    given: { subsets: [{ ports: [http], addresses: [addr('10.0.0.1', 'pod-1', 'node-1')] }], deletionPending: true },
    want: { numSlices: 0, actions: 0 },
  },
  {
    name: 'Endpoints with 1 subset, port, and address and existing slice with same fields',
    given: {
      subsets: oneAddress,
      uid: UID,
      existing: [{ name: 'test-ep-1', ports: slicePorts(http), endpoints: [matchingEndpoint], ownerUID: UID }],
    },
    want: { numSlices: 1, actions: 0, metrics: { created: 0, updatedSlices: 0, deleted: 0 } },
  },
  {
    name: 'Endpoints with 1 subset, port, and address and existing slice with same fields but different OwnerReferences',
    given: {
      subsets: oneAddress,
      uid: UID,
      existing: [
        { name: 'test-ep-1', ports: slicePorts(http), endpoints: [matchingEndpoint], ownerUID: 'fb91e798-1875-4857-b5eb-e2c878157b4d' },
      ],
    },
    want: { numSlices: 1, actions: 1, metrics: { updatedSlices: 1 } },
  },
  {
    name: 'Endpoints with 1 subset, port, and address and existing slice with an additional annotation',
    given: {
      subsets: oneAddress,
      existing: [{ name: 'test-ep-1', ports: slicePorts(http), endpoints: [matchingEndpoint], annotations: { foo: 'bar' } }],
    },
    want: { numSlices: 1, actions: 1, metrics: { updatedSlices: 1 } },
  },
  {
    name: 'Endpoints with 1 subset, port, label and address and existing slice with same fields but the label',
    given: {
      subsets: oneAddress,
      labels: { foo: 'bar' },
      existing: [{ name: 'test-ep-1', ports: slicePorts(http), endpoints: [matchingEndpoint], annotations: { foo: 'bar' } }],
    },
    want: { numSlices: 1, actions: 1, metrics: { updatedSlices: 1 } },
  },
  {
    name: 'Endpoints with 1 subset, 2 ports, and 2 addresses',
    given: { subsets: [{ ports: [http, httpsUDP], addresses: pods12 }] },
    want: { numSlices: 1, actions: 1, metrics: { desiredSlices: 1, actualSlices: 1, desiredEndpoints: 2, added: 2, created: 1 } },
  },
  {
    name: 'Endpoints with 1 subset, 2 ports, and 2 not ready addresses',
    given: { subsets: [{ ports: [http, httpsUDP], notReadyAddresses: pods12 }] },
    want: { numSlices: 1, actions: 1, metrics: { desiredSlices: 1, actualSlices: 1, desiredEndpoints: 2, added: 2, created: 1 } },
  },
  {
    name: 'Endpoints with 1 subset, 2 ports, and 2 ready and 2 not ready addresses',
    given: {
      subsets: [
        {
          ports: [http, httpsUDP],
          addresses: [addr('10.1.1.1', 'pod-11', 'node-1'), addr('10.1.1.2', 'pod-12', 'node-2')],
          notReadyAddresses: pods12,
        },
      ],
    },
    want: { numSlices: 1, actions: 1, metrics: { desiredSlices: 1, actualSlices: 1, desiredEndpoints: 4, added: 4, created: 1 } },
  },
  {
    name: 'Endpoints with 2 subsets, multiple ports and addresses',
    given: { subsets: twoSubsets(pods12, pods111213) },
    want: { numSlices: 2, actions: 2, metrics: { desiredSlices: 2, actualSlices: 2, desiredEndpoints: 5, added: 5, created: 2 } },
  },
  {
    name: 'Endpoints with 2 subsets, multiple ports and addresses, existing empty EndpointSlice',
    given: { subsets: twoSubsets(pods12, pods111213), existing: [{ name: 'test-ep-1', ports: slicePorts(http, httpsUDP) }] },
    want: {
      numSlices: 2,
      actions: 2,
      metrics: { desiredSlices: 2, actualSlices: 2, desiredEndpoints: 5, added: 5, created: 1, updatedSlices: 1 },
    },
  },
  {
    name: 'Endpoints with 2 subsets, multiple ports and addresses, existing EndpointSlice with some addresses',
    given: {
      subsets: twoSubsets(pods12, pods111213),
      existing: [
        {
          name: 'test-ep-1',
          ports: slicePorts(http, httpsUDP),
          endpoints: [
            { addresses: ['10.0.0.2'], hostname: 'pod-2' },
            { addresses: ['10.0.0.1', '10.0.0.3'], hostname: 'pod-1' },
          ],
        },
      ],
    },
    want: {
      numSlices: 2,
      actions: 2,
      metrics: { desiredSlices: 2, actualSlices: 2, desiredEndpoints: 5, added: 4, updated: 1, removed: 1, created: 1, updatedSlices: 1 },
    },
  },
  {
    name: 'Endpoints with 2 subsets, multiple ports and addresses, existing EndpointSlice identical to subset',
    given: {
      subsets: twoSubsets(pods12, pods111213),
      existing: [
        {
          name: 'test-ep-1',
          ports: slicePorts(http, httpsUDP),
          endpoints: [
            { addresses: ['10.0.0.1'], hostname: 'pod-1', nodeName: 'node-1', conditions: { ready: true } },
            { addresses: ['10.0.0.2'], hostname: 'pod-2', nodeName: 'node-2', conditions: { ready: true } },
          ],
        },
      ],
    },
    want: { numSlices: 2, actions: 1, metrics: { desiredSlices: 2, actualSlices: 2, desiredEndpoints: 5, added: 3, created: 1 } },
  },
  {
    name: 'Endpoints with 2 subsets, multiple ports, and dual stack addresses',
    given: {
      subsets: twoSubsets(
        [addr('2001:db8:2222:3333:4444:5555:6666:7777', 'pod-1', 'node-1'), addr('10.0.0.2', 'pod-2', 'node-2')],
        [
          addr('10.0.1.1', 'pod-11', 'node-1'),
          addr('10.0.1.2', 'pod-12', 'node-2'),
          addr('2001:db8:3333:4444:5555:6666:7777:8888', 'pod-13', 'node-3'),
        ],
      ),
    },
    want: { numSlices: 4, actions: 4, metrics: { desiredSlices: 4, actualSlices: 4, desiredEndpoints: 5, added: 5, created: 4 } },
  },
  {
    name: 'Endpoints with 2 subsets, multiple ports, ipv6 only addresses',
    given: {
      subsets: twoSubsets(
        [
          addr('2001:db8:1111:3333:4444:5555:6666:7777', 'pod-1', 'node-1'),
          addr('2001:db8:2222:3333:4444:5555:6666:7777', 'pod-2', 'node-2'),
        ],
        [
          addr('2001:db8:3333:3333:4444:5555:6666:7777', 'pod-11', 'node-1'),
          addr('2001:db8:4444:3333:4444:5555:6666:7777', 'pod-12', 'node-2'),
          addr('2001:db8:5555:3333:4444:5555:6666:7777', 'pod-13', 'node-3'),
        ],
      ),
    },
    want: { numSlices: 2, actions: 2, metrics: { desiredSlices: 2, actualSlices: 2, desiredEndpoints: 5, added: 5, created: 2 } },
  },
  {
    name: 'Endpoints with 2 subsets, multiple ports, some invalid addresses',
    given: {
      subsets: twoSubsets(
        [addr('2001:db8:1111:3333:4444:5555:6666:7777', 'pod-1', 'node-1'), addr('this-is-not-an-ip', 'pod-2', 'node-2')],
        [
          addr('this-is-also-not-an-ip', 'pod-11', 'node-1'),
          addr('2001:db8:4444:3333:4444:5555:6666:7777', 'pod-12', 'node-2'),
          addr('2001:db8:5555:3333:4444:5555:6666:7777', 'pod-13', 'node-3'),
        ],
      ),
    },
    want: {
      numSlices: 2,
      actions: 2,
      metrics: { desiredSlices: 2, actualSlices: 2, desiredEndpoints: 3, added: 3, skipped: 2, created: 2 },
    },
  },
  {
    name: 'Endpoints with 2 subsets, multiple ports, all invalid addresses',
    given: {
      subsets: twoSubsets(
        [addr('this-is-not-an-ip1', 'pod-1', 'node-1'), addr('this-is-not-an-ip12', 'pod-2', 'node-2')],
        [
          addr('this-is-not-an-ip11', 'pod-11', 'node-1'),
          addr('this-is-not-an-ip12', 'pod-12', 'node-2'),
          addr('this-is-not-an-ip3', 'pod-13', 'node-3'),
        ],
      ),
    },
    want: {
      numSlices: 0,
      actions: 0,
      metrics: { desiredSlices: 0, actualSlices: 0, desiredEndpoints: 0, added: 0, skipped: 5, created: 0 },
    },
  },
  {
    name: 'Endpoints with 2 subsets, 1 exceeding maxEndpointsPerSubset',
    given: { subsets: twoSubsets(pods12, pods111213), max: 2 },
    want: {
      numSlices: 2,
      actions: 2,
      metrics: { desiredSlices: 2, actualSlices: 2, desiredEndpoints: 4, added: 4, skipped: 1, created: 2 },
    },
  },
  {
    name: 'The last-applied-configuration annotation should not get mirrored to created or updated endpoint slices',
    given: { subsets: oneAddress, annotations: { [ANNOTATION_LAST_APPLIED_CONFIGURATION]: lastApplied } },
    want: { numSlices: 1, actions: 1, metrics: { added: 1, created: 1, desiredEndpoints: 1, desiredSlices: 1, actualSlices: 1 } },
  },
  {
    name: "The last-applied-configuration annotation shouldn't get added to created endpoint slices",
    given: { subsets: oneAddress },
    want: { numSlices: 1, actions: 1, metrics: { added: 1, created: 1, desiredEndpoints: 1, desiredSlices: 1, actualSlices: 1 } },
  },
  {
    name: "The last-applied-configuration shouldn't get mirrored to endpoint slices when it's value is empty",
    given: { subsets: oneAddress, annotations: { [ANNOTATION_LAST_APPLIED_CONFIGURATION]: '' } },
    want: { numSlices: 1, actions: 1, metrics: { added: 1, created: 1, desiredEndpoints: 1, desiredSlices: 1, actualSlices: 1 } },
  },
  {
    name: 'Annotations other than last-applied-configuration should get correctly mirrored',
    given: { subsets: oneAddress, annotations: { [ANNOTATION_LAST_APPLIED_CONFIGURATION]: lastApplied, foo: 'bar' } },
    want: { numSlices: 1, actions: 1, metrics: { added: 1, created: 1, desiredEndpoints: 1, desiredSlices: 1, actualSlices: 1 } },
  },
  {
    name: 'Annotation mirroring should remove the last-applied-configuration annotation from existing endpoint slices',
    given: {
      subsets: oneAddress,
      existing: [
        {
          name: 'test-ep-1',
          ports: slicePorts(http),
          endpoints: [matchingEndpoint],
          annotations: { [ANNOTATION_LAST_APPLIED_CONFIGURATION]: lastApplied },
        },
      ],
    },
    want: { numSlices: 1, actions: 1, metrics: { updatedSlices: 1 } },
  },
  // Beyond upstream's table: the rules it implies.
  {
    name: 'a trigger-time annotation on the Endpoints does not make an identical slice stale',
    given: {
      subsets: oneAddress,
      annotations: { [ANNOTATION_LAST_CHANGE_TRIGGER_TIME]: '2026-01-01T00:00:00Z' },
      existing: [{ name: 'test-ep-1', ports: slicePorts(http), endpoints: [matchingEndpoint] }],
    },
    want: { numSlices: 1, actions: 0 },
  },
  {
    name: 'extra slices of one group are deleted, the first (by order given) is kept',
    given: {
      subsets: oneAddress,
      existing: [
        { name: 'test-ep-1', ports: slicePorts(http), endpoints: [matchingEndpoint] },
        { name: 'test-ep-2', ports: slicePorts(http), endpoints: [matchingEndpoint] },
      ],
    },
    want: { numSlices: 1, actions: 1, metrics: { deleted: 1, actualSlices: 1 } },
  },
  {
    name: 'a port change turns delete + create into one update (recycling)',
    given: {
      subsets: [{ ports: [port('http', 8080)], addresses: [addr('10.0.0.1', 'pod-1')] }],
      existing: [{ name: 'test-ep-1', ports: slicePorts(http), endpoints: [matchingEndpoint] }],
    },
    want: { numSlices: 1, actions: 1, metrics: { updatedSlices: 1, created: 0, deleted: 0, removed: 0, added: 1 } },
  },
  {
    name: 'an FQDN slice is never desired and is deleted',
    given: {
      subsets: oneAddress,
      existing: [
        { name: 'test-ep-1', ports: slicePorts(http), endpoints: [matchingEndpoint] },
        { name: 'test-ep-9', ports: [], addressType: 'FQDN' },
      ],
    },
    want: { numSlices: 1, actions: 1, metrics: { deleted: 1 } },
  },
  {
    name: 'all addresses gone: the slice is deleted, no placeholder',
    given: { subsets: [], existing: [{ name: 'test-ep-1', ports: slicePorts(http), endpoints: [matchingEndpoint] }] },
    want: { numSlices: 0, actions: 1, metrics: { deleted: 1 } },
  },
  {
    name: 'an address moving to the other family empties its group: delete paired with the create is recycled only within a family',
    given: {
      subsets: [{ ports: [http], addresses: [addr('2001:db8::1', 'pod-1')] }],
      existing: [{ name: 'test-ep-1', ports: slicePorts(http), endpoints: [matchingEndpoint] }],
    },
    want: { numSlices: 1, actions: 2, metrics: { created: 1, deleted: 1, removed: 1, added: 1 } },
  },
  {
    name: 'pending deletion still updates and deletes; only creates are suppressed',
    given: {
      subsets: [
        { ports: [http], addresses: [addr('10.0.0.1', 'pod-1'), addr('10.0.0.2')] },
        { ports: [port('x', 1)], addresses: [addr('10.9.9.9')] },
      ],
      deletionPending: true,
      existing: [
        { name: 'test-ep-1', ports: slicePorts(http), endpoints: [matchingEndpoint] },
        { name: 'test-ep-2', ports: slicePorts(port('old', 2)) },
      ],
    },
    want: { numSlices: 2, actions: 2, metrics: { created: 0, updatedSlices: 2, deleted: 0 } },
  },
];

describe('planMirroredSlices (upstream TestReconcile)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = run(c.given);
      const p = r.plan;
      assert.equal(p.toCreate.length + p.toUpdate.length + p.toDelete.length, c.want.actions, 'client actions');
      assert.equal(isEmptyPlan(p), c.want.actions === 0);
      const after = applyPlan(r.existing, p);
      assert.equal(after.length, c.want.numSlices, 'slices after');
      if (c.want.metrics !== undefined) {
        const zero: Metrics = {
          desiredSlices: 0,
          actualSlices: 0,
          desiredEndpoints: 0,
          added: 0,
          updated: 0,
          removed: 0,
          skipped: 0,
          created: 0,
          updatedSlices: 0,
          deleted: 0,
        };
        const got = metricsOf(r);
        const want = { ...zero, ...c.want.metrics };
        for (const k of Object.keys(c.want.metrics) as (keyof Metrics)[]) assert.equal(got[k], want[k], k);
      }
      if (c.given.deletionPending !== true) expectEndpointSlices(r.endpoints, after, r.max);
    });
  }
});

describe('written slices', () => {
  it('are whole replacements carrying the kept slice name, no resourceVersion, and the Endpoints owner', () => {
    const r = run({
      subsets: oneAddress,
      uid: 'new-uid',
      existing: [{ name: 'test-ep-1', ports: slicePorts(http), endpoints: [matchingEndpoint], ownerUID: 'old-uid' }],
    });
    const [u] = r.plan.toUpdate;
    assert.ok(u);
    assert.deepEqual(u, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'test-ep-1',
        namespace: 'test',
        labels: { [LABEL_SERVICE_NAME]: 'test-ep', [LABEL_MANAGED_BY]: MANAGED_BY_MIRRORING_CONTROLLER },
        annotations: {},
        ownerReferences: [
          { apiVersion: 'v1', kind: 'Endpoints', name: 'test-ep', uid: 'new-uid', controller: true, blockOwnerDeletion: true },
        ],
      },
      addressType: 'IPv4',
      endpoints: [matchingEndpoint],
      ports: slicePorts(http),
    });
  });

  it('hold at most maxEndpointsPerSubset endpoints', () => {
    const addresses = Array.from({ length: 5 }, (_, i) => addr(`10.0.0.${i + 1}`));
    const r = run({ subsets: [{ ports: [http], addresses }], max: 3 });
    assert.equal(r.plan.toCreate[0]?.endpoints?.length, 3);
  });

  it('do not share objects with the cache', () => {
    const r = run({ subsets: [{ ports: [http], addresses: [{ ip: '10.0.0.1', targetRef: { kind: 'Pod', name: 'p' } }] }] });
    const created = r.plan.toCreate[0];
    assert.ok(created?.endpoints?.[0]?.targetRef);
    assert.equal(Object.isFrozen(created.endpoints[0].targetRef), false);
  });
});

describe('totalChanges', () => {
  const desired = new Map([
    [JSON.stringify([['10.0.0.1'], 'a', '', '']), { addresses: ['10.0.0.1'], hostname: 'a', conditions: { ready: true } }],
    [JSON.stringify([['10.0.0.2'], '', '', '']), { addresses: ['10.0.0.2'], conditions: { ready: true } }],
  ]);
  const cases: { name: string; given: SliceEndpoint[]; want: { added: number; updated: number; removed: number } }[] = [
    { name: 'empty slice: all added', given: [], want: { added: 2, updated: 0, removed: 0 } },
    {
      name: 'identical',
      given: [
        { addresses: ['10.0.0.1'], hostname: 'a', conditions: { ready: true } },
        { addresses: ['10.0.0.2'], conditions: { ready: true } },
      ],
      want: { added: 0, updated: 0, removed: 0 },
    },
    {
      name: 'serving set where desired has none is an update (absent differs from a value)',
      given: [{ addresses: ['10.0.0.2'], conditions: { ready: true, serving: true } }],
      want: { added: 1, updated: 1, removed: 0 },
    },
    {
      name: 'hostname is identity: another hostname is a removal',
      given: [{ addresses: ['10.0.0.1'], hostname: 'b' }],
      want: { added: 2, updated: 0, removed: 1 },
    },
    {
      name: 'a duplicate counts as a second match (added can go negative)',
      given: [
        { addresses: ['10.0.0.2'], conditions: { ready: true } },
        { addresses: ['10.0.0.2'], conditions: { ready: true } },
        { addresses: ['10.0.0.1'], hostname: 'a', conditions: { ready: true } },
      ],
      want: { added: -1, updated: 0, removed: 0 },
    },
  ];
  for (const c of cases) {
    it(c.name, () =>
      assert.deepEqual(totalChanges(deepFreeze({ metadata: {}, addressType: 'IPv4', endpoints: c.given }), desired), c.want),
    );
  }
});

describe('mirroredMetadataUpToDate', () => {
  const ep = (meta: Partial<Endpoints['metadata']>): Endpoints =>
    deepFreeze({ metadata: { name: 'test-ep', namespace: 'test', uid: 'u1', ...meta } });
  const slice = (meta: Partial<EndpointSlice['metadata']>): EndpointSlice =>
    deepFreeze({
      metadata: { name: 's', labels: { [LABEL_SERVICE_NAME]: 'test-ep', [LABEL_MANAGED_BY]: MANAGED_BY_MIRRORING_CONTROLLER }, ...meta },
      addressType: 'IPv4',
    });
  const owner = (name: string, uid: string, kind = 'Endpoints') => ({ apiVersion: 'v1', kind, name, uid });
  const cases: { name: string; given: [Endpoints, EndpointSlice]; want: boolean }[] = [
    { name: 'no labels, no annotations, no owner', given: [ep({}), slice({})], want: true },
    { name: 'absent and empty annotations are equal', given: [ep({ annotations: {} }), slice({})], want: true },
    { name: 'an extra slice label', given: [ep({}), slice({ labels: { [LABEL_SERVICE_NAME]: 'test-ep', x: 'y' } })], want: false },
    { name: 'the mirroring labels are not compared', given: [ep({}), slice({ labels: {} })], want: true },
    { name: 'an Endpoints label missing on the slice', given: [ep({ labels: { a: 'b' } }), slice({})], want: false },
    {
      name: 'an Endpoints managed-by label never matches (rewritten every sync, upstream quirk)',
      given: [ep({ labels: { [LABEL_MANAGED_BY]: 'x' } }), slice({ labels: { [LABEL_MANAGED_BY]: 'x' } })],
      want: false,
    },
    { name: 'owner with our uid', given: [ep({}), slice({ ownerReferences: [owner('test-ep', 'u1')] })], want: true },
    { name: 'owner with a predecessor uid', given: [ep({}), slice({ ownerReferences: [owner('test-ep', 'u0')] })], want: false },
    {
      name: 'an unrelated owner is ignored',
      given: [ep({}), slice({ ownerReferences: [owner('other', 'u0'), owner('test-ep', 'u0', 'Service')] })],
      want: true,
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(mirroredMetadataUpToDate(...c.given), c.want));
});
