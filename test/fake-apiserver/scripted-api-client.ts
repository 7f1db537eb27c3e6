import type { ApiClient, ListOptions, ListResult, WatchEvent, WatchOptions } from '../../controllers/runtime/api-client.ts';
import type { ResourceType } from '../../controllers/runtime/resource.ts';

// An in-memory ApiClient whose list answers and watch streams the test hands out one by one, for fake-clock tests of
// the watcher's timing (no sockets, so time moves only when the test advances the clock). Only list and watch work.

/** One watch the client was asked for; the test drives its stream. */
export class ScriptedWatch {
  readonly options: WatchOptions;
  readonly #queue: ({ event: WatchEvent } | { error: unknown } | { end: true })[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(options: WatchOptions) {
    this.options = options;
  }

  /** True once the consumer stopped reading (abort, error or end). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Delivers one event. */
  push(type: WatchEvent['type'], object: Record<string, unknown>): void {
    this.#put({ event: { type, object } });
  }

  /** Breaks the stream with `error`. */
  fail(error: unknown): void {
    this.#put({ error });
  }

  /** Ends the stream cleanly (a server-side timeout). */
  end(): void {
    this.#put({ end: true });
  }

  #put(item: { event: WatchEvent } | { error: unknown } | { end: true }): void {
    this.#queue.push(item);
    this.#wake?.();
  }

  async *stream(signal: AbortSignal): AsyncGenerator<WatchEvent> {
    const onAbort = () => this.#wake?.();
    signal.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (signal.aborted) return;
        const item = this.#queue.shift();
        if (item === undefined) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          this.#wake = undefined;
          continue;
        }
        if ('end' in item) return;
        if ('error' in item) throw item.error;
        yield item.event;
      }
    } finally {
      this.#closed = true;
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/** The scripted client. Queue list answers with {@link ScriptedApiClient.answerList}; read watches from `watches`. */
export class ScriptedApiClient implements ApiClient {
  readonly lists: ListOptions[] = [];
  readonly watches: ScriptedWatch[] = [];
  readonly #answers: (ListResult | Error)[] = [];
  readonly #waiting: ((answer: ListResult | Error) => void)[] = [];

  /** Queues the answer to the next list call (an Error is thrown by it). */
  answerList(answer: ListResult | Error): void {
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter(answer);
    else this.#answers.push(answer);
  }

  /** The most recent watch; throws if there is none. */
  lastWatch(): ScriptedWatch {
    const w = this.watches.at(-1);
    if (w === undefined) throw new Error('no watch was opened');
    return w;
  }

  async list(_r: ResourceType, _ns: string, opts: ListOptions = {}, signal?: AbortSignal): Promise<ListResult> {
    this.lists.push(opts);
    const queued = this.#answers.shift();
    const answer =
      queued ??
      (await new Promise<ListResult | Error>((resolve, reject) => {
        this.#waiting.push(resolve);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      }));
    if (answer instanceof Error) throw answer;
    return answer;
  }

  watch(_r: ResourceType, _ns: string, opts: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent> {
    const w = new ScriptedWatch(opts);
    this.watches.push(w);
    return w.stream(signal);
  }

  get(): Promise<unknown> {
    return unsupported();
  }
  create(): Promise<unknown> {
    return unsupported();
  }
  update(): Promise<unknown> {
    return unsupported();
  }
  patch(): Promise<unknown> {
    return unsupported();
  }
  delete(): Promise<void> {
    return unsupported();
  }
  getPath(): Promise<unknown> {
    return unsupported();
  }
  forComponent(): ApiClient {
    return this;
  }
}

function unsupported(): never {
  throw new Error('ScriptedApiClient supports only list and watch');
}
