import type { EndpointAddress, EndpointPort, EndpointSubset } from '../../api/core/v1.ts';

// The regrouping half of upstream's RepackSubsets (pkg/api/v1/endpoints/util.go: RepackSubsets), shared by the
// Endpoints controller, which repacks the single-address subsets it builds, and the mirroring controller, which repacks
// hand-written Endpoints before mirroring them. The two differ only where upstream's Go types make them differ, and
// each passes that in:
// - which ports are "the same": Go keys its map by the EndpointPort struct, whose appProtocol is a pointer (see
//   PortIdentity);
// - the final SortSubsets: the Endpoints controller writes subsets, so their hash order is visible; mirroring puts
//   each subset into an unordered map, so only address order (which drives the per-subset cap) matters to it.

/**
 * The key under which a port's addresses are collected; ports with equal keys merge. Called with the port's position
 * (subset index, port index) for identities that depend on where a port was decoded.
 */
export type PortIdentity = (port: Readonly<EndpointPort>, subsetIndex: number, portIndex: number) => string;

/**
 * Ports equal by value (name, port, protocol, appProtocol) are the same port. Right for the Endpoints controller:
 * within one sync every Pod's port of one ServicePort shares that ServicePort's appProtocol pointer.
 */
export const portIdentityByValue: PortIdentity = (p) =>
  JSON.stringify([p.name ?? '', p.port, p.protocol ?? '', p.appProtocol === undefined ? null : p.appProtocol]);

// Subsets without ports are collected under this key (and a port numbered -1), then given no ports again.
const PORTLESS_KEY = 'portless';
const PORTLESS: EndpointPort = Object.freeze({ port: -1 });

/**
 * An address's identity for de-duplication: IP plus targetRef UID ("" without a targetRef). The IP's length first makes
 * it unambiguous without JSON.stringify's array (it runs once per address and port). Only equality and a canonical sort
 * of these keys are used, never their order in the output.
 */
export const addressIdentity = (a: Readonly<EndpointAddress>): string => `${a.ip.length}:${a.ip}${a.targetRef?.uid ?? ''}`;

/**
 * The state of upstream RepackSubsets between expanding subsets to (address, port, ready) triples and regrouping them:
 * {@link regroupSubsets} feeds it from subsets, and the Endpoints controller feeds it its Pods' (address, port) pairs
 * directly, in the order its single-address subsets would have been given, which is the same computation without
 * building those subsets.
 */
export class SubsetRegrouper {
  readonly #addresses = new Map<string, Readonly<EndpointAddress>>();
  readonly #ports = new Map<string, { port: Readonly<EndpointPort>; readiness: Map<string, boolean> }>();

  /**
   * Records one (address, port) pair. `id` is {@link addressIdentity} of the address, `portKey` the port's identity;
   * the first full address seen for an identity is kept, and for one (address, port) not-ready wins over ready.
   */
  add(address: Readonly<EndpointAddress>, id: string, portKey: string, port: Readonly<EndpointPort>, ready: boolean): void {
    if (!this.#addresses.has(id)) this.#addresses.set(id, address);
    let entry = this.#ports.get(portKey);
    if (entry === undefined) {
      entry = { port, readiness: new Map() };
      this.#ports.set(portKey, entry);
    }
    if (entry.readiness.get(id) !== false) entry.readiness.set(id, ready);
  }

  /** Records an address of a subset without ports. */
  addPortless(address: Readonly<EndpointAddress>, id: string, ready: boolean): void {
    this.add(address, id, PORTLESS_KEY, PORTLESS, ready);
  }

  /** The regrouped subsets, as {@link regroupSubsets} returns them. */
  subsets(): EndpointSubset[] {
    const ports = this.#ports;
    // Upstream keys the groups by a hash of the sorted address set; any canonical serialisation groups the same way.
    const groups = new Map<string, { readiness: Map<string, boolean>; ports: Readonly<EndpointPort>[] }>();
    for (const entry of ports.values()) {
      // One port forms one group: no signature (a sorted dump of every address) is needed to find its peers.
      const signature =
        ports.size === 1 ? '' : JSON.stringify([...entry.readiness.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)));
      let group = groups.get(signature);
      if (group === undefined) {
        group = { readiness: entry.readiness, ports: [] };
        groups.set(signature, group);
      }
      group.ports.push(entry.port);
    }

    const out: EndpointSubset[] = [];
    for (const group of groups.values()) {
      const ready: EndpointAddress[] = [];
      const notReady: EndpointAddress[] = [];
      for (const [id, isReady] of group.readiness) {
        const address = this.#addresses.get(id);
        if (address !== undefined) (isReady ? ready : notReady).push({ ...address });
      }
      ready.sort(compareEndpointAddresses);
      notReady.sort(compareEndpointAddresses);
      const outPorts = group.ports.filter((p) => p.port > 0).map((p) => ({ ...p }));
      const subset: EndpointSubset = {};
      if (ready.length > 0) subset.addresses = ready;
      if (notReady.length > 0) subset.notReadyAddresses = notReady;
      if (outPorts.length > 0) subset.ports = outPorts;
      out.push(subset);
    }
    return out;
  }
}

