import { type IndexFunc, NAMESPACE_INDEX, type Store, type StoreChanges } from './store.ts';

// The informer's cache. Reads are synchronous and never observe a half-applied write: JavaScript runs a write to
// completion before any reader (a handler, a reconcile) gets the thread, and `replace` builds its new maps aside and
// swaps them in one assignment, as kube-rs's reflector does for a relist.

/** Maps an object to its store key (`namespace/name`). */
export type KeyFunc<T> = (obj: T) => string;

export interface IndexedStoreOptions<T> {
  readonly keyFunc: KeyFunc<T>;
  /** Maps an object to its namespace for the namespace index, which every store has. */
  readonly namespaceFunc: (obj: T) => string;
  /** Extra indexes by name; must not reuse {@link NAMESPACE_INDEX}. */
  readonly indexers?: Readonly<Record<string, IndexFunc<T>>>;
}

/** An object whose index functions threw; it was not stored. */
export class IndexFuncError extends Error {
  override readonly name = 'IndexFuncError';
  readonly key: string;
  readonly indexName: string;

  constructor(key: string, indexName: string, cause: unknown) {
    super(`index ${indexName} failed for ${key}`, { cause });
    this.key = key;
    this.indexName = indexName;
  }
}

/** What a {@link IndexedStore.replace} changed, so the informer can tell its handlers. */
export interface ReplaceResult<T> {
  readonly added: readonly Readonly<T>[];
  /** Every object present before and after, whether or not it changed; the caller decides what counts as a change. */
  readonly updated: readonly { readonly oldObj: Readonly<T>; readonly newObj: Readonly<T> }[];
  readonly deleted: readonly Readonly<T>[];
  /** Objects left out because an index function threw on them. */
  readonly rejected: readonly IndexFuncError[];
}

type IndexTable = Map<string, Map<string, Set<string>>>;

/** Writes remembered for {@link IndexedStore.changesSince}; older ones are dropped half at a time. */
const JOURNAL_LIMIT = 8192;

/**
 * A keyed object store with secondary indexes. One writer (the informer) calls `upsert`/`remove`/`replace`; any number
 * of readers use the {@link Store} view. Stored objects are kept by reference and must never be mutated.
 * Costs: `upsert`/`remove` O(number of index values of the old and new object); `replace` O(n) for n objects.
 */
export class IndexedStore<T> implements Store<T> {
  readonly #keyFunc: KeyFunc<T>;
  readonly #indexers: ReadonlyMap<string, IndexFunc<T>>;
  #items = new Map<string, Readonly<T>>();
  #indices: IndexTable;
  // Snapshots for list()/keys(), dropped on every write: readers typically list many times between writes.
  #listCache: readonly Readonly<T>[] | undefined;
  #keysCache: readonly string[] | undefined;
  // Keys written by upsert/remove, oldest first: entry i is the write that made revision #journalStart + i + 1.
  #revision = 0;
  #journal: string[] = [];
  #journalStart = 0;

  constructor(options: IndexedStoreOptions<T>) {
    this.#keyFunc = options.keyFunc;
    const indexers = new Map<string, IndexFunc<T>>();
    const namespaceFunc = options.namespaceFunc;
    indexers.set(NAMESPACE_INDEX, (obj) => [namespaceFunc(obj)]);
    for (const [name, fn] of Object.entries(options.indexers ?? {})) {
      if (indexers.has(name)) throw new Error(`index ${name} is registered twice`);
      indexers.set(name, fn);
    }
    this.#indexers = indexers;
    this.#indices = emptyIndices(indexers);
  }

  get size(): number {
    return this.#items.size;
  }

  get(key: string): Readonly<T> | undefined {
    return this.#items.get(key);
  }

  list(): readonly Readonly<T>[] {
    this.#listCache ??= Object.freeze([...this.#items.values()]);
    return this.#listCache;
  }

  keys(): readonly string[] {
    this.#keysCache ??= Object.freeze([...this.#items.keys()]);
    return this.#keysCache;
  }

