import type { EndpointAddress, EndpointPort, Endpoints } from '../../api/core/v1.ts';
import type { AddressType, SliceEndpoint, SlicePort } from '../../api/discovery/v1.ts';
import { parseIP } from '../shared/pod-endpoints.ts';
import { endpointIdentity } from '../shared/endpoint-identity.ts';
import { addressTypePortMapKey, sortSlicePorts } from '../shared/port-map-key.ts';
import { repackSubsets } from './repack-subsets.ts';

// What the mirrored slices of one Endpoints object should contain (reconciler.go: reconciler.reconcile, its desiredCalc
// from reconciler_helpers.go): one group per (address family, port set), each to become exactly one slice.

/** The desired content of one mirrored slice. */
export interface DesiredSliceGroup {
  /** `"<addressType>-<portMapKey>"`, the key existing slices are matched by. */
  readonly key: string;
  readonly addressType: Extract<AddressType, 'IPv4' | 'IPv6'>;
  /** In upstream's hash order. */
  readonly ports: readonly SlicePort[];
  /** By endpoint identity, in insertion order; may be empty (the group's existing slices are then deleted). */
  readonly endpoints: ReadonlyMap<string, SliceEndpoint>;
}

/** Everything mirroring wants for one Endpoints object, plus what it had to leave out. */
export interface DesiredMirroredSlices {
  /** In subset order, IPv4 before IPv6 within a subset. */
  readonly groups: ReadonlyMap<string, DesiredSliceGroup>;
  /** Addresses that are not IPs, in the order met (they are logged and counted, never mirrored). */
  readonly invalidIPs: readonly string[];
  /** Addresses not mirrored for any reason: invalid, or over the per-subset cap. */
  readonly addressesSkipped: number;
}

/** Upstream epPortsToEpsPorts: name, port and protocol always present ("" when absent), appProtocol only if set. */
export function endpointPortsToSlicePorts(ports: readonly Readonly<EndpointPort>[] | undefined): SlicePort[] {
  return (ports ?? []).map((p) => {
    const port: SlicePort = { name: p.name ?? '', port: p.port, protocol: p.protocol ?? '' };
    if (p.appProtocol !== undefined) port.appProtocol = p.appProtocol;
    return port;
  });
}

/**
 * Upstream addressToEndpoint: the slice endpoint for one Endpoints address, or undefined when its `ip` does not parse
 * (Go ParseIPSloppy: IPv4 with leading zeros accepted). The family is IPv4 for IPv4 and IPv4-mapped IPv6, else IPv6; the
 * address is re-printed canonically. Only `ready` is set among the conditions (serving and terminating stay absent);
 * targetRef is copied as is, nodeName whenever present (even ""), hostname only when non-empty; no zone.
 */
export function addressToEndpoint(
  address: Readonly<EndpointAddress>,
  ready: boolean,
): { readonly addressType: 'IPv4' | 'IPv6'; readonly endpoint: SliceEndpoint } | undefined {
  const ip = parseIP(address.ip);
  if (ip === undefined) return undefined;
  const endpoint: SliceEndpoint = { addresses: [ip.canonical], conditions: { ready } };
  if (address.targetRef !== undefined) endpoint.targetRef = { ...address.targetRef };
  if (address.nodeName !== undefined) endpoint.nodeName = address.nodeName;
  if ((address.hostname ?? '') !== '') endpoint.hostname = address.hostname;
  return { addressType: ip.family, endpoint };
}

interface MutableGroup {
  key: string;
  addressType: 'IPv4' | 'IPv6';
  ports: SlicePort[];
  endpoints: Map<string, SliceEndpoint>;
}

const FAMILIES = ['IPv4', 'IPv6'] as const;

/**
 * The desired mirrored slices of `endpoints`. Subsets are first repacked into canonical form; then, per subset, ready
 * addresses and then not-ready ones are taken in sorted order until `maxEndpointsPerSubset` valid ones were added (the
 * cap counts valid addresses, so ready ones win). Within a group, a later endpoint with the same identity replaces an
 * earlier one, as upstream's set does. Every subset creates a group for both families, even if one stays empty.
 */
export function desiredMirroredSlices(endpoints: Readonly<Endpoints>, maxEndpointsPerSubset: number): DesiredMirroredSlices {
  const groups = new Map<string, MutableGroup>();
  const invalidIPs: string[] = [];
  let addressesSkipped = 0;

  for (const subset of repackSubsets(endpoints.subsets)) {
    const ports = sortSlicePorts(endpointPortsToSlicePorts(subset.ports));
    const keys = { IPv4: addressTypePortMapKey('IPv4', ports), IPv6: addressTypePortMapKey('IPv6', ports) };
    for (const family of FAMILIES) {
      const group = groups.get(keys[family]);
      if (group === undefined) groups.set(keys[family], { key: keys[family], addressType: family, ports, endpoints: new Map() });
      else group.ports = ports;
    }

    const total = (subset.addresses?.length ?? 0) + (subset.notReadyAddresses?.length ?? 0);
    let added = 0;
    const take = (addresses: readonly Readonly<EndpointAddress>[] | undefined, ready: boolean) => {
      for (const address of addresses ?? []) {
        if (added >= maxEndpointsPerSubset) return;
        const converted = addressToEndpoint(address, ready);
        if (converted === undefined) {
          invalidIPs.push(address.ip);
          continue;
        }
        groups.get(keys[converted.addressType])?.endpoints.set(endpointIdentity(converted.endpoint), converted.endpoint);
        added++;
      }
    };
    take(subset.addresses, true);
    take(subset.notReadyAddresses, false);
    addressesSkipped += total - added;
  }

  return { groups, invalidIPs, addressesSkipped };
}
