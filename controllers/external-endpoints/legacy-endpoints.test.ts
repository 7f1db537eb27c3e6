import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoints } from '../../api/core/v1.ts';
import {
  ANNOTATION_OVER_CAPACITY,
  LABEL_ENDPOINTS_MANAGED_BY,
  LABEL_SKIP_MIRROR,
  MANAGED_BY_EXTERNAL_ENDPOINTS,
} from '../../api/labels.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import type { Backend } from './backends.ts';
import { ownerReference } from './desired.ts';
import type { EndpointConditions } from './health.ts';
import { desiredLegacyEndpoints, MAX_ENDPOINTS_ADDRESSES, planLegacyEndpoints } from './legacy-endpoints.ts';
import { makeObject } from './test-fixtures.ts';

const object = deepFreeze(makeObject({ endpoints: [], ports: [{ name: 'pg', port: 5432 }] }));
const READY: EndpointConditions = { ready: true, serving: true, terminating: false };
const DOWN: EndpointConditions = { ready: false, serving: false, terminating: false };
const DRAINED: EndpointConditions = { ready: false, serving: true, terminating: true };
const PORTS = [{ name: 'pg', port: 5432, protocol: 'TCP' }];

const backend = (address: string, extra: Partial<Backend> = {}): Backend => ({
  address,
  family: 4,
  maintenance: false,
  tier: 0,
  probePort: 5432,
  ...extra,
});

describe('desiredLegacyEndpoints', () => {
  it('puts ready addresses in addresses and the rest (unhealthy, drained) in notReadyAddresses, sorted, skip-mirror labelled', () => {
    const got = desiredLegacyEndpoints(
      object,
      deepFreeze([backend('198.18.0.6', { hostname: 'db-1' }), backend('198.18.0.2'), backend('198.18.0.10'), backend('198.18.0.14')]),
      new Map([
        ['198.18.0.6', READY],
        ['198.18.0.2', READY],
        ['198.18.0.10', DOWN],
        ['198.18.0.14', DRAINED],
      ]),
      PORTS,
    );
    assert.deepEqual(got, {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        name: 'db',
        namespace: 'prod',
        labels: { [LABEL_SKIP_MIRROR]: 'true', [LABEL_ENDPOINTS_MANAGED_BY]: MANAGED_BY_EXTERNAL_ENDPOINTS },
        ownerReferences: [ownerReference(object)],
      },
      subsets: [
        {
          addresses: [{ ip: '198.18.0.2' }, { ip: '198.18.0.6', hostname: 'db-1' }],
          notReadyAddresses: [{ ip: '198.18.0.10' }, { ip: '198.18.0.14' }],
          ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
        },
      ],
    });
  });

  it('has no subsets without backends', () => {
    assert.deepEqual(desiredLegacyEndpoints(object, [], new Map(), PORTS).subsets, []);
  });

  it('truncates past 1000 addresses, ready first, and says so', () => {
    const backends: Backend[] = [];
    const conditions = new Map<string, EndpointConditions>();
    for (let i = 0; i < MAX_ENDPOINTS_ADDRESSES + 5; i++) {
      const address = `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;
      backends.push(backend(address));
      conditions.set(address, i < 3 ? READY : DOWN);
    }
    const got = desiredLegacyEndpoints(object, backends, conditions, PORTS);
    assert.equal(got.subsets?.[0]?.addresses?.length, 3);
    assert.equal(got.subsets?.[0]?.notReadyAddresses?.length, MAX_ENDPOINTS_ADDRESSES - 3);
    assert.equal(got.metadata.annotations?.[ANNOTATION_OVER_CAPACITY], 'truncated');
  });
});

describe('planLegacyEndpoints', () => {
  const want = desiredLegacyEndpoints(object, [backend('198.18.0.2')], new Map([['198.18.0.2', READY]]), PORTS);
  const stored = (patch: (e: Endpoints) => void = () => {}): Endpoints => {
    const e = structuredClone(want);
    e.metadata.resourceVersion = '3';
    patch(e);
    return deepFreeze(e);
  };
  const cases: { name: string; given: { existing: Endpoints | undefined; desired: Endpoints | undefined }; want: string }[] = [
    { name: 'nothing wanted, nothing there', given: { existing: undefined, desired: undefined }, want: 'none' },
    { name: 'wanted and missing: create', given: { existing: undefined, desired: want }, want: 'create' },
    { name: 'equal: nothing', given: { existing: stored(), desired: want }, want: 'none' },
    { name: 'no longer wanted: delete', given: { existing: stored(), desired: undefined }, want: 'delete' },
    {
      name: 'an address changed: update',
      given: {
        existing: stored((e) => {
          e.subsets = [];
        }),
        desired: want,
      },
      want: 'update',
    },
    {
      name: 'the skip-mirror label was removed: update (or mirroring would duplicate every address)',
      given: {
        existing: stored((e) => {
          delete e.metadata.labels?.[LABEL_SKIP_MIRROR];
        }),
        desired: want,
      },
      want: 'update',
    },
    {
      name: 'owned by an earlier object of the same name: update in place',
      given: {
        existing: stored((e) => {
          e.metadata.ownerReferences = [{ ...ownerReference(object), uid: 'old' }];
        }),
        desired: want,
      },
      want: 'update',
    },
  ];
  for (const { name, given, want: action } of cases) {
    it(name, () => assert.equal(planLegacyEndpoints(object, given.existing, given.desired).action, action));
  }

  it('an update keeps foreign labels and annotations and the resourceVersion', () => {
    const existing = stored((e) => {
      e.subsets = [];
      e.metadata.labels = { ...e.metadata.labels, team: 'db' };
      e.metadata.annotations = { note: 'kept' };
    });
    const plan = planLegacyEndpoints(object, existing, want);
    assert.equal(plan.action, 'update');
    if (plan.action !== 'update') return;
    assert.equal(plan.body.metadata.resourceVersion, '3');
    assert.equal(plan.body.metadata.labels?.team, 'db');
    assert.deepEqual(plan.body.metadata.annotations, { note: 'kept' });
    assert.deepEqual(plan.body.subsets, want.subsets);
  });
});
