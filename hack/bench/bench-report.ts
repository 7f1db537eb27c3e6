import type { Implementation, Shape } from './bench-config.ts';
import type { LatencySummary } from './stats.ts';

// The benchmark's results: the JSON written per run, the Markdown table printed on stdout, and the SVG plot that
// README embeds. Everything here is pure.

/** API writes of one phase, from the API server's own counters, and their fan-out bytes from the benchmark's watch. */
export interface PhaseWrites {
  /** Write requests (create, update, patch, delete) to Endpoints. */
  readonly endpoints: number;
  /** Write requests to EndpointSlices. */
  readonly endpointSlices: number;
  /** Request body bytes of those writes, as sent (protobuf from kube-controller-manager, JSON from the operator). */
  readonly requestBytes: number;
  /** Watch events of Endpoints and EndpointSlices that the writes caused. */
  readonly watchEvents: number;
  /** Bytes of those events' objects as JSON: what each watcher (every kube-proxy) receives. */
  readonly watchBytes: number;
  /**
   * Seconds the API server spent serving the writes to Endpoints and to EndpointSlices (its request duration), so a
   * mean latency per write can be compared across implementations. Absent from runs written before it was recorded.
   */
  readonly apiServerSeconds?: { readonly endpoints: number; readonly endpointSlices: number } | undefined;
}

/** Stale endpoint-seconds of a phase (see stale-endpoints.ts): in EndpointSlices and in Endpoints. */
export interface StaleEndpointSeconds {
  readonly slices: number;
  readonly endpoints: number;
}

/** Results of one implementation on one shape. Times in ms; undefined where a phase did not finish. */
export interface ImplementationResult {
  readonly implementation: Implementation;
  readonly initialSync: {
    /** From the controller's start to its first write seen on the watch (process start-up plus cache sync). */
    readonly firstWriteMs: number | undefined;
    /** From the controller's start to every Endpoints object being correct. */
    readonly endpointsMs: number | undefined;
    /** From the controller's start to every Service's EndpointSlices being correct. */
    readonly endpointSlicesMs: number | undefined;
    readonly writes: PhaseWrites;
    readonly cpuSeconds: number;
  };
  readonly churn?: {
    readonly flips: number;
    readonly ratePerSecond: number;
    readonly endpointSlices: LatencySummary;
    readonly endpoints: LatencySummary;
    /** Flips not seen in both resources within 60 s. */
    readonly timedOut: number;
    readonly writes: PhaseWrites;
    readonly cpuSeconds: number;
    readonly staleEndpointSeconds?: StaleEndpointSeconds;
  };
  /**
   * Writes from the restart until the restarted controller proved a full sync (its workqueue metrics: every Service
   * taken, queues empty) and the watches were then quiet for 3 s. `syncProvenMs`: restart -> proof; undefined when
   * the proof never came (then the window ended at a timeout).
   */
  readonly restart?: { readonly windowMs: number; readonly writes: PhaseWrites; readonly syncProvenMs?: number | undefined };
  /** The same after touching every Service: proof is every Service taken again since the touch. */
  readonly resync?: {
    readonly services: number;
    readonly windowMs: number;
    readonly writes: PhaseWrites;
    readonly syncProvenMs?: number | undefined;
  };
  readonly rollingRestart?: {
    readonly pods: number;
    readonly batch: number;
    /** How long the benchmark took to replace every Pod. */
    readonly rolloutMs: number;
    /** From the rollout's start to every Endpoints object and EndpointSlice being correct. */
    readonly convergeMs: number | undefined;
    /**
     * From the last Pod change to convergence, per run (so repeated runs give its true median and range, which the
     * difference of two medians or of two minimums is not). Absent from runs written before it was recorded.
     */
    readonly afterLastChangeMs?: number | undefined;
    readonly writes: PhaseWrites;
    readonly cpuSeconds: number;
    readonly staleEndpointSeconds?: StaleEndpointSeconds;
    /**
     * Growth of each controller's workqueue_retries_total in the rollout. client-go counts every delayed add, so each
     * Pod event queued with the batch period counts too; the excess over the Pod events is what was retried with
     * backoff (failed syncs, syncs refused as stale). Absent from runs written before it was recorded.
     */
    readonly retries?: { readonly endpoints: number; readonly endpointSlices: number } | undefined;
  };
  /** CPU of the whole run (both processes when restarted) and the highest peak RSS (VmHWM). */
  readonly process: { readonly cpuSeconds: number; readonly peakRssBytes: number };
  /** Phases that did not finish, in words. */
  readonly errors: readonly string[];
}

