// The Endpoints controller's guard against acting on a cache older than its own last write (upstream
// endpoints_controller.go: staleEndpointsTracker, used by syncService). After an update that really changed the object,
// the resourceVersion it replaced is remembered; seeing that version in the cache again means the watch has not
// delivered our write yet, and syncing from it would write stale data (or conflict).

/**
 * Remembers, per Endpoints `namespace/name`, the last resourceVersion this controller replaced. Safe for concurrent
 * reconciles of different keys. No I/O.
 */
export class StaleEndpointsTracker {
  readonly #replaced = new Map<string, string>();

  /** Records that `resourceVersion` of the Endpoints was replaced by a write that changed it. */
  markStale(namespace: string, name: string, resourceVersion: string): void {
    this.#replaced.set(`${namespace}/${name}`, resourceVersion);
  }

  /** Whether a cached Endpoints at `resourceVersion` is one this controller already replaced. */
  isStale(namespace: string, name: string, resourceVersion: string | undefined): boolean {
    return resourceVersion !== undefined && this.#replaced.get(`${namespace}/${name}`) === resourceVersion;
  }

  /** Forgets the Endpoints (its Service is gone). */
  delete(namespace: string, name: string): void {
    this.#replaced.delete(`${namespace}/${name}`);
  }

  /** Number of tracked Endpoints (tests and metrics). */
  get size(): number {
    return this.#replaced.size;
  }
}
