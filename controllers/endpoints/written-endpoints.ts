import type { Endpoints } from '../../api/core/v1.ts';

// The Endpoints this controller wrote itself, kept from the API server's answer until the informer cache shows them
// (client-go mutation_cache.go: MutationCache, which controllers use to read their own writes before the watch
// delivers them; docs/performance.md, "Reading our own Endpoints writes").
//
// Upstream's Endpoints controller refuses a sync while its cache still shows a version it replaced
// (stale-endpoints-tracker.ts) and retries until the watch delivers its write. During a rollout of a Service above the
// 1,000-address cap, the next Pod change is almost always waiting by then, so every write was followed by a refusal
// and a wait for the echo of about 100 KB, queued behind the rollout's Pod events on the one thread. Here the sync
// goes on from the object the update returned instead. What it writes is what upstream writes once the echo arrives;
// the update still carries the resourceVersion it read, so a write by anyone else in between still conflicts.

interface Written {
  /** Versions our own writes replaced since the cache last showed the newest of them. */
  readonly replaced: Set<string>;
  /** The newest object an update of ours returned. */
  object: Readonly<Endpoints>;
}

/**
 * Our own newest write per Endpoints `namespace/name`, until the cache catches up with it. Reconciles of one key never
 * run at once, and informer handlers run between them, so no locking is needed. No I/O.
 */
export class WrittenEndpoints {
  readonly #byKey = new Map<string, Written>();

  /** An update of ours replaced `replacedVersion` with `object` (as the API server returned it). */
  remember(key: string, replacedVersion: string, object: Readonly<Endpoints>): void {
    const entry = this.#byKey.get(key);
    if (entry === undefined) {
      this.#byKey.set(key, { replaced: new Set([replacedVersion]), object });
      return;
    }
    entry.replaced.add(replacedVersion);
    entry.object = object;
  }

  /**
   * The Endpoints to sync from: our own newest write while the cache still shows a version that write (or one before
   * it) replaced; otherwise the cached object, and our copy is dropped (the cache has caught up, or someone else wrote).
   */
  current(key: string, cached: Readonly<Endpoints> | undefined): Readonly<Endpoints> | undefined {
    const entry = this.#byKey.get(key);
    if (entry === undefined) return cached;
    const version = cached?.metadata.resourceVersion;
    if (version !== undefined && entry.replaced.has(version)) return entry.object;
    this.#byKey.delete(key);
    return cached;
  }

  /**
   * The informer applied version `resourceVersion` of the Endpoints: once it is not one we replaced, our copy is no
   * longer needed (it is what the cache now shows, or someone else's newer write is).
   */
  observed(key: string, resourceVersion: string | undefined): void {
    const entry = this.#byKey.get(key);
    if (entry !== undefined && (resourceVersion === undefined || !entry.replaced.has(resourceVersion))) this.#byKey.delete(key);
  }

  /** Drops our copy: a write from it conflicted, or the Service is gone. */
  forget(key: string): void {
    this.#byKey.delete(key);
  }

  /** Number of Endpoints with a copy kept (tests and diagnostics). */
  get size(): number {
    return this.#byKey.size;
  }
}
