import type { Endpoints } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME, MANAGED_BY_ENDPOINTSLICE_CONTROLLER } from '../../api/labels.ts';

// What the benchmark expects the controllers to write, compared with what a watch shows they wrote. Fed by watch
// events (never by polling lists, which would load the API server being measured), it knows at every event whether
// each Service's Endpoints and EndpointSlices are correct, and when the last incorrect one became correct.

/** The Endpoints controller's address cap (upstream truncates above it). */
export const MAX_ENDPOINTS_ADDRESSES = 1000;

/** A Service's expected endpoints: IP -> ready. */
export type ExpectedEndpoints = ReadonlyMap<string, boolean>;

interface ObservedSlice {
  readonly service: string;
  readonly endpoints: ReadonlyMap<string, boolean>;
  /** An address listed twice in one slice. */
  readonly duplicate: boolean;
}

interface ObservedEndpoints {
  readonly ready: ReadonlySet<string>;
  readonly notReady: ReadonlySet<string>;
}

/** Watch event types the tracker applies. */
export type ObjectEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * Tracks convergence of one namespace's Endpoints and EndpointSlices towards expectations. Time is passed in by the
 * caller (the receipt time of the event that caused a change), so the class is deterministic. Not thread-safe (there
 * are no threads): call it from the watch loops only.
 */
export class ConvergenceTracker {
  readonly #expected = new Map<string, ExpectedEndpoints>();
  readonly #slices = new Map<string, ObservedSlice>();
  readonly #slicesByService = new Map<string, Set<string>>();
  readonly #endpoints = new Map<string, ObservedEndpoints>();
  readonly #badSlices = new Set<string>();
  readonly #badEndpoints = new Set<string>();
  #slicesConvergedAt: number | undefined;
  #endpointsConvergedAt: number | undefined;
  #waiters: { resolve: (at: number) => void }[] = [];

  /** When the EndpointSlices of every expected Service last became correct; undefined while any is wrong. */
  get slicesConvergedAt(): number | undefined {
    return this.#badSlices.size === 0 ? this.#slicesConvergedAt : undefined;
  }

  /** When the Endpoints of every expected Service last became correct; undefined while any is wrong. */
  get endpointsConvergedAt(): number | undefined {
    return this.#badEndpoints.size === 0 ? this.#endpointsConvergedAt : undefined;
  }

  /** Both converged: the later of the two times. */
  get convergedAt(): number | undefined {
    const s = this.slicesConvergedAt;
    const e = this.endpointsConvergedAt;
    return s === undefined || e === undefined ? undefined : Math.max(s, e);
  }

