import { Agent, fetch } from 'undici';

// Write counters of one kube-apiserver, read from its Prometheus `/metrics`. Each implementation runs against its own
// API server and the benchmark itself never writes Endpoints or EndpointSlices, so on that server every write to
// those resources is the controller's.

/** One sample line of the Prometheus text format. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text exposition format; comments and malformed lines are skipped. Pure. */
export function parsePrometheusText(text: string, names?: ReadonlySet<string>): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m === null) continue;
    const name = m[1] ?? '';
    if (names !== undefined && !names.has(name)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\(.)/g, '$1');
    out.push({ name, labels, value: Number(m[3]) });
  }
  return out;
}

/** Writes and request body bytes per resource, cumulative since the API server started. */
export interface WriteCounters {
  /** Write requests (POST, PUT, PATCH, DELETE; dry runs excluded), by resource then verb. */
  readonly requests: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Sum of request body sizes of writes, by resource (bytes as sent: protobuf from client-go, JSON from us). */
  readonly bodyBytes: Readonly<Record<string, number>>;
  /** Seconds the API server spent serving those writes (apiserver_request_duration_seconds_sum), by resource. */
  readonly seconds: Readonly<Record<string, number>>;
}

const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY', 'DELETECOLLECTION']);
const BODY_VERBS = new Set(['create', 'update', 'patch', 'delete', 'apply']);

/** Extracts the write counters of `resources` (plural names) from parsed samples. Pure. */
export function writeCounters(samples: readonly MetricSample[], resources: readonly string[]): WriteCounters {
  const requests: Record<string, Record<string, number>> = {};
  const bodyBytes: Record<string, number> = {};
  const seconds: Record<string, number> = {};
  for (const r of resources) {
    requests[r] = {};
    bodyBytes[r] = 0;
    seconds[r] = 0;
  }
  for (const s of samples) {
    const resource = s.labels.resource ?? '';
    if (!resources.includes(resource) || (s.labels.subresource ?? '') !== '') continue;
    if (s.name === 'apiserver_request_total') {
      const verb = s.labels.verb ?? '';
      if (!WRITE_VERBS.has(verb) || (s.labels.dry_run ?? '') !== '') continue;
      const byVerb = requests[resource] ?? {};
      byVerb[verb] = (byVerb[verb] ?? 0) + s.value;
      requests[resource] = byVerb;
    } else if (s.name === 'apiserver_request_body_size_bytes_sum' && BODY_VERBS.has(s.labels.verb ?? '')) {
      bodyBytes[resource] = (bodyBytes[resource] ?? 0) + s.value;
    } else if (
      s.name === 'apiserver_request_duration_seconds_sum' &&
      WRITE_VERBS.has(s.labels.verb ?? '') &&
      (s.labels.dry_run ?? '') === ''
    ) {
      seconds[resource] = (seconds[resource] ?? 0) + s.value;
    }
  }
  return { requests, bodyBytes, seconds };
}

/** `after - before`, per resource and verb. Pure. */
export function diffWriteCounters(before: WriteCounters, after: WriteCounters): WriteCounters {
  const requests: Record<string, Record<string, number>> = {};
  const bodyBytes: Record<string, number> = {};
  for (const [resource, byVerb] of Object.entries(after.requests)) {
    const out: Record<string, number> = {};
    for (const [verb, n] of Object.entries(byVerb)) {
      const d = n - (before.requests[resource]?.[verb] ?? 0);
      if (d !== 0) out[verb] = d;
    }
    requests[resource] = out;
  }
  for (const [resource, n] of Object.entries(after.bodyBytes)) bodyBytes[resource] = n - (before.bodyBytes[resource] ?? 0);
  const seconds: Record<string, number> = {};
  for (const [resource, n] of Object.entries(after.seconds)) seconds[resource] = n - (before.seconds[resource] ?? 0);
  return { requests, bodyBytes, seconds };
}

/** Total write requests of a counter set. Pure. */
export function totalWrites(c: WriteCounters, resource?: string): number {
  let n = 0;
  for (const [r, byVerb] of Object.entries(c.requests)) {
    if (resource !== undefined && r !== resource) continue;
    for (const v of Object.values(byVerb)) n += v;
  }
  return n;
}

/** Total request body bytes of a counter set. Pure. */
export function totalBodyBytes(c: WriteCounters): number {
  return Object.values(c.bodyBytes).reduce((a, b) => a + b, 0);
}

/** Reads `/metrics` of one API server with the admin client certificate. Loopback only, 30 s timeout. */
export class ApiServerMetrics {
  readonly #server: string;
  readonly #agent: Agent;

  constructor(server: string, tls: { readonly caPem: string; readonly certPem: string; readonly keyPem: string }) {
    this.#server = server;
    this.#agent = new Agent({ connect: { ca: tls.caPem, cert: tls.certPem, key: tls.keyPem } });
  }

  /** Current write counters of `resources`. Throws on a non-200 answer. */
  async writes(resources: readonly string[]): Promise<WriteCounters> {
    const res = await fetch(`${this.#server}/metrics`, { dispatcher: this.#agent, signal: AbortSignal.timeout(30_000) });
    if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
    const text = await res.text();
    return writeCounters(
      parsePrometheusText(
        text,
        new Set(['apiserver_request_total', 'apiserver_request_body_size_bytes_sum', 'apiserver_request_duration_seconds_sum']),
      ),
      resources,
    );
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}
