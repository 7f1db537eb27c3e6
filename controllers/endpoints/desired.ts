import type { EndpointAddress, EndpointPort, EndpointSubset, Pod, Service } from '../../api/core/v1.ts';
import { isPodReady, resolvePort, parseIP, podExclusionReason, selectorMatches, shouldSetHostname } from '../shared/pod-endpoints.ts';
import { PER_POD_MEMO_MIN_PODS } from '../shared/per-pod-memo.ts';
import { addressIdentity, portIdentityByValue, SubsetRegrouper } from '../shared/repack-subsets.ts';
import { sortRegrouped } from './repack.ts';

// What the Endpoints object of a Service should contain: upstream syncService steps 2 to 7 (endpoints_controller.go:
// syncService), as pure functions of the Service and its Pods.

/**
 * Whether this controller manages the Endpoints of `service` at all. ExternalName Services and Services without a
 * selector get nothing, and their existing Endpoints are left untouched (they are user-managed or mirrored).
 */
export function serviceHasManagedEndpoints(service: Readonly<Service>): boolean {
  return service.spec.type !== 'ExternalName' && service.spec.selector !== undefined;
}

/**
 * The Pods `service` selects: same namespace, selector matching (`{}` selects all, no selector selects none). Order is
 * kept. These are also the Pods the trigger-time tracker must see, before any eligibility filter.
 */
export function selectPods(service: Readonly<Service>, pods: readonly Readonly<Pod>[]): Readonly<Pod>[] {
  return pods.filter(
    (p) => p.metadata.namespace === service.metadata.namespace && selectorMatches(service.spec.selector, p.metadata.labels),
  );
}

/** Why a selected Pod contributes no address at all (for debug logs). */
export type PodSkipReason = 'TerminalPhase' | 'NoPodIP' | 'Terminating' | 'NoIPOfServiceFamily' | 'NoMatchingPort';

/** The desired subsets (canonical form, before truncation) and what went into them. */
export interface DesiredEndpoints {
  readonly subsets: readonly EndpointSubset[];
  /** Ready and not-ready (address, port) pairs before repacking, as upstream logs them. */
  readonly readyCount: number;
  readonly notReadyCount: number;
  readonly skippedPods: readonly { readonly pod: string; readonly reason: PodSkipReason }[];
}

/**
 * Computes the subsets upstream would write for `service` from `pods` (the Pods it selects, see {@link selectPods}):
 * - a Pod is eligible unless terminal, without IP, or terminating while `publishNotReadyAddresses` is false;
 * - its address is its first `status.podIPs` entry of the Service's IP family (see {@link podEndpointAddress});
 * - with `publishNotReadyAddresses` every address is ready, otherwise readiness follows the Pod's Ready condition;
 * - one (address, port) pair per Service port whose targetPort resolves on the Pod; a Pod resolving none is absent;
 * - a Service without ports gets port-less subsets only when `clusterIP` is "None"; otherwise nothing;
 * - the result is repacked into canonical form ({@link repackSubsets}).
 */
export function desiredSubsets(service: Readonly<Service>, pods: readonly Readonly<Pod>[]): DesiredEndpoints {
  const publishNotReady = service.spec.publishNotReadyAddresses === true;
  const servicePorts = service.spec.ports ?? [];
  const headless = service.spec.clusterIP === 'None';
  // Upstream builds one single-address subset per (Pod, port) and repacks them (RepackSubsets); the pairs go straight
  // into the repacking's state instead, in the same order, which gives the same subsets.
  const regrouper = new SubsetRegrouper();
  const skippedPods: { pod: string; reason: PodSkipReason }[] = [];
  let readyCount = 0;
  let notReadyCount = 0;
  const portLists: Map<number, { port: EndpointPort; key: string }>[] = [];
  const memoise = pods.length >= PER_POD_MEMO_MIN_PODS;

  for (const pod of pods) {
    const excluded = podExclusionReason(pod, publishNotReady);
    if (excluded !== undefined) {
      skippedPods.push({ pod: pod.metadata.name, reason: excluded });
      continue;
    }
    const memo = memoise ? memoisedPodAddress(service, pod) : podAddressEntry(service, pod);
    if (memo === undefined) {
      skippedPods.push({ pod: pod.metadata.name, reason: 'NoIPOfServiceFamily' });
      continue;
    }
    const { address, id } = memo;
    const ready = publishNotReady || isPodReady(pod);

    if (servicePorts.length === 0) {
      // Only headless Services may lack ports; a ClusterIP Service without ports is invalid and gets no subsets.
      if (headless) {
        regrouper.addPortless(address, id, ready);
        if (ready) readyCount++;
        else notReadyCount++;
      }
      continue;
    }
    let resolved = 0;
    servicePorts.forEach((sp, i) => {
      const number = resolvePort(pod, sp);
      if (number === undefined) return;
      resolved++;
      // One port (and its identity) per Service port and target port, shared by every Pod resolving it: the
      // repacking copies what it keeps and never modifies it.
      const byPort = (portLists[i] ??= new Map());
      let port = byPort.get(number);
      if (port === undefined) {
        const built: EndpointPort = {
          ...(sp.name !== undefined && sp.name !== '' ? { name: sp.name } : {}),
          port: number,
          ...(sp.protocol !== undefined ? { protocol: sp.protocol } : {}),
          ...(sp.appProtocol !== undefined ? { appProtocol: sp.appProtocol } : {}),
        };
        port = { port: built, key: portIdentityByValue(built, 0, 0) };
        byPort.set(number, port);
      }
      regrouper.add(address, id, port.key, port.port, ready);
      if (ready) readyCount++;
      else notReadyCount++;
    });
    if (resolved === 0) skippedPods.push({ pod: pod.metadata.name, reason: 'NoMatchingPort' });
  }
  return { subsets: sortRegrouped(regrouper.subsets()), readyCount, notReadyCount, skippedPods };
}

