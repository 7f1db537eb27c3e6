import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { BenchRun, ImplementationResult } from './bench-report.ts';
import { renderSvg, renderTable } from './bench-report.ts';
import { benchRunSchema } from './bench-run-schema.ts';
import { docsResultsPaths, writeDocsResults } from './docs-results.ts';

const writes = { endpoints: 3, endpointSlices: 4, requestBytes: 2048, watchEvents: 7, watchBytes: 4096 };

const result = (implementation: ImplementationResult['implementation']): ImplementationResult => ({
  implementation,
  // A phase that did not finish leaves its figures undefined: JSON drops them, the schema must bring them back.
  initialSync: { firstWriteMs: 400, endpointsMs: undefined, endpointSlicesMs: 2500, writes, cpuSeconds: 1.5 },
  churn: {
    flips: 10,
    ratePerSecond: 10,
    endpointSlices: { count: 10, p50Ms: 40, p99Ms: 120, maxMs: 130 },
    endpoints: { count: 0, p50Ms: undefined, p99Ms: undefined, maxMs: undefined },
    timedOut: 10,
    writes,
    cpuSeconds: 0.5,
    staleEndpointSeconds: { slices: 12.5, endpoints: 3 },
  },
  restart: { windowMs: 15000, writes, syncProvenMs: 900 },
  resync: { services: 10, windowMs: 15000, writes, syncProvenMs: undefined },
  rollingRestart: {
    pods: 100,
    batch: 5,
    rolloutMs: 20000,
    convergeMs: 21000,
    writes,
    cpuSeconds: 9,
    staleEndpointSeconds: { slices: 1, endpoints: 2 },
  },
  process: { cpuSeconds: 2.5, peakRssBytes: 80 * 1024 * 1024 },
  errors: ['initial sync: Endpoints not converged'],
});

const RUN: BenchRun = {
  startedAt: '2026-12-07T00:00:00.000Z',
  preset: 'large',
  machine: { cpus: 2, cpuModel: 'Test CPU', node: 'v24.0.0', kubernetes: 'v1.37.2' },
  tuning: { qps: 20, burst: 30, churnRatePerSecond: 10, note: 'note' },
  repeat: 2,
  shapes: [
    {
      shape: {
        name: '10 Services × 10 Pods',
        services: 10,
        podsPerService: 10,
        churnFlips: 10,
        restartAndResync: true,
        rollingRestart: true,
      },
      populateMs: 1000,
      results: [result('kube-controller-manager'), result('kube-endpoints-operator')],
      runs: 2,
      spread: { 'kube-endpoints-operator': { min: result('kube-endpoints-operator'), max: result('kube-endpoints-operator') } },
    },
  ],
  informer: { pods: 10000, retainedBytesPerPod: 1400 },
};

const throughJson = (run: unknown): unknown => JSON.parse(JSON.stringify(run));

describe('benchRunSchema', () => {
  it('reads back a run written as JSON, renders the same table and plot', () => {
    const parsed = benchRunSchema.parse(throughJson(RUN));
    assert.equal(renderTable(parsed), renderTable(RUN));
    assert.equal(renderSvg(parsed), renderSvg(RUN));
    assert.equal(parsed.shapes[0]?.results[0]?.initialSync.endpointsMs, undefined);
  });
  const rejected: readonly { name: string; edit: (run: Record<string, unknown>) => void; path: RegExp }[] = [
    { name: 'an unknown top-level key', edit: (r) => (r.extra = 1), path: /extra/ },
    { name: 'a preset that is not a file name', edit: (r) => (r.preset = '../README'), path: /preset/ },
    {
      name: 'an unknown implementation',
      edit: (r) => ((r.shapes as { results: { implementation: string }[] }[])[0]!.results[0]!.implementation = 'kcm'),
      path: /implementation/,
    },
    {
      name: 'a figure of the wrong type',
      edit: (r) => ((r.shapes as { populateMs: unknown }[])[0]!.populateMs = '1 s'),
      path: /populateMs/,
    },
  ];
  for (const c of rejected) {
    it(`rejects ${c.name}, naming the path`, () => {
      const json = throughJson(RUN) as Record<string, unknown>;
      c.edit(json);
      const r = benchRunSchema.safeParse(json);
      assert.equal(r.success, false);
      assert.match(JSON.stringify(r.error?.issues), c.path);
    });
  }
});

describe('writeDocsResults', () => {
  it('writes docs/bench/<preset>.json and .svg, the JSON reading back as the same run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-docs-'));
    try {
      const written = await writeDocsResults(dir, RUN);
      assert.deepEqual(written, ['docs/bench/large.json', 'docs/bench/large.svg']);
      assert.deepEqual(docsResultsPaths('default'), { json: 'docs/bench/default.json', svg: 'docs/bench/default.svg' });
      const back = benchRunSchema.parse(JSON.parse(await readFile(join(dir, 'docs/bench/large.json'), 'utf8')));
      assert.equal(renderTable(back), renderTable(RUN));
      assert.equal(await readFile(join(dir, 'docs/bench/large.svg'), 'utf8'), renderSvg(RUN));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
