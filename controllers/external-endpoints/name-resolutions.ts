import type { NameResolution } from './dns/resolver.ts';

// What is known about the dnsNames of one object, between reconciles: the last resolution of each name, with its
// per-address expiries and the time of its next refresh. Kept per object (two objects naming the same host resolve it
// on their own schedules and bounds), in the reconciler's ObjectMemory; never shared across controllers.

/** The names among `names` that are due at `now`: never resolved, or past their refresh time. Pure. */
export function dueNames(known: ReadonlyMap<string, NameResolution>, names: readonly string[], now: number): string[] {
  return names.filter((n) => {
    const r = known.get(n);
    return r === undefined || r.nextRefreshAt <= now;
  });
}

/** The resolutions of one object's names, by name. */
export class NameResolutions {
  readonly #byName = new Map<string, NameResolution>();

  /** The resolutions (a live view: later `set` calls show in it). */
  all(): ReadonlyMap<string, NameResolution> {
    return this.#byName;
  }

  /** Records the latest resolution of one name. */
  set(resolution: NameResolution): void {
    this.#byName.set(resolution.name, resolution);
  }

  /** Forgets names no longer declared by the object. */
  retain(names: readonly string[]): void {
    const keep = new Set(names);
    for (const n of [...this.#byName.keys()]) if (!keep.has(n)) this.#byName.delete(n);
  }

  /** The earliest refresh time over the names, or undefined when there is none. */
  nextRefreshAt(): number | undefined {
    if (this.#byName.size === 0) return undefined;
    return Math.min(...[...this.#byName.values()].map((r) => r.nextRefreshAt));
  }

  /** Forgets every name. */
  clear(): void {
    this.#byName.clear();
  }
}
