import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointSubset, Endpoints, Pod, Service } from '../../api/core/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { desiredSubsets, selectPods } from './desired.ts';
import {
  capacityAnnotationSetCorrectly,
  type EndpointsPlan,
  labelsCorrectForEndpoints,
  planEndpoints,
  subsetsSemanticallyEqual,
} from './plan.ts';
import { podAddress, testEndpoints, testPods, testService } from './test-fixtures.ts';

const ns = 'ns';
const MANAGED = { 'endpoints.kubernetes.io/managed-by': 'endpoint-controller' };
const TRIGGER = 'endpoints.kubernetes.io/last-change-trigger-time';
const OVER = 'endpoints.kubernetes.io/over-capacity';
const port8080 = [{ port: 8080, protocol: 'TCP' }];

interface Given {
  service: Service | undefined;
  existing?: Endpoints;
  pods?: Pod[];
  triggerTime?: number;
}

function plan(given: Given): EndpointsPlan {
  const g = deepFreeze(given);
  const pods = g.service === undefined ? [] : selectPods(g.service, g.pods ?? []);
  return planEndpoints({
    namespace: ns,
    name: 'foo',
    service: g.service,
    existing: g.existing,
    desiredSubsets: g.service === undefined ? [] : desiredSubsets(g.service, pods).subsets,
    triggerTime: g.triggerTime,
  });
}

