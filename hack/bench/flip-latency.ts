import type { Endpoints } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, MANAGED_BY_ENDPOINTSLICE_CONTROLLER } from '../../api/labels.ts';

// Churn latency: from the moment a Pod's readiness change is sent to the API server to the moment a watch event shows
// the controller's write that reflects it, once for EndpointSlices and once for Endpoints. Times are passed in by the
// caller (performance.now() of the request and of the event's receipt), so the class is deterministic.

interface PendingFlip {
  readonly sentAt: number;
  readonly ready: boolean;
  readonly inEndpoints: boolean;
  sliceAt?: number;
  endpointsAt?: number;
}

/** Matches readiness flips (by Pod IP, unique in the benchmark) with the writes that reflect them. */
export class FlipLatencyRecorder {
  readonly #pending = new Map<string, PendingFlip>();
  /** Latencies of flips seen in an EndpointSlice, ms. */
  readonly sliceLatencies: number[] = [];
  /** Latencies of flips seen in an Endpoints object, ms. */
  readonly endpointsLatencies: number[] = [];
  #timedOut = 0;

  /** Flips not yet seen in both resources. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Flips given up on by {@link expire}. */
  get timedOut(): number {
    return this.#timedOut;
  }

  /** Whether the Pod with this IP has a flip in flight (a second flip would make the match ambiguous). */
  isPending(ip: string): boolean {
    return this.#pending.has(ip);
  }

  /**
   * Records a flip of the Pod with `ip` to `ready`, sent at `sentAt`. `inEndpoints` false: the Service is above the
   * Endpoints address cap, whose truncated subset may never show this Pod, so only the slice is waited for.
   */
  sent(ip: string, ready: boolean, sentAt: number, inEndpoints = true): void {
    this.#pending.set(ip, { sentAt, ready, inEndpoints });
  }

  /** Applies an EndpointSlice from a watch event received at `at`. */
  observeSlice(slice: Readonly<EndpointSlice>, at: number): void {
    if (this.#pending.size === 0 || slice.metadata.labels?.[LABEL_MANAGED_BY] !== MANAGED_BY_ENDPOINTSLICE_CONTROLLER) return;
    for (const e of slice.endpoints ?? []) {
      const ip = e.addresses[0];
      const flip = ip === undefined ? undefined : this.#pending.get(ip);
      if (ip === undefined || flip === undefined || flip.sliceAt !== undefined) continue;
      if ((e.conditions?.ready === true) !== flip.ready) continue;
      flip.sliceAt = at;
      this.sliceLatencies.push(at - flip.sentAt);
      this.#settle(ip, flip);
    }
  }

  /** Applies an Endpoints object from a watch event received at `at`. */
  observeEndpoints(ep: Readonly<Endpoints>, at: number): void {
    if (this.#pending.size === 0) return;
    for (const s of ep.subsets ?? []) {
      for (const [list, ready] of [
        [s.addresses, true],
        [s.notReadyAddresses, false],
      ] as const) {
        for (const a of list ?? []) {
          const flip = this.#pending.get(a.ip);
          if (flip === undefined || !flip.inEndpoints || flip.endpointsAt !== undefined || flip.ready !== ready) continue;
          flip.endpointsAt = at;
          this.endpointsLatencies.push(at - flip.sentAt);
          this.#settle(a.ip, flip);
        }
      }
    }
  }

  /** Gives up on flips sent before `before` (they count as timed out, not as samples). */
  expire(before: number): void {
    for (const [ip, flip] of this.#pending) {
      if (flip.sentAt < before) {
        this.#pending.delete(ip);
        this.#timedOut++;
      }
    }
  }

  #settle(ip: string, flip: PendingFlip): void {
    if (flip.sliceAt !== undefined && (flip.endpointsAt !== undefined || !flip.inEndpoints)) this.#pending.delete(ip);
  }
}
