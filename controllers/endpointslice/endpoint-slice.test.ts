import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_HEADLESS, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../../api/labels.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { generateNamePrefix, newEndpointSlice, ownedBy, placeholderSliceEqual, serviceKeyForSlice, sliceLabels } from './endpoint-slice.ts';
import { DEFAULT_PORTS, MANAGED_BY, makeService, makeSlice } from './test-fixtures.ts';

const RESERVED = { [LABEL_SERVICE_NAME]: 'foo', [LABEL_MANAGED_BY]: MANAGED_BY };
const clusterIP = (labels?: Record<string, string>) =>
  makeService({ metadata: labels === undefined ? {} : { labels }, spec: { clusterIP: '1.1.1.1' } });
const headless = (labels?: Record<string, string>) =>
  makeService({ metadata: labels === undefined ? {} : { labels }, spec: { clusterIP: 'None' } });

describe('sliceLabels (upstream TestSetEndpointSliceLabels)', () => {
  const cases: {
    name: string;
    given: { current?: Record<string, string>; service: Service };
    want: { labels: Record<string, string>; changed: boolean };
  }[] = [
    { name: 'Service without labels, empty slice', given: { service: clusterIP() }, want: { labels: RESERVED, changed: false } },
    {
      name: 'headless Service with labels, empty slice',
      given: { service: headless({ foo: 'bar' }) },
      want: { labels: { ...RESERVED, [LABEL_HEADLESS]: '', foo: 'bar' }, changed: true },
    },
    {
      name: 'headless Service without labels, empty slice',
      given: { service: headless() },
      want: { labels: { ...RESERVED, [LABEL_HEADLESS]: '' }, changed: false },
    },
    {
      name: 'non-headless Service carrying the headless label: ignored',
      given: { service: clusterIP({ [LABEL_HEADLESS]: '' }) },
      want: { labels: RESERVED, changed: false },
    },
    {
      name: 'headless Service changed to ClusterIP (Service keeps the headless label): reserved drift is no change',
      given: { current: { ...RESERVED, [LABEL_HEADLESS]: '' }, service: clusterIP({ [LABEL_HEADLESS]: '' }) },
      want: { labels: RESERVED, changed: false },
    },
    {
      name: 'headless Service changed to ClusterIP: reserved drift is no change',
      given: { current: { ...RESERVED, [LABEL_HEADLESS]: '' }, service: clusterIP() },
      want: { labels: RESERVED, changed: false },
    },
    {
      name: 'headless Service and slice with the same labels',
      given: { current: { ...RESERVED, foo: 'bar' }, service: headless({ foo: 'bar' }) },
      want: { labels: { ...RESERVED, [LABEL_HEADLESS]: '', foo: 'bar' }, changed: false },
    },
    {
      name: 'Service with labels, empty slice',
      given: { service: clusterIP({ foo: 'bar' }) },
      want: { labels: { ...RESERVED, foo: 'bar' }, changed: true },
    },
    {
      name: 'slice with labels, Service without labels',
      given: { current: { ...RESERVED, foo: 'bar' }, service: clusterIP() },
      want: { labels: RESERVED, changed: true },
    },
    {
      name: 'slice with headless label, Service with ClusterIP',
      given: { current: { ...RESERVED, [LABEL_HEADLESS]: '' }, service: clusterIP() },
      want: { labels: RESERVED, changed: false },
    },
    {
      name: 'slice with reserved labels, Service with labels',
      given: { current: RESERVED, service: clusterIP({ foo: 'bar' }) },
      want: { labels: { ...RESERVED, foo: 'bar' }, changed: true },
    },
    {
      name: 'hostile Service with only reserved labels cannot hijack them',
      given: {
        current: RESERVED,
        service: clusterIP({ [LABEL_SERVICE_NAME]: 'bad', [LABEL_MANAGED_BY]: 'actor', [LABEL_HEADLESS]: 'invalid' }),
      },
      want: { labels: RESERVED, changed: false },
    },
    {
      name: 'hostile Service with reserved and other labels: only the others count',
      given: { current: RESERVED, service: clusterIP({ [LABEL_SERVICE_NAME]: 'bad', [LABEL_MANAGED_BY]: 'actor', foo: 'bar' }) },
      want: { labels: { ...RESERVED, foo: 'bar' }, changed: true },
    },
    {
      name: 'a changed label value is a change',
      given: { current: { ...RESERVED, foo: 'bar' }, service: clusterIP({ foo: 'baz' }) },
      want: { labels: { ...RESERVED, foo: 'baz' }, changed: true },
    },
    {
      name: 'an empty Service clusterIP counts as headless',
      given: { service: makeService({ spec: { clusterIP: '' } }) },
      want: { labels: { ...RESERVED, [LABEL_HEADLESS]: '' }, changed: false },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { current, service } = deepFreeze(c.given);
      assert.deepEqual(sliceLabels(current, service, MANAGED_BY), c.want);
    });
  }
});

