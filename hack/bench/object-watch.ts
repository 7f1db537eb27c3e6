import type { ApiClient, WatchEvent } from '../../controllers/runtime/api-client.ts';
import { apiErrorFrom, isGone } from '../../controllers/runtime/api-errors.ts';
import type { ResourceType } from '../../controllers/runtime/resource.ts';

// A benchmark-side watch of one resource in one namespace: lists, then watches from the list's resourceVersion,
// resuming after a broken stream and relisting after 410 Gone. Every event is stamped with its receipt time
// (performance.now()) and counted with the size of its object as JSON: every write of a controller reaches every
// watcher (kube-proxy, DNS) as one such event, so these bytes are the fan-out cost of the writes.

/** Receives each object event with its receipt time. */
export type ObjectEventHandler = (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: unknown, at: number) => void;

/** Cumulative event counts and bytes. */
export interface WatchCounts {
  readonly events: number;
  /** Object bytes of ADDED and MODIFIED events (JSON, as a watcher receives them). */
  readonly objectBytes: number;
  readonly lastEventAt: number;
}

const MAX_RECONNECTS = 1000;

/** A running watch; stop it with {@link ObjectWatch.stop}. */
export class ObjectWatch {
  readonly #client: ApiClient;
  readonly #resource: ResourceType;
  readonly #namespace: string;
  readonly #handler: ObjectEventHandler;
  readonly #abort = new AbortController();
  #events = 0;
  #objectBytes = 0;
  #lastEventAt = performance.now();
  #running: Promise<void> | undefined;
  #failure: unknown;

  constructor(client: ApiClient, resource: ResourceType, namespace: string, handler: ObjectEventHandler) {
    this.#client = client;
    this.#resource = resource;
    this.#namespace = namespace;
    this.#handler = handler;
  }

  /** Counts so far. */
  get counts(): WatchCounts {
    return { events: this.#events, objectBytes: this.#objectBytes, lastEventAt: this.#lastEventAt };
  }

  /** The error that ended the watch early, if any. */
  get failure(): unknown {
    return this.#failure;
  }

  /** Lists (delivering the items as ADDED) and starts watching; resolves once the watch request is under way. */
  async start(): Promise<void> {
    const rv = await this.#list();
    this.#running = this.#loop(rv).catch((err: unknown) => {
      if (!this.#abort.signal.aborted) this.#failure = err;
    });
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #list(): Promise<string> {
    const list = await this.#client.list(this.#resource, this.#namespace, {}, this.#abort.signal);
    const at = performance.now();
    for (const item of list.items) this.#deliver('ADDED', item, at);
    return list.resourceVersion;
  }

  async #loop(startRv: string): Promise<void> {
    let rv = startRv;
    for (let attempt = 0; attempt < MAX_RECONNECTS && !this.#abort.signal.aborted; attempt++) {
      try {
        const stream = this.#client.watch(
          this.#resource,
          this.#namespace,
          { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 1800 },
          this.#abort.signal,
        );
        for await (const ev of stream) {
          const at = performance.now();
          rv = this.#apply(ev, at) ?? rv;
        }
      } catch (err) {
        if (this.#abort.signal.aborted) return;
        if (!isGone(err)) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        rv = await this.#list();
      }
    }
  }

  /** Applies one event; returns the resourceVersion to resume from. Throws a 410 as an error to relist. */
  #apply(ev: WatchEvent, at: number): string | undefined {
    const meta = (ev.object as { metadata?: { resourceVersion?: string } }).metadata;
    switch (ev.type) {
      case 'BOOKMARK':
        return meta?.resourceVersion;
      case 'ERROR': {
        const code = (ev.object as { code?: number }).code ?? 500;
        throw apiErrorFrom(code, JSON.stringify(ev.object), 'watch', this.#resource.plural, null);
      }
      default:
        this.#deliver(ev.type, ev.object, at);
        return meta?.resourceVersion;
    }
  }

  #deliver(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: unknown, at: number): void {
    this.#events++;
    if (type !== 'DELETED') this.#objectBytes += Buffer.byteLength(JSON.stringify(object));
    this.#lastEventAt = at;
    this.#handler(type, object, at);
  }
}
