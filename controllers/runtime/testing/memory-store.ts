import { objectKey } from '../../../api/core/meta.ts';
import { deepFreeze } from './deep-freeze.ts';
import { type IndexFunc, NAMESPACE_INDEX, type Store } from '../cache/store.ts';

// Test-only: a Store filled by the test instead of an informer, so reconcilers can be driven from fixed cache contents.

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Freeze a copy instead of the given object. Off by default: freezing the caller's own fixture in place is what
   * makes a reconciler that mutates cached objects throw in tests; turn it on when a test keeps editing its fixture.
   */
  readonly copyOnPut?: boolean;
}

/** A Store over deep-frozen objects keyed `namespace/name`, with the namespace index and optional others. */
export class MemoryStore<
  T extends { metadata?: { namespace?: string | undefined; name?: string | undefined } | undefined },
> implements Store<T> {
  readonly #items = new Map<string, Readonly<T>>();
  readonly #indexers: Map<string, IndexFunc<T>>;
  readonly #copyOnPut: boolean;

  constructor(items: readonly T[] = [], indexers: Readonly<Record<string, IndexFunc<T>>> = {}, options: MemoryStoreOptions = {}) {
    this.#indexers = new Map(Object.entries(indexers));
    this.#indexers.set(NAMESPACE_INDEX, (o) => [o.metadata?.namespace ?? '']);
    this.#copyOnPut = options.copyOnPut ?? false;
    for (const item of items) this.put(item);
  }

  /** Adds or replaces an object, as an informer's add/update would. */
  put(item: T): void {
    this.#items.set(objectKey(item), deepFreeze(this.#copyOnPut ? structuredClone(item) : item));
  }

  /** Drops an object, as an informer's delete would. */
  remove(key: string): void {
    this.#items.delete(key);
  }

  /** Replaces the whole content, as a relist would. */
  replaceAll(items: readonly T[]): void {
    this.#items.clear();
    for (const item of items) this.put(item);
  }

  get(key: string): Readonly<T> | undefined {
    return this.#items.get(key);
  }

  list(): readonly Readonly<T>[] {
    return [...this.#items.values()];
  }

  keys(): readonly string[] {
    return [...this.#items.keys()];
  }

  byIndex(indexName: string, value: string): readonly Readonly<T>[] {
    const fn = this.#indexers.get(indexName);
    if (fn === undefined) throw new Error(`index ${indexName} not registered`);
    return this.list().filter((o) => fn(o).includes(value));
  }

  get size(): number {
    return this.#items.size;
  }
}
