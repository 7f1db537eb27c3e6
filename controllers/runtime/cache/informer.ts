import type { Logger } from 'pino';
import type { ApiClient } from '../api-client.ts';
import { describeError } from '../api-errors.ts';
import type { Clock, Timer } from '../clock.ts';
import type { InformerSpec, SharedInformer } from '../manager-types.ts';
import type { BackoffPolicy } from '../watch/backoff.ts';
import { Watcher, type WatcherEvent, type WatcherNotice } from '../watch/watcher.ts';
import type { EventHandler } from './event-handler.ts';
import { IndexedStore } from './indexed-store.ts';
import type { Store } from './store.ts';

// A shared cache of one resource: the watcher feeds it, the store holds it, handlers hear about it. The store is
// always written before any handler runs, so a reconcile triggered by a handler reads at least that version.

/** Tuning knobs; every one has a production default. */
export interface InformerOptions {
  /** Namespace to cache; '' (default) caches all namespaces. */
  readonly namespace?: string;
  /** Server-side field selector (the spec's label selector is always applied). */
  readonly fieldSelector?: string;
  /** Re-deliver onUpdate(obj, obj) for every cached object this often. Default 0: off. */
  readonly resyncPeriodMs?: number;
  /** List page size. Default 500. */
  readonly pageSize?: number;
  /** Tear down a watch stream silent for this long. Default 5 min. */
  readonly idleTimeoutMs?: number;
  /** Server-side watch timeout, drawn from [min, 2*min) seconds. Default 300. */
  readonly minWatchTimeoutSeconds?: number;
  /** Retry policy for every list and watch failure. Default: 800 ms doubling to 30 s, +20 % jitter. */
  readonly backoff?: Partial<BackoffPolicy>;
  /** Randomness for jitter and watch timeouts. Default Math.random. */
  readonly random?: () => number;
  /** Watcher notices (relists, reconnects, 410s, errors), for metrics. Called after the informer logged them. */
  readonly observe?: (notice: WatcherNotice) => void;
}

/** What an informer needs from its surroundings. */
export interface InformerDeps {
  readonly client: ApiClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly options?: InformerOptions;
}

/** A decoded watch object: its key, and the parsed object, or undefined when parsing failed. */
interface Decoded<T> {
  readonly key: string;
  readonly resourceVersion: string | undefined;
  readonly obj: T | undefined;
}

/**
 * The operator's informer: list+watch through {@link Watcher}, raw objects stripped of `metadata.managedFields` and
 * parsed with `spec.parse` (a throw drops that object with a warning), an {@link IndexedStore}, and handlers.
 * Lifecycle: construct, add handlers, `start(signal)`; `waitForSync` resolves once the first list is in the store.
 */
export class Informer<T> implements SharedInformer<T> {
  readonly #spec: InformerSpec<T>;
  readonly #deps: InformerDeps;
  readonly #store: IndexedStore<T>;
  readonly #handlers: EventHandler<T>[] = [];
  readonly #log: Logger;
  #watcher: Watcher<Decoded<T>> | undefined;
  #started = false;
  #synced = false;
  #syncWaiters: (() => void)[] = [];

