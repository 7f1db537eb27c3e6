import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_SERVICE_NAME } from '../../api/labels.ts';

// The informer cache lags behind our own writes. Upstream remembers the generation of every slice it wrote, and the
// slices it deleted, per Service (here: per Endpoints object of the same name), so a sync can tell a stale cache from
// the truth and retry instead of writing from old data, and slice events can be told apart from our own echoes
// (upstream-behaviour.md §3.5, as used by the mirroring controller).
// NOTE for the lead: the EndpointSlice controller has the same tracker; dedupe into controllers/shared/ later.

const DELETION_EXPECTED = -1;

function serviceKeyOf(slice: Readonly<EndpointSlice>): string {
  return `${slice.metadata.namespace ?? ''}/${slice.metadata.labels?.[LABEL_SERVICE_NAME] ?? ''}`;
}

/**
 * Generations this controller wrote, by Service key (`namespace/<kubernetes.io/service-name label>`) and slice UID; -1
 * marks an expected deletion. Safe for concurrent reconciles of different keys (JavaScript runs each call to the end).
 */
export class EndpointSliceTracker {
  readonly #byService = new Map<string, Map<string, number>>();

  /** The tracker holds a generation (or an expected deletion) for this slice. */
  has(slice: Readonly<EndpointSlice>): boolean {
    return this.#byService.get(serviceKeyOf(slice))?.has(slice.metadata.uid ?? '') ?? false;
  }

  /** The slice is not tracked, or its generation is newer than the tracked one: someone else changed it. */
  shouldSync(slice: Readonly<EndpointSlice>): boolean {
    const tracked = this.#byService.get(serviceKeyOf(slice))?.get(slice.metadata.uid ?? '');
    return tracked === undefined || (slice.metadata.generation ?? 0) > tracked;
  }

  /**
   * Whether the cached `slices` of `namespace/name` are older than what this controller wrote: one of them is expected
   * to be deleted or has an older generation than tracked, or a tracked, not-deleted slice is missing. An untracked
   * Service is never stale.
   */
  staleSlices(namespace: string, name: string, slices: readonly Readonly<EndpointSlice>[]): boolean {
    const generations = this.#byService.get(`${namespace}/${name}`);
    if (generations === undefined) return false;
    const provided = new Set<string>();
    for (const slice of slices) {
      const uid = slice.metadata.uid ?? '';
      provided.add(uid);
      const tracked = generations.get(uid);
      if (tracked !== undefined && (tracked === DELETION_EXPECTED || tracked > (slice.metadata.generation ?? 0))) return true;
    }
    for (const [uid, generation] of generations) {
      if (generation !== DELETION_EXPECTED && !provided.has(uid)) return true;
    }
    return false;
  }

  /** Records the generation of a slice this controller just created or updated (the API server's answer). */
  update(slice: Readonly<EndpointSlice>): void {
    this.#generations(slice).set(slice.metadata.uid ?? '', slice.metadata.generation ?? 0);
  }

  /** Records that this controller just deleted the slice. */
  expectDeletion(slice: Readonly<EndpointSlice>): void {
    this.#generations(slice).set(slice.metadata.uid ?? '', DELETION_EXPECTED);
  }

  /** Forgets the slice after its delete event; false when the deletion was not one this controller made. */
  handleDeletion(slice: Readonly<EndpointSlice>): boolean {
    const generations = this.#byService.get(serviceKeyOf(slice));
    if (generations === undefined) return true;
    const uid = slice.metadata.uid ?? '';
    const tracked = generations.get(uid);
    generations.delete(uid);
    return tracked === undefined || tracked === DELETION_EXPECTED;
  }

  /** Forgets everything about `namespace/name`. */
  deleteService(namespace: string, name: string): void {
    this.#byService.delete(`${namespace}/${name}`);
  }

  #generations(slice: Readonly<EndpointSlice>): Map<string, number> {
    const key = serviceKeyOf(slice);
    let generations = this.#byService.get(key);
    if (generations === undefined) {
      generations = new Map();
      this.#byService.set(key, generations);
    }
    return generations;
  }
}
