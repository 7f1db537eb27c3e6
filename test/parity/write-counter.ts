import { LABEL_SERVICE_NAME } from '../../api/labels.ts';
import type { ApiClient } from '../../controllers/runtime/api-client.ts';
import { ENDPOINT_SLICES, ENDPOINTS, type ResourceType } from '../../controllers/runtime/resource.ts';
import { isBarrier } from './barrier.ts';

// Writes per step, measured the same way on every cluster: the watch events (ADDED, MODIFIED, DELETED) of Endpoints
// and EndpointSlices in the scenario's namespace, barrier objects excluded. A watch event is a write that changed an
// object; a no-op update makes none, a conflict makes none. The test driver's own writes (Endpoints it creates for
// mirroring scenarios) are the same on every side. A report, not an assertion: batching may legitimately differ.

export interface WriteCounts {
  endpoints: number;
  slices: number;
}

export class WriteCounter {
  readonly #stop = new AbortController();
  #counts: WriteCounts = { endpoints: 0, slices: 0 };
  readonly #done: Promise<void>[] = [];

  private constructor() {}

  /** Starts counting from now (the namespace's current resourceVersion of each kind). */
  static async start(client: ApiClient, namespace: string): Promise<WriteCounter> {
    const c = new WriteCounter();
    for (const [r, field] of [
      [ENDPOINTS, 'endpoints'],
      [ENDPOINT_SLICES, 'slices'],
    ] as const) {
      const { resourceVersion } = await client.list(r, namespace, { limit: 1 });
      c.#done.push(c.#follow(client, r, namespace, resourceVersion, field));
    }
    return c;
  }

  async #follow(client: ApiClient, r: ResourceType, namespace: string, rv: string, field: keyof WriteCounts): Promise<void> {
    try {
      for await (const ev of client.watch(r, namespace, { resourceVersion: rv }, this.#stop.signal)) {
        if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED' && ev.type !== 'DELETED') continue;
        const meta = ev.object.metadata as { name?: string; labels?: Record<string, string> } | undefined;
        const service = r === ENDPOINTS ? meta?.name : meta?.labels?.[LABEL_SERVICE_NAME];
        if (!isBarrier(service)) this.#counts[field]++;
      }
    } catch {
      // A broken count stream only makes the report short; it is never an assertion.
    }
  }

  /** The counts since the last call. */
  take(): WriteCounts {
    const out = this.#counts;
    this.#counts = { endpoints: 0, slices: 0 };
    return out;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#done);
  }
}
