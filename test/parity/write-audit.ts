import https from 'node:https';
import { ENDPOINT_SLICES, ENDPOINTS, EVENTS, type ResourceType } from '../../controllers/runtime/resource.ts';
import type { TestCluster } from '../envtest/test-cluster.ts';
import { parseSamples, sumSamples } from './prometheus-text.ts';

// Who wrote Endpoints or EndpointSlices (and Events) while the audit ran, seen from the API server, so it measures any
// controller the same way (kube-controller-manager, whose requests this process cannot observe, and this operator):
//  - kube-apiserver's own request counter (apiserver_request_total) for the write verbs, which also counts writes
//    that changed nothing (an update with identical content still is a request);
//  - a watch on Endpoints and EndpointSlices in every namespace, which shows each change with the field manager that
//    made it, and one on Events, which shows their reasons.

const WRITE_VERBS = ['POST', 'PUT', 'PATCH', 'DELETE', 'DELETECOLLECTION', 'APPLY'];

/** One change the watch saw, e.g. `MODIFIED endpointslices ns/web-abcde by kube-controller-manager`. */
export type SeenChange = string;

/** Write requests per kind of object, as kube-apiserver counted them. */
export interface WriteCounts {
  /** To Endpoints and EndpointSlices together. */
  readonly endpoints: number;
  readonly events: number;
}

export class WriteAudit {
  readonly #cluster: TestCluster;
  readonly #baseline: WriteCounts;
  readonly #stop = new AbortController();
  readonly #changes: SeenChange[] = [];
  readonly #eventReasons: string[] = [];
  readonly #watching: Promise<void>[] = [];
  #watchError: unknown;

  private constructor(cluster: TestCluster, baseline: WriteCounts) {
    this.#cluster = cluster;
    this.#baseline = baseline;
  }

  /** Starts counting now: the counters' current values are the baseline, and the watches start at the current state. */
  static async start(cluster: TestCluster): Promise<WriteAudit> {
    const audit = new WriteAudit(cluster, await apiServerWrites(cluster));
    for (const r of [ENDPOINTS, ENDPOINT_SLICES, EVENTS]) {
      const { resourceVersion } = await cluster.client.list(r, '', { limit: 1 });
      audit.#watching.push(audit.#watch(r, resourceVersion));
    }
    return audit;
  }

  /** Write requests the API server served since the audit started. */
  async writeRequests(): Promise<WriteCounts> {
    const now = await apiServerWrites(this.#cluster);
    return { endpoints: now.endpoints - this.#baseline.endpoints, events: now.events - this.#baseline.events };
  }

  /** Changes to Endpoints and EndpointSlices seen so far, in order. Throws if a watch failed (the list would lie). */
  changes(): readonly SeenChange[] {
    if (this.#watchError !== undefined) throw new Error('the audit watch failed', { cause: this.#watchError });
    return this.#changes;
  }

  /** The reason of every Event created or updated so far (an aggregated Event counts once per update). */
  eventReasons(): readonly string[] {
    if (this.#watchError !== undefined) throw new Error('the audit watch failed', { cause: this.#watchError });
    return this.#eventReasons;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#watching);
  }

  async #watch(r: ResourceType, resourceVersion: string): Promise<void> {
    try {
      for await (const ev of this.#cluster.client.watch(r, '', { resourceVersion, timeoutSeconds: 600 }, this.#stop.signal)) {
        if (ev.type === 'BOOKMARK') continue;
        const meta = (ev.object.metadata ?? {}) as { namespace?: string; name?: string; managedFields?: { manager?: string }[] };
        if (r === EVENTS) {
          if (ev.type !== 'DELETED') this.#eventReasons.push(String(ev.object.reason));
          continue;
        }
        const manager = meta.managedFields?.at(-1)?.manager ?? '?';
        this.#changes.push(`${ev.type} ${r.plural} ${meta.namespace ?? ''}/${meta.name ?? ''} by ${manager}`);
      }
    } catch (err) {
      if (!this.#stop.signal.aborted) this.#watchError = err;
    }
  }
}

/** kube-apiserver's counts of write requests since it started (its /metrics). */
export async function apiServerWrites(cluster: TestCluster): Promise<WriteCounts> {
  const samples = parseSamples(await getWithAdminCert(cluster, '/metrics'));
  const writesTo = (resources: string[]) => sumSamples(samples, 'apiserver_request_total', { verb: WRITE_VERBS, resource: resources });
  return { endpoints: writesTo([ENDPOINTS.plural, ENDPOINT_SLICES.plural]), events: writesTo([EVENTS.plural]) };
}

function getWithAdminCert(cluster: TestCluster, path: string): Promise<string> {
  const c = cluster.cluster;
  return new Promise((resolve, reject) => {
    const req = https.get(`${c.server}${path}`, { ca: c.caPem, cert: c.admin.certPem, key: c.admin.keyPem, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) resolve(body);
        else reject(new Error(`GET ${path}: ${res.statusCode} ${body.slice(0, 200)}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on('error', reject);
  });
}
