import type { NameResolution } from './dns/resolver.ts';

// What is known about the dnsNames of every object, between reconciles: the last resolution of each name, with its
// per-address expiries and the time of its next refresh. Kept per object (two objects naming the same host resolve it
// on their own schedules and bounds). Owned by the reconciler; never shared across controllers.

/** The names among `names` that are due at `now`: never resolved, or past their refresh time. Pure. */
export function dueNames(known: ReadonlyMap<string, NameResolution>, names: readonly string[], now: number): string[] {
  return names.filter((n) => {
    const r = known.get(n);
    return r === undefined || r.nextRefreshAt <= now;
  });
}

/** Resolutions per object key and name. */
export class NameResolutions {
  readonly #byObject = new Map<string, Map<string, NameResolution>>();

  /** The resolutions of `objectKey` (empty when none). */
  get(objectKey: string): ReadonlyMap<string, NameResolution> {
    return this.#byObject.get(objectKey) ?? new Map();
  }

  /** Records the latest resolution of one name. */
  set(objectKey: string, resolution: NameResolution): void {
    let names = this.#byObject.get(objectKey);
    if (names === undefined) {
      names = new Map();
      this.#byObject.set(objectKey, names);
    }
    names.set(resolution.name, resolution);
  }

  /** Forgets names no longer declared by the object. */
  retain(objectKey: string, names: readonly string[]): void {
    const known = this.#byObject.get(objectKey);
    if (known === undefined) return;
    const keep = new Set(names);
    for (const n of [...known.keys()]) if (!keep.has(n)) known.delete(n);
    if (known.size === 0) this.#byObject.delete(objectKey);
  }

  /** The earliest refresh time over the object's names, or undefined when it has none. */
  nextRefreshAt(objectKey: string): number | undefined {
    const known = this.#byObject.get(objectKey);
    if (known === undefined || known.size === 0) return undefined;
    return Math.min(...[...known.values()].map((r) => r.nextRefreshAt));
  }

  /** Forgets everything about `objectKey`. */
  forget(objectKey: string): void {
    this.#byObject.delete(objectKey);
  }
}
