// The few reads of Prometheus text exposition the parity tests need: the sum of one metric's samples whose labels
// match, e.g. kube-apiserver's apiserver_request_total for write verbs on endpoints, or a controller's workqueue depth.

/** One sample: metric name, labels, value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the samples of a text exposition (comments and malformed lines skipped). Pure. */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\(.)/g, '$1');
    const value = Number(m[3]);
    if (Number.isFinite(value)) out.push({ name: m[1] ?? '', labels, value });
  }
  return out;
}

/** The sum of `name`'s samples whose labels satisfy `match` (every listed label has one of the listed values). Pure. */
export function sumSamples(samples: readonly Sample[], name: string, match: Readonly<Record<string, readonly string[]>> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, vs]) => vs.includes(s.labels[k] ?? ''))) sum += s.value;
  }
  return sum;
}
