import { selectorMatches } from '../../../../controllers/shared/pod-endpoints.ts';
import type { PodDetail } from './snapshot.ts';

// Pods the selector almost matches: exactly one selector label is different or missing. With a selector of two or
// more labels, agreeing on all the others is evidence enough. With a single-label selector every Pod without that
// label would qualify, so there the Pod must look like a typo of it: the same key with a similar value, or a similar
// key with the wanted (or a similar) value. Anything further away is not reported.

/** The one selector label a near miss gets wrong. */
export interface LabelDifference {
  readonly key: string;
  /** What the Service selects. */
  readonly want: string;
  /** The Pod's value; absent when the Pod lacks the key. */
  readonly actual?: string;
  /** When the key is missing: a label of the Pod whose key looks like a typo of it. */
  readonly similarKey?: { readonly key: string; readonly value: string };
}

/** A Pod of the Service's namespace that one label keeps out of the selection. */
export interface NearMiss {
  readonly pod: string;
  readonly difference: LabelDifference;
}

/** Most near misses reported; the total is reported beside them. */
export const MAX_NEAR_MISSES = 50;

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions), bounded for speed. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > 3) return Math.abs(a.length - b.length);
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] ?? [];
      const prev = d[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, (d[i - 2]?.[j - 2] ?? 0) + 1);
      row[j] = v;
    }
  }
  return d[a.length]?.[b.length] ?? 0;
}

/**
 * Whether `b` looks like a typo of `a`: different, and equal ignoring case, or within one edit for strings of up to
 * four characters and two edits for longer ones ("web" and "db" are not similar; "frontend" and "fronted" are).
 */
export function similar(a: string, b: string): boolean {
  if (a === b) return false;
  if (a.toLowerCase() === b.toLowerCase()) return true;
  const longest = Math.max(a.length, b.length);
  return editDistance(a, b) <= (longest <= 4 ? 1 : 2);
}

function difference(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): LabelDifference | undefined {
  let found: LabelDifference | undefined;
  for (const [key, want] of Object.entries(selector)) {
    if (labels[key] === want) continue;
    if (found !== undefined) return undefined;
    if (Object.hasOwn(labels, key)) {
      found = { key, want, actual: labels[key] ?? '' };
      continue;
    }
    const typo = Object.entries(labels).find(
      ([k, v]) => !Object.hasOwn(selector, k) && similar(key, k) && (v === want || similar(want, v)),
    );
    found = { key, want, ...(typo ? { similarKey: { key: typo[0], value: typo[1] } } : {}) };
  }
  return found;
}

function looksLikeTypo(d: LabelDifference): boolean {
  if (d.actual !== undefined) return similar(d.want, d.actual);
  return d.similarKey !== undefined;
}

/**
 * The near misses of `selector` among `pods` (those of `namespace` that it does not match), sorted by Pod name, at
 * most {@link MAX_NEAR_MISSES}; `total` counts them all. An absent or empty selector has none. Pure.
 */
export function nearMisses(
  selector: Readonly<Record<string, string>> | undefined,
  namespace: string,
  pods: readonly Readonly<PodDetail>[],
): { readonly nearMisses: readonly NearMiss[]; readonly total: number } {
  const size = Object.keys(selector ?? {}).length;
  if (selector === undefined || size === 0) return { nearMisses: [], total: 0 };
  const found: NearMiss[] = [];
  for (const pod of pods) {
    if (pod.metadata.namespace !== namespace || selectorMatches(selector, pod.metadata.labels)) continue;
    const d = difference(selector, pod.metadata.labels ?? {});
    if (d === undefined) continue;
    if (size === 1 && !looksLikeTypo(d)) continue;
    found.push({ pod: pod.metadata.name, difference: d });
  }
  found.sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
  return { nearMisses: found.slice(0, MAX_NEAR_MISSES), total: found.length };
}