/** A Pod's Endpoints address for one answer of the two Service-dependent questions, and its repacking identity. */
interface PodAddressMemo {
  readonly wantIPv6: boolean;
  readonly withHostname: boolean;
  readonly address: EndpointAddress;
  readonly id: string;
}

// Every sync of a Service builds the address of each of its Pods; during a rollout almost all of them are the same
// cached Pod objects as in the last sync. Informer objects are replaced on update, never mutated, so an address is
// remembered per Pod object (and dropped with it) and rebuilt only for a new object or when the Service's answer to
// the IP family or hostname question differs (docs/performance.md). Callers must not modify the address.
const podAddresses = new WeakMap<Readonly<Pod>, PodAddressMemo | { readonly wantIPv6: boolean; readonly address: undefined }>();

/** What {@link memoisedPodAddress} returns, built without the memo (Services below PER_POD_MEMO_MIN_PODS Pods). */
function podAddressEntry(service: Readonly<Service>, pod: Readonly<Pod>): PodAddressMemo | undefined {
  const wantIPv6 = serviceWantsIPv6(service, pod);
  const withHostname = shouldSetHostname(pod, service);
  const address = buildPodAddress(pod, wantIPv6, withHostname);
  return address === undefined ? undefined : { wantIPv6, withHostname, address, id: addressIdentity(address) };
}

function memoisedPodAddress(service: Readonly<Service>, pod: Readonly<Pod>): PodAddressMemo | undefined {
  const wantIPv6 = serviceWantsIPv6(service, pod);
  const withHostname = shouldSetHostname(pod, service);
  const memo = podAddresses.get(pod);
  if (memo !== undefined && memo.wantIPv6 === wantIPv6) {
    if (memo.address === undefined) return undefined;
    if (memo.withHostname === withHostname) return memo;
  }
  const address = buildPodAddress(pod, wantIPv6, withHostname);
  if (address === undefined) {
    podAddresses.set(pod, { wantIPv6, address: undefined });
    return undefined;
  }
  const entry: PodAddressMemo = { wantIPv6, withHostname, address, id: addressIdentity(address) };
  podAddresses.set(pod, entry);
  return entry;
}

/**
 * The Endpoints address of `pod` for `service`, or undefined when the Pod has no IP of the Service's family.
 * The family is `spec.ipFamilies[0]`; without ipFamilies (never defaulted, e.g. from an old API server) it is the
 * family of the clusterIP, or for headless Services (clusterIP "" or "None") of `status.podIP`. The IP is the first
 * `status.podIPs` entry of that family, re-printed canonically (an unparseable entry counts as IPv4 and prints as
 * `<nil>`, as Go's nil net.IP). `nodeName` is always set, even to "", and the targetRef carries no resourceVersion.
 */
export function podEndpointAddress(service: Readonly<Service>, pod: Readonly<Pod>): EndpointAddress | undefined {
  return buildPodAddress(pod, serviceWantsIPv6(service, pod), shouldSetHostname(pod, service));
}

function buildPodAddress(pod: Readonly<Pod>, wantIPv6: boolean, withHostname: boolean): EndpointAddress | undefined {
  let ip: string | undefined;
  for (const candidate of pod.status.podIPs ?? []) {
    const parsed = parseIP(candidate.ip);
    if ((parsed?.family === 'IPv6') === wantIPv6) {
      ip = parsed?.canonical ?? '<nil>';
      break;
    }
  }
  if (ip === undefined) return undefined;
  return {
    ip,
    ...(withHostname ? { hostname: pod.spec.hostname } : {}),
    nodeName: pod.spec.nodeName ?? '',
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
  };
}

function serviceWantsIPv6(service: Readonly<Service>, pod: Readonly<Pod>): boolean {
  const families = service.spec.ipFamilies ?? [];
  if (families.length > 0) return families[0] === 'IPv6';
  const clusterIP = service.spec.clusterIP ?? '';
  if (clusterIP !== '' && clusterIP !== 'None') return parseIP(clusterIP)?.family === 'IPv6';
  return parseIP(pod.status.podIP ?? '')?.family === 'IPv6';
}
