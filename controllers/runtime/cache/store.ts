// A read-only view of an informer's cache. One writer (the informer), many readers (reconcilers, handlers).
// Returned objects are the cached instances themselves: callers must never mutate them (tests deep-freeze inputs).

/** Maps an object to zero or more index values, e.g. a Pod to its namespace. */
export type IndexFunc<T> = (obj: T) => readonly string[];

export interface Store<T> {
  /** The object with this `namespace/name` key, if cached. */
  get(key: string): Readonly<T> | undefined;
  /** Every cached object, in no particular order. */
  list(): readonly Readonly<T>[];
  /** Every cached key. */
  keys(): readonly string[];
  /** Objects whose index `indexName` produced `value`. Throws if the index was not registered. */
  byIndex(indexName: string, value: string): readonly Readonly<T>[];
  /** Number of cached objects. */
  readonly size: number;
  /**
   * What was written since `revision` (a value an earlier call returned), for readers that keep state derived from
   * the cache up to date instead of recomputing it. Optional: a store without it makes such readers recompute.
   */
  changesSince?(revision: number): StoreChanges;
}

/** The answer of {@link Store.changesSince}. */
export interface StoreChanges {
  /** The store's current revision: pass it to the next call. */
  readonly revision: number;
  /**
   * Keys upserted or removed since the revision asked about, oldest first, one entry per write (a key may repeat).
   * Undefined when the store no longer knows (a relist replaced everything, the history was trimmed, or the revision
   * is not one it gave out): the reader must recompute from the cache.
   */
  readonly keys: readonly string[] | undefined;
}

/** The index every namespaced informer registers: objects by namespace. */
export const NAMESPACE_INDEX = 'namespace';
