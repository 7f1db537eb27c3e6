import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_SERVICE_NAME } from '../../api/labels.ts';

// Upstream EndpointSliceTracker (k8s.io/endpointslice util/endpointslice_tracker.go: EndpointSliceTracker, v1.36): the
// generation of every slice a controller wrote, per Service (for the mirroring controller: per Endpoints object, which
// has its Service's name). It serves two purposes: informer events that only echo our own writes are ignored, and a
// sync that would act on a cache older than our own writes is refused (StaleCacheError) instead of creating duplicates.
// Each controller owns one instance. v1.36 keys by namespace and name only, so entries are not forgotten when a Service
// is recreated under a new UID (that came with v1.37, PR #141593).

/** The generation recorded for a slice we deleted and whose delete event has not arrived yet. */
const DELETION_EXPECTED = -1;

type SliceLike = Readonly<Pick<EndpointSlice, 'metadata'>>;

/** The tracker key of a slice: its namespace and service-name label (`namespace/` when the label is missing). */
function serviceKeyOf(slice: SliceLike): string {
  return `${slice.metadata.namespace ?? ''}/${slice.metadata.labels?.[LABEL_SERVICE_NAME] ?? ''}`;
}

/**
 * Expected generations of the slices a controller wrote, by Service key (`namespace/<kubernetes.io/service-name
 * label>`) and slice UID. Shared by the controller's informer handlers and reconciler; Node runs them one at a time
 * (each call runs to the end), so no locking is needed.
 */
export class EndpointSliceTracker {
  readonly #generationsByService = new Map<string, Map<string, number>>();

  /** Whether the slice's UID is tracked (written or deleted by us and not yet seen deleted). */
  has(slice: SliceLike): boolean {
    return this.#generationsByService.get(serviceKeyOf(slice))?.has(slice.metadata.uid ?? '') ?? false;
  }

  /**
   * Whether an informer event for this slice may carry news: the UID is untracked, or its generation is newer than
   * the one we wrote. False for the echo of our own write.
   */
  shouldSync(slice: SliceLike): boolean {
    const tracked = this.#generationsByService.get(serviceKeyOf(slice))?.get(slice.metadata.uid ?? '');
    return tracked === undefined || (slice.metadata.generation ?? 0) > tracked;
  }

  /**
   * Whether the cache lags behind our writes for the Service `namespace/name`: a given slice is older than what we
   * wrote or is one we deleted, or a slice we wrote (and did not delete) is missing. An untracked Service is never
   * stale. `slices` are the Service's slices from the cache.
   */
  staleSlices(namespace: string, name: string, slices: readonly SliceLike[]): boolean {
    const tracked = this.#generationsByService.get(`${namespace}/${name}`);
    if (tracked === undefined) return false;
    const provided = new Set<string>();
    for (const slice of slices) {
      const uid = slice.metadata.uid ?? '';
      provided.add(uid);
      const g = tracked.get(uid);
      if (g !== undefined && (g === DELETION_EXPECTED || g > (slice.metadata.generation ?? 0))) return true;
    }
    for (const [uid, g] of tracked) if (g !== DELETION_EXPECTED && !provided.has(uid)) return true;
    return false;
  }

  /** Records the generation of a slice we created or updated (the API server's answer). */
  update(slice: SliceLike): void {
    this.#generations(slice).set(slice.metadata.uid ?? '', slice.metadata.generation ?? 0);
  }

  /** Records that we deleted this slice, so its delete event is expected and the cache must not still hold it. */
  expectDeletion(slice: SliceLike): void {
    this.#generations(slice).set(slice.metadata.uid ?? '', DELETION_EXPECTED);
  }

  /**
   * Forgets a deleted slice. Returns false when the delete was not ours (the slice was tracked with a real
   * generation), which means the Service must be synced to replace it; true otherwise.
   */
  handleDeletion(slice: SliceLike): boolean {
    const generations = this.#generationsByService.get(serviceKeyOf(slice));
    if (generations === undefined) return true;
    const uid = slice.metadata.uid ?? '';
    const g = generations.get(uid);
    generations.delete(uid);
    return g === undefined || g === DELETION_EXPECTED;
  }

  /** Drops everything tracked for a Service (it was deleted). */
  deleteService(namespace: string, name: string): void {
    this.#generationsByService.delete(`${namespace}/${name}`);
  }

  #generations(slice: SliceLike): Map<string, number> {
    const key = serviceKeyOf(slice);
    let generations = this.#generationsByService.get(key);
    if (generations === undefined) {
      generations = new Map();
      this.#generationsByService.set(key, generations);
    }
    return generations;
  }
}
