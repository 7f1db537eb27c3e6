// A readable, line-oriented diff of two canonical JSON values, for parity failures. Paths name where they differ.

/** Returns one line per differing leaf (`path: upstream=… ours=…`); empty when equal. At most `limit` lines. */
export function describeDifferences(upstream: unknown, ours: unknown, limit = 40): string[] {
  const out: string[] = [];
  walk(upstream, ours, '$', out, limit);
  return out;
}

function walk(a: unknown, b: unknown, path: string, out: string[], limit: number): void {
  if (out.length >= limit) return;
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${path}: length upstream=${a.length} ours=${b.length}`);
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], `${path}[${i}]`, out, limit);
    return;
  }
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[k], b[k], `${path}.${k}`, out, limit);
    return;
  }
  out.push(`${path}: upstream=${JSON.stringify(a)} ours=${JSON.stringify(b)}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
