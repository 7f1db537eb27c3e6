// Go's time.ParseDuration syntax, because kube-controller-manager's duration flags use it and users copy values
// between the two (`1s`, `500ms`, `1m30s`, `1.5h`).

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 MICRO SIGN
  μs: 1e-3, // U+03BC GREEK SMALL LETTER MU
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const COMPONENT = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parses a Go duration string into milliseconds (fractional below 1 ms). Returns `undefined` for anything Go would
 * reject: an empty string, a missing unit (except a bare `0`), an unknown unit.
 */
export function parseGoDuration(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s.startsWith('-') ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  COMPONENT.lastIndex = 0;
  while (COMPONENT.lastIndex < s.length) {
    const at = COMPONENT.lastIndex;
    const m = COMPONENT.exec(s);
    if (m === null || m.index !== at) return undefined;
    const value = Number.parseFloat(m[1] ?? '');
    const unit = UNIT_MS[m[2] ?? ''];
    if (!Number.isFinite(value) || unit === undefined) return undefined;
    total += value * unit;
  }
  return sign * total;
}

/** Formats milliseconds the way Go prints a time.Duration (`1m30s`, `500ms`, `0s`), for help text and logs. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1_000) return `${sign}${rest}ms`;
  let out = '';
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  if (h > 0) out += `${h}h`;
  if (h > 0 || m > 0) out += `${m}m`;
  out += `${Number((rest / 1_000).toFixed(9))}s`;
  return sign + out;
}
