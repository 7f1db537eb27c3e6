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
}

/** The index every namespaced informer registers: objects by namespace. */
export const NAMESPACE_INDEX = 'namespace';
