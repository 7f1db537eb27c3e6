import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoints } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { ConvergenceTracker, MAX_ENDPOINTS_ADDRESSES } from './convergence-tracker.ts';

const slice = (
  name: string,
  service: string,
  endpoints: [string, boolean][],
  managedBy = 'endpointslice-controller.k8s.io',
): EndpointSlice =>
  Object.freeze({
    metadata: { name, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': managedBy } },
    addressType: 'IPv4',
    endpoints: endpoints.map(([ip, ready]) => ({ addresses: [ip], conditions: { ready, serving: ready, terminating: false } })),
  });

const endpoints = (service: string, ready: string[], notReady: string[] = []): Endpoints =>
  Object.freeze({
    metadata: { name: service },
    subsets: [{ addresses: ready.map((ip) => ({ ip })), notReadyAddresses: notReady.map((ip) => ({ ip })) }],
  });

const expected = (entries: [string, boolean][]) =>
  new Map(entries.map(([ip, ready]) => [ip, { ready, serving: ready, terminating: false }]));

describe('ConvergenceTracker', () => {
  it('converges when both resources match, at the time of the event that completed them', () => {
    const t = new ConvergenceTracker();
    t.expect(
      'a',
      expected([
        ['10.0.0.1', true],
        ['10.0.0.2', false],
      ]),
      0,
    );
    assert.equal(t.convergedAt, undefined);
    t.applySlice(
      'ADDED',
      slice('a-1', 'a', [
        ['10.0.0.1', true],
        ['10.0.0.2', false],
      ]),
      5,
    );
    assert.equal(t.slicesConvergedAt, 5);
    assert.equal(t.convergedAt, undefined);
    t.applyEndpoints('ADDED', endpoints('a', ['10.0.0.1'], ['10.0.0.2']), 9);
    assert.equal(t.endpointsConvergedAt, 9);
    assert.equal(t.convergedAt, 9);
  });

  it('needs endpoints spread over several slices to add up exactly, once each', () => {
    const t = new ConvergenceTracker();
    t.expect(
      'a',
      expected([
        ['1.1.1.1', true],
        ['1.1.1.2', true],
        ['1.1.1.3', true],
      ]),
      0,
    );
    t.applySlice(
      'ADDED',
      slice('a-1', 'a', [
        ['1.1.1.1', true],
        ['1.1.1.2', true],
      ]),
      1,
    );
    assert.equal(t.slicesConvergedAt, undefined);
    t.applySlice(
      'ADDED',
      slice('a-2', 'a', [
        ['1.1.1.2', true],
        ['1.1.1.3', true],
      ]),
      2,
    );
    assert.equal(t.slicesConvergedAt, undefined, 'an endpoint in two slices is wrong');
    t.applySlice('MODIFIED', slice('a-2', 'a', [['1.1.1.3', true]]), 3);
    assert.equal(t.slicesConvergedAt, 3);
  });

  it('ignores slices of other managers (mirroring)', () => {
    const t = new ConvergenceTracker();
    t.expect('a', expected([['1.1.1.1', true]]), 0);
    t.applySlice('ADDED', slice('m', 'a', [['1.1.1.1', true]], 'endpointslicemirroring-controller.k8s.io'), 1);
    assert.equal(t.slicesConvergedAt, undefined);
  });

  it('un-converges on a new expectation (a flip) and re-converges when the write shows it', () => {
    const t = new ConvergenceTracker();
    t.expect('a', expected([['1.1.1.1', true]]), 0);
    t.applySlice('ADDED', slice('a-1', 'a', [['1.1.1.1', true]]), 1);
    t.applyEndpoints('ADDED', endpoints('a', ['1.1.1.1']), 1);
    assert.equal(t.convergedAt, 1);
    t.expectReady('a', '1.1.1.1', false, 10);
    assert.equal(t.convergedAt, undefined);
    t.applySlice('MODIFIED', slice('a-1', 'a', [['1.1.1.1', false]]), 12);
    t.applyEndpoints('MODIFIED', endpoints('a', [], ['1.1.1.1']), 14);
    assert.equal(t.convergedAt, 14);
  });

  it('treats a deleted slice as missing endpoints', () => {
    const t = new ConvergenceTracker();
    t.expect('a', expected([['1.1.1.1', true]]), 0);
    t.applySlice('ADDED', slice('a-1', 'a', [['1.1.1.1', true]]), 1);
    t.applySlice('DELETED', slice('a-1', 'a', [['1.1.1.1', true]]), 2);
    assert.equal(t.slicesConvergedAt, undefined);
    assert.deepEqual(t.pending, { slices: 1, endpoints: 1 });
  });

  it('accepts a truncated Endpoints object above the cap: any subset of the right size, ready first', () => {
    const t = new ConvergenceTracker();
    const n = MAX_ENDPOINTS_ADDRESSES + 5;
    const ips = Array.from({ length: n }, (_, i) => `10.1.${Math.floor(i / 256)}.${i % 256}`);
    t.expect('big', expected(ips.map((ip) => [ip, true])), 0);
    t.applyEndpoints('ADDED', endpoints('big', ips.slice(0, MAX_ENDPOINTS_ADDRESSES - 1)), 1);
    assert.equal(t.endpointsConvergedAt, undefined, 'one short of the cap');
    t.applyEndpoints('MODIFIED', endpoints('big', ips.slice(5)), 2);
    assert.equal(t.endpointsConvergedAt, 2);
    t.applyEndpoints('MODIFIED', endpoints('big', [...ips.slice(6), '10.9.9.9']), 3);
    assert.equal(t.endpointsConvergedAt, undefined, 'an unexpected address');
  });

  it('resolves whenConverged once both converge', async () => {
    const t = new ConvergenceTracker();
    t.expect('a', expected([['1.1.1.1', true]]), 0);
    const done = t.whenConverged();
    t.applySlice('ADDED', slice('a-1', 'a', [['1.1.1.1', true]]), 4);
    t.applyEndpoints('ADDED', endpoints('a', ['1.1.1.1']), 7);
    assert.equal(await done, 7);
  });

  it('checks full endpoint content: conditions, nodeName, zone and ports, not only IP and readiness', () => {
    const port = { name: 'http', port: 8080, protocol: 'TCP' };
    const t = new ConvergenceTracker({ ports: [port] });
    t.expect('a', new Map([['1.1.1.1', { ready: true, serving: true, terminating: false, nodeName: 'n1', zone: 'z1' }]]), 0);
    const full = (over: Record<string, unknown>, ports = [port]): EndpointSlice =>
      Object.freeze({
        metadata: {
          name: 'a-1',
          labels: { 'kubernetes.io/service-name': 'a', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
        },
        addressType: 'IPv4',
        ports,
        endpoints: [
          { addresses: ['1.1.1.1'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1', zone: 'z1', ...over },
        ],
      });
    t.applySlice('ADDED', full({ zone: 'z2' }), 1);
    assert.equal(t.slicesConvergedAt, undefined, 'wrong zone');
    t.applySlice('MODIFIED', full({ conditions: { ready: true, serving: true, terminating: true } }), 2);
    assert.equal(t.slicesConvergedAt, undefined, 'terminating');
    t.applySlice('MODIFIED', full({}, [{ ...port, port: 80 }]), 3);
    assert.equal(t.slicesConvergedAt, undefined, 'wrong port');
    t.applySlice('MODIFIED', full({}), 4);
    assert.equal(t.slicesConvergedAt, 4);
    const ep = (nodeName: string, ports = [port]): Endpoints =>
      Object.freeze({ metadata: { name: 'a' }, subsets: [{ addresses: [{ ip: '1.1.1.1', nodeName }], ports }] });
    t.applyEndpoints('ADDED', ep('n2'), 5);
    assert.equal(t.endpointsConvergedAt, undefined, 'wrong nodeName');
    t.applyEndpoints('MODIFIED', ep('n1', []), 6);
    assert.equal(t.endpointsConvergedAt, undefined, 'no ports');
    t.applyEndpoints('MODIFIED', ep('n1'), 7);
    assert.equal(t.convergedAt, 7);
  });
});
