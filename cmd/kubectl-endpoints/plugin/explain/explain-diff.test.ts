import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointSlice } from '../../../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, LABEL_SKIP_MIRROR } from '../../../../api/labels.ts';
import { type DiffReport, diffExitCode, explainDiff } from './explain-diff.ts';
import { DEFAULT_EXPLAIN_SETTINGS, type ServiceSnapshot } from './snapshot.ts';
import {
  notReadyStatus,
  storedEndpointsFor,
  storedMirroredSlicesFor,
  storedSlicesFor,
  testEndpoints,
  testNode,
  testPod,
  testService,
  testSnapshot,
} from './test-fixtures.ts';

const svc = testService();
const selectorless = testService({ selector: undefined });
const pods = [testPod('web-1', 1), testPod('web-2', 2)];
const nodes = [testNode('node-a', 'True')];
const storedEndpoints = storedEndpointsFor(svc, pods);
const storedSlices = storedSlicesFor(svc, pods, nodes);
const inSync = { service: svc, pods, endpoints: storedEndpoints, endpointSlices: storedSlices };

function editedSlice(slice: EndpointSlice | undefined, edit: (s: EndpointSlice) => void, manager: string): EndpointSlice {
  assert.ok(slice);
  const copy = structuredClone(slice);
  edit(copy);
  copy.metadata.managedFields = [...(copy.metadata.managedFields ?? []), { manager, operation: 'Update', time: '2025-01-03T00:00:00Z' }];
  return copy;
}

const custom = testEndpoints(['192.0.2.1'], [], { managedFields: [{ manager: 'kubectl-create', operation: 'Update' }] });

