import type { Node } from '../../api/core/v1.ts';
import type { EndpointSlice, SliceEndpoint } from '../../api/discovery/v1.ts';
import { LABEL_TOPOLOGY_ZONE } from '../../api/labels.ts';
import { removeHints } from './hints.ts';
import type { ServiceEvent, TopologyHintsCache, TopologySliceInfo } from './plan.ts';

// Upstream's TopologyCache (k8s.io/endpointslice topologycache, v1.36): hints for Services annotated
// `service.kubernetes.io/topology-mode: Auto`, allocating ready endpoints to zones in proportion to the zones'
// allocatable CPU, with a 20 % overload margin (topologycache/topologycache.go: TopologyCache.AddHints, SetNodes;
// topologycache/utils.go: redistributeHints). Where upstream iterates Go maps (zone order in allocation and
// redistribution) this follows insertion order, one of the orders upstream can produce.

/** How far a zone may exceed its CPU share of endpoints before hints are redistributed. */
const OVERLOAD_THRESHOLD = 0.2;

/** Event messages, as upstream's topologycache constants. */
export const TOPOLOGY_MESSAGES = {
  noZoneSpecified: 'One or more endpoints do not have a zone specified',
  noAllocatedHintsForZones: 'No hints allocated for zones',
  enabled: 'Topology Aware Hints has been enabled',
  disabled: 'Topology Aware Hints has been disabled',
  insufficientNodeInfo: 'Insufficient Node information: allocatable CPU or zone not specified on one or more nodes',
  nodesReadyInOneZoneOnly: 'Nodes only ready in one zone',
  insufficientNumberOfEndpoints: 'Insufficient number of endpoints',
  minAllocationExceedsOverloadThreshold: 'Unable to allocate minimum required endpoints to each zone without exceeding overload threshold',
} as const;

const SUFFIX_MULTIPLIERS: Readonly<Record<string, number>> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * A resource quantity in thousandths, rounded up as Quantity.MilliValue(); 0 for an absent or unparseable value.
 * Accepts decimal and binary SI suffixes and exponents (`4`, `3800m`, `1.5`, `2k`, `1e3`).
 */
export function quantityMilliValue(quantity: string | undefined): number {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/.exec(quantity ?? '');
  if (m === null) return 0;
  const base = Number(m[1]);
  const scale = m[2] !== undefined ? 10 ** Number(m[2].slice(1)) : (SUFFIX_MULTIPLIERS[m[3] ?? ''] ?? 1);
  // Rounding the product first keeps 3800m at 3800 instead of 3800.0000000000005 → 3801.
  return Math.ceil(Number((base * scale * 1000).toPrecision(15)));
}

function isNodeReady(node: Readonly<Node>): boolean {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}

function hasExcludedLabels(labels: Readonly<Record<string, string>> | undefined): boolean {
  return labels !== undefined && ('node-role.kubernetes.io/control-plane' in labels || 'node-role.kubernetes.io/master' in labels);
}

const isReady = (e: Readonly<SliceEndpoint>): boolean => e.conditions?.ready === true;
const readyCount = (slices: readonly Readonly<EndpointSlice>[]): number =>
  slices.reduce((n, s) => n + (s.endpoints ?? []).filter(isReady).length, 0);

interface Allocation {
  readonly minimum: number;
  readonly maximum: number;
  readonly desired: number;
}

/** Endpoints allocated per zone. */
type ZoneCounts = Map<string, number>;

/**
 * Upstream serviceOverloaded: some zone holds fewer endpoints than its CPU share allows (with the margin), or a zone
 * has none. A Service without allocations is never overloaded; with no usable zones, any allocation is.
 */
export function serviceOverloaded(counts: ReadonlyMap<string, number>, zoneRatios: ReadonlyMap<string, number>): boolean {
  if (counts.size === 0) return false;
  if (zoneRatios.size === 0) return true;
  let total = 0;
  for (const n of counts.values()) total += n;
  for (const [zone, ratio] of zoneRatios) {
    const have = counts.get(zone);
    if (have === undefined) return true;
    if (have < Math.ceil(total * ratio * (1 / (1 + OVERLOAD_THRESHOLD)))) return true;
  }
  return false;
}