/** The spread of repeated runs: results whose every number is the minimum (maximum) across the runs. */
export interface Spread {
  readonly min: ImplementationResult;
  readonly max: ImplementationResult;
}

export interface ShapeResult {
  readonly shape: Shape;
  /** How long the benchmark took to create the objects (per implementation's cluster, the larger). */
  readonly populateMs: number;
  /** One per implementation: the run itself, or with --repeat the median of every figure. */
  readonly results: readonly ImplementationResult[];
  /** With --repeat: the number of runs and, per implementation, the min and max of every figure. */
  readonly runs?: number;
  readonly spread?: Partial<Record<Implementation, Spread>>;
}

/** One benchmark run. */
export interface BenchRun {
  readonly startedAt: string;
  readonly preset: string;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly node: string; readonly kubernetes: string };
  readonly tuning: {
    readonly qps: number;
    readonly burst: number;
    readonly churnRatePerSecond: number;
    readonly note: string;
  };
  /** Runs per workload and implementation (figures are medians when above 1). */
  readonly repeat?: number;
  readonly shapes: readonly ShapeResult[];
  readonly informer?: { readonly pods: number; readonly retainedBytesPerPod: number } | undefined;
}

const SHORT: Record<Implementation, string> = {
  'kube-controller-manager': 'KCM',
  'kube-endpoints-operator': 'ours',
  'kube-endpoints-operator-uncapped': 'ours, uncapped',
};

