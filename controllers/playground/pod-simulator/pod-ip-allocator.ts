import { addressAt, FIRST_POD_OFFSET, offsetOf, type PodCIDR, parsePodCIDR } from './pod-cidr.ts';

// The simulated CNI's IPAM (host-local style): per Node, each Pod gets one host offset that is unique on that Node,
// used in every pod CIDR of the Node (one address per family). Offsets are handed out round-robin after the last one
// given, as host-local does, so a deleted Pod's address is not reused at once: a fresh Pod reusing a just-released
// address would look, to an endpoint controller, like the old Pod coming back.

/**
 * The next free offset after `last`, wrapping around within [first, lastOffset]; undefined when all are taken. Pure.
 */
export function nextFreeOffset(used: ReadonlySet<number>, last: number, first: number, lastOffset: number): number | undefined {
  const span = lastOffset - first + 1;
  if (span <= 0) return undefined;
  const start = last < first || last >= lastOffset ? first : last + 1;
  for (let i = 0; i < span; i++) {
    const candidate = first + ((start - first + i) % span);
    if (!used.has(candidate)) return candidate;
  }
  return undefined;
}

interface NodeAllocations {
  readonly used: Set<number>;
  last: number;
}

interface Allocation {
  readonly node: string;
  readonly offset: number;
  readonly ips: readonly string[];
}

/**
 * In-memory IPAM for the simulated Nodes. Not persisted: after a restart it is rebuilt with {@link record} from the
 * Pods' reported IPs before anything new is allocated. Synchronous, so concurrent reconciles cannot race it.
 */
export class PodIpAllocator {
  readonly #nodes = new Map<string, NodeAllocations>();
  readonly #pods = new Map<string, Allocation>();

  /**
   * The Pod's addresses on `node`: the ones already allocated to `uid`, else new ones, one per CIDR in the given order.
   * Undefined when the Node has no usable CIDR or no free offset.
   */
  allocate(uid: string, node: string, podCIDRs: readonly string[]): readonly string[] | undefined {
    const existing = this.#pods.get(uid);
    if (existing !== undefined && existing.node === node) return existing.ips;
    const cidrs = parseAll(podCIDRs);
    if (cidrs === undefined) return undefined;
    const lastOffset = Math.min(...cidrs.map((c) => c.lastOffset));
    const state = this.#node(node);
    const offset = nextFreeOffset(state.used, state.last, FIRST_POD_OFFSET, lastOffset);
    if (offset === undefined) return undefined;
    if (existing !== undefined) this.release(uid);
    state.used.add(offset);
    state.last = offset;
    const ips = cidrs.map((c) => addressAt(c, offset));
    this.#pods.set(uid, { node, offset, ips });
    return ips;
  }

  /** Marks the addresses a Pod already reports as taken (start-up, or after a restart). Ignores foreign addresses. */
  record(uid: string, node: string, podCIDRs: readonly string[], ips: readonly string[]): void {
    if (this.#pods.has(uid) || ips.length === 0) return;
    const cidrs = parseAll(podCIDRs);
    const first = ips[0];
    if (cidrs === undefined || first === undefined) return;
    const offset = cidrs.map((c) => offsetOf(c, first)).find((o) => o !== undefined);
    if (offset === undefined) return;
    const state = this.#node(node);
    state.used.add(offset);
    if (offset > state.last) state.last = offset;
    this.#pods.set(uid, { node, offset, ips: [...ips] });
  }

  /** Frees the Pod's offset (the Pod was deleted). */
  release(uid: string): void {
    const a = this.#pods.get(uid);
    if (a === undefined) return;
    this.#pods.delete(uid);
    this.#nodes.get(a.node)?.used.delete(a.offset);
  }

  /** Offsets in use on a Node (diagnostics and tests). */
  inUse(node: string): number {
    return this.#nodes.get(node)?.used.size ?? 0;
  }

  #node(node: string): NodeAllocations {
    let state = this.#nodes.get(node);
    if (state === undefined) {
      state = { used: new Set(), last: FIRST_POD_OFFSET - 1 };
      this.#nodes.set(node, state);
    }
    return state;
  }
}

function parseAll(podCIDRs: readonly string[]): PodCIDR[] | undefined {
  const cidrs = podCIDRs.map(parsePodCIDR);
  if (cidrs.length === 0 || cidrs.some((c) => c === undefined)) return undefined;
  return cidrs as PodCIDR[];
}
