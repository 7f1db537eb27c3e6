import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BenchRun, ImplementationResult, PhaseWrites } from './bench-report.ts';
import { renderSvg, renderTable } from './bench-report.ts';
import { aggregateRuns } from './aggregate.ts';

const writes = (endpoints: number, endpointSlices: number): PhaseWrites => ({
  endpoints,
  endpointSlices,
  requestBytes: 2048,
  watchEvents: endpoints + endpointSlices,
  watchBytes: 4096,
});
const latency = { count: 10, p50Ms: 40, p99Ms: 120, maxMs: 130 };

const result = (implementation: ImplementationResult['implementation'], syncMs: number): ImplementationResult => ({
  implementation,
  initialSync: { firstWriteMs: 500, endpointsMs: syncMs, endpointSlicesMs: syncMs + 100, writes: writes(10, 10), cpuSeconds: 1 },
  churn: {
    flips: 10,
    ratePerSecond: 10,
    endpointSlices: latency,
    endpoints: latency,
    timedOut: 0,
    writes: writes(10, 10),
    cpuSeconds: 0.5,
  },
  restart: { windowMs: 15000, writes: writes(0, 0) },
  resync: { services: 10, windowMs: 15000, writes: writes(0, 0) },
  process: { cpuSeconds: 2.5, peakRssBytes: 80 * 1024 * 1024 },
  errors: [],
});

const RUN: BenchRun = Object.freeze({
  startedAt: '2026-01-01T00:00:00.000Z',
  preset: 'default',
  machine: { cpus: 2, cpuModel: 'Test <CPU>', node: 'v24.0.0', kubernetes: 'v1.36.4' },
  tuning: { qps: 20, burst: 30, churnRatePerSecond: 10, note: '' },
  shapes: [
    {
      shape: {
        name: '10 Services × 10 Pods',
        services: 10,
        podsPerService: 10,
        churnFlips: 10,
        restartAndResync: true,
        rollingRestart: false,
      },
      populateMs: 1000,
      results: [result('kube-controller-manager', 1000), { ...result('kube-endpoints-operator', 3000), errors: ['churn: slow'] }],
    },
  ],
  informer: undefined,
});

/** A workload with only the rolling-restart phase. */
const ROLLING_SHAPE = {
  name: '1 Service × 5,000 Pods',
  services: 1,
  podsPerService: 5000,
  churnFlips: 0,
  restartAndResync: false,
  rollingRestart: true,
};