/**
 * The zone distribution of ready Nodes and the hints given to each Service. `setNodes` is driven by Node events,
 * the hint methods by Service reconciles; Node runs them one at a time.
 */
export class TopologyCache implements TopologyHintsCache {
  #cpuRatiosByZone: Map<string, number> | undefined;
  readonly #endpointsByService = new Map<string, Map<string, ZoneCounts>>();
  readonly #hintsPopulated = new Set<string>();

  /**
   * Upstream SetNodes: recomputes each zone's share of allocatable CPU over the ready Nodes that are not control-plane
   * Nodes. Any such Node without a zone or CPU makes the information insufficient (hints then stay disabled), as do
   * fewer than two zones.
   */
  setNodes(nodes: readonly Readonly<Node>[]): void {
    const cpuByZone = new Map<string, number>();
    let sufficient = true;
    let totalCPU = 0;
    for (const node of nodes) {
      if (hasExcludedLabels(node.metadata.labels) || !isNodeReady(node)) continue;
      const cpu = quantityMilliValue(node.status?.allocatable?.cpu);
      const zone = node.metadata.labels?.[LABEL_TOPOLOGY_ZONE] ?? '';
      if (zone === '' || cpu === 0) {
        cpuByZone.clear();
        sufficient = false;
        break;
      }
      totalCPU += cpu;
      cpuByZone.set(zone, (cpuByZone.get(zone) ?? 0) + cpu);
    }
    if (totalCPU === 0 || !sufficient || cpuByZone.size < 2) {
      this.#cpuRatiosByZone = undefined;
      return;
    }
    this.#cpuRatiosByZone = new Map([...cpuByZone].map(([zone, cpu]) => [zone, cpu / totalCPU]));
  }

