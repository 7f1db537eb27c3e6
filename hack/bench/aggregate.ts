// Repeated runs of one workload, reduced to one result per statistic: every number in the result objects is replaced
// by the median (or min, or max) of that number across the runs; a figure missing from a run (a phase that did not
// finish) is left out of its statistic. Arrays of strings (errors) are concatenated with the run number. Pure.

type Leaf = number | string | boolean | undefined | null;
type Json = Leaf | readonly Json[] | { readonly [k: string]: Json };

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

function combine(values: readonly Json[], reduce: (xs: readonly number[]) => number): Json {
  const present = values.filter((v) => v !== undefined && v !== null);
  const first = present[0];
  if (first === undefined) return undefined;
  if (typeof first === 'number') {
    const nums = present.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    return nums.length === 0 ? undefined : reduce(nums);
  }
  if (Array.isArray(first)) {
    // Only string arrays (errors) occur in results: keep every entry, tagged with its run.
    return values.flatMap((v, i) => (Array.isArray(v) ? v.map((e) => (values.length > 1 ? `run ${i + 1}: ${String(e)}` : e)) : []));
  }
  if (typeof first === 'object') {
    const keys = new Set(present.flatMap((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.keys(v) : [])));
    const out: Record<string, Json> = {};
    for (const k of keys) {
      const c = combine(
        present.map((v) => (v as Record<string, Json>)[k]),
        reduce,
      );
      if (c !== undefined) out[k] = c;
    }
    return out;
  }
  return first;
}

/** The median, min and max of repeated results of one implementation on one workload. Throws on an empty list. */
export function aggregateRuns<T extends object>(runs: readonly T[]): { median: T; min: T; max: T } {
  if (runs.length === 0) throw new Error('aggregateRuns needs at least one run');
  const values = runs as unknown as readonly Json[];
  return {
    median: combine(values, median) as unknown as T,
    min: combine(values, (xs) => Math.min(...xs)) as unknown as T,
    max: combine(values, (xs) => Math.max(...xs)) as unknown as T,
  };
}