  /** Services whose slices or Endpoints are still wrong (for a timeout message). */
  get pending(): { readonly slices: number; readonly endpoints: number } {
    return { slices: this.#badSlices.size, endpoints: this.#badEndpoints.size };
  }

  /** Replaces a Service's expectation (the map is copied). */
  expect(service: string, endpoints: ExpectedEndpoints, at: number): void {
    this.#expected.set(service, new Map(endpoints));
    this.#recheck(service, at);
  }

  /** Sets one endpoint's expected readiness (after a flip). */
  expectReady(service: string, ip: string, ready: boolean, at: number): void {
    const current = new Map(this.#expected.get(service) ?? []);
    current.set(ip, ready);
    this.#expected.set(service, current);
    this.#recheck(service, at);
  }

  /** Applies a watch event of an EndpointSlice; slices of other managers (mirroring) are ignored. */
  applySlice(type: ObjectEventType, slice: Readonly<EndpointSlice>, at: number): void {
    const name = slice.metadata.name ?? '';
    const service = slice.metadata.labels?.[LABEL_SERVICE_NAME];
    if (slice.metadata.labels?.[LABEL_MANAGED_BY] !== MANAGED_BY_ENDPOINTSLICE_CONTROLLER || service === undefined) return;
    const previous = this.#slices.get(name);
    if (type === 'DELETED') {
      this.#slices.delete(name);
      this.#slicesByService.get(service)?.delete(name);
    } else {
      const endpoints = new Map<string, boolean>();
      let duplicate = false;
      for (const e of slice.endpoints ?? []) {
        const ip = e.addresses[0];
        if (ip === undefined) continue;
        if (endpoints.has(ip)) duplicate = true;
        endpoints.set(ip, e.conditions?.ready === true);
      }
      this.#slices.set(name, { service, endpoints, duplicate });
      let names = this.#slicesByService.get(service);
      if (names === undefined) {
        names = new Set();
        this.#slicesByService.set(service, names);
      }
      names.add(name);
    }
    if (previous !== undefined && previous.service !== service) this.#recheck(previous.service, at);
    this.#recheck(service, at);
  }

  /** Applies a watch event of an Endpoints object. */
  applyEndpoints(type: ObjectEventType, ep: Readonly<Endpoints>, at: number): void {
    const service = ep.metadata.name ?? '';
    if (type === 'DELETED') {
      this.#endpoints.delete(service);
    } else {
      const ready = new Set<string>();
      const notReady = new Set<string>();
      for (const s of ep.subsets ?? []) {
        for (const a of s.addresses ?? []) ready.add(a.ip);
        for (const a of s.notReadyAddresses ?? []) notReady.add(a.ip);
      }
      this.#endpoints.set(service, { ready, notReady });
    }
    this.#recheck(service, at);
  }

  /** Resolves with {@link convergedAt} as soon as both are converged (at once if they are). */
  whenConverged(): Promise<number> {
    const at = this.convergedAt;
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => this.#waiters.push({ resolve }));
  }

  #recheck(service: string, at: number): void {
    const expected = this.#expected.get(service);
    if (expected === undefined) return;
    const slicesWereBad = this.#badSlices.size > 0;
    const endpointsWereBad = this.#badEndpoints.size > 0;
    if (this.#slicesCorrect(service, expected)) this.#badSlices.delete(service);
    else this.#badSlices.add(service);
    if (this.#endpointsCorrect(service, expected)) this.#badEndpoints.delete(service);
    else this.#badEndpoints.add(service);
    // A convergence time is the moment the last wrong Service became right (or the first check, if none was wrong).
    if (this.#badSlices.size === 0 && (slicesWereBad || this.#slicesConvergedAt === undefined)) this.#slicesConvergedAt = at;
    if (this.#badEndpoints.size === 0 && (endpointsWereBad || this.#endpointsConvergedAt === undefined)) this.#endpointsConvergedAt = at;
    if (this.#badSlices.size > 0) this.#slicesConvergedAt = undefined;
    if (this.#badEndpoints.size > 0) this.#endpointsConvergedAt = undefined;
    const done = this.convergedAt;
    if (done !== undefined && this.#waiters.length > 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.resolve(done);
    }
  }

  #slicesCorrect(service: string, expected: ExpectedEndpoints): boolean {
    const names = this.#slicesByService.get(service);
    if (names === undefined || names.size === 0) return false;
    const seen = new Set<string>();
    for (const name of names) {
      const slice = this.#slices.get(name);
      if (slice === undefined || slice.duplicate) return false;
      for (const [ip, ready] of slice.endpoints) {
        // An endpoint in two slices is as wrong as a missing one (kube-proxy would double its weight).
        if (expected.get(ip) !== ready || seen.has(ip)) return false;
        seen.add(ip);
      }
    }
    // Every observed endpoint is expected with its readiness, once: equal sizes make the sets equal.
    return seen.size === expected.size;
  }

  #endpointsCorrect(service: string, expected: ExpectedEndpoints): boolean {
    const ep = this.#endpoints.get(service);
    if (ep === undefined) return false;
    for (const ip of ep.ready) if (expected.get(ip) !== true) return false;
    for (const ip of ep.notReady) if (expected.get(ip) !== false) return false;
    // Above the cap upstream keeps a subset, ready addresses first; at or below it, all of them.
    const readyWanted = [...expected.values()].filter((r) => r).length;
    const total = Math.min(expected.size, MAX_ENDPOINTS_ADDRESSES);
    const ready = Math.min(readyWanted, MAX_ENDPOINTS_ADDRESSES);
    return ep.ready.size === ready && ep.ready.size + ep.notReady.size === total;
  }
}
