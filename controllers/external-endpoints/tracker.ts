import type { EndpointSlice } from '../../api/discovery/v1.ts';

// Our writes race our cache: a reconcile that runs before the informer has seen the slice we just created would
// create it again. Like upstream's EndpointSliceTracker, remember the generation of every slice we wrote and the
// slices we deleted, and call the cache stale until it shows them. Entries disappear once the cache has caught up.

const DELETED = -1;

/** Slice generations written (or deletions made) per ExternalEndpoints key. One per controller; event-loop only. */
export class SliceTracker {
  readonly #written = new Map<string, Map<string, number>>();

  #forKey(objectKey: string): Map<string, number> {
    let m = this.#written.get(objectKey);
    if (m === undefined) {
      m = new Map();
      this.#written.set(objectKey, m);
    }
    return m;
  }

  /** Records a slice as the API server returned it from a create or an update. */
  written(objectKey: string, slice: Readonly<EndpointSlice>): void {
    const name = slice.metadata.name;
    if (name !== undefined) this.#forKey(objectKey).set(name, slice.metadata.generation ?? 0);
  }

  /** Records a deletion we made. */
  deleted(objectKey: string, name: string): void {
    this.#forKey(objectKey).set(name, DELETED);
  }

  /** The informer saw a slice go away: nothing about it can be stale any more. */
  observedDeletion(objectKey: string, name: string): void {
    const m = this.#written.get(objectKey);
    m?.delete(name);
    if (m?.size === 0) this.#written.delete(objectKey);
  }

  /**
   * True when `cached` (the object's slices in the cache) does not yet show every write we made: a slice we wrote is
   * missing or older, or one we deleted is still there. Entries the cache has caught up with are dropped.
   */
  stale(objectKey: string, cached: readonly Readonly<EndpointSlice>[]): boolean {
    const m = this.#written.get(objectKey);
    if (m === undefined) return false;
    const byName = new Map(cached.map((s) => [s.metadata.name ?? '', s]));
    let stale = false;
    for (const [name, generation] of m) {
      const slice = byName.get(name);
      const caughtUp = generation === DELETED ? slice === undefined : slice !== undefined && (slice.metadata.generation ?? 0) >= generation;
      if (caughtUp) m.delete(name);
      else stale = true;
    }
    if (m.size === 0) this.#written.delete(objectKey);
    return stale;
  }

  /** Forgets the object. */
  forget(objectKey: string): void {
    this.#written.delete(objectKey);
  }
}
