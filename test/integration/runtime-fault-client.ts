import type {
  ApiClient,
  DeleteOptions,
  ListOptions,
  ListResult,
  PatchType,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from '../../controllers/runtime/api-client.ts';
import { NetworkError } from '../../controllers/runtime/api-errors.ts';
import type { ResourceType } from '../../controllers/runtime/resource.ts';

// Faults the real API server cannot be asked for on cue, for the runtime integration tests: a client that is held off
// the server (so changes certainly happen while an informer is away, instead of racing its reconnect), or cut from it
// for good (a crashed or partitioned process). Everything else goes to the real API server unchanged.

/** Shared by a client and every `forComponent` child of it, as one process's network is. */
class FaultState {
  gate: Promise<void> = Promise.resolve();
  openGate: () => void = () => undefined;
  held = false;
  cut = false;
  readonly streams = new Set<AbortController>();
}

/**
 * An ApiClient over a real one that a test can hold (list and watch calls wait, nothing fails) or cut (every call
 * fails as if the network were gone).
 */
export class FaultClient implements ApiClient {
  readonly #inner: ApiClient;
  readonly #state: FaultState;

  constructor(inner: ApiClient, state: FaultState = new FaultState()) {
    this.#inner = inner;
    this.#state = state;
  }

  /**
   * Holds list and watch calls made from now on until {@link release}; with `breakWatches`, open watch streams also
   * break (a NetworkError, as a dropped connection), so their informers must come back through the held gate.
   */
  hold(opts: { breakWatches?: boolean } = {}): void {
    const s = this.#state;
    if (!s.held) {
      s.held = true;
      let open!: () => void;
      s.gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      s.openGate = () => {
        s.held = false;
        open();
      };
    }
    if (opts.breakWatches) for (const c of s.streams) c.abort(new NetworkError('connection broken by the test'));
  }

  /** Watch streams currently open (or connecting) through this client and its children. */
  get openWatches(): number {
    return this.#state.streams.size;
  }

  /** Lets held and later calls through. */
  release(): void {
    this.#state.openGate();
  }

  /** From now on every call fails with a NetworkError without reaching the server, and open watches break. */
  cut(): void {
    this.#state.cut = true;
    for (const c of this.#state.streams) c.abort(new NetworkError('connection cut by the test'));
  }

  forComponent(userAgent: string): ApiClient {
    return new FaultClient(this.#inner.forComponent(userAgent), this.#state);
  }

  async list(r: ResourceType, namespace: string, opts?: ListOptions, signal?: AbortSignal): Promise<ListResult> {
    await this.#pass(signal);
    return this.#inner.list(r, namespace, opts, signal);
  }

  async *watch(r: ResourceType, namespace: string, opts: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent> {
    await this.#pass(signal);
    const broken = new AbortController();
    const s = this.#state;
    s.streams.add(broken);
    try {
      yield* this.#inner.watch(r, namespace, opts, AbortSignal.any([signal, broken.signal]));
      // The real client ends quietly when its signal aborts; a break by the test must look like a dropped connection.
      if (broken.signal.aborted && !signal.aborted) throw broken.signal.reason;
    } finally {
      s.streams.delete(broken);
    }
  }

  async get(r: ResourceType, namespace: string, name: string, signal?: AbortSignal): Promise<unknown> {
    this.#failIfCut();
    return this.#inner.get(r, namespace, name, signal);
  }

  async create(r: ResourceType, namespace: string, body: unknown, opts?: WriteOptions): Promise<unknown> {
    this.#failIfCut();
    return this.#inner.create(r, namespace, body, opts);
  }

  async update(
    r: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    opts?: WriteOptions & { subresource?: string },
  ): Promise<unknown> {
    this.#failIfCut();
    return this.#inner.update(r, namespace, name, body, opts);
  }

  async patch(
    r: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    type: PatchType,
    opts?: WriteOptions & { subresource?: string; force?: boolean },
  ): Promise<unknown> {
    this.#failIfCut();
    return this.#inner.patch(r, namespace, name, body, type, opts);
  }

  async delete(r: ResourceType, namespace: string, name: string, opts?: DeleteOptions): Promise<void> {
    this.#failIfCut();
    return this.#inner.delete(r, namespace, name, opts);
  }

  async getPath(path: string, signal?: AbortSignal): Promise<unknown> {
    this.#failIfCut();
    return this.#inner.getPath(path, signal);
  }

  async #pass(signal: AbortSignal | undefined): Promise<void> {
    this.#failIfCut();
    if (signal === undefined) {
      await this.#state.gate;
    } else {
      signal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        void this.#state.gate.then(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    this.#failIfCut();
  }

  #failIfCut(): void {
    if (this.#state.cut) throw new NetworkError('connection cut by the test');
  }
}
