import type { EventHandler } from '../cache/event-handler.ts';
import { type IndexFunc, NAMESPACE_INDEX, type Store } from '../cache/store.ts';
import type { InformerSpec, SharedInformer } from '../manager-types.ts';

/** An informer the manager can run: the shared view plus its lifecycle (as the cache's Informer). */
export interface RunnableInformer<T> extends SharedInformer<T> {
  start(signal: AbortSignal): Promise<void>;
  waitForSync(signal: AbortSignal): Promise<boolean>;
}

/**
 * What the informer registry hands out before the real informer exists. Handlers and indexers from every caller are
 * collected until the manager starts leading; then one {@link RunnableInformer} is built with the merged indexers and
 * the store view switches to it. Before that the store is empty (reads are legal but see nothing).
 */
export class LazyInformer<T> implements SharedInformer<T> {
  /** The registry key, `apiVersion/plural?labelSelector#parseId`: logs, readiness and metrics name informers by it. */
  readonly key: string;
  readonly #spec: InformerSpec<T>;
  readonly #indexers: Record<string, IndexFunc<T>> = {};
  readonly #handlers: EventHandler<T>[] = [];
  #real: RunnableInformer<T> | undefined;
  readonly store: Store<T>;

  constructor(key: string, spec: InformerSpec<T>) {
    this.key = key;
    this.#spec = spec;
    Object.assign(this.#indexers, spec.indexers ?? {});
    const real = () => this.#real?.store;
    const indexers = this.#indexers;
    this.store = {
      get: (key) => real()?.get(key),
      list: () => real()?.list() ?? [],
      keys: () => real()?.keys() ?? [],
      byIndex: (indexName, value) => {
        const r = real();
        if (r !== undefined) return r.byIndex(indexName, value);
        if (indexName !== NAMESPACE_INDEX && !Object.hasOwn(indexers, indexName)) throw new Error(`index ${indexName} is not registered`);
        return [];
      },
      get size() {
        return real()?.size ?? 0;
      },
    };
  }

  get spec(): InformerSpec<T> {
    return this.#spec;
  }

  /** Adds a second caller's indexers; throws on a conflicting index. */
  merge(spec: InformerSpec<T>): void {
    for (const [name, fn] of Object.entries(spec.indexers ?? {})) {
      const existing = this.#indexers[name];
      if (existing !== undefined && existing !== fn)
        throw new Error(`informer ${this.key}: index ${name} registered twice with different functions`);
      this.#indexers[name] = fn;
    }
  }

  addEventHandler(handler: EventHandler<T>): void {
    if (this.#real !== undefined) this.#real.addEventHandler(handler);
    else this.#handlers.push(handler);
  }

  hasSynced(): boolean {
    return this.#real?.hasSynced() ?? false;
  }

  /** Builds the real informer once, with every collected indexer and handler. */
  materialise(build: (spec: InformerSpec<T>) => RunnableInformer<T>): RunnableInformer<T> {
    if (this.#real === undefined) {
      const real = build({ ...this.#spec, indexers: { ...this.#indexers } });
      for (const h of this.#handlers) real.addEventHandler(h);
      this.#handlers.length = 0;
      this.#real = real;
    }
    return this.#real;
  }
}
