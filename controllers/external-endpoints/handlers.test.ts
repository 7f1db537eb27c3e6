import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_SERVICE_NAME } from '../../api/labels.ts';
import type { ExternalEndpoints } from '../../api/v1alpha1/external-endpoints.ts';
import { metricValue } from '../runtime/runtime-test-helpers.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { endpointSliceEventHandler, probeResultHandler, serviceEventHandler } from './handlers.ts';
import { BackendHealthStore } from './health-store.ts';
import { ExternalEndpointsMetrics } from './metrics.ts';
import type { ProbeResult } from './probe/prober.ts';
import { MemoryStore, makeObject, makeService } from './test-fixtures.ts';
import { EndpointSliceTracker } from '../shared/endpoint-slice-tracker.ts';

function recordingQueue() {
  const keys: string[] = [];
  return { keys, enqueue: (k: string) => keys.push(k) };
}

describe('serviceEventHandler', () => {
  const objects = new MemoryStore<ExternalEndpoints>([makeObject({ endpoints: [], ports: [{ port: 80 }] })]);

  it('enqueues the same-named object when a Service appears or goes, and ignores Services without one', () => {
    const q = recordingQueue();
    const h = serviceEventHandler(q, objects);
    h.onAdd?.(deepFreeze(makeService()));
    h.onDelete?.(deepFreeze(makeService()), false);
    h.onAdd?.(deepFreeze({ ...makeService(), metadata: { name: 'other', namespace: 'prod' } }));
    assert.deepEqual(q.keys, ['prod/db', 'prod/db']);
  });

  it('enqueues on a selector or port change, not on a label change', () => {
    const q = recordingQueue();
    const h = serviceEventHandler(q, objects);
    const svc = makeService();
    h.onUpdate?.(svc, { ...svc, metadata: { ...svc.metadata, labels: { a: 'b' } } });
    assert.deepEqual(q.keys, []);
    h.onUpdate?.(svc, { ...svc, spec: { ...svc.spec, selector: { app: 'db' } } });
    h.onUpdate?.(svc, { ...svc, spec: { ...svc.spec, ports: [{ name: 'pg', port: 6432 }] } });
    assert.deepEqual(q.keys, ['prod/db', 'prod/db']);
  });
});

describe('endpointSliceEventHandler', () => {
  it('maps a slice to its object by the service-name label and clears the tracker on deletion', () => {
    const q = recordingQueue();
    const tracker = new EndpointSliceTracker();
    const slice: EndpointSlice = deepFreeze({
      metadata: { name: 'db-1', namespace: 'prod', uid: 'uid-db-1', labels: { [LABEL_SERVICE_NAME]: 'db' }, generation: 1 },
      addressType: 'IPv4',
    });
    tracker.update(slice);
    assert.equal(tracker.staleSlices('prod', 'db', []), true);
    const h = endpointSliceEventHandler(q, tracker);
    h.onDelete?.(slice, false);
    assert.deepEqual(q.keys, ['prod/db']);
    assert.equal(tracker.staleSlices('prod', 'db', []), false);
    assert.equal(tracker.has(slice), false);
  });
});

describe('probeResultHandler', () => {
  const ok: ProbeResult = { ok: true, latencyMs: 4 };
  const refused: ProbeResult = { ok: false, latencyMs: 1, error: { reason: 'Refused', message: 'refused' } };
  const aborted: ProbeResult = { ok: false, latencyMs: 0, error: { reason: 'Aborted', message: 'aborted' } };
  const labels = { namespace: 'prod', name: 'db', address: '198.18.0.2' };

  it('enqueues only significant results, records metrics, and writes nothing itself', async () => {
    const registry = new Registry();
    const metrics = new ExternalEndpointsMetrics(registry);
    const health = new BackendHealthStore();
    health.track('prod/db', '198.18.0.2', { healthyThreshold: 1, unhealthyThreshold: 2, minDwellMs: 0 });
    const q = recordingQueue();
    const handle = probeResultHandler({ health, metrics, queue: q });
    const key = BackendHealthStore.jobKey('prod/db', '198.18.0.2');
    const target = { address: '198.18.0.2', port: 80 };
    for (const [i, result] of [ok, ok, refused, refused, aborted].entries()) {
      handle({ key, target, result, startedAt: i * 1000, finishedAt: i * 1000 + 1 });
    }
    assert.deepEqual(q.keys, ['prod/db', 'prod/db']); // Unknown->Healthy, Healthy->Unhealthy
    assert.equal(await metricValue(registry, 'external_endpoints_probe_success', labels), 0);
    assert.equal(
      await metricValue(registry, 'external_endpoints_probe_duration_seconds', labels, 'external_endpoints_probe_duration_seconds_count'),
      4,
    );
    assert.equal(await metricValue(registry, 'external_endpoints_backend_transitions_total', { ...labels, to: 'Unhealthy' }), 1);
    assert.equal(await metricValue(registry, 'external_endpoints_backend_transitions_total', { ...labels, to: 'Healthy' }), 1);
  });

  it('ignores results of jobs no longer tracked', () => {
    const q = recordingQueue();
    const handle = probeResultHandler({
      health: new BackendHealthStore(),
      metrics: new ExternalEndpointsMetrics(new Registry()),
      queue: q,
    });
    handle({ key: 'prod/db|198.18.0.2', target: { address: '198.18.0.2', port: 80 }, result: ok, startedAt: 0, finishedAt: 1 });
    assert.deepEqual(q.keys, []);
  });
});
