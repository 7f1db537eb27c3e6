import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { metricValue } from '../runtime/runtime-test-helpers.ts';
import { EndpointSliceMetrics } from './metrics.ts';
import type { PortGroupEfficiency } from './plan.ts';

// Upstream metrics/cache_test.go, read through the exported gauges.

const group = (key: string, endpoints: number, slices: number): PortGroupEfficiency => ({ key, endpoints, slices });
const efficient = [group('80', 45, 1), group('80+443', 35, 1)];
const inefficient = [group('80', 12, 5), group('80+443', 18, 8)];

async function gauges(registry: Registry) {
  const v = (n: string) => metricValue(registry, `endpoint_slice_controller_${n}`, {});
  return { desired: await v('desired_endpoint_slices'), actual: await v('num_endpoint_slices'), endpoints: await v('endpoints_desired') };
}

describe('EndpointSliceMetrics cache (upstream TestNumEndpointsAndSlices)', () => {
  it('adds, replaces and deletes Services', async () => {
    const registry = new Registry();
    const m = new EndpointSliceMetrics(registry, 100);
    const steps: { name: string; run: () => void; want: { desired: number; actual: number; endpoints: number } }[] = [
      {
        name: 'svc1 inefficient',
        run: () => m.updateServicePortCache('ns1/svc1', inefficient),
        want: { desired: 2, actual: 13, endpoints: 30 },
      },
      {
        name: 'svc2 efficient',
        run: () => m.updateServicePortCache('ns1/svc2', efficient),
        want: { desired: 4, actual: 15, endpoints: 110 },
      },
      {
        name: 'svc3 inefficient',
        run: () => m.updateServicePortCache('ns1/svc3', inefficient),
        want: { desired: 6, actual: 28, endpoints: 140 },
      },
      {
        name: 'svc1 becomes efficient',
        run: () => m.updateServicePortCache('ns1/svc1', efficient),
        want: { desired: 6, actual: 17, endpoints: 190 },
      },
      { name: 'svc3 deleted', run: () => m.deleteService('ns1/svc3'), want: { desired: 4, actual: 4, endpoints: 160 } },
    ];
    for (const step of steps) {
      step.run();
      assert.deepEqual(await gauges(registry), step.want, step.name);
    }
  });

  it('counts at least one desired slice per Service: the placeholder (upstream TestPlaceHolderSlice)', async () => {
    const registry = new Registry();
    const m = new EndpointSliceMetrics(registry, 100);
    m.updateServicePortCache('ns1/svc1', [group('80', 0, 1), group('80+443', 0, 1)]);
    assert.deepEqual(await gauges(registry), { desired: 1, actual: 2, endpoints: 0 });
  });

  it('sizes desired slices with maxEndpointsPerSlice', async () => {
    const registry = new Registry();
    new EndpointSliceMetrics(registry, 50).updateServicePortCache('ns/s', [group('80', 101, 3)]);
    assert.equal((await gauges(registry)).desired, 3);
  });
});

describe('EndpointSliceMetrics services by traffic distribution (upstream TestCache_ServicesByTrafficDistribution)', () => {
  it('tracks each Service under at most one value, keeping emptied values at 0', async () => {
    const registry = new Registry();
    const m = new EndpointSliceMetrics(registry, 100);
    const count = (td: string) =>
      metricValue(registry, 'endpoint_slice_controller_services_count_by_traffic_distribution', { traffic_distribution: td });
    const steps: { name: string; run: () => void; want: Record<string, number | undefined> }[] = [
      { name: 'service1 PreferClose', run: () => m.updateTrafficDistribution('ns1/service1', 'PreferClose'), want: { PreferClose: 1 } },
      { name: 'idempotent', run: () => m.updateTrafficDistribution('ns1/service1', 'PreferClose'), want: { PreferClose: 1 } },
      { name: 'service2 PreferClose', run: () => m.updateTrafficDistribution('ns1/service2', 'PreferClose'), want: { PreferClose: 2 } },
      {
        name: 'service3 FutureValue',
        run: () => m.updateTrafficDistribution('ns2/service3', 'FutureValue'),
        want: { PreferClose: 2, FutureValue: 1 },
      },
      {
        name: 'service4 none',
        run: () => m.updateTrafficDistribution('ns3/service4', undefined),
        want: { PreferClose: 2, FutureValue: 1 },
      },
      {
        name: 'service2 moves to AnotherFutureValue',
        run: () => m.updateTrafficDistribution('ns1/service2', 'AnotherFutureValue'),
        want: { PreferClose: 1, FutureValue: 1, AnotherFutureValue: 1 },
      },
      {
        name: 'service3 deleted (gauge refreshed on the next change, as upstream)',
        run: () => {
          m.deleteService('ns2/service3');
          m.updateTrafficDistribution('ns1/service1', undefined);
        },
        want: { PreferClose: 0, FutureValue: 0, AnotherFutureValue: 1 },
      },
      {
        name: 'service2 none',
        run: () => m.updateTrafficDistribution('ns1/service2', undefined),
        want: { PreferClose: 0, FutureValue: 0, AnotherFutureValue: 0 },
      },
    ];
    for (const step of steps) {
      step.run();
      const got: Record<string, number | undefined> = {};
      for (const td of Object.keys(step.want)) got[td] = await count(td);
      assert.deepEqual(got, step.want, step.name);
    }
  });
});

describe('EndpointSliceMetrics counters', () => {
  it('starts every operation and result at 0 and counts', async () => {
    const registry = new Registry();
    const m = new EndpointSliceMetrics(registry, 100);
    const v = (name: string, labels: Record<string, string>) => metricValue(registry, `endpoint_slice_controller_${name}`, labels);
    assert.equal(await v('changes', { operation: 'delete' }), 0);
    assert.equal(await v('syncs', { result: 'stale' }), 0);
    m.countChange('delete');
    m.countSync('stale');
    m.observeSlicesChanged('Disabled', undefined, 3);
    m.observeEndpointChanges(5, 1);
    assert.equal(await v('changes', { operation: 'delete' }), 1);
    assert.equal(await v('syncs', { result: 'stale' }), 1);
    const changed = await registry.getSingleMetric('endpoint_slice_controller_endpointslices_changed_per_sync')?.get();
    assert.equal(changed?.values.find((x) => (x as { metricName?: string }).metricName?.endsWith('_sum'))?.labels.traffic_distribution, '');
    const added = await registry.getSingleMetric('endpoint_slice_controller_endpoints_added_per_sync')?.get();
    assert.equal(added?.values.find((x) => (x as { metricName?: string }).metricName?.endsWith('_sum'))?.value, 5);
  });

  it('reuses the families when a registry is given twice', () => {
    const registry = new Registry();
    new EndpointSliceMetrics(registry, 100);
    assert.doesNotThrow(() => new EndpointSliceMetrics(registry, 100));
  });
});
