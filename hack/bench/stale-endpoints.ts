import type { Endpoints } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, MANAGED_BY_ENDPOINTSLICE_CONTROLLER } from '../../api/labels.ts';
import type { ObjectEventType } from './convergence-tracker.ts';

// Stale endpoint-seconds: the user-visible cost of a controller's lag. While an endpoint is published ready (in an
// EndpointSlice of the endpointslice controller, or in an Endpoints object's ready addresses) but its Pod is already
// deleted, terminating or not ready, kube-proxy keeps sending new connections to it. The meter integrates the number
// of such endpoints over time, separately for slices and for Endpoints. The truth (which Pods are not ready) comes from
// the benchmark's own requests, stamped when it sends them; what is published comes from its watches. Time is passed
// in by the caller, so the class is deterministic.

/** Endpoint-seconds so far. */
export interface StaleReading {
  readonly slices: number;
  readonly endpoints: number;
}

/** Counts, per IP, how many objects publish it ready, and how many of those IPs are stale; integrates over time. */
class PublishedReady {
  readonly #byObject = new Map<string, ReadonlySet<string>>();
  readonly #count = new Map<string, number>();
  stale = 0;
  integralMs = 0;

  isPublished(ip: string): boolean {
    return (this.#count.get(ip) ?? 0) > 0;
  }

  /** Replaces the ready IPs of one object; `isStale` says whether an IP's Pod is not ready. */
  set(object: string, ready: ReadonlySet<string>, isStale: (ip: string) => boolean): void {
    const before = this.#byObject.get(object);
    for (const ip of before ?? []) if (!ready.has(ip)) this.#bump(ip, -1, isStale);
    for (const ip of ready) if (before === undefined || !before.has(ip)) this.#bump(ip, 1, isStale);
    if (ready.size === 0) this.#byObject.delete(object);
    else this.#byObject.set(object, ready);
  }

  #bump(ip: string, delta: 1 | -1, isStale: (ip: string) => boolean): void {
    const was = this.#count.get(ip) ?? 0;
    const now = was + delta;
    if (now <= 0) this.#count.delete(ip);
    else this.#count.set(ip, now);
    if (isStale(ip) && (was === 0) !== now <= 0) this.stale += delta;
  }
}

export class StaleEndpointMeter {
  readonly #notReady = new Set<string>();
  readonly #slices = new PublishedReady();
  readonly #endpoints = new PublishedReady();
  #lastAt: number | undefined;
  readonly #isStale = (ip: string) => this.#notReady.has(ip);

  /** The Pod behind `ip` stopped being a valid target (deleted, terminating, readiness lost) at `at`. */
  podNotReady(ip: string, at: number): void {
    this.#advance(at);
    if (this.#notReady.has(ip)) return;
    this.#notReady.add(ip);
    if (this.#slices.isPublished(ip)) this.#slices.stale++;
    if (this.#endpoints.isPublished(ip)) this.#endpoints.stale++;
  }

  /** The Pod behind `ip` became ready again at `at`. */
  podReady(ip: string, at: number): void {
    this.#advance(at);
    if (!this.#notReady.delete(ip)) return;
    if (this.#slices.isPublished(ip)) this.#slices.stale--;
    if (this.#endpoints.isPublished(ip)) this.#endpoints.stale--;
  }

  /** A watch event of an EndpointSlice; slices of other managers (mirroring) are ignored. */
  applySlice(type: ObjectEventType, slice: Readonly<EndpointSlice>, at: number): void {
    if (slice.metadata.labels?.[LABEL_MANAGED_BY] !== MANAGED_BY_ENDPOINTSLICE_CONTROLLER) return;
    this.#advance(at);
    const ready = new Set<string>();
    if (type !== 'DELETED')
      for (const e of slice.endpoints ?? []) if (e.conditions?.ready === true) for (const ip of e.addresses) ready.add(ip);
    this.#slices.set(slice.metadata.name ?? '', ready, this.#isStale);
  }

  /** A watch event of an Endpoints object. */
  applyEndpoints(type: ObjectEventType, ep: Readonly<Endpoints>, at: number): void {
    this.#advance(at);
    const ready = new Set<string>();
    if (type !== 'DELETED') for (const s of ep.subsets ?? []) for (const a of s.addresses ?? []) ready.add(a.ip);
    this.#endpoints.set(ep.metadata.name ?? '', ready, this.#isStale);
  }

  /** Stale endpoints published right now. */
  get current(): StaleReading {
    return { slices: this.#slices.stale, endpoints: this.#endpoints.stale };
  }

  /** Endpoint-seconds accumulated up to `at`. Subtract two readings for a phase. */
  read(at: number): StaleReading {
    this.#advance(at);
    return { slices: this.#slices.integralMs / 1000, endpoints: this.#endpoints.integralMs / 1000 };
  }

  #advance(at: number): void {
    const last = this.#lastAt;
    if (last !== undefined && at > last) {
      this.#slices.integralMs += this.#slices.stale * (at - last);
      this.#endpoints.integralMs += this.#endpoints.stale * (at - last);
    }
    if (last === undefined || at > last) this.#lastAt = at;
  }
}