  /** Throws if an index name in the spec collides with the namespace index. */
  constructor(spec: InformerSpec<T>, deps: InformerDeps) {
    this.#spec = spec;
    this.#deps = deps;
    this.#log = deps.logger.child({ informer: spec.resource.plural, ...(spec.labelSelector ? { labelSelector: spec.labelSelector } : {}) });
    this.#store = new IndexedStore<T>({
      keyFunc: (obj) => keyOf(metadataOf(obj)),
      namespaceFunc: (obj) => metadataOf(obj).namespace ?? '',
      indexers: spec.indexers,
    });
  }

  /** The read-only cache; objects in it are shared and must never be mutated. */
  get store(): Store<T> {
    return this.#store;
  }

  /**
   * Adds a handler. Handlers run synchronously in registration order after each store write; a throw is logged and
   * never reaches the watcher. A handler added after the cache has content first receives onAdd for every cached
   * object, as client-go does, so it never misses objects listed before it.
   */
  addEventHandler(handler: EventHandler<T>): void {
    this.#handlers.push(handler);
    for (const obj of this.#store.list()) this.#call('add', () => handler.onAdd?.(obj));
  }

  /** True once the first full list has been applied to the store and delivered to handlers. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** The resourceVersion the informer would resume from; undefined before the first list. */
  lastSyncResourceVersion(): string | undefined {
    return this.#watcher?.resourceVersion;
  }

  /** Resolves true once synced, or false if `signal` aborts first. Never rejects. */
  waitForSync(signal: AbortSignal): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => resolve(false);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      });
    });
  }

  /**
   * Lists, watches and keeps the store current until `signal` aborts, then resolves. API and network failures are
   * retried forever and never reject this promise; stopping is quiet (no error log, no further request).
   * Throws if called twice.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error(`informer for ${this.#spec.resource.plural} started twice`);
    this.#started = true;
    const options = this.#deps.options ?? {};
    const watcher = new Watcher<Decoded<T>>(this.#deps.client, {
      resource: this.#spec.resource,
      namespace: options.namespace,
      labelSelector: this.#spec.labelSelector,
      fieldSelector: options.fieldSelector,
      decode: (raw) => this.#decode(raw),
      pageSize: options.pageSize,
      minWatchTimeoutSeconds: options.minWatchTimeoutSeconds,
      idleTimeoutMs: options.idleTimeoutMs,
      backoff: options.backoff,
      random: options.random,
      clock: this.#deps.clock,
      observe: (notice) => this.#onNotice(notice),
    });
    this.#watcher = watcher;
    const resync = this.#startResync(options.resyncPeriodMs ?? 0, signal);
    const events = watcher.run(signal);
    try {
      while (await this.#applyNext(events));
    } finally {
      resync?.cancel();
    }
    this.#log.debug('Stopped informer');
  }

  /**
   * Applies the next watcher event; false when the watcher ended. A separate frame per event on purpose: a loop
   * variable in `start` would keep the last event (a whole relist) reachable while the next one is awaited, which on a
   * quiet collection can be for hours.
   */
  async #applyNext(events: AsyncGenerator<WatcherEvent<Decoded<T>>, void, undefined>): Promise<boolean> {
    const next = await events.next();
    if (next.done === true) return false;
    this.#apply(next.value);
    return true;
  }

  #apply(event: WatcherEvent<Decoded<T>>): void {
    switch (event.type) {
      case 'replace':
        this.#replace(event.objects, event.relist);
        return;
      case 'apply': {
        const { key, obj } = event.obj;
        // An unparseable update keeps the last good version: dropping it would look like a delete to controllers.
        if (obj === undefined) return;
        const old = this.#write(() => this.#store.upsert(obj), key);
        if (old === false) return;
        if (old === undefined) this.#dispatch('add', (h) => h.onAdd?.(obj));
        else this.#dispatch('update', (h) => h.onUpdate?.(old, obj));
        return;
      }
      case 'delete': {
        const { key, obj } = event.obj;
        const old = this.#store.remove(key);
        // Handlers never saw an object that was not cached (it failed to parse or index): no delete for it either.
        if (old === undefined) return;
        const last = obj ?? old;
        this.#dispatch('delete', (h) => h.onDelete?.(last, false));
        return;
      }
      default:
        assertNever(event);
    }
  }

  #replace(decoded: readonly Decoded<T>[], relist: boolean): void {
    const parsed: Readonly<T>[] = [];
    for (const d of decoded) {
      // An object that no longer parses keeps its last good version rather than vanishing (see the apply case).
      const obj = d.obj ?? this.#store.get(d.key);
      if (obj !== undefined) parsed.push(obj);
    }
    const diff = this.#store.replace(parsed);
    for (const err of diff.rejected)
      this.#log.warn({ key: err.key, index: err.indexName, err: err.cause }, 'Dropped object failing an index function');
    for (const obj of diff.added) this.#dispatch('add', (h) => h.onAdd?.(obj));
    for (const { oldObj, newObj } of diff.updated) {
      if (metadataOf(oldObj).resourceVersion === metadataOf(newObj).resourceVersion) continue;
      this.#dispatch('update', (h) => h.onUpdate?.(oldObj, newObj));
    }
    // Deleted while the watch was down: the final state is unknown, the last cached one stands in for it.
    for (const obj of diff.deleted) this.#dispatch('delete', (h) => h.onDelete?.(obj, true));
    if (relist) {
      this.#log.info({ added: diff.added.length, deleted: diff.deleted.length, objects: this.#store.size }, 'Relisted objects');
    }
    if (!this.#synced) {
      this.#synced = true;
      this.#log.info({ objects: this.#store.size }, 'Synced informer cache');
      const waiters = this.#syncWaiters;
      this.#syncWaiters = [];
      for (const w of waiters) w();
    }
  }

  #decode(raw: Readonly<Record<string, unknown>>): Decoded<T> | undefined {
    const meta = metadataOf(raw);
    const key = keyOf(meta);
    if (meta.name === undefined || meta.name === '') {
      this.#log.warn('Dropped object without a name');
      return undefined;
    }
    try {
      return { key, resourceVersion: meta.resourceVersion, obj: this.#spec.parse(withoutManagedFields(raw)) };
    } catch (err) {
      this.#log.warn({ key, resourceVersion: meta.resourceVersion, err: describeError(err) }, 'Dropped malformed object');
      return { key, resourceVersion: meta.resourceVersion, obj: undefined };
    }
  }

  /** Runs a store write; returns its result, or false when the object was rejected (logged). */
  #write(fn: () => Readonly<T> | undefined, key: string): Readonly<T> | undefined | false {
    try {
      return fn();
    } catch (err) {
      this.#log.warn({ key, err: describeError(err) }, 'Dropped object failing an index function');
      return false;
    }
  }

  #dispatch(kind: 'add' | 'update' | 'delete', fn: (h: EventHandler<T>) => void): void {
    for (const h of this.#handlers) this.#call(kind, () => fn(h));
  }

  #call(kind: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error({ event: kind, err: describeError(err) }, 'Event handler failed');
    }
  }

  #startResync(periodMs: number, signal: AbortSignal): Timer | undefined {
    if (periodMs <= 0) return undefined;
    let timer: Timer | undefined;
    const tick = () => {
      if (signal.aborted) return;
      if (this.#synced) for (const obj of this.#store.list()) this.#dispatch('update', (h) => h.onUpdate?.(obj, obj));
      timer = this.#deps.clock.setTimer(periodMs, tick);
    };
    timer = this.#deps.clock.setTimer(periodMs, tick);
    return { cancel: () => timer?.cancel() };
  }

  #onNotice(notice: WatcherNotice): void {
    const log = this.#log;
    switch (notice.kind) {
      case 'listed':
        log.debug(
          { resourceVersion: notice.resourceVersion, objects: notice.objects, pages: notice.pages, durationMs: notice.durationMs },
          'Listed objects',
        );
        break;
      case 'watch-opened':
        log.debug({ resourceVersion: notice.resourceVersion, reconnect: notice.reconnect }, 'Opened watch');
        break;
      case 'watch-closed':
        log.debug({ resourceVersion: notice.resourceVersion, events: notice.events, durationMs: notice.durationMs }, 'Closed watch');
        break;
      case 'expired':
        log.info({ resourceVersion: notice.resourceVersion, err: describeError(notice.error) }, 'Watch expired, relisting');
        break;
      case 'retrying':
        log.warn(
          { phase: notice.phase, delayMs: notice.delayMs, failures: notice.failures, err: describeError(notice.error) },
          'Failed to list or watch, retrying',
        );
        break;
      case 'decode-failed':
        log.warn({ err: describeError(notice.error) }, 'Dropped undecodable object');
        break;
      default:
        assertNever(notice);
    }
    this.#deps.options?.observe?.(notice);
  }
}