/**
 * Upstream RepackSubsets without its final sort: expands subsets to (address, port, ready) triples and regroups them so
 * that each output subset holds one distinct address-to-readiness map and every port that has exactly that map.
 * - Addresses are de-duplicated by IP + targetRef UID; the first full address seen is kept (copied).
 * - For one (address, port), not-ready wins over ready.
 * - Subsets without ports survive with `ports` absent (Go's nil); ports numbered 0 or below are dropped.
 * - `addresses` and `notReadyAddresses` are sorted ({@link compareEndpointAddresses}); absent when empty.
 * - Subsets come in the order their first port was seen, ports in the order seen: callers that need upstream's
 *   hash order sort afterwards.
 * Pure: returns new objects; the input is not modified.
 */
export function regroupSubsets(
  subsets: readonly Readonly<EndpointSubset>[] | null | undefined,
  portIdentity: PortIdentity = portIdentityByValue,
): EndpointSubset[] {
  const regrouper = new SubsetRegrouper();

  // Ports equal by value have one key whatever their position, so a port object shared by many subsets is serialised
  // once.
  const byValue = portIdentity === portIdentityByValue ? new Map<Readonly<EndpointPort>, string>() : undefined;
  const keyOf = (port: Readonly<EndpointPort>, subsetIndex: number, portIndex: number): string => {
    if (byValue === undefined) return portIdentity(port, subsetIndex, portIndex);
    let key = byValue.get(port);
    if (key === undefined) {
      key = portIdentity(port, subsetIndex, portIndex);
      byValue.set(port, key);
    }
    return key;
  };

  (subsets ?? []).forEach((subset, subsetIndex) => {
    const subsetPorts = subset.ports ?? [];
    if (subsetPorts.length === 0) {
      for (const a of subset.addresses ?? []) regrouper.addPortless(a, addressIdentity(a), true);
      for (const a of subset.notReadyAddresses ?? []) regrouper.addPortless(a, addressIdentity(a), false);
      return;
    }
    subsetPorts.forEach((port, portIndex) => {
      const key = keyOf(port, subsetIndex, portIndex);
      for (const a of subset.addresses ?? []) regrouper.add(a, addressIdentity(a), key, port, true);
      for (const a of subset.notReadyAddresses ?? []) regrouper.add(a, addressIdentity(a), key, port, false);
    });
  });
  return regrouper.subsets();
}

/** Upstream LessEndpointAddress as a comparator: IP bytewise, then targetRef UID, an address without targetRef first. */
export function compareEndpointAddresses(a: Readonly<EndpointAddress>, b: Readonly<EndpointAddress>): number {
  const byIP = compareUtf8(a.ip, b.ip);
  if (byIP !== 0) return byIP;
  if (a.targetRef === undefined || b.targetRef === undefined) {
    return (a.targetRef === undefined ? 0 : 1) - (b.targetRef === undefined ? 0 : 1);
  }
  return compareUtf8(a.targetRef.uid ?? '', b.targetRef.uid ?? '');
}

/**
 * Compares two strings by their UTF-8 bytes, as Go compares strings. JavaScript's `<` compares UTF-16 units, which
 * differs only when a surrogate pair meets a character above U+E000.
 */
export function compareUtf8(a: string, b: string): number {
  // Fast path: below U+D800 UTF-16 units, code points and UTF-8 bytes all order alike (IPs, UIDs, names).
  const m = Math.min(a.length, b.length);
  for (let i = 0; i < m; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800 || cb >= 0xd800) return compareCodePoints(a, b);
    return ca < cb ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i) ?? 0;
    const cb = b.codePointAt(i) ?? 0;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