type Fmt = (v: number | undefined) => string;
const s: Fmt = (ms) => (ms === undefined ? 'n/a' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`);
const msFmt: Fmt = (ms) => (ms === undefined ? 'n/a' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const bytes: Fmt = (b) =>
  b === undefined
    ? 'n/a'
    : b >= 1024 * 1024
      ? `${(b / 1024 / 1024).toFixed(1)} MiB`
      : b >= 1024
        ? `${(b / 1024).toFixed(0)} KiB`
        : `${Math.round(b)} B`;
const count: Fmt = (n) => (n === undefined ? 'n/a' : String(Math.round(n)));
const cpu: Fmt = (v) => (v === undefined ? 'n/a' : `${v.toFixed(1)} s`);
const endpointSeconds: Fmt = (v) => (v === undefined ? 'n/a' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const total = (w: PhaseWrites | undefined) => (w === undefined ? undefined : w.endpoints + w.endpointSlices);

/**
 * One figure of one implementation: the value (the median with --repeat) and, when repeated runs differ, their
 * range as `(min–max)`.
 */
function fig(sr: ShapeResult, r: ImplementationResult, get: (r: ImplementationResult) => number | undefined, fmt: Fmt): string {
  const value = fmt(get(r));
  const spread = sr.spread?.[r.implementation];
  if (spread === undefined) return value;
  const lo = fmt(get(spread.min));
  const hi = fmt(get(spread.max));
  return lo === hi ? value : `${value} (${lo}–${hi})`;
}

/** The results as Markdown tables, one row per shape and implementation. */
export function renderTable(run: BenchRun): string {
  const lines: string[] = [];
  if ((run.repeat ?? 1) > 1) lines.push(`Median of ${run.repeat} runs per workload and implementation, (min–max) where they differ.`, '');
  lines.push(
    '| Workload | Impl | First write | Initial sync: Endpoints / slices | Sync writes (ep + slices) | Sync bytes sent / watched |',
  );
  lines.push('|---|---|---:|---:|---:|---:|');
  for (const sr of run.shapes) {
    for (const r of sr.results) {
      const w = r.initialSync.writes;
      lines.push(
        `| ${sr.shape.name} | ${SHORT[r.implementation]} | ${fig(sr, r, (x) => x.initialSync.firstWriteMs, s)} | ${fig(sr, r, (x) => x.initialSync.endpointsMs, s)} / ${fig(sr, r, (x) => x.initialSync.endpointSlicesMs, s)} | ${fig(sr, r, (x) => total(x.initialSync.writes), count)} (${count(w.endpoints)} + ${count(w.endpointSlices)}) | ${fig(sr, r, (x) => x.initialSync.writes.requestBytes, bytes)} / ${fig(sr, r, (x) => x.initialSync.writes.watchBytes, bytes)} |`,
      );
    }
  }
  const churned = run.shapes.flatMap((sr) => sr.results.filter((r) => r.churn).map((r) => ({ sr, r })));
  if (churned.length > 0) {
    lines.push('');
    lines.push(
      '| Workload | Impl | Churn | Slices p50 / p99 | Endpoints p50 / p99 | Stale endpoint-s (slices / Endpoints) | Churn writes | Churn bytes sent / watched |',
    );
    lines.push('|---|---|---:|---:|---:|---:|---:|---:|');
    for (const { sr, r } of churned) {
      const c = r.churn;
      if (c === undefined) continue;
      lines.push(
        `| ${sr.shape.name} | ${SHORT[r.implementation]} | ${c.flips} flips @ ${c.ratePerSecond}/s${c.timedOut > 0 ? ` (${c.timedOut} timed out)` : ''} | ${fig(sr, r, (x) => x.churn?.endpointSlices.p50Ms, msFmt)} / ${fig(sr, r, (x) => x.churn?.endpointSlices.p99Ms, msFmt)} | ${fig(sr, r, (x) => x.churn?.endpoints.p50Ms, msFmt)} / ${fig(sr, r, (x) => x.churn?.endpoints.p99Ms, msFmt)} | ${fig(sr, r, (x) => x.churn?.staleEndpointSeconds?.slices, endpointSeconds)} / ${fig(sr, r, (x) => x.churn?.staleEndpointSeconds?.endpoints, endpointSeconds)} | ${fig(sr, r, (x) => total(x.churn?.writes), count)} (${count(c.writes.endpoints)} + ${count(c.writes.endpointSlices)}) | ${fig(sr, r, (x) => x.churn?.writes.requestBytes, bytes)} / ${fig(sr, r, (x) => x.churn?.writes.watchBytes, bytes)} |`,
      );
    }
  }
  const rolling = run.shapes.flatMap((sr) => sr.results.filter((r) => r.rollingRestart).map((r) => ({ sr, r })));
  if (rolling.length > 0) {
    lines.push('');
    lines.push(
      '| Workload | Impl | Rolling restart: converged | Rollout took | Converged after last change | Stale endpoint-s (slices / Endpoints) | Writes (ep + slices) | Queue retries (ep / slices) | API server time per write (ep / slices) | Bytes sent / watched | CPU in rollout |',
    );
    lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const { sr, r } of rolling) {
      const rr = r.rollingRestart;
      if (rr === undefined) continue;
      const after = (x: ImplementationResult) => {
        const q = x.rollingRestart;
        if (q === undefined) return undefined;
        if (q.afterLastChangeMs !== undefined) return q.afterLastChangeMs;
        return q.convergeMs === undefined ? undefined : Math.max(0, q.convergeMs - q.rolloutMs);
      };
      // Mean over the phase's writes (of the medians, with --repeat): no range, since a ratio of two ranges is none.
      const perWrite = (secs: number | undefined, writes: number) =>
        secs === undefined || writes === 0 ? undefined : (secs * 1000) / writes;
      const apiTime = `${msFmt(perWrite(rr.writes.apiServerSeconds?.endpoints, rr.writes.endpoints))} / ${msFmt(perWrite(rr.writes.apiServerSeconds?.endpointSlices, rr.writes.endpointSlices))}`;
      lines.push(
        `| ${sr.shape.name} | ${SHORT[r.implementation]} | ${fig(sr, r, (x) => x.rollingRestart?.convergeMs, s)} | ${fig(sr, r, (x) => x.rollingRestart?.rolloutMs, s)} | ${fig(sr, r, after, s)} | ${fig(sr, r, (x) => x.rollingRestart?.staleEndpointSeconds?.slices, endpointSeconds)} / ${fig(sr, r, (x) => x.rollingRestart?.staleEndpointSeconds?.endpoints, endpointSeconds)} | ${fig(sr, r, (x) => total(x.rollingRestart?.writes), count)} (${count(rr.writes.endpoints)} + ${count(rr.writes.endpointSlices)}) | ${fig(sr, r, (x) => x.rollingRestart?.retries?.endpoints, count)} / ${fig(sr, r, (x) => x.rollingRestart?.retries?.endpointSlices, count)} | ${apiTime} | ${fig(sr, r, (x) => x.rollingRestart?.writes.requestBytes, bytes)} / ${fig(sr, r, (x) => x.rollingRestart?.writes.watchBytes, bytes)} | ${fig(sr, r, (x) => x.rollingRestart?.cpuSeconds, cpu)} |`,
      );
    }
  }
  lines.push('');
  lines.push('| Workload | Impl | Restart writes (full sync proven after) | Resync writes (proven after) | CPU | Peak RSS |');
  lines.push('|---|---|---:|---:|---:|---:|');
  for (const sr of run.shapes) {
    for (const r of sr.results) {
      const proven = (ms: number | undefined) => (ms === undefined ? 'not proven' : s(ms));
      const rs = r.restart ? `${fig(sr, r, (x) => total(x.restart?.writes), count)} (${proven(r.restart.syncProvenMs)})` : '–';
      const ry = r.resync ? `${fig(sr, r, (x) => total(x.resync?.writes), count)} (${proven(r.resync.syncProvenMs)})` : '–';
      lines.push(
        `| ${sr.shape.name} | ${SHORT[r.implementation]} | ${rs} | ${ry} | ${fig(sr, r, (x) => x.process.cpuSeconds, cpu)} | ${fig(sr, r, (x) => x.process.peakRssBytes, bytes)} |`,
      );
    }
  }
  const errors = run.shapes.flatMap((sr) =>
    sr.results.flatMap((r) => r.errors.map((e) => `- ${sr.shape.name}, ${SHORT[r.implementation]}: ${e}`)),
  );
  if (errors.length > 0) lines.push('', 'Problems:', ...errors);
  return lines.join('\n');
}

// ---- SVG plot ----------------------------------------------------------------------------------------------------

/** One panel of the plot: a metric per workload, one bar per implementation. */
interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly value: (r: ImplementationResult) => number | undefined;
  readonly format: (v: number) => string;
}

const PANELS: readonly Panel[] = [
  {
    title: 'Initial sync (slices)',
    unit: 's',
    value: (r) => (r.initialSync.endpointSlicesMs === undefined ? undefined : r.initialSync.endpointSlicesMs / 1000),
    format: (v) => v.toFixed(1),
  },
  {
    title: 'Initial sync (Endpoints)',
    unit: 's',
    value: (r) => (r.initialSync.endpointsMs === undefined ? undefined : r.initialSync.endpointsMs / 1000),
    format: (v) => v.toFixed(1),
  },
  { title: 'Churn p50 (slices)', unit: 'ms', value: (r) => r.churn?.endpointSlices.p50Ms, format: (v) => v.toFixed(0) },
  { title: 'Churn p99 (slices)', unit: 'ms', value: (r) => r.churn?.endpointSlices.p99Ms, format: (v) => v.toFixed(0) },
  {
    title: 'Rolling restart, converged',
    unit: 's',
    value: (r) => (r.rollingRestart?.convergeMs === undefined ? undefined : r.rollingRestart.convergeMs / 1000),
    format: (v) => v.toFixed(1),
  },
  {
    title: 'Rolling restart, stale endpoint-s',
    unit: '',
    value: (r) => r.rollingRestart?.staleEndpointSeconds?.slices,
    format: (v) => v.toFixed(1),
  },
  {
    title: 'API writes (all phases)',
    unit: '',
    value: (r) =>
      [r.initialSync.writes, r.churn?.writes, r.rollingRestart?.writes, r.restart?.writes, r.resync?.writes]
        .filter((w): w is PhaseWrites => w !== undefined)
        .reduce((a, w) => a + w.endpoints + w.endpointSlices, 0),
    format: (v) => v.toFixed(0),
  },
  {
    title: 'Bytes sent (all phases)',
    unit: 'MiB',
    value: (r) =>
      [r.initialSync.writes, r.churn?.writes, r.rollingRestart?.writes, r.restart?.writes, r.resync?.writes]
        .filter((w): w is PhaseWrites => w !== undefined)
        .reduce((a, w) => a + w.requestBytes, 0) /
      1024 /
      1024,
    format: (v) => v.toFixed(1),
  },
  { title: 'Controller CPU', unit: 's', value: (r) => r.process.cpuSeconds, format: (v) => v.toFixed(1) },
  { title: 'Peak RSS', unit: 'MiB', value: (r) => r.process.peakRssBytes / 1024 / 1024, format: (v) => v.toFixed(0) },
];

const COLORS: Record<Implementation, string> = {
  'kube-controller-manager': '#326ce5',
  'kube-endpoints-operator': '#e8743b',
  'kube-endpoints-operator-uncapped': '#f2b48f',
};

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A grouped bar chart, one panel per metric (each with its own scale, starting at 0), one group per workload, one bar
 * per implementation, the value printed above each bar. Self-contained SVG, no fonts or scripts fetched.
 */
export function renderSvg(run: BenchRun): string {
  const cols = 3;
  const panelW = 300;
  const panelH = 210;
  const rows = Math.ceil(PANELS.length / cols);
  const legendH = 50;
  const width = cols * panelW + 20;
  const height = rows * panelH + legendH + 30;
  const impls = [...new Set(run.shapes.flatMap((sr) => sr.results.map((r) => r.implementation)))];
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(`kube-controller-manager vs kube-endpoints-operator (${run.preset} preset, QPS ${run.tuning.qps}/${run.tuning.burst})`)}</text>`,
  );
  impls.forEach((impl, i) => {
    const x = 10 + i * 230;
    out.push(`<rect x="${x}" y="30" width="12" height="12" fill="${COLORS[impl]}"/>`);
    out.push(`<text x="${x + 17}" y="40">${esc(impl)}</text>`);
  });
  out.push(`<text x="${10 + impls.length * 230}" y="40" fill="#666">workloads: Services × Pods per Service</text>`);
  PANELS.forEach((panel, p) => {
    const ox = 10 + (p % cols) * panelW;
    const oy = legendH + Math.floor(p / cols) * panelH;
    const plotX = ox + 10;
    const plotY = oy + 30;
    const plotW = panelW - 30;
    const plotH = panelH - 75;
    const groups = run.shapes
      .map((sr) => ({
        label: `${sr.shape.services.toLocaleString('en-US')} × ${sr.shape.podsPerService.toLocaleString('en-US')}`,
        values: impls.map((impl) => sr.results.find((r) => r.implementation === impl)),
      }))
      .map((g) => ({ label: g.label, values: g.values.map((r) => (r === undefined ? undefined : panel.value(r))) }))
      .filter((g) => g.values.some((v) => v !== undefined));
    out.push(
      `<text x="${ox + 10}" y="${oy + 18}" font-size="12" font-weight="bold">${esc(panel.title)}${panel.unit ? ` (${panel.unit})` : ''}</text>`,
    );
    out.push(`<line x1="${plotX}" y1="${plotY + plotH}" x2="${plotX + plotW}" y2="${plotY + plotH}" stroke="#999"/>`);
    if (groups.length === 0) {
      out.push(`<text x="${plotX + 10}" y="${plotY + plotH / 2}" fill="#999">no data</text>`);
      return;
    }
    const max = Math.max(...groups.flatMap((g) => g.values.filter((v): v is number => v !== undefined)), 1e-9);
    const groupW = plotW / groups.length;
    const barW = Math.min(36, (groupW - 12) / impls.length);
    groups.forEach((g, gi) => {
      const gx = plotX + gi * groupW + (groupW - barW * impls.length) / 2;
      g.values.forEach((v, vi) => {
        const impl = impls[vi];
        if (impl === undefined) return;
        const x = gx + vi * barW;
        if (v === undefined) {
          out.push(`<text x="${x + barW / 2}" y="${plotY + plotH - 4}" text-anchor="middle" fill="#999">n/a</text>`);
          return;
        }
        const h = Math.max(1, (v / max) * (plotH - 14));
        const y = plotY + plotH - h;
        out.push(
          `<rect class="bar" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[impl]}"/>`,
        );
        out.push(
          `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y - 3).toFixed(1)}" text-anchor="middle" font-size="9">${esc(panel.format(v))}</text>`,
        );
      });
      const label = g.label;
      out.push(
        `<text x="${(plotX + gi * groupW + groupW / 2).toFixed(1)}" y="${plotY + plotH + 14}" text-anchor="middle" font-size="9">${esc(label)}</text>`,
      );
    });
  });
  out.push(
    `<text x="10" y="${height - 8}" font-size="9" fill="#666">${esc(`${(run.repeat ?? 1) > 1 ? `median of ${run.repeat} runs` : 'single run'} on ${run.machine.cpus} CPUs (${run.machine.cpuModel}), Node ${run.machine.node}, Kubernetes ${run.machine.kubernetes}; ${run.startedAt}`)}</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
