import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Gauge, Registry } from 'prom-client';
import { EndpointSliceMirroringMetrics } from './metrics.ts';
import { MirroringMetricsCache } from './metrics-cache.ts';

describe('EndpointSliceMirroringMetrics', () => {
  it('registers upstream names with upstream buckets', async () => {
    const registry = new Registry();
    new EndpointSliceMirroringMetrics(registry);
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
    assert.deepEqual(names, [
      'endpoint_slice_mirroring_controller_addresses_skipped_per_sync',
      'endpoint_slice_mirroring_controller_changes',
      'endpoint_slice_mirroring_controller_desired_endpoint_slices',
      'endpoint_slice_mirroring_controller_endpoints_added_per_sync',
      'endpoint_slice_mirroring_controller_endpoints_desired',
      'endpoint_slice_mirroring_controller_endpoints_removed_per_sync',
      'endpoint_slice_mirroring_controller_endpoints_sync_duration',
      'endpoint_slice_mirroring_controller_endpoints_updated_per_sync',
      'endpoint_slice_mirroring_controller_num_endpoint_slices',
    ]);
    const text = await registry.metrics();
    // exp(2, 2, 15): 2 .. 32768; exp(0.001, 2, 15): 0.001 .. 16.384.
    assert.match(text, /endpoint_slice_mirroring_controller_endpoints_added_per_sync_bucket\{le="32768"\} 0/);
    assert.doesNotMatch(text, /endpoint_slice_mirroring_controller_endpoints_added_per_sync_bucket\{le="65536"\}/);
    assert.match(text, /endpoint_slice_mirroring_controller_endpoints_sync_duration_bucket\{le="16.384"\} 0/);
  });

  it('starts every changes operation at 0', async () => {
    const registry = new Registry();
    new EndpointSliceMirroringMetrics(registry);
    const text = await registry.metrics();
    for (const op of ['create', 'update', 'delete'])
      assert.match(text, new RegExp(`endpoint_slice_mirroring_controller_changes\\{operation="${op}"\\} 0`));
  });

  it('a second instance on one registry shares the series instead of throwing', () => {
    const registry = new Registry();
    const a = new EndpointSliceMirroringMetrics(registry);
    const b = new EndpointSliceMirroringMetrics(registry);
    assert.equal(a.changes, b.changes);
  });

  it('refuses a name taken by another metric type', () => {
    const registry = new Registry();
    new Gauge({ name: 'endpoint_slice_mirroring_controller_changes', help: 'x', registers: [registry] });
    assert.throws(() => new EndpointSliceMirroringMetrics(registry), /already registered/);
  });
});

describe('MirroringMetricsCache', () => {
  const gauges = async (registry: Registry) => {
    const text = await registry.metrics();
    const read = (n: string) => Number(new RegExp(`^endpoint_slice_mirroring_controller_${n} (\\S+)$`, 'm').exec(text)?.[1]);
    return { endpoints: read('endpoints_desired'), actual: read('num_endpoint_slices'), desired: read('desired_endpoint_slices') };
  };

  const cases: {
    name: string;
    given: { max: number; updates: [string, [string, { endpoints: number; slices: number }][]][]; deletes?: string[] };
    want: { endpoints: number; actual: number; desired: number };
  }[] = [
    { name: 'nothing known', given: { max: 1000, updates: [] }, want: { endpoints: 0, actual: 0, desired: 0 } },
    {
      name: 'desired slices per group are ceil(endpoints / max); empty groups want none',
      given: {
        max: 2,
        updates: [
          [
            'ns/a',
            [
              ['g1', { endpoints: 3, slices: 1 }],
              ['g2', { endpoints: 0, slices: 0 }],
            ],
          ],
        ],
      },
      want: { endpoints: 3, actual: 1, desired: 2 },
    },
    {
      name: 'totals sum over Endpoints objects; an update replaces the previous figures',
      given: {
        max: 1000,
        updates: [
          ['ns/a', [['g', { endpoints: 5, slices: 1 }]]],
          ['ns/b', [['g', { endpoints: 2, slices: 2 }]]],
          ['ns/a', [['g', { endpoints: 1, slices: 1 }]]],
        ],
      },
      want: { endpoints: 3, actual: 3, desired: 2 },
    },
    {
      name: 'a deleted Endpoints object leaves the totals',
      given: {
        max: 1000,
        updates: [
          ['ns/a', [['g', { endpoints: 5, slices: 1 }]]],
          ['ns/b', [['g', { endpoints: 2, slices: 1 }]]],
        ],
        deletes: ['ns/a', 'ns/zzz'],
      },
      want: { endpoints: 2, actual: 1, desired: 1 },
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const registry = new Registry();
      const cache = new MirroringMetricsCache(new EndpointSliceMirroringMetrics(registry), c.given.max);
      for (const [key, groups] of c.given.updates) cache.update(key, new Map(groups));
      for (const key of c.given.deletes ?? []) cache.delete(key);
      assert.deepEqual(await gauges(registry), c.want);
    });
  }
});
