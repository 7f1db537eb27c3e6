// Reading the traffic client's result lines (hack/data-plane/traffic-client.ts): `OK <epoch ms> pod=<name> ...` or
// `ERR <epoch ms> <code>`. Pure functions, table-tested in traffic-stats.test.ts.

/** One request's outcome. */
export interface TrafficResult {
  readonly atMs: number;
  /** The Pod that answered, or undefined for an error. */
  readonly pod: string | undefined;
  /** The error code, for a failed request. */
  readonly error: string | undefined;
}

/** Parses result lines; other lines (DONE, logs) are skipped. */
export function parseTraffic(text: string): TrafficResult[] {
  const results: TrafficResult[] = [];
  for (const line of text.split('\n')) {
    const ok = /^OK (\d+) pod=(\S+)/.exec(line);
    if (ok !== null) {
      results.push({ atMs: Number(ok[1]), pod: ok[2], error: undefined });
      continue;
    }
    const err = /^ERR (\d+) (\S+)/.exec(line);
    if (err !== null) results.push({ atMs: Number(err[1]), pod: undefined, error: err[2] });
  }
  return results;
}

/** Requests per answering Pod, sorted by Pod name, and the error count. */
export function countByPod(results: readonly TrafficResult[]): { perPod: Record<string, number>; errors: number } {
  const perPod: Record<string, number> = {};
  let errors = 0;
  for (const r of results) {
    if (r.pod === undefined) errors++;
    else perPod[r.pod] = (perPod[r.pod] ?? 0) + 1;
  }
  return { perPod: Object.fromEntries(Object.entries(perPod).sort(([a], [b]) => a.localeCompare(b))), errors };
}

/**
 * When `pod` left the rotation after `sinceMs`: the time of the first answer after its last one, provided at least
 * `quiet` answers from other Pods followed (otherwise undefined: not yet observed). With no answer from it after
 * `sinceMs` at all, the first answer after `sinceMs`.
 */
export function leftRotationAt(results: readonly TrafficResult[], pod: string, sinceMs: number, quiet: number): number | undefined {
  const after = results.filter((r) => r.atMs >= sinceMs && r.pod !== undefined);
  let lastHit = -1;
  for (const [i, r] of after.entries()) if (r.pod === pod) lastHit = i;
  const rest = after.slice(lastHit + 1);
  if (rest.length < quiet) return undefined;
  return rest[0]?.atMs;
}

/** When `pod` (re-)entered the rotation after `sinceMs`: the time of its first answer, or undefined. */
export function enteredRotationAt(results: readonly TrafficResult[], pod: string, sinceMs: number): number | undefined {
  return results.find((r) => r.atMs >= sinceMs && r.pod === pod)?.atMs;
}

/** The nearest-rank percentile `p` (0..100) of `samples`; undefined for none. */
export function percentile(samples: readonly number[], p: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}
