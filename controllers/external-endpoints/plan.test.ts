import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointSlice, SliceEndpoint, SlicePort } from '../../api/discovery/v1.ts';
import { LABEL_HEADLESS, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, MANAGED_BY_EXTERNAL_ENDPOINTS } from '../../api/labels.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { type DesiredEndpoints, desiredEndpoints, type IPAddressType, ownerReference, sliceLabels } from './desired.ts';
import { isEmptySlicePlan, planSlices, type SlicePlan } from './plan.ts';
import { makeObject, UID } from './test-fixtures.ts';

const object = deepFreeze(makeObject({ endpoints: [], ports: [{ name: 'pg', port: 5432 }] }));
const PORTS: SlicePort[] = [{ name: 'pg', port: 5432, protocol: 'TCP' }];
const LABELS = sliceLabels(object, false);

// `a` is 198.18.0.a, ready unless written `a-`; IPv6 as `6:a`.
function ep(spec: string): SliceEndpoint {
  const notReady = spec.endsWith('-');
  const id = notReady ? spec.slice(0, -1) : spec;
  const address = id.startsWith('6:') ? `2001:db8::${id.slice(2)}` : `198.18.0.${id}`;
  return { addresses: [address], conditions: { ready: !notReady, serving: !notReady, terminating: false } };
}

function desired(v4: string[], v6: string[] = []): DesiredEndpoints {
  const m = new Map<IPAddressType, SliceEndpoint[]>();
  if (v4.length > 0) m.set('IPv4', v4.map(ep));
  if (v6.length > 0) m.set('IPv6', v6.map(ep));
  return m;
}

