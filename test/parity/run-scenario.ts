import { AssertionError } from 'node:assert';
import { type Endpoints, endpointsSchema, serviceSchema } from '../../api/core/v1.ts';
import { type EndpointSlice, endpointSliceSchema } from '../../api/discovery/v1.ts';
import { ANNOTATION_LAST_CHANGE_TRIGGER_TIME, LABEL_SERVICE_NAME } from '../../api/labels.ts';
import type { ApiClient } from '../../controllers/runtime/api-client.ts';
import { ENDPOINT_SLICES, ENDPOINTS, NAMESPACES, SERVICES } from '../../controllers/runtime/resource.ts';
import { applyStep } from './apply-step.ts';
import { barrierMissing, createBarrier, isBarrier, raiseBarrier } from './barrier.ts';
import { describeDifferences } from './diff.ts';
import { normalizeEndpoints, normalizeSlices, slicesByService } from './normalize.ts';
import type { ParityEnv } from './parity-env.ts';
import type { NormalOutputs, Scenario, Step } from './scenario.ts';
import { type WriteCounts, WriteCounter } from './write-counter.ts';

// Runs steps on every control plane of a parity env and compares after each step. What "settled" means:
//   1. every cluster passed the step's barrier (barrier.ts): its controllers have received the step's events;
//   2. then every cluster's normalised outputs stayed unchanged for `quietMs` (their syncs have finished), and
//   3. ours equals upstream; in calibration mode (a `twin` kube-controller-manager runs too), ours may instead equal
//      the twin when the two kube-controller-managers disagree: that step is racy upstream, reported, not a failure.
// The comparison's normal form is normalize.ts; writes per step are counted on every side (write-counter.ts).

/** How long both sides may take to agree after a step, and how long they must then stay unchanged to count as quiet. */
export interface SettleOptions {
  readonly timeoutMs?: number;
  readonly quietMs?: number;
  readonly intervalMs?: number;
}

type Compared = NonNullable<Scenario['compare']>[number];
type SideName = 'upstream' | 'ours' | 'twin';

interface Side {
  readonly name: SideName;
  readonly client: ApiClient;
}

const sidesOf = (env: ParityEnv): Side[] => [
  { name: 'upstream', client: env.upstream.client },
  { name: 'ours', client: env.ours.client },
  ...(env.twin ? [{ name: 'twin' as const, client: env.twin.client }] : []),
];

/** One cluster's outputs at one moment: normalised (barrier excluded), and what of the barrier it has not shown yet. */
interface Snapshot {
  readonly normal: unknown;
  readonly json: string;
  readonly barrierMissing: string[];
  /** resourceVersion of each Endpoints object, by name (for the trigger-time race, below). */
  readonly endpointsRvs: ReadonlyMap<string, string>;
}

/**
 * The one known upstream race in the trigger-time annotation. The endpoints controller records Pod trigger times
 * before it checks whether its Endpoints cache is stale (endpoints_controller.go: syncService calls
 * ComputeEndpointLastChangeTriggerTime, then returns the staleEndpointsTracker error); the retry then finds no new
 * trigger time and writes the Endpoints without the annotation. Whether that happens depends on whether a second sync
 * starts before the controller's own previous write reached its informer: only when one step changes a Service's Pods
 * more than once (a burst). (The EndpointSlice controller checks staleness first, so slices have no such race.) The
 * runner therefore masks the annotation's presence on Endpoints written in a burst step, until a later single-change
 * step rewrites them on every side.
 */
const RACY_TRIGGER_TIME = '<not compared: written in a burst (stale-cache retry race upstream)>';

