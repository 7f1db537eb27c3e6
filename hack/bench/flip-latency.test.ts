import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoints } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { FlipLatencyRecorder } from './flip-latency.ts';

const slice = (endpoints: [string, boolean][]): EndpointSlice =>
  Object.freeze({
    metadata: { name: 's', labels: { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType: 'IPv4',
    endpoints: endpoints.map(([ip, ready]) => ({ addresses: [ip], conditions: { ready } })),
  });
const endpoints = (ready: string[], notReady: string[]): Endpoints =>
  Object.freeze({
    metadata: { name: 'e' },
    subsets: [{ addresses: ready.map((ip) => ({ ip })), notReadyAddresses: notReady.map((ip) => ({ ip })) }],
  });

describe('FlipLatencyRecorder', () => {
  it('records the time from the flip to the first write that shows it, per resource', () => {
    const r = new FlipLatencyRecorder();
    r.sent('1.1.1.1', false, 100);
    r.observeSlice(slice([['1.1.1.1', true]]), 110);
    assert.deepEqual(r.sliceLatencies, [], 'a write still showing the old state does not count');
    r.observeSlice(slice([['1.1.1.1', false]]), 130);
    r.observeSlice(slice([['1.1.1.1', false]]), 150);
    assert.deepEqual(r.sliceLatencies, [30], 'only the first write that shows it');
    assert.ok(r.isPending('1.1.1.1'), 'still waiting for Endpoints');
    r.observeEndpoints(endpoints([], ['1.1.1.1']), 170);
    assert.deepEqual(r.endpointsLatencies, [70]);
    assert.equal(r.pending, 0);
  });

  it('matches a flip to ready in the addresses list', () => {
    const r = new FlipLatencyRecorder();
    r.sent('1.1.1.2', true, 0);
    r.observeEndpoints(endpoints([], ['1.1.1.2']), 5);
    r.observeEndpoints(endpoints(['1.1.1.2'], []), 8);
    assert.deepEqual(r.endpointsLatencies, [8]);
  });

  it('ignores slices of other managers', () => {
    const r = new FlipLatencyRecorder();
    r.sent('1.1.1.1', false, 0);
    const foreign = {
      ...slice([['1.1.1.1', false]]),
      metadata: { name: 'm', labels: { 'endpointslice.kubernetes.io/managed-by': 'other' } },
    };
    r.observeSlice(foreign, 5);
    assert.deepEqual(r.sliceLatencies, []);
  });

  it('expires flips never seen, counting them apart from the samples', () => {
    const r = new FlipLatencyRecorder();
    r.sent('1.1.1.1', false, 0);
    r.sent('1.1.1.2', false, 50);
    r.expire(10);
    assert.equal(r.timedOut, 1);
    assert.ok(!r.isPending('1.1.1.1'));
    assert.ok(r.isPending('1.1.1.2'));
  });

  it('waits for the slice alone when the Service is above the Endpoints cap', () => {
    const r = new FlipLatencyRecorder();
    r.sent('10.0.0.9', false, 0, false);
    r.observeEndpoints(Object.freeze({ metadata: { name: 's' }, subsets: [{ notReadyAddresses: [{ ip: '10.0.0.9' }] }] }), 5);
    assert.deepEqual(r.endpointsLatencies, [], 'not a sample: the truncated subset shows it only by chance');
    r.observeSlice(
      Object.freeze({
        metadata: { name: 's-1', labels: { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.0.0.9'], conditions: { ready: false } }],
      }),
      7,
    );
    assert.equal(r.pending, 0);
    assert.deepEqual(r.sliceLatencies, [7]);
  });
});
