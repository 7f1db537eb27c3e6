import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoints } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { StaleEndpointMeter } from './stale-endpoints.ts';

const slice = (name: string, ready: string[], notReady: string[] = [], managedBy = 'endpointslice-controller.k8s.io'): EndpointSlice =>
  Object.freeze({
    metadata: { name, labels: { 'kubernetes.io/service-name': 's', 'endpointslice.kubernetes.io/managed-by': managedBy } },
    addressType: 'IPv4',
    endpoints: [
      ...ready.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
      ...notReady.map((ip) => ({ addresses: [ip], conditions: { ready: false } })),
    ],
  });
const endpoints = (ready: string[], notReady: string[] = []): Endpoints =>
  Object.freeze({
    metadata: { name: 's' },
    subsets: [{ addresses: ready.map((ip) => ({ ip })), notReadyAddresses: notReady.map((ip) => ({ ip })) }],
  });

describe('StaleEndpointMeter', () => {
  it('integrates endpoints published ready after their Pod went away, until the write that drops them', () => {
    const m = new StaleEndpointMeter();
    m.applySlice('ADDED', slice('a', ['1', '2']), 0);
    m.applyEndpoints('ADDED', endpoints(['1', '2']), 0);
    m.podNotReady('1', 1000); // graceful delete sent
    m.podNotReady('2', 2000);
    assert.deepEqual(m.current, { slices: 2, endpoints: 2 });
    m.applySlice('MODIFIED', slice('a', ['2'], ['1']), 3000); // 1 published not ready: no longer stale
    m.applyEndpoints('MODIFIED', endpoints([], ['1', '2']), 4000);
    m.applySlice('DELETED', slice('a', ['2']), 6000);
    // slices: '1' stale 1..3 s, '2' stale 2..6 s = 6 endpoint-s; Endpoints: '1' 1..4 s, '2' 2..4 s = 5 endpoint-s.
    assert.deepEqual(m.read(10_000), { slices: 6, endpoints: 5 });
  });

  it('counts nothing for endpoints that are late to appear, and nothing once a Pod is ready again', () => {
    const m = new StaleEndpointMeter();
    m.podNotReady('1', 0);
    m.podReady('1', 500);
    m.applySlice('ADDED', slice('a', ['1']), 1000);
    assert.deepEqual(m.read(5000), { slices: 0, endpoints: 0 });
  });

  it('counts an endpoint once while two slices publish it, and ignores mirrored slices', () => {
    const m = new StaleEndpointMeter();
    m.applySlice('ADDED', slice('a', ['1']), 0);
    m.applySlice('ADDED', slice('b', ['1']), 0);
    m.applySlice('ADDED', slice('m', ['1'], [], 'endpointslicemirroring-controller.k8s.io'), 0);
    m.podNotReady('1', 0);
    m.applySlice('DELETED', slice('a', ['1']), 1000);
    assert.equal(m.current.slices, 1, 'still in b');
    m.applySlice('MODIFIED', slice('b', []), 2000);
    assert.deepEqual(m.read(3000), { slices: 2, endpoints: 0 });
  });
});