describe('planEndpoints: when nothing is written', () => {
  const cases: { name: string; given: Given; want: EndpointsPlan['kind'] }[] = [
    {
      name: 'existing nil subsets, correct labels, no pods (TestSyncEndpointsExistingNilSubsets)',
      given: { service: testService(), existing: testEndpoints() },
      want: 'none',
    },
    {
      name: 'existing empty subsets equal nil (TestSyncEndpointsExistingEmptySubsets)',
      given: { service: testService(), existing: testEndpoints({ subsets: [] }) },
      want: 'none',
    },
    {
      name: 'only the pods resourceVersion differs from the targetRef (TestSyncEndpointsWithPodResourceVersionUpdateOnly)',
      given: {
        service: testService(),
        pods: testPods(ns, 1, 1, 1),
        existing: testEndpoints({
          subsets: [
            {
              addresses: [{ ...podAddress(ns, 0), targetRef: { ...podAddress(ns, 0).targetRef, resourceVersion: '1' } }],
              notReadyAddresses: [{ ...podAddress(ns, 1), targetRef: { ...podAddress(ns, 1).targetRef, resourceVersion: '2' } }],
              ports: port8080,
            },
          ],
        }),
      },
      want: 'none',
    },
    {
      name: 'existing already has the headless label, no pods (TestSyncEndpointsHeadlessServiceLabel)',
      given: {
        service: testService({ spec: { clusterIP: 'None' } }),
        existing: testEndpoints({ metadata: { labels: { ...MANAGED, 'service.kubernetes.io/headless': '' } } }),
      },
      want: 'none',
    },
    {
      name: 'a missing headless label alone is not a reason to write',
      given: { service: testService({ spec: { clusterIP: 'None' } }), existing: testEndpoints() },
      want: 'none',
    },
    {
      name: 'already correct (TestSyncEndpointsItemsPreexistingIdentical)',
      given: {
        service: testService(),
        pods: testPods(ns, 1, 1),
        existing: testEndpoints({ subsets: [{ addresses: [podAddress(ns, 0)], ports: port8080 }] }),
      },
      want: 'none',
    },
    {
      name: 'correct but not in canonical order (TestSyncEndpointsItemsPreexistingIdenticalUnsorted)',
      given: {
        service: testService(),
        pods: testPods(ns, 2, 1),
        existing: testEndpoints({ subsets: [{ addresses: [podAddress(ns, 1), podAddress(ns, 0)], ports: port8080 }] }),
      },
      want: 'none',
    },
    {
      name: 'a new trigger time alone never writes',
      given: {
        service: testService(),
        pods: testPods(ns, 1, 1),
        existing: testEndpoints({ subsets: [{ addresses: [podAddress(ns, 0)], ports: port8080 }] }),
        triggerTime: Date.parse('2030-01-01T00:00:00Z'),
      },
      want: 'none',
    },
    {
      name: 'Service without selector (TestSyncEndpointsItemsPreserveNoSelector)',
      given: {
        service: testService({ spec: { selector: undefined } }),
        pods: testPods(ns, 1, 1),
        existing: testEndpoints({ subsets: [{ addresses: [{ ip: '6.7.8.9' }], ports: [{ port: 1000 }] }] }),
      },
      want: 'none',
    },
    {
      name: 'ExternalName Service with selector (TestSyncServiceExternalNameType)',
      given: { service: testService({ spec: { type: 'ExternalName', externalName: 'x.example' } }), pods: testPods(ns, 1, 1) },
      want: 'none',
    },
    {
      name: 'ExternalName Service without selector or ports',
      given: { service: testService({ spec: { type: 'ExternalName', externalName: 'x.example', selector: undefined, ports: undefined } }) },
      want: 'none',
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(plan(c.given).kind, c.want));

  it('the unsorted fixture really is not canonical (so the repack fallback is what makes it a no-op)', () => {
    const desired = desiredSubsets(deepFreeze(testService()), deepFreeze(testPods(ns, 2, 1))).subsets;
    assert.equal(subsetsSemanticallyEqual([{ addresses: [podAddress(ns, 1), podAddress(ns, 0)], ports: port8080 }], desired), false);
  });
});

describe('planEndpoints: what is written', () => {
  const cases: { name: string; given: Given; want: EndpointsPlan }[] = [
    {
      name: 'Service gone: delete, whether or not an Endpoints is cached (TestSyncEndpointsServiceNotFound)',
      given: { service: undefined },
      want: { kind: 'delete', namespace: ns, name: 'foo' },
    },
    {
      name: 'no pods, no Endpoints: create an empty one (TestSyncEndpointsNewNoSubsets)',
      given: { service: testService() },
      want: {
        kind: 'create',
        truncated: false,
        object: { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'foo', namespace: ns, labels: { ...MANAGED } } },
      },
    },
    {
      name: 'create carries the Service labels, headless and managed-by (TestSyncEndpointsItemsWithLabels)',
      given: {
        service: testService({ metadata: { labels: { foo: 'bar', baz: 'blah' } }, spec: { clusterIP: '' } }),
        pods: testPods(ns, 1, 1),
        triggerTime: Date.parse('2024-01-01T00:00:00Z'),
      },
      want: {
        kind: 'create',
        truncated: false,
        object: {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: {
            name: 'foo',
            namespace: ns,
            labels: { foo: 'bar', baz: 'blah', 'service.kubernetes.io/headless': '', ...MANAGED },
            annotations: { [TRIGGER]: '2024-01-01T00:00:00Z' },
          },
          subsets: [{ addresses: [podAddress(ns, 0)], ports: port8080 }],
        },
      },
    },
    {
      name: 'headless without ports: subset without ports (TestSyncEndpointsHeadlessWithoutPort)',
      given: { service: testService({ spec: { clusterIP: 'None', ports: undefined } }), pods: testPods(ns, 1, 0) },
      want: {
        kind: 'create',
        truncated: false,
        object: {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { name: 'foo', namespace: ns, labels: { 'service.kubernetes.io/headless': '', ...MANAGED } },
          subsets: [{ addresses: [podAddress(ns, 0)] }],
        },
      },
    },
    {
      name: 'stale addresses are replaced, labels replaced by the Service labels, resourceVersion kept (…Preexisting, …LabelsChange)',
      given: {
        service: testService({ metadata: { labels: { baz: 'blah' } } }),
        pods: testPods(ns, 1, 1),
        existing: testEndpoints({
          metadata: { resourceVersion: '7', labels: { foo: 'bar', ...MANAGED, 'service.kubernetes.io/headless': '' } },
          subsets: [{ addresses: [{ ip: '6.7.8.9', nodeName: '' }], ports: [{ port: 1000 }] }],
        }),
      },
      want: {
        kind: 'update',
        previousResourceVersion: '7',
        truncated: false,
        object: {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { name: 'foo', namespace: ns, resourceVersion: '7', labels: { baz: 'blah', ...MANAGED } },
          subsets: [{ addresses: [podAddress(ns, 0)], ports: port8080 }],
        },
      },
    },
    {
      name: 'foreign annotations kept, old trigger time replaced, over-capacity removed, managedFields left out',
      given: {
        service: testService(),
        pods: testPods(ns, 1, 1),
        triggerTime: Date.parse('2024-05-01T10:00:00.5Z'),
        existing: testEndpoints({
          metadata: {
            uid: 'ep-uid',
            annotations: { keep: 'me', [TRIGGER]: '2020-01-01T00:00:00Z', [OVER]: 'warning' },
            managedFields: [{ manager: 'kcm' }],
          },
        }),
      },
      want: {
        kind: 'update',
        previousResourceVersion: '1',
        truncated: false,
        object: {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: {
            name: 'foo',
            namespace: ns,
            resourceVersion: '1',
            uid: 'ep-uid',
            labels: { ...MANAGED },
            annotations: { keep: 'me', [TRIGGER]: '2024-05-01T10:00:00.5Z' },
          },
          subsets: [{ addresses: [podAddress(ns, 0)], ports: port8080 }],
        },
      },
    },
    {
      name: 'zero trigger time removes the annotation on write (TestLastTriggerChangeTimeAnnotation_AnnotationCleared)',
      given: {
        service: testService(),
        pods: testPods(ns, 1, 1),
        existing: testEndpoints({ metadata: { annotations: { [TRIGGER]: '2020-01-01T00:00:00Z' } } }),
      },
      want: {
        kind: 'update',
        previousResourceVersion: '1',
        truncated: false,
        object: {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { name: 'foo', namespace: ns, resourceVersion: '1', labels: { ...MANAGED } },
          subsets: [{ addresses: [podAddress(ns, 0)], ports: port8080 }],
        },
      },
    },
    {
      name: 'missing managed-by label alone causes a write',
      given: {
        service: testService(),
        existing: testEndpoints({ metadata: { labels: {} } }),
      },
      want: {
        kind: 'update',
        previousResourceVersion: '1',
        truncated: false,
        object: {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { name: 'foo', namespace: ns, resourceVersion: '1', labels: { ...MANAGED } },
        },
      },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(plan(c.given), c.want));

  it('keeps fields the schema does not model', () => {
    const existing = { ...testEndpoints({ metadata: { labels: {} } }), extra: { x: 1 } } as Endpoints;
    const got = plan({ service: testService(), existing });
    assert.equal(got.kind, 'update');
    assert.deepEqual((got as { object: { extra?: unknown } }).object.extra, { x: 1 });
  });
});

describe('planEndpoints: over capacity (TestSyncServiceOverCapacity)', () => {
  const existingWith = (n: number, annotation: string | undefined): Endpoints => {
    const subsets = desiredSubsets(testService(), testPods(ns, n, 1)).subsets;
    return testEndpoints({
      metadata: { ...(annotation !== undefined ? { annotations: { [OVER]: annotation } } : {}) },
      ...(subsets.length > 0 ? { subsets: [...subsets] } : {}),
    });
  };
  const cases: {
    name: string;
    given: { annotation?: string; existing: number; ready: number; notReady: number };
    want: { ready: number; notReady: number; annotation: boolean };
  }[] = [
    { name: 'empty', given: { existing: 0, ready: 0, notReady: 0 }, want: { ready: 0, notReady: 0, annotation: false } },
    {
      name: 'added past capacity, ready below it',
      given: { existing: 999, ready: 997, notReady: 4 },
      want: { ready: 997, notReady: 3, annotation: true },
    },
    {
      name: 'added past capacity, ready at it',
      given: { existing: 999, ready: 1000, notReady: 10 },
      want: { ready: 1000, notReady: 0, annotation: true },
    },
    {
      name: 'removed below capacity',
      given: { annotation: 'truncated', existing: 999, ready: 999, notReady: 0 },
      want: { ready: 999, notReady: 0, annotation: false },
    },
    {
      name: 'warning removed at capacity',
      given: { annotation: 'warning', existing: 1000, ready: 1000, notReady: 0 },
      want: { ready: 1000, notReady: 0, annotation: false },
    },
    {
      name: 'warning but still over capacity',
      given: { annotation: 'warning', existing: 1001, ready: 1001, notReady: 0 },
      want: { ready: 1000, notReady: 0, annotation: true },
    },
    {
      name: 'truncated removed at capacity',
      given: { annotation: 'truncated', existing: 1000, ready: 1000, notReady: 0 },
      want: { ready: 1000, notReady: 0, annotation: false },
    },
    {
      name: 'no endpoints change, value corrected',
      given: { annotation: 'invalid', existing: 1001, ready: 1001, notReady: 0 },
      want: { ready: 1000, notReady: 0, annotation: true },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = plan({
        service: testService(),
        existing: existingWith(c.given.existing, c.given.annotation),
        pods: testPods(ns, c.given.ready, 1, c.given.notReady),
      });
      const result = got.kind === 'update' || got.kind === 'create' ? got.object : existingWith(c.given.existing, c.given.annotation);
      const subsets = result.subsets ?? [];
      assert.deepEqual(
        {
          ready: subsets.reduce((n, s) => n + (s.addresses?.length ?? 0), 0),
          notReady: subsets.reduce((n, s) => n + (s.notReadyAddresses?.length ?? 0), 0),
          annotation: result.metadata.annotations?.[OVER] === 'truncated',
        },
        c.want,
      );
      assert.ok(result.metadata.annotations?.[OVER] === undefined || result.metadata.annotations[OVER] === 'truncated');
    });
  }

  it('keeps writing while desired exceeds the cap: the untruncated comparison never matches', () => {
    const first = plan({ service: testService(), pods: testPods(ns, 1001, 1) });
    assert.equal(first.kind, 'create');
    const written = {
      ...(first as { object: Endpoints }).object,
      metadata: { ...(first as { object: Endpoints }).object.metadata, resourceVersion: '5' },
    };
    assert.equal(plan({ service: testService(), pods: testPods(ns, 1001, 1), existing: written }).kind, 'update');
  });
});

