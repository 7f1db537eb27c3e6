import type { Endpoints } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME, MANAGED_BY_ENDPOINTSLICE_CONTROLLER } from '../../api/labels.ts';

// What the benchmark expects the controllers to write, compared with what a watch shows they wrote: every endpoint's
// address, ready/serving/terminating, nodeName and zone, and the ports of every slice and subset. Fed by watch
// events (never by polling lists, which would load the API server being measured), it knows at every event whether
// each Service's Endpoints and EndpointSlices are correct, and when the last incorrect one became correct.

/** The Endpoints controller's address cap (upstream truncates above it). */
export const MAX_ENDPOINTS_ADDRESSES = 1000;

/** What one endpoint must show: its conditions and topology. */
export interface ExpectedEndpoint {
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName?: string | undefined;
  readonly zone?: string | undefined;
}

/** A Service's expected endpoints: IP -> content. */
export type ExpectedEndpoints = ReadonlyMap<string, ExpectedEndpoint>;

/** A port every slice and every Endpoints subset must carry (the Service's target port as resolved on the Pods). */
export interface ExpectedPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
}

/** The content of a slice endpoint that must match, as one comparable string. */
const sliceFingerprint = (e: ExpectedEndpoint) => `${e.ready}|${e.serving}|${e.terminating}|${e.nodeName ?? ''}|${e.zone ?? ''}`;
/** The same for an Endpoints address (readiness is the list it is in; Endpoints carry no zone or serving). */
const addressFingerprint = (ready: boolean, nodeName: string | undefined) => `${ready}|${nodeName ?? ''}`;

const portsKey = (ports: readonly { name?: string | undefined; port?: number | undefined; protocol?: string | undefined }[] | undefined) =>
  (ports ?? [])
    .map((p) => `${p.name ?? ''}/${p.port ?? 0}/${p.protocol ?? 'TCP'}`)
    .sort()
    .join(',');

interface ObservedSlice {
  readonly service: string;
  /** IP -> fingerprint. */
  readonly endpoints: ReadonlyMap<string, string>;
  /** An address listed twice in one slice, or ports other than expected. */
  readonly invalid: boolean;
}

interface ObservedEndpoints {
  /** IP -> fingerprint, ready and not-ready addresses together. */
  readonly addresses: ReadonlyMap<string, string>;
  readonly ready: number;
  /** An address listed twice, or a subset with ports other than expected. */
  readonly invalid: boolean;
}

/** Options of {@link ConvergenceTracker}. */
export interface ConvergenceTrackerOptions {
  /** The ports every slice and subset must carry; omitted, ports are not checked. */
  readonly ports?: readonly ExpectedPort[];
}

/** Watch event types the tracker applies. */
export type ObjectEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * Tracks convergence of one namespace's Endpoints and EndpointSlices towards expectations. Time is passed in by the
 * caller (the receipt time of the event that caused a change), so the class is deterministic. Not thread-safe (there
 * are no threads): call it from the watch loops only.
 */
export class ConvergenceTracker {
  readonly #portsKey: string | undefined;
  readonly #expected = new Map<string, ExpectedEndpoints>();
  readonly #slices = new Map<string, ObservedSlice>();
  readonly #slicesByService = new Map<string, Set<string>>();
  readonly #endpoints = new Map<string, ObservedEndpoints>();
  readonly #badSlices = new Set<string>();
  readonly #badEndpoints = new Set<string>();
  #slicesConvergedAt: number | undefined;
  #endpointsConvergedAt: number | undefined;
  #waiters: { resolve: (at: number) => void }[] = [];

  constructor(options: ConvergenceTrackerOptions = {}) {
    this.#portsKey = options.ports === undefined ? undefined : portsKey(options.ports);
  }

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

  /** Sets one endpoint's expected readiness (after a flip): ready and serving follow it, nothing else changes. */
  expectReady(service: string, ip: string, ready: boolean, at: number): void {
    const current = new Map(this.#expected.get(service) ?? []);
    const was = current.get(ip);
    current.set(ip, { terminating: false, ...was, ready, serving: ready });
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
      const endpoints = new Map<string, string>();
      let invalid = this.#portsKey !== undefined && portsKey(slice.ports ?? []) !== this.#portsKey;
      for (const e of slice.endpoints ?? []) {
        const ip = e.addresses[0];
        if (ip === undefined) continue;
        if (endpoints.has(ip)) invalid = true;
        const c = e.conditions;
        endpoints.set(
          ip,
          sliceFingerprint({
            ready: c?.ready === true,
            serving: c?.serving === true,
            terminating: c?.terminating === true,
            nodeName: e.nodeName,
            zone: e.zone,
          }),
        );
      }
      this.#slices.set(name, { service, endpoints, invalid });
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
      const addresses = new Map<string, string>();
      let ready = 0;
      let invalid = false;
      for (const s of ep.subsets ?? []) {
        if (this.#portsKey !== undefined && portsKey(s.ports ?? []) !== this.#portsKey) invalid = true;
        for (const [list, isReady] of [
          [s.addresses, true],
          [s.notReadyAddresses, false],
        ] as const) {
          for (const a of list ?? []) {
            if (addresses.has(a.ip)) invalid = true;
            addresses.set(a.ip, addressFingerprint(isReady, a.nodeName ?? undefined));
            if (isReady) ready++;
          }
        }
      }
      this.#endpoints.set(service, { addresses, ready, invalid });
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
      if (slice === undefined || slice.invalid) return false;
      for (const [ip, fingerprint] of slice.endpoints) {
        const want = expected.get(ip);
        // An endpoint in two slices is as wrong as a missing one (kube-proxy would double its weight).
        if (want === undefined || sliceFingerprint(want) !== fingerprint || seen.has(ip)) return false;
        seen.add(ip);
      }
    }
    // Every observed endpoint is expected with its readiness, once: equal sizes make the sets equal.
    return seen.size === expected.size;
  }

  #endpointsCorrect(service: string, expected: ExpectedEndpoints): boolean {
    const ep = this.#endpoints.get(service);
    if (ep === undefined || ep.invalid) return false;
    let readyWanted = 0;
    for (const want of expected.values()) if (want.ready) readyWanted++;
    for (const [ip, fingerprint] of ep.addresses) {
      const want = expected.get(ip);
      // Endpoints list a terminating Pod only when it is still ready and the Service publishes not-ready addresses;
      // none of the benchmark's expectations has a terminating endpoint, so a plain comparison suffices.
      if (want === undefined || addressFingerprint(want.ready, want.nodeName) !== fingerprint) return false;
    }
    // Above the cap upstream keeps a subset, ready addresses first; at or below it, all of them.
    const total = Math.min(expected.size, MAX_ENDPOINTS_ADDRESSES);
    const ready = Math.min(readyWanted, MAX_ENDPOINTS_ADDRESSES);
    return ep.ready === ready && ep.addresses.size === total;
  }
}
