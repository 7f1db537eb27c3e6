import type { EndpointAddress, EndpointPort, EndpointSubset, Pod, Service } from '../../api/core/v1.ts';
import { isPodReady, resolvePort, parseIP, podExclusionReason, selectorMatches, shouldSetHostname } from '../shared/pod-endpoints.ts';
import { repackSubsets } from './repack.ts';

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
  const raw: EndpointSubset[] = [];
  const skippedPods: { pod: string; reason: PodSkipReason }[] = [];
  let readyCount = 0;
  let notReadyCount = 0;
  const portLists: Map<number, EndpointPort[]>[] = [];

  for (const pod of pods) {
    const excluded = podExclusionReason(pod, publishNotReady);
    if (excluded !== undefined) {
      skippedPods.push({ pod: pod.metadata.name, reason: excluded });
      continue;
    }
    const address = podEndpointAddress(service, pod);
    if (address === undefined) {
      skippedPods.push({ pod: pod.metadata.name, reason: 'NoIPOfServiceFamily' });
      continue;
    }
    const ready = publishNotReady || isPodReady(pod);
    const add = (ports: EndpointPort[]) => {
      raw.push(ready ? { addresses: [address], ports } : { notReadyAddresses: [address], ports });
      if (ready) readyCount++;
      else notReadyCount++;
    };

    if (servicePorts.length === 0) {
      // Only headless Services may lack ports; a ClusterIP Service without ports is invalid and gets no subsets.
      if (service.spec.clusterIP === 'None') add([]);
      continue;
    }
    let resolved = 0;
    servicePorts.forEach((sp, i) => {
      const port = resolvePort(pod, sp);
      if (port === undefined) return;
      resolved++;
      // One port list per Service port and target port, shared by every Pod resolving it: regrouping copies what it
      // keeps and never modifies its input.
      const byPort = (portLists[i] ??= new Map());
      let ports = byPort.get(port);
      if (ports === undefined) {
        ports = [
          {
            ...(sp.name !== undefined && sp.name !== '' ? { name: sp.name } : {}),
            port,
            ...(sp.protocol !== undefined ? { protocol: sp.protocol } : {}),
            ...(sp.appProtocol !== undefined ? { appProtocol: sp.appProtocol } : {}),
          },
        ];
        byPort.set(port, ports);
      }
      add(ports);
    });
    if (resolved === 0) skippedPods.push({ pod: pod.metadata.name, reason: 'NoMatchingPort' });
  }
  return { subsets: repackSubsets(raw), readyCount, notReadyCount, skippedPods };
}

/**
 * The Endpoints address of `pod` for `service`, or undefined when the Pod has no IP of the Service's family.
 * The family is `spec.ipFamilies[0]`; without ipFamilies (never defaulted, e.g. from an old API server) it is the
 * family of the clusterIP, or for headless Services (clusterIP "" or "None") of `status.podIP`. The IP is the first
 * `status.podIPs` entry of that family, re-printed canonically (an unparseable entry counts as IPv4 and prints as
 * `<nil>`, as Go's nil net.IP). `nodeName` is always set, even to "", and the targetRef carries no resourceVersion.
 */
export function podEndpointAddress(service: Readonly<Service>, pod: Readonly<Pod>): EndpointAddress | undefined {
  const wantIPv6 = serviceWantsIPv6(service, pod);
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
    ...(shouldSetHostname(pod, service) ? { hostname: pod.spec.hostname } : {}),
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