describe('newEndpointSlice (upstream TestNewEndpointSlice)', () => {
  const owner = {
    apiVersion: 'v1',
    kind: 'Service',
    name: 'foo',
    uid: 'svc-uid-1',
    controller: true,
    blockOwnerDeletion: true,
  };
  const cases: { name: string; given: Service; wantLabels: Record<string, string> }[] = [
    { name: 'create slice from Service', given: makeService(), wantLabels: RESERVED },
    {
      name: 'Service labels are copied',
      given: makeService({ metadata: { labels: { foo: 'bar' } } }),
      wantLabels: { ...RESERVED, foo: 'bar' },
    },
    {
      name: 'headless Service gets the headless label',
      given: makeService({ spec: { clusterIP: 'None' } }),
      wantLabels: { ...RESERVED, [LABEL_HEADLESS]: '' },
    },
    {
      name: 'headless Service with labels',
      given: makeService({ metadata: { labels: { foo: 'bar' } }, spec: { clusterIP: 'None' } }),
      wantLabels: { ...RESERVED, [LABEL_HEADLESS]: '', foo: 'bar' },
    },
    {
      name: 'a hostile Service cannot override reserved labels',
      given: makeService({ metadata: { labels: { [LABEL_SERVICE_NAME]: 'bad', [LABEL_MANAGED_BY]: 'actor', foo: 'bar' } } }),
      wantLabels: { ...RESERVED, foo: 'bar' },
    },
    {
      name: 'Service annotations are not copied',
      given: makeService({ metadata: { annotations: { 'x/y': 'z' } } }),
      wantLabels: RESERVED,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(newEndpointSlice(deepFreeze(c.given), DEFAULT_PORTS, 'IPv4', MANAGED_BY), {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { generateName: 'foo-', namespace: 'test', labels: c.wantLabels, ownerReferences: [owner] },
        addressType: 'IPv4',
        endpoints: [],
        ports: DEFAULT_PORTS,
      });
    });
  }
});

describe('generateNamePrefix', () => {
  const cases: { name: string; given: string; want: string }[] = [
    { name: 'a Service name gets a dash', given: 'foo', want: 'foo-' },
    { name: 'a dotted name is a valid subdomain prefix', given: 'a.b', want: 'a.b-' },
    { name: 'an invalid name stays bare', given: 'Foo_Bar', want: 'Foo_Bar' },
    { name: 'a name too long for a subdomain stays bare', given: 'a'.repeat(253), want: 'a'.repeat(253) },
  ];
  for (const c of cases) it(c.name, () => assert.equal(generateNamePrefix(c.given), c.want));
});

describe('ownedBy', () => {
  const svc = makeService();
  const cases: { name: string; given: EndpointSlice; want: boolean }[] = [
    { name: 'owner reference with the Service uid', given: makeSlice('s', []), want: true },
    { name: 'an earlier Service of the same name', given: makeSlice('s', [], { ownerUID: 'old-uid' }), want: false },
    {
      name: 'wrong kind',
      given: (() => {
        const s = makeSlice('s', []);
        s.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Endpoints', name: 'foo', uid: 'svc-uid-1' }];
        return s;
      })(),
      want: false,
    },
    {
      name: 'wrong apiVersion',
      given: (() => {
        const s = makeSlice('s', []);
        s.metadata.ownerReferences = [{ apiVersion: 'v2', kind: 'Service', name: 'foo', uid: 'svc-uid-1' }];
        return s;
      })(),
      want: false,
    },
    {
      name: 'no owner references',
      given: (() => {
        const s = makeSlice('s', []);
        delete s.metadata.ownerReferences;
        return s;
      })(),
      want: false,
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(ownedBy(deepFreeze(c.given), svc), c.want));
});

describe('serviceKeyForSlice (upstream TestServiceControllerKey)', () => {
  const cases: { name: string; given: EndpointSlice; want: string | undefined }[] = [
    { name: 'service-name label gives namespace/name', given: makeSlice('s', []), want: 'test/foo' },
    { name: 'no labels', given: makeSlice('s', [], { labels: {} }), want: undefined },
    { name: 'empty service-name label', given: makeSlice('s', [], { labels: { [LABEL_SERVICE_NAME]: '' } }), want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.equal(serviceKeyForSlice(deepFreeze(c.given)), c.want));
});

describe('placeholderSliceEqual (upstream TestPlaceHolderSliceCompare)', () => {
  const placeholder = newEndpointSlice(makeService(), [], 'IPv4', MANAGED_BY);
  const existing = (edit: (s: EndpointSlice) => void): EndpointSlice => {
    const s = makeSlice('foo-abcde', [], { ports: [] });
    edit(s);
    return s;
  };
  const cases: { name: string; given: EndpointSlice; want: boolean }[] = [
    { name: 'an existing empty slice of the Service', given: existing(() => {}), want: true },
    { name: 'only the name differs', given: existing((s) => (s.metadata.name = 'other')), want: true },
    {
      name: 'creationTimestamp and annotations differ',
      given: existing((s) => Object.assign(s.metadata, { creationTimestamp: '2026-01-01T00:00:00Z', annotations: { a: 'b' } })),
      want: true,
    },
    { name: 'ports null equals ports []', given: existing((s) => (s.ports = null)), want: true },
    { name: 'endpoints null equals endpoints []', given: existing((s) => (s.endpoints = null)), want: true },
    { name: 'owner references are ignored (v1.36.4 and v1.37.2)', given: existing((s) => (s.metadata.ownerReferences = [])), want: true },
    { name: 'a label differs', given: existing((s) => (s.metadata.labels = { ...s.metadata.labels, extra: 'x' })), want: false },
    {
      name: 'a label set to "" equals a missing one (Go map lookup)',
      given: existing((s) => (s.metadata.labels = { ...s.metadata.labels, [LABEL_HEADLESS]: '' })),
      want: true,
    },
    { name: 'namespace differs', given: existing((s) => (s.metadata.namespace = 'other')), want: false },
    { name: 'address type differs', given: existing((s) => (s.addressType = 'IPv6')), want: false },
    { name: 'ports differ', given: existing((s) => (s.ports = DEFAULT_PORTS)), want: false },
    { name: 'has an endpoint', given: existing((s) => (s.endpoints = [{ addresses: ['10.0.0.1'] }])), want: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(placeholderSliceEqual(deepFreeze(c.given), placeholder), c.want);
      assert.equal(placeholderSliceEqual(placeholder, c.given), c.want);
    });
  }
});