describe('subsetsSemanticallyEqual (TestEndpointSubsetsEqualIgnoreResourceVersion)', () => {
  const withRV = (id: number, rv?: string) => ({
    ...podAddress(ns, id),
    targetRef: { ...podAddress(ns, id).targetRef, ...(rv ? { resourceVersion: rv } : {}) },
  });
  const base: EndpointSubset[] = [{ addresses: [withRV(0, '1')], notReadyAddresses: [withRV(1, '2')], ports: port8080 }];
  const cases: { name: string; given: [EndpointSubset[] | undefined, EndpointSubset[] | undefined]; want: boolean }[] = [
    { name: 'subsets removed', given: [base, []], want: false },
    { name: 'ready pod IP changed', given: [base, [{ ...base[0], addresses: [{ ...withRV(0, '1'), ip: '9.9.9.9' }] }]], want: false },
    {
      name: 'not-ready pod IP changed',
      given: [base, [{ ...base[0], notReadyAddresses: [{ ...withRV(1, '2'), ip: '9.9.9.9' }] }]],
      want: false,
    },
    { name: 'pod resourceVersion changed', given: [base, [{ ...base[0], addresses: [withRV(0, '3')] }]], want: true },
    {
      name: 'pod resourceVersion removed',
      given: [base, [{ ...base[0], addresses: [withRV(0)], notReadyAddresses: [withRV(1)] }]],
      want: true,
    },
    { name: 'ports changed', given: [base, [{ ...base[0], ports: [{ port: 8081, protocol: 'TCP' }] }]], want: false },
    { name: 'nil equals empty (subsets)', given: [undefined, []], want: true },
    { name: 'nil equals empty (addresses)', given: [[{ ports: port8080 }], [{ addresses: [], ports: port8080 }]], want: true },
    {
      name: 'nodeName absent differs from ""',
      given: [[{ addresses: [{ ip: '1.1.1.1' }] }], [{ addresses: [{ ip: '1.1.1.1', nodeName: '' }] }]],
      want: false,
    },
    {
      name: 'hostname absent equals ""',
      given: [[{ addresses: [{ ip: '1.1.1.1' }] }], [{ addresses: [{ ip: '1.1.1.1', hostname: '' }] }]],
      want: true,
    },
    { name: 'order matters', given: [[{ addresses: [withRV(0), withRV(1)] }], [{ addresses: [withRV(1), withRV(0)] }]], want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(subsetsSemanticallyEqual(...deepFreeze(c.given)), c.want));
});

describe('labelsCorrectForEndpoints', () => {
  const cases: { name: string; given: [Record<string, string> | undefined, Record<string, string>]; want: boolean }[] = [
    { name: 'managed-by only, no service labels', given: [{ ...MANAGED }, {}], want: true },
    { name: 'managed-by missing', given: [{}, {}], want: false },
    { name: 'managed-by of someone else', given: [{ 'endpoints.kubernetes.io/managed-by': 'me' }, {}], want: false },
    {
      name: 'service labels copied, headless ignored',
      given: [{ ...MANAGED, a: '1', 'service.kubernetes.io/headless': '' }, { a: '1' }],
      want: true,
    },
    { name: 'a service label missing', given: [{ ...MANAGED }, { a: '1' }], want: false },
    { name: 'a foreign label present', given: [{ ...MANAGED, a: '1', b: '2' }, { a: '1' }], want: false },
    { name: 'a value differs', given: [{ ...MANAGED, a: '2' }, { a: '1' }], want: false },
    { name: 'no labels at all', given: [undefined, {}], want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(labelsCorrectForEndpoints(...deepFreeze(c.given)), c.want));
});

describe('capacityAnnotationSetCorrectly', () => {
  const over: EndpointSubset[] = [{ addresses: Array.from({ length: 1001 }, (_, i) => ({ ip: `10.0.${i >> 8}.${i & 255}` })) }];
  const cases: { name: string; given: [Record<string, string> | undefined, EndpointSubset[]]; want: boolean }[] = [
    { name: 'under capacity, no annotation', given: [undefined, []], want: true },
    { name: 'under capacity, annotation present', given: [{ [OVER]: 'truncated' }, []], want: false },
    { name: 'over capacity is never correct', given: [{ [OVER]: 'truncated' }, over], want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(capacityAnnotationSetCorrectly(...deepFreeze(c.given)), c.want));
});