async function snapshot(
  client: ApiClient,
  namespace: string,
  compare: readonly Compared[],
  barrier: number,
  ignoreTriggerTime = false,
): Promise<Snapshot> {
  const [epList, sliceList, svcList] = await Promise.all([
    client.list(ENDPOINTS, namespace),
    client.list(ENDPOINT_SLICES, namespace),
    client.list(SERVICES, namespace),
  ]);
  const allEps = epList.items.map((i) => endpointsSchema.parse(i) as Endpoints);
  const allSlices = sliceList.items.map((i) => endpointSliceSchema.parse(i) as EndpointSlice);
  const serviceUids = new Map(
    svcList.items.map((i) => serviceSchema.parse(i)).map((s) => [s.metadata.name ?? '', s.metadata.uid ?? ''] as const),
  );
  const missing = barrierMissing(allEps, allSlices, barrier);
  const out: Record<string, unknown> = {};
  if (compare.includes('endpoints')) {
    out.endpoints = Object.fromEntries(
      allEps
        .filter((e) => !isBarrier(e.metadata.name))
        .map((e) => [e.metadata.name ?? '', normalizeEndpoints(e, { hashOrder: true, ignoreTriggerTime })])
        .sort(([a], [b]) => String(a).localeCompare(String(b))),
    );
  }
  if (compare.includes('endpointslices')) {
    const bySvc = slicesByService(allSlices.filter((s) => !isBarrier(s.metadata.labels?.[LABEL_SERVICE_NAME])));
    out.endpointslices = Object.fromEntries(
      [...bySvc.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([svc, ss]) => [svc, normalizeSlices(ss, { hashOrder: true, serviceUids, ignoreTriggerTime })]),
    );
  }
  const endpointsRvs = new Map(allEps.map((e) => [e.metadata.name ?? '', e.metadata.resourceVersion ?? ''] as const));
  return { normal: out, json: JSON.stringify(out), barrierMissing: missing, endpointsRvs };
}

/** Masks the trigger-time annotation of the named Endpoints (see RACY_TRIGGER_TIME). */
function maskTriggerTime(snap: Snapshot, names: ReadonlySet<string>): Snapshot {
  if (names.size === 0) return snap;
  const normal = structuredClone(snap.normal) as { endpoints?: Record<string, { annotations?: Record<string, string> }> };
  for (const name of names) {
    const ep = normal.endpoints?.[name];
    if (ep === undefined) continue;
    ep.annotations = { ...ep.annotations, [ANNOTATION_LAST_CHANGE_TRIGGER_TIME]: RACY_TRIGGER_TIME };
  }
  return { ...snap, normal, json: JSON.stringify(normal) };
}

/** One settled step, for the writes report. */
export interface StepRecord {
  readonly label: string;
  readonly writes: Partial<Record<SideName, WriteCounts>>;
  /** Write requests our controllers sent (all namespaces; includes no-ops and conflicts the watch never shows). */
  readonly ourWriteRequests: number;
  /** Set when the two kube-controller-managers disagreed (calibration mode): the differing paths. */
  readonly racyUpstream?: readonly string[];
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete']);

/** A scenario's namespace on every cluster, with the barrier, write counters and the per-step record. */
export class ParityRun {
  readonly records: StepRecord[] = [];
  readonly #env: ParityEnv;
  readonly #namespace: string;
  readonly #sides: Side[];
  readonly #counters: Map<SideName, WriteCounter>;
  #barrier = 0;
  #requestMark: number;

  private constructor(env: ParityEnv, namespace: string, sides: Side[], counters: Map<SideName, WriteCounter>) {
    this.#env = env;
    this.#namespace = namespace;
    this.#sides = sides;
    this.#counters = counters;
    this.#requestMark = env.ourRequests.length;
  }

  /** Creates the namespace and the barrier objects on every cluster and starts counting writes. */
  static async open(env: ParityEnv, namespace: string): Promise<ParityRun> {
    const sides = sidesOf(env);
    const counters = new Map<SideName, WriteCounter>();
    await Promise.all(
      sides.map(async (s) => {
        await s.client.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
        await createBarrier(s.client, namespace);
        counters.set(s.name, await WriteCounter.start(s.client, namespace));
      }),
    );
    return new ParityRun(env, namespace, sides, counters);
  }

  /** Applies steps in order on every cluster (clusters concurrently). */
  async apply(steps: readonly Step[]): Promise<void> {
    await Promise.all(
      this.#sides.map(async (s) => {
        for (const step of steps) await applyStep(s.client, this.#namespace, step);
      }),
    );
  }

