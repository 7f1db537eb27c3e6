import { z } from 'zod';
import type { ApiClient } from '../api-client.ts';
import { ApiError, apiErrorFrom, isGone, isResourceVersionTooLarge } from '../api-errors.ts';
import type { Clock } from '../clock.ts';
import { type ResourceType, resourcePath } from '../resource.ts';
import { Backoff, type BackoffPolicy, DEFAULT_BACKOFF } from './backoff.ts';

// List+watch as an explicit state machine (kube-rs's watcher is the model):
//
//   Listing --full list--> Watching --stream ends--> Watching (resume from the last resourceVersion)
//      ^                      |  --error (429, 5xx, 403, network, idle, bad event)--> BackingOff --> Watching
//      |                      '--410 Gone / Expired, 504 ResourceVersionTooLarge--> Listing (relist)
//      '-- BackingOff <-- list error
//   any state --abort--> Stopped (quietly: no event, no error, no further request)
//
// A (re)list is emitted as ONE `replace` event holding every object, so the consumer swaps its store atomically and
// never shows readers a half-listed state. Nothing is a dead stop: every failure is retried with backoff.

/** What the watcher tells its consumer. Objects are already decoded; `resourceVersion` is the one it resumes from. */
export type WatcherEvent<T> =
  | {
      readonly type: 'replace';
      readonly objects: readonly T[];
      readonly resourceVersion: string;
      /** False for the first list, true for a list after a 410 or a failed list. */
      readonly relist: boolean;
    }
  | { readonly type: 'apply'; readonly obj: T; readonly resourceVersion: string }
  | { readonly type: 'delete'; readonly obj: T; readonly resourceVersion: string };

/** Observability: one notice per state change worth a metric or a log line. */
export type WatcherNotice =
  | {
      readonly kind: 'listed';
      readonly resourceVersion: string;
      readonly objects: number;
      readonly pages: number;
      readonly durationMs: number;
      readonly relist: boolean;
    }
  | { readonly kind: 'watch-opened'; readonly resourceVersion: string; readonly reconnect: boolean; readonly timeoutSeconds: number }
  | { readonly kind: 'watch-closed'; readonly resourceVersion: string; readonly events: number; readonly durationMs: number }
  /** The watch cannot resume from `resourceVersion`: 410 Gone/Expired, or 504 ResourceVersionTooLarge. */
  | { readonly kind: 'expired'; readonly resourceVersion: string; readonly error: unknown }
  | {
      readonly kind: 'retrying';
      readonly phase: 'list' | 'watch';
      readonly error: unknown;
      readonly delayMs: number;
      readonly failures: number;
    }
  | { readonly kind: 'decode-failed'; readonly error: unknown };

export interface WatcherOptions<T> {
  readonly resource: ResourceType;
  /** Namespace to watch; '' (default) watches all namespaces. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /**
   * Turns one raw wire object into what the consumer keeps; undefined drops it. Runs page by page during a list, so
   * only decoded objects are held until the list completes. Should not throw; a throw drops the object with a
   * `decode-failed` notice. Default: the raw object itself.
   */
  readonly decode?: (raw: Readonly<Record<string, unknown>>) => T | undefined;
  /** List page size. Default 500, as client-go's pager. */
  readonly pageSize?: number;
  /** Server-side watch timeout is drawn from [min, 2*min) seconds so many watchers do not reconnect together. Default 300. */
  readonly minWatchTimeoutSeconds?: number;
  /** A stream that delivers no bytes for this long is torn down and resumed (half-open connections). Default 5 min. */
  readonly idleTimeoutMs?: number;
  /** A watch that ends cleanly sooner than this without any event counts as a failure (backs off). Default 1 s. */
  readonly minWatchDurationMs?: number;
  /** Retry policy, merged over {@link DEFAULT_BACKOFF}. */
  readonly backoff?: Partial<BackoffPolicy>;
  /** Source of randomness for jitter and watch timeouts, in [0, 1). Default Math.random. */
  readonly random?: () => number;
  readonly clock: Clock;
  /** Called synchronously on every notice; must not throw (a throw is ignored). */
  readonly observe?: (notice: WatcherNotice) => void;
}

/** The states of the machine; exported for documentation and tests of {@link Watcher.state}. */
export type WatcherState =
  | { readonly phase: 'Listing'; readonly relist: boolean }
  | { readonly phase: 'Watching'; readonly resourceVersion: string; readonly reconnect: boolean }
  | { readonly phase: 'BackingOff'; readonly delayMs: number; readonly next: ListingOrWatching }
  | { readonly phase: 'Stopped' };
type ListingOrWatching = Extract<WatcherState, { phase: 'Listing' | 'Watching' }>;

/** A watch event ERROR whose Status could not be classified, or an event that is not a valid watch event. */
export class WatchEventError extends Error {
  override readonly name = 'WatchEventError';
}