function slice(
  name: string,
  endpoints: string[],
  opts: { type?: 'IPv4' | 'IPv6' | 'FQDN'; uid?: string; ports?: SlicePort[]; labels?: Record<string, string>; deleting?: boolean } = {},
): EndpointSlice {
  return {
    metadata: {
      name,
      namespace: 'prod',
      resourceVersion: '7',
      generation: 3,
      labels: opts.labels ?? { ...LABELS },
      ownerReferences: [{ ...ownerReference(object), uid: opts.uid ?? UID }],
      ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    addressType: opts.type ?? 'IPv4',
    endpoints: endpoints.map(ep),
    ports: opts.ports ?? PORTS,
  };
}

// A compact view: creates as `+IPv4[1 2-]`, updates as `name IPv4[...]`, deletes as `-name`.
function show(plan: SlicePlan): string[] {
  const eps = (s: EndpointSlice) =>
    (s.endpoints ?? [])
      .map((e) => {
        const a = e.addresses[0] ?? '';
        return `${a.startsWith('2001') ? `6:${a.slice(10)}` : a.slice(9)}${e.conditions?.ready ? '' : '-'}`;
      })
      .join(' ');
  return [
    ...plan.toCreate.map((s) => `+${s.addressType}[${eps(s)}]`),
    ...plan.toUpdate.map((s) => `${s.metadata.name} ${s.addressType}[${eps(s)}]`),
    ...plan.toDelete.map((s) => `-${s.metadata.name}`),
  ];
}

describe('planSlices', () => {
  const cases: { name: string; given: { existing: EndpointSlice[]; desired: DesiredEndpoints; max?: number }; want: string[] }[] = [
    {
      name: 'creates slices per address type, at most max endpoints each',
      given: { existing: [], desired: desired(['1', '2', '3'], ['6:1']), max: 2 },
      want: ['+IPv4[1 2]', '+IPv4[3]', '+IPv6[6:1]'],
    },
    {
      name: 'writes nothing when converged',
      given: { existing: [slice('a', ['1', '2-']), slice('b', ['6:1'], { type: 'IPv6' })], desired: desired(['1', '2-'], ['6:1']) },
      want: [],
    },
    {
      name: 'a backend flipping health rewrites only the slice that holds it',
      given: { existing: [slice('a', ['1', '2']), slice('b', ['3', '4'])], desired: desired(['1', '2', '3-', '4']), max: 2 },
      want: ['b IPv4[3- 4]'],
    },
    {
      name: 'a new backend joins a slice that is being rewritten anyway rather than one left untouched',
      given: { existing: [slice('a', ['1']), slice('b', ['3', '4'])], desired: desired(['1', '2', '3-', '4']), max: 3 },
      want: ['b IPv4[3- 4 2]'],
    },
    {
      name: 'a new backend fills an untouched slice with room instead of creating one',
      given: { existing: [slice('a', ['1'])], desired: desired(['1', '2']) },
      want: ['a IPv4[1 2]'],
    },
    {
      name: 'a slice left empty is recycled for new backends instead of a delete and a create',
      given: { existing: [slice('a', ['1']), slice('b', ['2', '3'])], desired: desired(['2', '3', '4']), max: 2 },
      want: ['a IPv4[4]'],
    },
    {
      name: 'a slice left empty with nothing to take is deleted',
      given: { existing: [slice('a', ['1']), slice('b', ['2'])], desired: desired(['2']) },
      want: ['-a'],
    },
    {
      name: 'every slice goes when nothing is desired',
      given: { existing: [slice('a', ['1']), slice('b', ['6:1'], { type: 'IPv6' })], desired: desired([]) },
      want: ['-a', '-b'],
    },
    {
      name: 'slices of an earlier object of the same name (another uid) and FQDN slices are deleted, not reused',
      given: { existing: [slice('old', ['1'], { uid: 'old-uid' }), slice('fqdn', [], { type: 'FQDN' })], desired: desired(['1']) },
      want: ['+IPv4[1]', '-old', '-fqdn'],
    },
    {
      name: 'a slice already being deleted is left alone and its endpoints go elsewhere',
      given: { existing: [slice('a', ['1'], { deleting: true })], desired: desired(['1']) },
      want: ['+IPv4[1]'],
    },
    {
      name: 'a lowered max moves the overflow to a new slice',
      given: { existing: [slice('a', ['1', '2', '3'])], desired: desired(['1', '2', '3']), max: 2 },
      want: ['+IPv4[3]', 'a IPv4[1 2]'],
    },
    {
      name: 'changed ports rewrite every slice',
      given: { existing: [slice('a', ['1'], { ports: [{ name: 'pg', port: 6432, protocol: 'TCP' }] })], desired: desired(['1']) },
      want: ['a IPv4[1]'],
    },
    {
      name: 'a foreign edit of an endpoint (a hint added) is repaired',
      given: {
        existing: [{ ...slice('a', ['1']), endpoints: [{ ...ep('1'), hints: { forZones: [{ name: 'z' }] } }] }],
        desired: desired(['1']),
      },
      want: ['a IPv4[1]'],
    },
    {
      name: 'a missing service-name label is repaired',
      given: { existing: [slice('a', ['1'], { labels: { [LABEL_MANAGED_BY]: MANAGED_BY_EXTERNAL_ENDPOINTS } })], desired: desired(['1']) },
      want: ['a IPv4[1]'],
    },
    {
      name: 'a duplicate endpoint across slices is kept once',
      given: { existing: [slice('a', ['1', '2']), slice('b', ['2'])], desired: desired(['1', '2']) },
      want: ['-b'],
    },
  ];
  for (const { name, given, want } of cases) {
    it(name, () => {
      const plan = planSlices(
        deepFreeze({
          object,
          existing: given.existing,
          desired: given.desired,
          ports: PORTS,
          labels: LABELS,
          maxEndpointsPerSlice: given.max ?? 100,
        }),
      );
      assert.deepEqual(show(plan), want);
      assert.equal(isEmptySlicePlan(plan), want.length === 0);
    });
  }

  it('creates slices named after the object, labelled and controlled by it', () => {
    const plan = planSlices({ object, existing: [], desired: desired(['1']), ports: PORTS, labels: LABELS, maxEndpointsPerSlice: 100 });
    assert.deepEqual(plan.toCreate[0]?.metadata, {
      generateName: 'db-',
      namespace: 'prod',
      labels: { [LABEL_SERVICE_NAME]: 'db', [LABEL_MANAGED_BY]: MANAGED_BY_EXTERNAL_ENDPOINTS },
      ownerReferences: [
        {
          apiVersion: 'kube-endpoints-operator.io/v1alpha1',
          kind: 'ExternalEndpoints',
          name: 'db',
          uid: UID,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
  });

  it('updates keep the cached resourceVersion and foreign labels, and drop a stale headless label', () => {
    const existing = slice('a', ['1'], { labels: { ...LABELS, [LABEL_HEADLESS]: '', team: 'db' } });
    const plan = planSlices({
      object,
      existing: [existing],
      desired: desired(['1']),
      ports: PORTS,
      labels: LABELS,
      maxEndpointsPerSlice: 100,
    });
    assert.equal(plan.toUpdate[0]?.metadata.resourceVersion, '7');
    assert.deepEqual(plan.toUpdate[0]?.metadata.labels, { ...LABELS, team: 'db' });
  });
});

describe('desiredEndpoints', () => {
  it('publishes each backend with its decided conditions and topology, per family, sorted by address', () => {
    const got = desiredEndpoints(
      deepFreeze([
        { address: '198.18.0.10', family: 4, maintenance: false, tier: 0, probePort: 1, zone: 'a', hostname: 'db-1', nodeName: 'n1' },
        { address: '198.18.0.2', family: 4, maintenance: true, tier: 0, probePort: 1 },
        { address: '2001:db8::1', family: 6, maintenance: false, tier: 0, probePort: 1 },
        { address: '198.18.0.6', family: 4, maintenance: false, tier: 0, probePort: 1 },
      ] as const),
      new Map([
        ['198.18.0.10', { ready: true, serving: true, terminating: false }],
        ['198.18.0.2', { ready: false, serving: true, terminating: true }],
        ['2001:db8::1', { ready: false, serving: false, terminating: false }],
      ]),
    );
    assert.deepEqual(Object.fromEntries(got), {
      IPv4: [
        {
          addresses: ['198.18.0.10'],
          conditions: { ready: true, serving: true, terminating: false },
          hostname: 'db-1',
          nodeName: 'n1',
          zone: 'a',
        },
        { addresses: ['198.18.0.2'], conditions: { ready: false, serving: true, terminating: true } },
      ],
      IPv6: [{ addresses: ['2001:db8::1'], conditions: { ready: false, serving: false, terminating: false } }],
    });
  });
});