interface MinimalMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly resourceVersion?: string;
}

/** Reads name/namespace/resourceVersion from any object without trusting its shape. */
function metadataOf(obj: unknown): MinimalMeta {
  if (typeof obj !== 'object' || obj === null) return {};
  const meta = (obj as { metadata?: unknown }).metadata;
  if (typeof meta !== 'object' || meta === null) return {};
  const m = meta as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { name: str(m.name), namespace: str(m.namespace), resourceVersion: str(m.resourceVersion) };
}

/**
 * The store key, equal to objectKey()'s (api/core/meta.ts). Built with join because a `+` or template concatenation yields a V8 cons
 * string that, once hashed as a Map key, keeps both itself and a flattened copy: some 30 bytes per cached object.
 */
function keyOf(meta: MinimalMeta): string {
  const ns = meta.namespace ?? '';
  const name = meta.name ?? '';
  return ns === '' ? name : [ns, name].join('/');
}

/**
 * The object without `metadata.managedFields` (typically 40 % of an object and never read by a controller). The raw
 * object is freshly decoded JSON owned by the informer, so it is changed in place rather than copied.
 */
export function withoutManagedFields(raw: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  const meta = raw.metadata;
  if (typeof meta === 'object' && meta !== null && 'managedFields' in meta) delete (meta as Record<string, unknown>).managedFields;
  return raw;
}

function assertNever(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`);
}
