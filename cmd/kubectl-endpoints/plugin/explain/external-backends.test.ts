import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointSlice } from '../../../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, MANAGED_BY_EXTERNAL_ENDPOINTS } from '../../../../api/labels.ts';
import { externalEndpointsSchema } from '../../../../api/v1alpha1/external-endpoints.ts';
import { deepFreeze } from '../../../../controllers/runtime/testing/deep-freeze.ts';
import { externalBackends } from './external-backends.ts';
import { NS } from './test-fixtures.ts';

const object = externalEndpointsSchema.parse({
  metadata: { name: 'db', namespace: NS, generation: 2 },
  spec: {
    endpoints: [
      { ip: '192.0.2.10' },
      { ip: '192.0.2.11' },
      { ip: '192.0.2.12', maintenance: true },
      { dnsName: 'db.example.com' },
      { dnsName: 'new.example.com' },
    ],
    ports: [{ port: 5432 }],
    healthCheck: { type: 'TCP' },
    failurePolicy: { minHealthy: 2, whenBelowMinHealthy: 'PublishNone' },
  },
  status: {
    observedGeneration: 2,
    readyCount: 1,
    totalCount: 4,
    conditions: [
      {
        type: 'Degraded',
        status: 'True',
        reason: 'BackendsUnhealthy',
        message: '1 of 4 backends unhealthy',
        lastTransitionTime: '2025-01-01T00:00:00Z',
      },
    ],
    endpoints: [
      { address: '192.0.2.10', healthy: true, consecutiveFailures: 0, consecutiveSuccesses: 5, lastProbeTime: '2025-01-01T00:00:10Z' },
      { address: '192.0.2.11', healthy: false, lastError: 'connection refused', consecutiveFailures: 3, consecutiveSuccesses: 0 },
      { address: '192.0.2.12', healthy: true, consecutiveFailures: 0, consecutiveSuccesses: 0 },
      { address: '198.51.100.7', resolvedFrom: 'db.example.com', healthy: true, consecutiveFailures: 0, consecutiveSuccesses: 1 },
    ],
  },
});

const slice: EndpointSlice = {
  metadata: { name: 'db-xyz', namespace: NS, labels: { [LABEL_MANAGED_BY]: MANAGED_BY_EXTERNAL_ENDPOINTS } },
  addressType: 'IPv4',
  ports: [{ name: '', port: 5432, protocol: 'TCP' }],
  endpoints: [
    { addresses: ['192.0.2.10'], conditions: { ready: true, serving: true, terminating: false } },
    { addresses: ['192.0.2.11'], conditions: { ready: false, serving: false, terminating: false } },
    { addresses: ['192.0.2.12'], conditions: { ready: false, serving: true, terminating: true } },
  ],
};
// Same addresses in a slice of another manager: must not count as published by the ExternalEndpoints controller.
const foreign: EndpointSlice = {
  ...slice,
  metadata: { name: 'db-other', namespace: NS, labels: { [LABEL_MANAGED_BY]: 'someone' } },
  endpoints: [{ addresses: ['198.51.100.7'] }],
};

describe('externalBackends: status per address, spec maintenance, publication from the managed slices', () => {
  const report = externalBackends(deepFreeze(object), deepFreeze([slice, foreign]));

  it('reports each probed address with its health and how it is published', () => {
    assert.deepEqual(
      report.backends.map((b) => [b.address, b.healthy, b.maintenance, b.published]),
      [
        ['192.0.2.10', true, false, 'ready'],
        ['192.0.2.11', false, false, 'notReady'],
        ['192.0.2.12', true, true, 'serving'],
        ['198.51.100.7', true, false, 'absent'],
      ],
    );
    assert.equal(report.backends[1]?.lastError, 'connection refused');
    assert.equal(report.backends[3]?.resolvedFrom, 'db.example.com');
  });

  it('lists declared backends without a status entry as pending', () => {
    assert.deepEqual(report.pending, [{ dnsName: 'new.example.com', maintenance: false }]);
  });

  it('carries the policy, counts and conditions', () => {
    assert.deepEqual(report.failurePolicy, { minHealthy: 2, whenBelowMinHealthy: 'PublishNone' });
    assert.equal(report.healthCheck, 'TCP');
    assert.equal(report.statusCurrent, true);
    assert.deepEqual(
      report.conditions.map((c) => `${c.type}=${c.status}`),
      ['Degraded=True'],
    );
  });

  it('flags a status computed from an older generation', () => {
    const stale = externalBackends(deepFreeze({ ...object, metadata: { ...object.metadata, generation: 3 } }), []);
    assert.equal(stale.statusCurrent, false);
  });
});
