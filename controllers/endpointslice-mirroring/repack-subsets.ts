import type { EndpointAddress, EndpointPort, EndpointSubset } from '../../api/core/v1.ts';

// Upstream canonicalises Endpoints subsets (pkg/api/v1/endpoints RepackSubsets, upstream-behaviour.md §2.6) before
// mirroring them, so two hand-written subsets sharing an address set become one subset, and so one slice.
// NOTE for the lead: the Endpoints controller needs the same function; dedupe into controllers/shared/ later. Subset
// and port order are not reproduced here (upstream sorts them by a hash); mirroring re-sorts ports anyway and puts each
// subset into an unordered map, so only address order (which drives the per-subset cap) matters.

/** Compares two strings by their UTF-8 bytes, as Go's bytes.Compare on the IP strings does. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i) ?? 0;
    const cb = b.codePointAt(i) ?? 0;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Upstream LessEndpointAddress as a comparator: by IP bytes, then a missing targetRef first, then targetRef uid. */
export function compareEndpointAddresses(a: Readonly<EndpointAddress>, b: Readonly<EndpointAddress>): number {
  const byIP = compareUtf8(a.ip, b.ip);
  if (byIP !== 0) return byIP;
  if (a.targetRef === undefined && b.targetRef === undefined) return 0;
  if (a.targetRef === undefined) return -1;
  if (b.targetRef === undefined) return 1;
  const ua = a.targetRef.uid ?? '';
  const ub = b.targetRef.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

// Subsets without ports are carried through the grouping under this sentinel, then given no ports again.
const PORTLESS: EndpointPort = Object.freeze({ port: -1 });

interface PortEntry {
  readonly port: Readonly<EndpointPort>;
  /** address identity -> ready; not-ready wins over ready for the same (address, port). */
  readonly readiness: Map<string, boolean>;
}

/**
 * The identity upstream's map gives a port. Go keys its map by the EndpointPort struct, whose appProtocol is a
 * pointer: two decoded ports with equal appProtocol strings are still different keys. So a port with an appProtocol is
 * only ever merged with itself (same subset, same index); without one, equal values merge.
 */
function portIdentity(port: Readonly<EndpointPort>, subsetIndex: number, portIndex: number): string {
  const value = JSON.stringify([port.name ?? '', port.port, port.protocol ?? '']);
  return port.appProtocol === undefined ? value : `${value}@${subsetIndex}.${portIndex}`;
}

function addressIdentity(address: Readonly<EndpointAddress>): string {
  return JSON.stringify([address.ip, address.targetRef?.uid ?? '']);
}

/**
 * Upstream RepackSubsets: expands subsets to (address, port, ready) triples and regroups them so that each output
 * subset holds one distinct address-to-readiness map and every port that has exactly that map.
 * - Addresses are deduplicated by IP + targetRef uid; the first full address seen is kept.
 * - For one (address, port), not-ready wins over ready.
 * - Subsets without ports survive with `ports` absent; ports numbered 0 or below are dropped from the output.
 * - Addresses and not-ready addresses are sorted by IP bytes, then targetRef uid (none first).
 * Returns new objects; the input is not modified.
 */
export function repackSubsets(subsets: readonly Readonly<EndpointSubset>[] | null | undefined): EndpointSubset[] {
  const addresses = new Map<string, Readonly<EndpointAddress>>();
  const ports = new Map<string, PortEntry>();

  const record = (address: Readonly<EndpointAddress>, portKey: string, port: Readonly<EndpointPort>, ready: boolean) => {
    const id = addressIdentity(address);
    if (!addresses.has(id)) addresses.set(id, address);
    let entry = ports.get(portKey);
    if (entry === undefined) {
      entry = { port, readiness: new Map() };
      ports.set(portKey, entry);
    }
    const was = entry.readiness.get(id);
    if (was === undefined || was) entry.readiness.set(id, ready);
  };

  (subsets ?? []).forEach((subset, subsetIndex) => {
    const subsetPorts = subset.ports ?? [];
    const effective = subsetPorts.length === 0 ? [PORTLESS] : subsetPorts;
    effective.forEach((port, portIndex) => {
      const key = subsetPorts.length === 0 ? 'portless' : portIdentity(port, subsetIndex, portIndex);
      for (const a of subset.addresses ?? []) record(a, key, port, true);
      for (const a of subset.notReadyAddresses ?? []) record(a, key, port, false);
    });
  });

  // Group ports by their address-readiness map.
  const groups = new Map<string, { readiness: Map<string, boolean>; ports: Readonly<EndpointPort>[] }>();
  for (const entry of ports.values()) {
    const signature = JSON.stringify([...entry.readiness.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)));
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
      const address = addresses.get(id);
      if (address === undefined) continue;
      (isReady ? ready : notReady).push({ ...address });
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
