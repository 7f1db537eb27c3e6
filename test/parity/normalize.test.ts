import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoints } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { describeDifferences } from './diff.ts';
import { normalizeEndpoints, normalizeSlices } from './normalize.ts';

const ep = (uid: string, rv: string, trigger: string, ports: { name: string; port: number }[]): Endpoints => ({
  metadata: {
    name: 'web',
    namespace: 'ns',
    uid,
    resourceVersion: rv,
    labels: { app: 'web', 'endpoints.kubernetes.io/managed-by': 'endpoint-controller' },
    annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': trigger },
  },
  subsets: [
    { addresses: [{ ip: '10.0.0.1', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: `pod-${uid}` } }], ports },
  ],
});

const slice = (name: string, ips: string[], ready: boolean): EndpointSlice => ({
  metadata: {
    name,
    namespace: 'ns',
    generateName: 'web-',
    uid: name,
    labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: `svc-${name}`, controller: true, blockOwnerDeletion: true }],
  },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  endpoints: ips.map((ip) => ({
    addresses: [ip],
    conditions: { ready, serving: ready, terminating: false },
    targetRef: { kind: 'Pod', name: ip, uid: `u-${name}` },
  })),
});

describe('parity normalisation', () => {
  it('ignores names, uids, resourceVersions and the trigger time of Endpoints', () => {
    const a = normalizeEndpoints(ep('a', '1', '2026-01-01T00:00:00Z', [{ name: 'x', port: 1 }]));
    const b = normalizeEndpoints(ep('b', '99', '2026-02-02T00:00:00Z', [{ name: 'x', port: 1 }]));
    assert.deepEqual(a, b);
  });
  it('compares port order as a set unless hash order is requested', () => {
    const p1 = [
      { name: 'a', port: 1 },
      { name: 'b', port: 2 },
    ];
    const p2 = [...p1].reverse();
    assert.deepEqual(normalizeEndpoints(ep('a', '1', 't', p1)), normalizeEndpoints(ep('a', '1', 't', p2)));
    assert.notDeepEqual(
      normalizeEndpoints(ep('a', '1', 't', p1), { hashOrder: true }),
      normalizeEndpoints(ep('a', '1', 't', p2), { hashOrder: true }),
    );
  });
  it('sees a readiness difference in Endpoints', () => {
    const a = ep('a', '1', 't', [{ name: 'x', port: 1 }]);
    const b = structuredClone(a);
    b.subsets = [{ notReadyAddresses: a.subsets?.[0]?.addresses ?? [], ports: a.subsets?.[0]?.ports ?? [] }];
    assert.ok(describeDifferences(normalizeEndpoints(a), normalizeEndpoints(b)).length > 0);
  });
  it('does not care which slice holds which endpoint, but counts slices', () => {
    const one = normalizeSlices([slice('s1', ['10.0.0.1', '10.0.0.2'], true), slice('s2', ['10.0.0.3'], true)]);
    const two = normalizeSlices([slice('x1', ['10.0.0.3', '10.0.0.1'], true), slice('x2', ['10.0.0.2'], true)]);
    assert.deepEqual(one, two);
    const merged = normalizeSlices([slice('m', ['10.0.0.1', '10.0.0.2', '10.0.0.3'], true)]);
    assert.notDeepEqual(one, merged);
  });
  it('reports an endpoint condition difference with its path', () => {
    const lines = describeDifferences(
      normalizeSlices([slice('s', ['10.0.0.1'], true)]),
      normalizeSlices([slice('s', ['10.0.0.1'], false)]),
    );
    assert.ok(
      lines.some((l) => l.includes('conditions.ready')),
      lines.join('\n'),
    );
  });
  it('compares the presence of the trigger-time annotation, not its value', () => {
    const a = normalizeEndpoints(ep('a', '1', '2026-01-01T00:00:00Z', [{ name: 'x', port: 1 }]));
    const without = ep('b', '1', 't', [{ name: 'x', port: 1 }]);
    without.metadata.annotations = {};
    assert.ok(describeDifferences(a, normalizeEndpoints(without)).some((l) => l.includes('last-change-trigger-time')));
  });
  it('leaves the trigger-time annotation out when asked (runs with faults), on Endpoints and slices', () => {
    const withIt = ep('a', '1', '2026-01-01T00:00:00Z', [{ name: 'x', port: 1 }]);
    const without = ep('a', '1', 't', [{ name: 'x', port: 1 }]);
    without.metadata.annotations = {};
    const opts = { ignoreTriggerTime: true };
    assert.deepEqual(describeDifferences(normalizeEndpoints(withIt, opts), normalizeEndpoints(without, opts)), []);
    const s = slice('s1', ['10.0.0.1'], true);
    const annotated = { ...s, metadata: { ...s.metadata, annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': 'x' } } };
    const bare = { ...s, metadata: { ...s.metadata, annotations: {} } };
    assert.notDeepEqual(normalizeSlices([annotated]), normalizeSlices([bare]));
    assert.deepEqual(normalizeSlices([annotated], opts), normalizeSlices([bare], opts));
  });
  it('maps owner UIDs to the current Service of each cluster: a stale owner is a difference', () => {
    const s = slice('s1', ['10.0.0.1'], true);
    const current = normalizeSlices([s], { serviceUids: new Map([['web', 'svc-s1']]) });
    const otherCluster = normalizeSlices(
      [{ ...s, metadata: { ...s.metadata, ownerReferences: [{ ...s.metadata.ownerReferences![0]!, uid: 'other' }] } }],
      {
        serviceUids: new Map([['web', 'other']]),
      },
    );
    assert.deepEqual(current, otherCluster);
    const stale = normalizeSlices([s], { serviceUids: new Map([['web', 'recreated']]) });
    assert.ok(describeDifferences(current, stale).some((l) => l.includes('uid') && l.includes('stale')));
    const gone = normalizeSlices([s], { serviceUids: new Map() });
    assert.ok(describeDifferences(current, gone).some((l) => l.includes('none')));
  });
  it('compares slice metadata as a multiset', () => {
    const labelled = (name: string, ip: string, extra: Record<string, string>): EndpointSlice => {
      const s = slice(name, [ip], true);
      return { ...s, metadata: { ...s.metadata, labels: { ...s.metadata.labels, ...extra } } };
    };
    // Same slice count, same set of metadata ({plain, marked}), different multiplicities.
    const one = normalizeSlices([labelled('a', '10.0.0.1', {}), labelled('b', '10.0.0.2', {}), labelled('c', '10.0.0.3', { x: 'y' })]);
    const two = normalizeSlices([
      labelled('a', '10.0.0.1', {}),
      labelled('b', '10.0.0.2', { x: 'y' }),
      labelled('c', '10.0.0.3', { x: 'y' }),
    ]);
    assert.ok(describeDifferences(one, two).some((l) => l.includes('meta')));
  });
});