  /** Objects whose index `indexName` produced `value`. Throws if no such index is registered. */
  byIndex(indexName: string, value: string): readonly Readonly<T>[] {
    const index = this.#indices.get(indexName);
    if (index === undefined) throw new Error(`index ${indexName} is not registered`);
    const keys = index.get(value);
    if (keys === undefined) return [];
    const out: Readonly<T>[] = [];
    for (const key of keys) {
      const obj = this.#items.get(key);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  /**
   * Keys written since `revision`, oldest first (see {@link Store.changesSince}). Each upsert and remove is one entry;
   * a replace forgets the history, so older revisions get `keys: undefined`, as do revisions past the last
   * {@link JOURNAL_LIMIT} writes.
   */
  changesSince(revision: number): StoreChanges {
    const from = revision - this.#journalStart;
    const known = Number.isInteger(revision) && from >= 0 && revision <= this.#revision;
    return { revision: this.#revision, keys: known ? this.#journal.slice(from) : undefined };
  }

  /** Names of the registered indexes, the namespace index first. */
  indexNames(): readonly string[] {
    return [...this.#indexers.keys()];
  }

  /**
   * Adds or replaces the object under its key and returns the previous one. Throws {@link IndexFuncError} without
   * changing anything when an index function throws on the new object.
   */
  upsert(obj: Readonly<T>): Readonly<T> | undefined {
    const key = this.#keyFunc(obj);
    const newValues = this.#indexValues(key, obj);
    const old = this.#items.get(key);
    if (old !== undefined) this.#unindex(key, this.#indexValues(key, old));
    this.#items.set(key, obj);
    this.#index(key, newValues);
    this.#invalidate();
    this.#record(key);
    return old;
  }

  /** Removes the object with this key and returns it, or undefined when it was not stored. */
  remove(key: string): Readonly<T> | undefined {
    const old = this.#items.get(key);
    if (old === undefined) return undefined;
    this.#unindex(key, this.#indexValues(key, old));
    this.#items.delete(key);
    this.#invalidate();
    this.#record(key);
    return old;
  }

  /**
   * Replaces the whole content with `objects` (a fresh list) in one swap and returns the difference to the previous
   * content. When two objects share a key the later wins.
   */
  replace(objects: Iterable<Readonly<T>>): ReplaceResult<T> {
    const items = new Map<string, Readonly<T>>();
    const indices = emptyIndices(this.#indexers);
    const rejected: IndexFuncError[] = [];
    for (const obj of objects) {
      const key = this.#keyFunc(obj);
      let values: Map<string, readonly string[]>;
      try {
        values = this.#indexValues(key, obj);
      } catch (err) {
        if (!(err instanceof IndexFuncError)) throw err;
        rejected.push(err);
        continue;
      }
      if (items.has(key)) unindexInto(indices, key, this.#indexValues(key, items.get(key) as Readonly<T>));
      items.set(key, obj);
      indexInto(indices, key, values);
    }
    const added: Readonly<T>[] = [];
    const updated: { oldObj: Readonly<T>; newObj: Readonly<T> }[] = [];
    const deleted: Readonly<T>[] = [];
    for (const [key, newObj] of items) {
      const oldObj = this.#items.get(key);
      if (oldObj === undefined) added.push(newObj);
      else updated.push({ oldObj, newObj });
    }
    for (const [key, oldObj] of this.#items) if (!items.has(key)) deleted.push(oldObj);
    this.#items = items;
    this.#indices = indices;
    this.#invalidate();
    this.#revision++;
    this.#journal = [];
    this.#journalStart = this.#revision;
    return { added, updated, deleted, rejected };
  }

  #indexValues(key: string, obj: Readonly<T>): Map<string, readonly string[]> {
    const out = new Map<string, readonly string[]>();
    for (const [name, fn] of this.#indexers) {
      try {
        out.set(name, fn(obj as T));
      } catch (err) {
        throw new IndexFuncError(key, name, err);
      }
    }
    return out;
  }

  #index(key: string, values: Map<string, readonly string[]>): void {
    indexInto(this.#indices, key, values);
  }

  #unindex(key: string, values: Map<string, readonly string[]>): void {
    unindexInto(this.#indices, key, values);
  }

  #record(key: string): void {
    this.#revision++;
    this.#journal.push(key);
    if (this.#journal.length > JOURNAL_LIMIT) {
      const dropped = this.#journal.length >> 1;
      this.#journal = this.#journal.slice(dropped);
      this.#journalStart += dropped;
    }
  }

  #invalidate(): void {
    this.#listCache = undefined;
    this.#keysCache = undefined;
  }
}

function emptyIndices<T>(indexers: ReadonlyMap<string, IndexFunc<T>>): IndexTable {
  const out: IndexTable = new Map();
  for (const name of indexers.keys()) out.set(name, new Map());
  return out;
}

function indexInto(indices: IndexTable, key: string, values: Map<string, readonly string[]>): void {
  for (const [name, vals] of values) {
    const index = indices.get(name);
    if (index === undefined) continue;
    for (const v of vals) {
      let keys = index.get(v);
      if (keys === undefined) {
        keys = new Set();
        index.set(v, keys);
      }
      keys.add(key);
    }
  }
}

function unindexInto(indices: IndexTable, key: string, values: Map<string, readonly string[]>): void {
  for (const [name, vals] of values) {
    const index = indices.get(name);
    if (index === undefined) continue;
    for (const v of vals) {
      const keys = index.get(v);
      if (keys === undefined) continue;
      keys.delete(key);
      // Empty buckets would accumulate forever for churned values (e.g. deleted namespaces).
      if (keys.size === 0) index.delete(v);
    }
  }
}