const cases: { name: string; given: Partial<ServiceSnapshot>; want: { exit: number; check: (r: DiffReport) => void } }[] = [
  {
    name: 'in sync: nothing to write, every stored slice kept',
    given: inSync,
    want: {
      exit: 0,
      check: (r) => {
        assert.equal(r.endpoints.action, 'none');
        assert.deepEqual(
          r.endpointSlices.stored.map((s) => s.action),
          ['keep'],
        );
        assert.deepEqual(r.endpointSlices.endpointChanges, []);
      },
    },
  },
  {
    name: 'a Pod stopped being Ready: both objects would change it, endpoint by endpoint',
    given: { ...inSync, pods: [testPod('web-1', 1), testPod('web-2', 2, { status: notReadyStatus() })] },
    want: {
      exit: 1,
      check: (r) => {
        assert.equal(r.endpoints.action, 'update');
        assert.deepEqual(r.endpoints.addressChanges, [
          { ip: '10.0.0.2', pod: 'web-2', ports: 'http:8080/TCP', stored: 'ready', desired: 'notReady' },
        ]);
        assert.deepEqual(
          r.endpointSlices.endpointChanges.map((c) => [c.pod, c.fields]),
          [['web-2', ['ready', 'serving']]],
        );
        assert.deepEqual(r.endpointSlices.stored[0]?.changes, ['endpoints']);
      },
    },
  },
  {
    name: 'a foreign edit of the Endpoints is reported with its field manager',
    given: {
      ...inSync,
      endpoints: (() => {
        const e = structuredClone(storedEndpoints);
        e.subsets?.[0]?.addresses?.push({ ip: '10.9.9.9' });
        e.metadata.managedFields = [
          ...(e.metadata.managedFields ?? []),
          { manager: 'kubectl-patch', operation: 'Update', time: '2025-01-03T00:00:00Z' },
        ];
        return e;
      })(),
    },
    want: {
      exit: 1,
      check: (r) => {
        assert.equal(r.endpoints.action, 'update');
        assert.deepEqual(r.endpoints.addressChanges, [{ ip: '10.9.9.9', ports: 'http:8080/TCP', stored: 'ready', desired: 'absent' }]);
        assert.deepEqual(
          r.endpoints.stored?.foreignManagers.map((m) => m.manager),
          ['kubectl-patch'],
        );
        assert.equal(r.endpointSlices.inSync, true);
      },
    },
  },
  {
    name: 'a foreign edit of a slice: the controller would update it back',
    given: {
      ...inSync,
      endpointSlices: [
        editedSlice(
          storedSlices[0],
          (s) => {
            const e = s.endpoints?.[0];
            if (e) e.conditions = { ready: false, serving: false, terminating: false };
          },
          'kubectl-edit',
        ),
      ],
    },
    want: {
      exit: 1,
      check: (r) => {
        const stored = r.endpointSlices.stored[0];
        assert.equal(stored?.action, 'update');
        assert.deepEqual(
          stored?.foreignManagers.map((m) => m.manager),
          ['kubectl-edit'],
        );
        assert.equal(r.endpointSlices.endpointChanges[0]?.stored?.ready, false);
        assert.equal(r.endpointSlices.endpointChanges[0]?.desired?.ready, true);
      },
    },
  },
  {
    name: 'a changed label on the Endpoints (Service labels are copied)',
    given: {
      ...inSync,
      endpoints: {
        ...storedEndpoints,
        metadata: { ...storedEndpoints.metadata, labels: { ...storedEndpoints.metadata.labels, team: 'old' } },
      },
    },
    want: {
      exit: 1,
      check: (r) => assert.deepEqual(r.endpoints.labelChanges, [{ key: 'team', stored: 'old', desired: 'shop' }]),
    },
  },
  {
    name: 'nothing stored yet: one Endpoints and one slice to create',
    given: { service: svc, pods },
    want: {
      exit: 1,
      check: (r) => {
        assert.equal(r.endpoints.action, 'create');
        assert.equal(r.endpointSlices.plans[0]?.creates.length, 1);
        assert.equal(r.endpointSlices.endpointChanges.length, 2);
      },
    },
  },
  {
    name: 'a slice owned by an older Service of the same name is deleted, not reused',
    given: {
      ...inSync,
      endpointSlices: [
        editedSlice(
          storedSlices[0],
          (s) => {
            s.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'old-uid', controller: true }];
          },
          'kube-endpoints-operator',
        ),
      ],
    },
    want: {
      exit: 1,
      check: (r) => {
        assert.equal(r.endpointSlices.stored[0]?.deleteReason, 'NotOwnedByService');
        assert.equal(r.endpointSlices.plans[0]?.creates.length, 1);
      },
    },
  },
  {
    name: 'slices of other managers are listed but never planned',
    given: {
      ...inSync,
      endpointSlices: [
        ...storedSlices,
        editedSlice(
          storedSlices[0],
          (s) => {
            s.metadata.name = 'web-custom';
            s.metadata.labels = { ...s.metadata.labels, [LABEL_MANAGED_BY]: 'my-controller' };
          },
          'my-controller',
        ),
      ],
    },
    want: {
      exit: 0,
      check: (r) =>
        assert.deepEqual(
          r.endpointSlices.stored.map((s) => `${s.name}:${s.action}`),
          ['web-abcde:keep', 'web-custom:ignored'],
        ),
    },
  },
  {
    name: 'the Service is gone: Endpoints deleted, slices left to the garbage collector',
    given: { ...inSync, service: undefined },
    want: {
      exit: 1,
      check: (r) => {
        assert.equal(r.endpoints.action, 'delete');
        assert.equal(r.endpointSlices.stored[0]?.action, 'awaitingGarbageCollection');
      },
    },
  },
  {
    name: 'the Service is gone and nothing is stored: an error, not a diff',
    given: { service: undefined },
    want: { exit: 2, check: (r) => assert.equal(r.inSync, true) },
  },
  {
    name: "selectorless: the Endpoints is the user's; mirroring would create its slice",
    given: { service: selectorless, endpoints: custom },
    want: {
      exit: 1,
      check: (r) => {
        assert.deepEqual([r.endpoints.action, r.endpoints.managedByController], ['none', false]);
        assert.deepEqual(
          r.endpointSlices.plans.map((p) => [p.controller, p.active, p.creates.length]),
          [
            ['endpointslice-controller', false, 0],
            ['endpointslice-mirroring-controller', true, 1],
          ],
        );
      },
    },
  },
  {
    name: 'selectorless and mirrored: in sync',
    given: { service: selectorless, endpoints: custom, endpointSlices: storedMirroredSlicesFor(custom) },
    want: { exit: 0, check: () => {} },
  },
  {
    name: 'skip-mirror added after mirroring: the mirrored slices are deleted',
    given: {
      service: selectorless,
      endpoints: { ...custom, metadata: { ...custom.metadata, labels: { [LABEL_SKIP_MIRROR]: 'true' } } },
      endpointSlices: storedMirroredSlicesFor(custom),
    },
    want: {
      exit: 1,
      check: (r) => {
        assert.deepEqual(r.endpointSlices.plans[1]?.reason, 'SkipMirrorLabel');
        assert.equal(r.endpointSlices.stored[0]?.deleteReason, 'NotMirrored');
      },
    },
  },
  {
    name: 'Nodes unreadable: no plan, an error rather than a guess',
    given: { ...inSync, nodes: { kind: 'unavailable', reason: 'forbidden' } },
    want: { exit: 2, check: (r) => assert.match(r.endpointSlices.unavailable ?? '', /Nodes/) },
  },
  {
    name: 'over the Endpoints cap the controller rewrites the same truncated object: not a difference',
    given: (() => {
      const many = Array.from({ length: 1001 }, (_, i) =>
        testPod(`w${i}`, i, { status: { podIP: `10.1.${i >> 8}.${i & 255}`, podIPs: [{ ip: `10.1.${i >> 8}.${i & 255}` }] } }),
      );
      return { service: svc, pods: many, endpoints: storedEndpointsFor(svc, many), endpointSlices: storedSlicesFor(svc, many, nodes) };
    })(),
    want: {
      exit: 0,
      check: (r) => {
        assert.equal(r.endpoints.action, 'none');
        assert.equal(r.endpointSlices.stored.length, 11);
      },
    },
  },
];

describe('explainDiff: the controllers plans against the stored objects', () => {
  for (const c of cases) {
    it(c.name, () => {
      const report = explainDiff(testSnapshot(c.given), DEFAULT_EXPLAIN_SETTINGS);
      assert.equal(diffExitCode(report), c.want.exit);
      c.want.check(report);
    });
  }

  it('honours --max-endpoints-per-slice: a third Pod fills the slice, or opens a new one when the slice is full', () => {
    const three = [...pods, testPod('web-3', 3)];
    const snapshot = testSnapshot({ service: svc, pods: three, endpoints: storedEndpointsFor(svc, three), endpointSlices: storedSlices });
    const plan = (max: number) => explainDiff(snapshot, { ...DEFAULT_EXPLAIN_SETTINGS, maxEndpointsPerSlice: max }).endpointSlices.plans[0];
    assert.deepEqual([plan(100)?.creates.length, plan(100)?.updates.length], [0, 1]);
    assert.deepEqual([plan(2)?.creates.length, plan(2)?.updates.length], [1, 0]);
  });
});