describe('renderTable', () => {
  const table = renderTable(RUN);
  it('has one row per workload and implementation in each table', () => {
    assert.match(table, /\| 10 Services × 10 Pods \| KCM \| 0\.50 s \| 1\.00 s \/ 1\.10 s \| 20 \(10 \+ 10\) \| 2 KiB \/ 4 KiB \|/);
    assert.match(table, /\| 10 Services × 10 Pods \| ours \| 0\.50 s \| 3\.00 s \/ 3\.10 s \|/);
    assert.match(table, /\| 10 flips @ 10\/s \| 40 ms \/ 120 ms \| 40 ms \/ 120 ms \| n\/a \/ n\/a \|/);
    assert.match(table, /\| 10 Services × 10 Pods \| ours \| 0 \(not proven\) \| 0 \(not proven\) \| 2\.5 s \| 80\.0 MiB \|/);
  });
  it('shows the rolling restart with the time it took to converge after the last change', () => {
    const rolling: BenchRun = {
      ...RUN,
      shapes: [
        {
          shape: ROLLING_SHAPE,
          populateMs: 1,
          results: [
            {
              ...result('kube-controller-manager', 1000),
              rollingRestart: {
                pods: 5000,
                batch: 250,
                rolloutMs: 40_000,
                convergeMs: 47_300,
                writes: { ...writes(300, 900), apiServerSeconds: { endpoints: 6, endpointSlices: 9 } },
                cpuSeconds: 20,
                staleEndpointSeconds: { slices: 12.34, endpoints: 150.2 },
                retries: { endpoints: 41, endpointSlices: 17 },
              },
            },
          ],
        },
      ],
    };
    assert.match(
      renderTable(rolling),
      /\| 1 Service × 5,000 Pods \| KCM \| 47\.3 s \| 40\.0 s \| 7\.30 s \| 12\.3 \/ 150 \| 1200 \(300 \+ 900\) \| 41 \/ 17 \| 20 ms \/ 10 ms \|/,
    );
  });

  it('gives the range of "converged after the last change" from each run, not from the ranges of its two terms', () => {
    const run = (rolloutMs: number, convergeMs: number): ImplementationResult => ({
      ...result('kube-endpoints-operator', 1000),
      rollingRestart: {
        pods: 5000,
        batch: 250,
        rolloutMs,
        convergeMs,
        afterLastChangeMs: convergeMs - rolloutMs,
        writes: writes(1, 1),
        cpuSeconds: 1,
      },
    });
    // After the last change: 5 s in the first run, 1 s in the second. Min and max taken term by term would give
    // 41 - 40 = 1 s and 0 s (45 - 60, clamped): a range that runs backwards.
    const a = aggregateRuns([run(40_000, 45_000), run(60_000, 61_000)]);
    const repeated: BenchRun = {
      ...RUN,
      repeat: 2,
      shapes: [
        {
          shape: ROLLING_SHAPE,
          populateMs: 1,
          results: [a.median],
          runs: 2,
          spread: { 'kube-endpoints-operator': { min: a.min, max: a.max } },
        },
      ],
    };
    assert.match(renderTable(repeated), /\| 1 Service × 5,000 Pods \| ours \| [^|]+ \| [^|]+ \| 3\.00 s \(1\.00 s–5\.00 s\) \|/);
  });

  it('shows the median of repeated runs with the min-max range where runs differ', () => {
    const repeated: BenchRun = {
      ...RUN,
      repeat: 3,
      shapes: RUN.shapes.map((sr) => ({
        ...sr,
        runs: 3,
        spread: {
          'kube-controller-manager': { min: result('kube-controller-manager', 800), max: result('kube-controller-manager', 1500) },
        },
      })),
    };
    const t = renderTable(repeated);
    assert.match(t, /^Median of 3 runs/);
    assert.match(t, /\| 10 Services × 10 Pods \| KCM \| 0\.50 s \| 1\.00 s \(0\.80 s–1\.50 s\) \/ 1\.10 s \(0\.90 s–1\.60 s\) \|/);
  });

  it('shows the restart window as proven by the full-sync proof', () => {
    const proven: BenchRun = {
      ...RUN,
      shapes: RUN.shapes.map((sr) => ({
        ...sr,
        results: [{ ...result('kube-controller-manager', 1000), restart: { windowMs: 9000, writes: writes(0, 0), syncProvenMs: 4200 } }],
      })),
    };
    assert.match(renderTable(proven), /\| KCM \| 0 \(4\.20 s\) \|/);
  });

  it('lists phases that did not finish', () => assert.match(table, /Problems:\n- 10 Services × 10 Pods, ours: churn: slow/));
});

describe('renderSvg', () => {
  const svg = renderSvg(RUN);
  it('is one standalone SVG document', () => {
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\n$/);
    assert.doesNotMatch(svg, /<script|href=/);
  });
  it('draws one bar per implementation in each panel with data (no rolling restart here)', () => {
    const bars = svg.match(/<rect class="bar" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="#(326ce5|e8743b)"\/>/g) ?? [];
    assert.equal(bars.length, 16);
    assert.match(svg, /no data/);
  });
  it('scales bars to the largest value of their panel', () => {
    // Initial sync (slices): 1.1 s vs 3.1 s, so the KCM bar is about a third of the other.
    const heights = [...svg.matchAll(/class="bar" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill="#(326ce5|e8743b)"\/>/g)]
      .slice(0, 2)
      .map((m) => Number(m[1]));
    assert.ok(Math.abs((heights[0] ?? 0) / (heights[1] ?? 1) - 1.1 / 3.1) < 0.02, JSON.stringify(heights));
  });
  it('escapes text', () => assert.match(svg, /Test &lt;CPU&gt;/));
});
