import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { metricValue } from '../runtime/runtime-test-helpers.ts';
import { ExternalEndpointsMetrics } from './metrics.ts';

const A = { namespace: 'prod', name: 'db', address: '198.18.0.2' };
const B = { namespace: 'prod', name: 'db', address: '198.18.0.6' };

async function series(registry: Registry): Promise<string[]> {
  const out: string[] = [];
  for (const m of await registry.getMetricsAsJSON()) {
    for (const v of m.values) out.push(`${(v as { metricName?: string }).metricName ?? m.name}${JSON.stringify(v.labels)}`);
  }
  return out.filter((s) => s.startsWith('external_endpoints')).sort();
}

describe('ExternalEndpointsMetrics', () => {
  it('records probe success, duration and transitions per backend, with transitions starting at 0', async () => {
    const registry = new Registry();
    const m = new ExternalEndpointsMetrics(registry);
    m.observeProbe('prod', 'db', '198.18.0.2', false, 0.003);
    m.observeTransition('prod', 'db', '198.18.0.2', 'Unhealthy');
    assert.equal(await metricValue(registry, 'external_endpoints_probe_success', A), 0);
    assert.equal(
      await metricValue(registry, 'external_endpoints_probe_duration_seconds', A, 'external_endpoints_probe_duration_seconds_count'),
      1,
    );
    assert.equal(await metricValue(registry, 'external_endpoints_backend_transitions_total', { ...A, to: 'Unhealthy' }), 1);
    assert.equal(await metricValue(registry, 'external_endpoints_backend_transitions_total', { ...A, to: 'Healthy' }), 0);
  });

  it('deletes the series of a backend that leaves, and of an object that goes', async () => {
    const registry = new Registry();
    const m = new ExternalEndpointsMetrics(registry);
    m.observeProbe('prod', 'db', '198.18.0.2', true, 0.001);
    m.observeProbe('prod', 'db', '198.18.0.6', true, 0.001);
    m.observeProbe('prod', 'web', '198.18.0.2', true, 0.001);
    m.setPublished('prod', 'db', { ready: 2, not_ready: 0, draining: 0 });
    m.forgetBackend('prod', 'db', '198.18.0.2');
    assert.equal(await metricValue(registry, 'external_endpoints_probe_success', A), undefined);
    assert.equal(await metricValue(registry, 'external_endpoints_probe_success', B), 1);
    m.forgetObject('prod', 'db');
    assert.deepEqual(
      (await series(registry)).filter((s) => s.includes('"name":"db"')),
      [],
    );
    assert.equal(await metricValue(registry, 'external_endpoints_probe_success', { ...A, name: 'web' }), 1);
  });

  it('shares series when constructed twice on one registry', () => {
    const registry = new Registry();
    const a = new ExternalEndpointsMetrics(registry);
    const b = new ExternalEndpointsMetrics(registry);
    assert.equal(a.probeSuccess, b.probeSuccess);
  });
});
