import https from 'node:https';
import { ENDPOINT_SLICES, ENDPOINTS, type ResourceType } from '../../controllers/runtime/resource.ts';
import type { TestCluster } from '../envtest/test-cluster.ts';
import { parseSamples, sumSamples } from './prometheus-text.ts';

// Who wrote Endpoints or EndpointSlices while the audit ran, seen from the API server, so it measures any controller
// the same way (kube-controller-manager, whose requests this process cannot observe, and this operator):
//  - kube-apiserver's own request counter (apiserver_request_total) for the write verbs on the two resources, which
//    also counts writes that changed nothing (an update with identical content still is a request);
//  - a watch on both resources in every namespace, which shows each change with the field manager that made it.

const WRITE_VERBS = ['POST', 'PUT', 'PATCH', 'DELETE', 'DELETECOLLECTION', 'APPLY'];
const AUDITED: readonly ResourceType[] = [ENDPOINTS, ENDPOINT_SLICES];

/** One change the watch saw, e.g. `MODIFIED endpointslices ns/web-abcde by kube-controller-manager`. */
export type SeenChange = string;

export class WriteAudit {
  readonly #cluster: TestCluster;
  readonly #baseline: number;
  readonly #stop = new AbortController();
  readonly #changes: SeenChange[] = [];
  readonly #watching: Promise<void>[] = [];
  #watchError: unknown;

  private constructor(cluster: TestCluster, baseline: number) {
    this.#cluster = cluster;
    this.#baseline = baseline;
  }

  /** Starts counting now: the counter's current value is the baseline, and the watches start at the current state. */
  static async start(cluster: TestCluster): Promise<WriteAudit> {
    const audit = new WriteAudit(cluster, await apiServerWrites(cluster));
    for (const r of AUDITED) {
      const { resourceVersion } = await cluster.client.list(r, '', { limit: 1 });
      audit.#watching.push(audit.#watch(r, resourceVersion));
    }
    return audit;
  }

  /** Write requests to Endpoints and EndpointSlices the API server served since the audit started. */
  async writeRequests(): Promise<number> {
    return (await apiServerWrites(this.#cluster)) - this.#baseline;
  }

  /** Changes to Endpoints and EndpointSlices seen so far, in order. Throws if a watch failed (the list would lie). */
  changes(): readonly SeenChange[] {
    if (this.#watchError !== undefined) throw new Error('the audit watch failed', { cause: this.#watchError });
    return this.#changes;
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
        const manager = meta.managedFields?.at(-1)?.manager ?? '?';
        this.#changes.push(`${ev.type} ${r.plural} ${meta.namespace ?? ''}/${meta.name ?? ''} by ${manager}`);
      }
    } catch (err) {
      if (!this.#stop.signal.aborted) this.#watchError = err;
    }
  }
}

/** kube-apiserver's count of write requests to Endpoints and EndpointSlices since it started (its /metrics). */
export async function apiServerWrites(cluster: TestCluster): Promise<number> {
  const text = await getWithAdminCert(cluster, '/metrics');
  return sumSamples(parseSamples(text), 'apiserver_request_total', {
    verb: WRITE_VERBS,
    resource: AUDITED.map((r) => r.plural),
  });
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
