// Syncs refused because the informer cache was older than the controller's own last write, waiting for the watch to
// deliver that write (docs/performance.md, "Waking a sync when the cache catches up").
//
// Upstream refuses such a sync with a stale-cache error and leaves the retry to the rate-limited queue
// (endpointslice_controller.go: syncService and handleErr; endpoints_controller.go: syncService): 1 s doubling per
// consecutive failure for EndpointSlices, 5 ms doubling for Endpoints, reset only by a sync that succeeds. The echo of
// our own write is deliberately ignored by the informer handlers (EndpointSliceTracker.ShouldSync; Endpoints updates
// are not watched). During a long rollout, where most syncs start before the last write's echo, the failures pile up
// and the retry after the last change can be a minute away. Here the controller also remembers each Service whose sync
// was refused, and the handler that applies the awaited object to the cache queues that Service once, at once. The
// retry with backoff stays as upstream's, for a write whose echo never comes; what is written is unchanged.

/** Service keys (`namespace/name`) whose last sync was refused as stale. Handlers and reconciler run one at a time. */
export class CacheCatchUp {
  readonly #waiting = new Set<string>();

  /** The sync of `key` was refused: the cache lags behind our own write. */
  wait(key: string): void {
    this.#waiting.add(key);
  }

  /** An object of `key` reached the cache: true (once) when a refused sync of it is waiting, which should run now. */
  caughtUp(key: string): boolean {
    return this.#waiting.delete(key);
  }

  /** The Service is gone: nothing waits for it any more. */
  forget(key: string): void {
    this.#waiting.delete(key);
  }

  /** Number of waiting Services (tests and diagnostics). */
  get size(): number {
    return this.#waiting.size;
  }
}