  /**
   * Raises the next barrier, then waits until every cluster passed it and all stayed unchanged for `quietMs` with ours
   * equal to upstream (or, calibrating, to the twin when upstream and twin differ). Throws an AssertionError with a
   * path-level diff otherwise.
   */
  async settle(
    compare: readonly Compared[],
    context: string,
    label: string,
    opts: SettleOptions & { burst?: boolean; ignoreTriggerTime?: boolean } = {},
  ): Promise<unknown> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const quietMs = opts.quietMs ?? 2_000;
    const intervalMs = opts.intervalMs ?? 250;
    const n = ++this.#barrier;
    await Promise.all(this.#sides.map((s) => raiseBarrier(s.client, this.#namespace, n)));
    const deadline = Date.now() + timeoutMs;
    let quietSince: number | undefined;
    let last: Map<SideName, Snapshot> | undefined;
    /** What changed in ours between the last two polls that differed, for a "still changing" report. */
    let lastChange: string[] = [];
    for (;;) {
      const raw = new Map<SideName, Snapshot>(
        await Promise.all(
          this.#sides.map(async (s) => [s.name, await snapshot(s.client, this.#namespace, compare, n, opts.ignoreTriggerTime)] as const),
        ),
      );
      const masked = this.#racyTriggerTimes(raw, opts.burst === true);
      const now = new Map([...raw].map(([k, snap]) => [k, maskTriggerTime(snap, masked)] as const));
      const get = (name: SideName) => now.get(name);
      const up = get('upstream');
      const ours = get('ours');
      const twin = get('twin');
      if (up === undefined || ours === undefined) throw new Error('parity env without upstream or ours');
      const barrierPassed = [...now.values()].every((s) => s.barrierMissing.length === 0);
      const unchanged = last !== undefined && [...now].every(([k, s]) => last?.get(k)?.json === s.json);
      const previousOurs = last?.get('ours');
      if (previousOurs !== undefined && previousOurs.json !== ours.json)
        lastChange = describeDifferences(previousOurs.normal, ours.normal, 12);
      last = now;
      const upstreamRacy = twin !== undefined && twin.json !== up.json;
      const equal = ours.json === up.json || (upstreamRacy && ours.json === twin.json);
      if (barrierPassed && unchanged && equal) {
        quietSince ??= Date.now();
        if (Date.now() - quietSince >= quietMs) {
          this.#record(label, upstreamRacy && twin ? describeDifferences(up.normal, twin.normal, 12) : undefined);
          if (opts.burst === true) this.#rememberBurst(raw);
          return up.normal;
        }
      } else {
        quietSince = undefined;
      }
      if (Date.now() > deadline) {
        const behind = [...now].filter(([, s]) => s.barrierMissing.length > 0).map(([k, s]) => `${k} (${s.barrierMissing.join(', ')})`);
        const lines = describeDifferences(up.normal, ours.normal);
        const changing = `(equal, but not quiet; ours' last change, as before=… after=…:\n    ${lastChange.join('\n    ').replaceAll('upstream=', 'before=').replaceAll('ours=', 'after=')})`;
        const racy =
          twin === undefined
            ? ''
            : upstreamRacy
              ? `\n  upstream and twin kube-controller-manager disagree here too (racy upstream), and ours equals neither:\n  ${describeDifferences(up.normal, twin.normal).join('\n  ')}`
              : '\n  (upstream and twin kube-controller-manager agree: not an upstream race)';
        const message =
          behind.length > 0
            ? `${context}: the step's barrier did not pass within ${timeoutMs} ms on ${behind.join('; ')}`
            : `${context}: upstream and ours did not agree within ${timeoutMs} ms:\n  ${lines.join('\n  ') || changing}${racy}`;
        throw new AssertionError({ message, actual: ours.normal, expected: up.normal, operator: 'parity' });
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** Endpoints written in a burst step, by name, with each side's resourceVersion then (see RACY_TRIGGER_TIME). */
  readonly #burstWritten = new Map<string, Map<SideName, string>>();

  /** Names whose trigger-time presence is not compared now: all during a burst, else those not rewritten since one. */
  #racyTriggerTimes(now: ReadonlyMap<SideName, Snapshot>, burst: boolean): Set<string> {
    const names = new Set<string>();
    for (const snap of now.values()) for (const name of snap.endpointsRvs.keys()) if (burst) names.add(name);
    for (const [name, rvs] of this.#burstWritten) {
      const rewrittenEverywhere = [...now].every(([side, snap]) => {
        const rv = snap.endpointsRvs.get(name);
        return rv === undefined || rv !== rvs.get(side);
      });
      if (rewrittenEverywhere && !burst) this.#burstWritten.delete(name);
      else names.add(name);
    }
    return names;
  }

  #rememberBurst(now: ReadonlyMap<SideName, Snapshot>): void {
    for (const [side, snap] of now)
      for (const [name, rv] of snap.endpointsRvs) {
        const rvs = this.#burstWritten.get(name) ?? new Map<SideName, string>();
        rvs.set(side, rv);
        this.#burstWritten.set(name, rvs);
      }
  }

  #record(label: string, racyUpstream: readonly string[] | undefined): void {
    const writes: Partial<Record<SideName, WriteCounts>> = {};
    for (const [name, c] of this.#counters) writes[name] = c.take();
    const requests = this.#env.ourRequests.slice(this.#requestMark).filter((r) => WRITE_VERBS.has(r.verb)).length;
    this.#requestMark = this.#env.ourRequests.length;
    this.records.push({ label, writes, ourWriteRequests: requests, ...(racyUpstream ? { racyUpstream } : {}) });
  }

  /** The writes report (and racy steps, when calibrating), one line per step, for `t.diagnostic`. */
  report(): string[] {
    const fmt = (w: WriteCounts | undefined) => (w === undefined ? '-' : `${w.endpoints}/${w.slices}`);
    const total = (name: SideName) =>
      this.records.reduce(
        (acc, r) => ({ endpoints: acc.endpoints + (r.writes[name]?.endpoints ?? 0), slices: acc.slices + (r.writes[name]?.slices ?? 0) }),
        { endpoints: 0, slices: 0 },
      );
    const twin = this.#sides.some((s) => s.name === 'twin');
    const head = `writes per step (Endpoints/EndpointSlices watch events): upstream | ours${twin ? ' | twin' : ''} | our write requests (all, barrier's included)`;
    const lines = this.records.map(
      (r) =>
        `${r.label}: ${fmt(r.writes.upstream)} | ${fmt(r.writes.ours)}${twin ? ` | ${fmt(r.writes.twin)}` : ''} | ${r.ourWriteRequests}` +
        (r.racyUpstream ? `  RACY UPSTREAM (twin differs: ${r.racyUpstream.slice(0, 3).join('; ')})` : ''),
    );
    const tot = `total: ${fmt(total('upstream'))} | ${fmt(total('ours'))}${twin ? ` | ${fmt(total('twin'))}` : ''} | ${this.records.reduce((a, r) => a + r.ourWriteRequests, 0)}`;
    return [head, ...lines, tot];
  }

  /** Steps where the two kube-controller-managers disagreed (calibration mode only). */
  racySteps(): StepRecord[] {
    return this.records.filter((r) => r.racyUpstream !== undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#counters.values()].map((c) => c.stop()));
  }
}

/**
 * Runs a scenario in a fresh namespace of the same name on every cluster, comparing after every step. Returns the run
 * (its writes report and racy steps); throws on the first step where ours differs.
 */
export async function runScenario(env: ParityEnv, scenario: Scenario, namespace: string, opts: SettleOptions = {}): Promise<ParityRun> {
  const run = await ParityRun.open(env, namespace);
  try {
    const compare = scenario.compare ?? ['endpoints', 'endpointslices'];
    for (const [i, step] of scenario.steps.entries()) {
      await run.apply([step]);
      const label = `step ${i + 1} (${describeStep(step)})`;
      const agreed = await run.settle(compare, `${scenario.name}, ${label}`, label, { ...opts, burst: isBurst([step]) });
      for (const e of scenario.expect ?? []) {
        if (e.afterStep !== i + 1 || e.holds(agreed as NormalOutputs)) continue;
        throw new AssertionError({
          message: `${scenario.name}, ${label}: both sides agree, but the outcome does not show ${e.what}:\n${JSON.stringify(agreed, null, 1).slice(0, 4000)}`,
        });
      }
    }
    return run;
  } finally {
    await run.close();
  }
}

/**
 * Whether steps applied together may change one Service's Pods more than once (see RACY_TRIGGER_TIME). A single
 * createPod is one change (its create event carries no IP, so only the status write changes an endpoint).
 */
export function isBurst(steps: readonly Step[]): boolean {
  const flat = steps.flatMap((s): Step[] => (s.do === 'steps' ? [...s.steps] : s.do === 'createPods' ? [...s.pods] : [s]));
  return flat.length > 1;
}

export function describeStep(step: Step): string {
  if (step.do === 'createPods') return `createPods ×${step.pods.length}`;
  if (step.do === 'steps') return step.steps.map(describeStep).join(' + ');
  return `${step.do}${'name' in step ? ` ${step.name}` : ''}`;
}
