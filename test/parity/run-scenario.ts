import { AssertionError } from 'node:assert';
import { type Endpoints, endpointsSchema } from '../../api/core/v1.ts';
import { type EndpointSlice, endpointSliceSchema } from '../../api/discovery/v1.ts';
import type { ApiClient } from '../../controllers/runtime/api-client.ts';
import { NAMESPACES } from '../../controllers/runtime/resource.ts';
import { ENDPOINT_SLICES, ENDPOINTS } from '../../controllers/runtime/resource.ts';
import { applyStep } from './apply-step.ts';
import { describeDifferences } from './diff.ts';
import { normalizeEndpoints, normalizeSlices, slicesByService } from './normalize.ts';
import type { ParityEnv } from './parity-env.ts';
import type { Scenario, Step } from './scenario.ts';

/** How long both sides may take to agree after a step, and how long they must then stay equal to count as quiet. */
export interface SettleOptions {
  readonly timeoutMs?: number;
  readonly quietMs?: number;
  readonly intervalMs?: number;
}

type Compared = NonNullable<Scenario['compare']>[number];

async function snapshot(client: ApiClient, namespace: string, compare: readonly Compared[]): Promise<unknown> {
  const out: Record<string, unknown> = {};
  if (compare.includes('endpoints')) {
    const list = await client.list(ENDPOINTS, namespace);
    const eps = list.items.map((i) => endpointsSchema.parse(i) as Endpoints);
    out.endpoints = Object.fromEntries(
      eps
        .map((e) => [e.metadata.name ?? '', normalizeEndpoints(e, { hashOrder: true })])
        .sort(([a], [b]) => String(a).localeCompare(String(b))),
    );
  }
  if (compare.includes('endpointslices')) {
    const list = await client.list(ENDPOINT_SLICES, namespace);
    const slices = list.items.map((i) => endpointSliceSchema.parse(i) as EndpointSlice);
    const bySvc = slicesByService(slices);
    out.endpointslices = Object.fromEntries(
      [...bySvc.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([svc, ss]) => [svc, normalizeSlices(ss, { hashOrder: true })]),
    );
  }
  return out;
}

/**
 * Waits until both clusters hold equal normalised outputs for `quietMs` in a row. Throws an AssertionError with a
 * path-level diff when they do not agree within `timeoutMs`.
 */
export async function settle(
  env: ParityEnv,
  namespace: string,
  compare: readonly Compared[],
  context: string,
  opts: SettleOptions = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const quietMs = opts.quietMs ?? 2_000;
  const intervalMs = opts.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let equalSince: number | undefined;
  let last: { up: unknown; ours: unknown } | undefined;
  /** What changed in ours between the last two polls that differed, for a "still changing" report. */
  let lastChange: string[] = [];
  for (;;) {
    const [up, ours] = await Promise.all([
      snapshot(env.upstream.client, namespace, compare),
      snapshot(env.ours.client, namespace, compare),
    ]);
    const equal = JSON.stringify(up) === JSON.stringify(ours);
    const unchanged = last !== undefined && JSON.stringify(last.ours) === JSON.stringify(ours);
    if (last !== undefined && !unchanged) lastChange = describeDifferences(last.ours, ours, 12);
    last = { up, ours };
    if (equal && unchanged) {
      equalSince ??= Date.now();
      if (Date.now() - equalSince >= quietMs) return;
    } else {
      equalSince = undefined;
    }
    if (Date.now() > deadline) {
      const lines = describeDifferences(up, ours);
      const changing = `(equal, but ours still changing; last change, as before=… after=…:\n    ${lastChange.join('\n    ').replaceAll('upstream=', 'before=').replaceAll('ours=', 'after=')})`;
      throw new AssertionError({
        message: `${context}: upstream and ours did not agree within ${timeoutMs} ms:\n  ${lines.join('\n  ') || changing}`,
        actual: ours,
        expected: up,
        operator: 'parity',
      });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Runs a scenario in a fresh namespace of the same name on both clusters, comparing after every step. */
export async function runScenario(env: ParityEnv, scenario: Scenario, namespace: string, opts: SettleOptions = {}): Promise<void> {
  for (const c of [env.upstream.client, env.ours.client])
    await c.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const compare = scenario.compare ?? ['endpoints', 'endpointslices'];
  for (const [i, step] of scenario.steps.entries()) {
    await Promise.all([applyStep(env.upstream.client, namespace, step), applyStep(env.ours.client, namespace, step)]);
    if (mayDiffer(step)) continue;
    await settle(env, namespace, compare, `${scenario.name}, step ${i + 1} (${describeStep(step)})`, opts);
  }
}

// Nodes are inputs only; nothing to compare right after creating one.
const mayDiffer = (step: Step): boolean => step.do === 'createNode';

export function describeStep(step: Step): string {
  return `${step.do}${'name' in step ? ` ${step.name}` : ''}`;
}