// The envelope of every watch event. `object` is checked to be a JSON object but not copied: z.record would rebuild
// it key by key on every event, and the object is parsed by the informer's own schema right after (decode).
const watchEventSchema = z.object({
  type: z.enum(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']),
  object: z.custom<Record<string, unknown>>(isRecord, { message: 'expected an object' }),
});

const metaSchema = z.object({ metadata: z.object({ resourceVersion: z.string().optional() }).optional() });

const STOPPED: WatcherState = Object.freeze({ phase: 'Stopped' });

/**
 * Lists then watches one collection forever, resuming and relisting as needed, until the signal passed to
 * {@link Watcher.run} aborts. One watcher serves one consumer; `run` may be called once.
 */
export class Watcher<T = Readonly<Record<string, unknown>>> {
  readonly #opts: WatcherOptions<T>;
  readonly #client: ApiClient;
  readonly #backoff: Backoff;
  readonly #random: () => number;
  readonly #policy: BackoffPolicy;
  #state: WatcherState = { phase: 'Listing', relist: false };
  #resourceVersion: string | undefined;
  #running = false;

  constructor(client: ApiClient, options: WatcherOptions<T>) {
    this.#client = client;
    this.#opts = options;
    this.#random = options.random ?? Math.random;
    this.#policy = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#backoff = new Backoff(this.#policy, this.#random);
  }

  /** The current state. */
  get state(): WatcherState {
    return this.#state;
  }

  /** The last resourceVersion seen (list, event or bookmark); undefined before the first list. */
  get resourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  /**
   * Runs the machine, yielding events until `signal` aborts; then the iteration ends normally. Never throws for API or
   * network failures (they are retried); throws only if called twice.
   */
  async *run(signal: AbortSignal): AsyncGenerator<WatcherEvent<T>, void, undefined> {
    if (this.#running) throw new Error('Watcher.run called twice');
    this.#running = true;
    try {
      while (!signal.aborted) {
        const state = this.#state;
        switch (state.phase) {
          case 'Listing':
            this.#state = yield* this.#list(state, signal);
            break;
          case 'Watching':
            this.#state = yield* this.#watch(state, signal);
            break;
          case 'BackingOff':
            this.#state = await this.#wait(state, signal);
            break;
          case 'Stopped':
            return;
          default:
            return assertNever(state);
        }
      }
    } finally {
      this.#state = STOPPED;
    }
  }

  async *#list(state: Extract<WatcherState, { phase: 'Listing' }>, signal: AbortSignal): AsyncGenerator<WatcherEvent<T>, WatcherState> {
    const started = this.#opts.clock.now();
    const objects: T[] = [];
    let pages = 0;
    let resourceVersion: string;
    let cont: string | undefined;
    // No resourceVersion: a consistent read, so a relist never goes back in time behind what was already seen.
    const listPage = (token: string | undefined) =>
      this.#client.list(
        this.#opts.resource,
        this.#opts.namespace ?? '',
        {
          labelSelector: this.#opts.labelSelector,
          fieldSelector: this.#opts.fieldSelector,
          limit: this.#opts.pageSize ?? 500,
          continue: token,
        },
        signal,
      );
    try {
      let next: ReturnType<typeof listPage> | undefined = listPage(undefined);
      do {
        const page: Awaited<ReturnType<typeof listPage>> = await next;
        pages++;
        resourceVersion = page.resourceVersion;
        cont = page.continue;
        // The next page is asked for before this one is decoded, so the server prepares and sends it while this
        // thread decodes (docs/performance.md, "Start-up"). At most two pages are held at once. A failure of the
        // prefetched page is handled where it is awaited; the no-op handler only keeps it from counting as unhandled
        // if this list ends first.
        next = cont === undefined ? undefined : listPage(cont);
        void next?.catch(() => undefined);
        for (const raw of page.items) {
          if (!isRecord(raw)) {
            this.#notify({ kind: 'decode-failed', error: new WatchEventError('list item is not an object') });
            continue;
          }
          const obj = this.#decode(raw);
          if (obj !== undefined) objects.push(obj);
        }
      } while (next !== undefined);
      if (resourceVersion === '') throw new WatchEventError('list answer carries no resourceVersion');
    } catch (err) {
      if (signal.aborted) return STOPPED;
      // An expired continue token (410) is retried the same way: the next attempt lists from the start.
      return this.#retry('list', err, { phase: 'Listing', relist: true });
    }
    this.#resourceVersion = resourceVersion;
    this.#notify({
      kind: 'listed',
      resourceVersion,
      objects: objects.length,
      pages,
      durationMs: this.#opts.clock.now() - started,
      relist: state.relist,
    });
    yield { type: 'replace', objects, resourceVersion, relist: state.relist };
    return { phase: 'Watching', resourceVersion, reconnect: false };
  }

  async *#watch(state: Extract<WatcherState, { phase: 'Watching' }>, signal: AbortSignal): AsyncGenerator<WatcherEvent<T>, WatcherState> {
    const clock = this.#opts.clock;
    const started = clock.now();
    let resourceVersion = state.resourceVersion;
    let events = 0;
    const minTimeout = this.#opts.minWatchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(minTimeout * (1 + this.#random()));
    this.#notify({ kind: 'watch-opened', resourceVersion, reconnect: state.reconnect, timeoutSeconds });
    try {
      const stream = this.#client.watch(
        this.#opts.resource,
        this.#opts.namespace ?? '',
        {
          resourceVersion,
          labelSelector: this.#opts.labelSelector,
          fieldSelector: this.#opts.fieldSelector,
          allowWatchBookmarks: true,
          timeoutSeconds,
          idleTimeoutMs: this.#opts.idleTimeoutMs ?? 300_000,
        },
        signal,
      );
      for await (const raw of stream) {
        const parsed = watchEventSchema.safeParse(raw);
        if (!parsed.success) throw new WatchEventError('received a malformed watch event', { cause: parsed.error });
        const ev = parsed.data;
        if (ev.type === 'ERROR') throw this.#statusError(ev.object);
        events++;
        // Any event proves the connection and the resourceVersion good: later failures start from the initial delay.
        this.#backoff.reset();
        const rv = metaSchema.safeParse(ev.object).data?.metadata?.resourceVersion;
        if (rv !== undefined && rv !== '') {
          resourceVersion = rv;
          this.#resourceVersion = rv;
        }
        if (ev.type === 'BOOKMARK') continue;
        const obj = this.#decode(ev.object);
        if (obj === undefined) continue;
        yield ev.type === 'DELETED' ? { type: 'delete', obj, resourceVersion } : { type: 'apply', obj, resourceVersion };
      }
    } catch (err) {
      if (signal.aborted) return STOPPED;
      this.#forgiveIfHealthy(started);
      // Too large: the server is behind our resourceVersion (a lagging HA member, or etcd restored from a backup).
      // Retrying the same resourceVersion can wait forever; a relist is a consistent read that starts over.
      if (isGone(err) || isResourceVersionTooLarge(err)) {
        this.#notify({ kind: 'expired', resourceVersion, error: err });
        // The first 410 after a healthy stretch is routine (compaction): relist at once. Repeated ones back off.
        const first = this.#backoff.failures === 0;
        const delayMs = this.#backoff.next();
        const next: ListingOrWatching = { phase: 'Listing', relist: true };
        return first ? next : { phase: 'BackingOff', delayMs, next };
      }
      return this.#retry('watch', err, { phase: 'Watching', resourceVersion, reconnect: true });
    }
    if (signal.aborted) return STOPPED;
    const durationMs = clock.now() - started;
    this.#notify({ kind: 'watch-closed', resourceVersion, events, durationMs });
    this.#forgiveIfHealthy(started);
    const next: ListingOrWatching = { phase: 'Watching', resourceVersion, reconnect: true };
    if (events === 0 && durationMs < (this.#opts.minWatchDurationMs ?? 1000)) {
      // A server that closes every watch at once would otherwise be hammered in a tight loop.
      return this.#retry('watch', new WatchEventError(`watch closed after ${durationMs} ms without events`), next);
    }
    return next;
  }

  async #wait(state: Extract<WatcherState, { phase: 'BackingOff' }>, signal: AbortSignal): Promise<WatcherState> {
    try {
      await this.#opts.clock.sleep(state.delayMs, signal);
    } catch {
      return STOPPED;
    }
    return signal.aborted ? STOPPED : state.next;
  }

  #retry(phase: 'list' | 'watch', error: unknown, next: ListingOrWatching): WatcherState {
    let delayMs = this.#backoff.next();
    if (error instanceof ApiError && error.retryAfterSeconds !== undefined) {
      delayMs = Math.max(delayMs, Math.min(error.retryAfterSeconds * 1000, this.#policy.maxMs));
    }
    this.#notify({ kind: 'retrying', phase, error, delayMs, failures: this.#backoff.failures });
    return { phase: 'BackingOff', delayMs, next };
  }

  #forgiveIfHealthy(started: number): void {
    if (this.#opts.clock.now() - started >= this.#policy.resetAfterMs) this.#backoff.reset();
  }

  #decode(raw: Readonly<Record<string, unknown>>): T | undefined {
    const decode = this.#opts.decode;
    if (decode === undefined) return raw as T;
    try {
      return decode(raw);
    } catch (error) {
      this.#notify({ kind: 'decode-failed', error });
      return undefined;
    }
  }

  #statusError(status: Readonly<Record<string, unknown>>): Error {
    const code = typeof status.code === 'number' ? status.code : 500;
    const path = resourcePath(this.#opts.resource, this.#opts.namespace ?? '');
    return apiErrorFrom(code, JSON.stringify(status), 'watch', path, null);
  }

  #notify(notice: WatcherNotice): void {
    try {
      this.#opts.observe?.(notice);
    } catch {
      // Observability must never break the watch.
    }
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function assertNever(x: never): never {
  throw new Error(`unexpected watcher state ${JSON.stringify(x)}`);
}