  /** Upstream GetOverloadedServices: keys of Services with hints that the current Node distribution overloads. */
  getOverloadedServices(): string[] {
    const out: string[] = [];
    for (const [key, byType] of this.#endpointsByService) {
      if ([...byType.values()].some((counts) => serviceOverloaded(counts, this.#cpuRatiosByZone ?? new Map()))) out.push(key);
    }
    return out;
  }

  hasPopulatedHints(serviceKey: string): boolean {
    return this.#hintsPopulated.has(serviceKey);
  }

  removeHints(serviceKey: string, addressType: string): void {
    const byType = this.#endpointsByService.get(serviceKey);
    byType?.delete(addressType);
    if (byType !== undefined && byType.size === 0) this.#endpointsByService.delete(serviceKey);
    this.#hintsPopulated.delete(serviceKey);
  }

  /**
   * Upstream AddHints: gives every ready endpoint of the slices being written a hint for its own zone, keeps valid
   * hints of unchanged slices (invalid ones become updates), then moves hints from over-allocated to under-allocated
   * zones. When hints cannot work (see the Warning reasons) all hints are removed instead. Returns new slices; the
   * info's slices are not modified.
   */
  addHints(info: TopologySliceInfo): { toCreate: EndpointSlice[]; toUpdate: EndpointSlice[]; events: ServiceEvent[] } {
    const suffix = `, addressType: ${info.addressType}`;
    const disable = (message: string, toUpdate: readonly EndpointSlice[], unchanged: readonly Readonly<EndpointSlice>[]) => {
      this.removeHints(info.serviceKey, info.addressType);
      const stripped = removeHints(info.toCreate, toUpdate, unchanged);
      return { ...stripped, events: [{ type: 'Warning' as const, reason: 'TopologyAwareHintsDisabled', message: `${message}${suffix}` }] };
    };

    const total = readyCount(info.toCreate) + readyCount(info.toUpdate) + readyCount(info.unchanged);
    const allocated = this.#allocations(total);
    if (typeof allocated === 'string') return disable(allocated, info.toUpdate, info.unchanged);
    const allocations = allocated;

    // Unchanged slices keep their hints only while those stay valid.
    const hintsByZone: ZoneCounts = new Map();
    const toUpdate: EndpointSlice[] = info.toUpdate.map((s) => structuredClone(s) as EndpointSlice);
    const unchanged: Readonly<EndpointSlice>[] = [];
    for (const slice of info.unchanged) {
      const sliceHints = hintsOfSlice(slice, hintsByZone, allocations);
      if (sliceHints === undefined) {
        toUpdate.push(structuredClone(slice) as EndpointSlice);
        continue;
      }
      unchanged.push(slice);
      for (const [zone, n] of sliceHints) hintsByZone.set(zone, (hintsByZone.get(zone) ?? 0) + n);
    }

    const toCreate: EndpointSlice[] = info.toCreate.map((s) => structuredClone(s) as EndpointSlice);
    const allocatable = [...toCreate, ...toUpdate];
    for (const slice of allocatable) {
      for (const endpoint of slice.endpoints ?? []) {
        // Upstream's attempt to clear hints of not-ready endpoints works on a loop copy, so they keep theirs.
        if (!isReady(endpoint)) continue;
        if ((endpoint.zone ?? '') === '') return disable(TOPOLOGY_MESSAGES.noZoneSpecified, toUpdate, unchanged);
        const zone = endpoint.zone ?? '';
        hintsByZone.set(zone, (hintsByZone.get(zone) ?? 0) + 1);
        endpoint.hints = { forZones: [{ name: zone }] };
      }
    }

    const { giving, receiving } = givingAndReceivingZones(allocations, hintsByZone);
    for (const [zone, diff] of redistributeHints(allocatable, giving, receiving))
      hintsByZone.set(zone, (hintsByZone.get(zone) ?? 0) + diff);
    if (hintsByZone.size === 0) return disable(TOPOLOGY_MESSAGES.noAllocatedHintsForZones, toUpdate, unchanged);

    const events: ServiceEvent[] = [];
    if (!this.#hintsPopulated.has(info.serviceKey)) {
      events.push({ type: 'Normal', reason: 'TopologyAwareHintsEnabled', message: `${TOPOLOGY_MESSAGES.enabled}${suffix}` });
    }
    const byType = this.#endpointsByService.get(info.serviceKey) ?? new Map<string, ZoneCounts>();
    byType.set(info.addressType, hintsByZone);
    this.#endpointsByService.set(info.serviceKey, byType);
    this.#hintsPopulated.add(info.serviceKey);
    return { toCreate, toUpdate, events };
  }

  /** Upstream getAllocations: per-zone minimum, maximum and desired endpoints, or the reason hints cannot be used. */
  #allocations(numEndpoints: number): Map<string, Allocation> | string {
    const ratios = this.#cpuRatiosByZone;
    if (ratios === undefined) return TOPOLOGY_MESSAGES.insufficientNodeInfo;
    if (ratios.size < 2) return TOPOLOGY_MESSAGES.nodesReadyInOneZoneOnly;
    const counts = `(${numEndpoints} endpoints, ${ratios.size} zones)`;
    if (ratios.size > numEndpoints) return `${TOPOLOGY_MESSAGES.insufficientNumberOfEndpoints} ${counts}`;
    let remaining = numEndpoints;
    let minTotal = 0;
    const partial = new Map<string, { minimum: number; desired: number }>();
    for (const [zone, ratio] of ratios) {
      const desired = ratio * numEndpoints;
      const minimum = Math.ceil(desired * (1 / (1 + OVERLOAD_THRESHOLD)));
      partial.set(zone, { minimum, desired: Math.max(desired, minimum) });
      minTotal += minimum;
      remaining -= minimum;
      if (remaining < 0) return `${TOPOLOGY_MESSAGES.minAllocationExceedsOverloadThreshold} ${counts}`;
    }
    return new Map([...partial].map(([zone, a]) => [zone, { ...a, maximum: a.minimum + numEndpoints - minTotal }]));
  }
}

/**
 * Upstream getHintsByZone: the hints an unchanged slice contributes per zone, or undefined when the slice must be
 * rewritten (a ready endpoint without zone hints, a hint for a zone without allocation, or a zone over its maximum).
 */
function hintsOfSlice(
  slice: Readonly<EndpointSlice>,
  alreadyAllocated: ReadonlyMap<string, number>,
  allocations: ReadonlyMap<string, Allocation>,
): ZoneCounts | undefined {
  const counts: ZoneCounts = new Map();
  for (const endpoint of slice.endpoints ?? []) {
    if (!isReady(endpoint)) continue;
    const zones = endpoint.hints?.forZones ?? [];
    if (zones.length === 0) return undefined;
    for (const { name } of zones) {
      if (!allocations.has(name)) return undefined;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  for (const [zone, n] of counts) {
    const allocation = allocations.get(zone);
    if (allocation === undefined || n + (alreadyAllocated.get(zone) ?? 0) > allocation.maximum) return undefined;
  }
  return counts;
}

/** Upstream getMost: the entry with the greatest positive value (first wins ties), or "" and 0. */
function most(values: ReadonlyMap<string, number>): [string, number] {
  let zone = '';
  let num = 0;
  for (const [z, n] of values) {
    if (n > num) {
      zone = z;
      num = n;
    }
  }
  return [zone, num];
}

/**
 * Upstream getGivingAndReceivingZones: how many endpoints each zone gives away and receives so that allocations
 * approach the desired ones, moving whole endpoints only while at least half an endpoint is to be gained.
 */
export function givingAndReceivingZones(
  allocations: ReadonlyMap<string, Allocation>,
  allocated: ReadonlyMap<string, number>,
): { giving: Map<string, number>; receiving: Map<string, number> } {
  const givingDesired = new Map<string, number>();
  const receivingDesired = new Map<string, number>();
  for (const [zone, allocation] of allocations) {
    const have = allocated.get(zone) ?? 0;
    if (have > allocation.desired) givingDesired.set(zone, have - allocation.desired);
    else if (have < allocation.desired) receivingDesired.set(zone, allocation.desired - have);
  }
  const giving = new Map<string, number>();
  const receiving = new Map<string, number>();
  for (;;) {
    const [givingZone, toGive] = most(givingDesired);
    const [receivingZone, toReceive] = most(receivingDesired);
    if (givingZone === '' || receivingZone === '' || (toGive < 1 && toReceive < 1) || toGive < 0.5 || toReceive < 0.5) break;
    giving.set(givingZone, (giving.get(givingZone) ?? 0) + 1);
    givingDesired.set(givingZone, toGive - 1);
    receiving.set(receivingZone, (receiving.get(receivingZone) ?? 0) + 1);
    receivingDesired.set(receivingZone, toReceive - 1);
  }
  return { giving, receiving };
}

/**
 * Upstream redistributeHints: re-points ready endpoints of giving zones at receiving zones, modifying `slices` in
 * place (they are the caller's own copies). Returns the change in allocated endpoints per zone.
 */
function redistributeHints(
  slices: readonly EndpointSlice[],
  giving: Map<string, number>,
  receiving: Map<string, number>,
): Map<string, number> {
  const changes = new Map<string, number>();
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) {
      if (!isReady(endpoint)) continue;
      if (giving.size === 0 || receiving.size === 0) return changes;
      const zone = endpoint.zone ?? '';
      if (zone === '') continue;
      const toGive = giving.get(zone);
      if (toGive === undefined || toGive <= 0) continue;
      for (const [receivingZone, toReceive] of receiving) {
        if (toReceive <= 0) continue;
        endpoint.hints = { forZones: [{ name: receivingZone }] };
        if (toGive === 1) giving.delete(zone);
        else giving.set(zone, toGive - 1);
        if (toReceive === 1) receiving.delete(receivingZone);
        else receiving.set(receivingZone, toReceive - 1);
        changes.set(receivingZone, (changes.get(receivingZone) ?? 0) + 1);
        changes.set(zone, (changes.get(zone) ?? 0) - 1);
        break;
      }
    }
  }
  return changes;
}
