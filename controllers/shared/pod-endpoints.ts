import type { Pod, Service, ServicePort } from '../../api/core/v1.ts';

// Pure rules shared by the Endpoints and EndpointSlice controllers (and the `kubectl endpoints` explainer), exactly as
// upstream's endpointslice utils (util/controller_utils.go: ShouldPodBeInEndpoints, ShouldSetHostname; utils.go:
// FindPort, getEndpointAddresses).

/** Upstream ShouldPodBeInEndpoints: false for terminal phases, pods without any IP, and terminating pods unless allowed. */
export function shouldPodBeInEndpoints(pod: Readonly<Pod>, includeTerminating: boolean): boolean {
  const phase = pod.status.phase;
  if (phase === 'Failed' || phase === 'Succeeded') return false;
  if ((pod.status.podIP ?? '') === '' && (pod.status.podIPs?.length ?? 0) === 0) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp !== undefined) return false;
  return true;
}

/** Why a pod is not an endpoint candidate, in the order {@link shouldPodBeInEndpoints} checks; undefined if it is. */
export function podExclusionReason(
  pod: Readonly<Pod>,
  includeTerminating: boolean,
): 'TerminalPhase' | 'NoPodIP' | 'Terminating' | undefined {
  const phase = pod.status.phase;
  if (phase === 'Failed' || phase === 'Succeeded') return 'TerminalPhase';
  if ((pod.status.podIP ?? '') === '' && (pod.status.podIPs?.length ?? 0) === 0) return 'NoPodIP';
  if (!includeTerminating && pod.metadata.deletionTimestamp !== undefined) return 'Terminating';
  return undefined;
}

/** Upstream IsPodReady: the FIRST condition of type Ready has status "True" (later duplicates are ignored). */
export function isPodReady(pod: Readonly<Pod>): boolean {
  return pod.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}

/** lastTransitionTime of the Ready condition in ms, or undefined (upstream: zero time) when there is none. */
export function podReadyTransitionTime(pod: Readonly<Pod>): number | undefined {
  const c = pod.status.conditions?.find((x) => x.type === 'Ready');
  if (c?.lastTransitionTime == null) return undefined;
  return parseTransitionTime(c.lastTransitionTime);
}

// Every sync of a Service reads the Ready transition time of each of its Pods (trigger-time tracking); Pods of one
// rollout share a few distinct second-precision timestamps, so parsed values are remembered (bounded).
const TRANSITION_TIME_MEMO_LIMIT = 4096;
const transitionTimes = new Map<string, number | undefined>();

function parseTransitionTime(s: string): number | undefined {
  if (transitionTimes.has(s)) return transitionTimes.get(s);
  const t = Date.parse(s);
  const value = Number.isNaN(t) ? undefined : t;
  if (transitionTimes.size >= TRANSITION_TIME_MEMO_LIMIT) transitionTimes.clear();
  transitionTimes.set(s, value);
  return value;
}

/** Upstream ShouldSetHostname: hostname set, subdomain equals the Service name, same namespace. */
export function shouldSetHostname(pod: Readonly<Pod>, svc: Readonly<Service>): boolean {
  return (pod.spec.hostname ?? '') !== '' && pod.spec.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace;
}

export class PortNotFoundError extends Error {
  override readonly name = 'PortNotFoundError';
}

/**
 * Upstream FindPort, without the error allocation (it runs per pod and port on the hot path). An integer targetPort is
 * returned as is; a named one is looked up by name and exact protocol in the containers, then in restartable
 * (sidecar) init containers. Undefined when nothing matches. A missing targetPort means the API defaulted it to `port`.
 */
export function resolvePort(pod: Readonly<Pod>, svcPort: Readonly<ServicePort>): number | undefined {
  const target = svcPort.targetPort ?? svcPort.port;
  if (typeof target === 'number') return target;
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) if (p.name === target && p.protocol === svcPort.protocol) return p.containerPort;
  }
  for (const c of pod.spec.initContainers ?? []) {
    if (c.restartPolicy !== 'Always') continue;
    for (const p of c.ports ?? []) if (p.name === target && p.protocol === svcPort.protocol) return p.containerPort;
  }
  return undefined;
}

/** {@link resolvePort} that throws {@link PortNotFoundError} with upstream's message when nothing matches. */
export function findPort(pod: Readonly<Pod>, svcPort: Readonly<ServicePort>): number {
  const port = resolvePort(pod, svcPort);
  if (port === undefined) throw new PortNotFoundError(`no suitable port for manifest: ${pod.metadata.uid}`);
  return port;
}

export type IPFamily = 'IPv4' | 'IPv6';

/**
 * Parses an IP as Go's ParseIPSloppy and returns its family and canonical string (Go's ip.String()), or undefined when
 * it is not an IP. IPv4 with leading zeros is accepted; an IPv4-mapped IPv6 address is IPv4.
 */
export function parseIP(raw: string): { family: IPFamily; canonical: string } | undefined {
  const v4 = parseIPv4Sloppy(raw);
  if (v4 !== undefined) {
    // The input itself when already canonical: the Endpoints and EndpointSlice memos keep these strings per Pod.
    const canonical = v4.join('.');
    return { family: 'IPv4', canonical: canonical === raw ? raw : canonical };
  }
  const v6 = parseIPv6(raw);
  if (v6 === undefined) return undefined;
  if (v6.slice(0, 10).every((x) => x === 0) && v6[10] === 0xff && v6[11] === 0xff) {
    return { family: 'IPv4', canonical: v6.slice(12).join('.') };
  }
  return { family: 'IPv6', canonical: formatIPv6(v6) };
}

/**
 * Four dot-separated decimal parts of one to three digits (leading zeros allowed), each at most 255. A character scan
 * rather than split and a regular expression per part: every sync parses the address of every Pod of the Service.
 */
function parseIPv4Sloppy(s: string): number[] | undefined {
  const out: number[] = [];
  let n = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || out.length === 3) return undefined;
      out.push(n);
      n = 0;
      digits = 0;
      continue;
    }
    if (c < 48 || c > 57 || ++digits > 3) return undefined;
    n = n * 10 + (c - 48);
    if (n > 255) return undefined;
  }
  if (digits === 0 || out.length !== 3) return undefined;
  out.push(n);
  return out;
}

function parseIPv6(s: string): number[] | undefined {
  if (!s.includes(':') || s.includes('%')) return undefined;
  let tail4: number[] = [];
  let str = s;
  const lastColon = str.lastIndexOf(':');
  if (str.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4Sloppy(str.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail4 = v4;
    str = `${str.slice(0, lastColon + 1)}0:0`;
  }
  const halves = str.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const groups: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      groups.push(Number.parseInt(g, 16));
    }
    return groups;
  };
  const head = parseGroups(halves[0] ?? '');
  const rest = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (head === undefined || rest === undefined) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return undefined;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    if (head.length !== 8) return undefined;
    groups = head;
  }
  const bytes: number[] = [];
  for (const g of groups) bytes.push(g >> 8, g & 0xff);
  if (tail4.length === 4) bytes.splice(12, 4, ...tail4);
  return bytes;
}

/** RFC 5952 formatting, as Go's net.IP.String(): longest run (>1) of zero groups becomes "::", lowercase hex. */
function formatIPv6(bytes: number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number | undefined) => (g ?? 0).toString(16);
  if (bestLen < 2) return groups.map(hex).join(':');
  const left = groups.slice(0, bestStart).map(hex).join(':');
  const right = groups
    .slice(bestStart + bestLen)
    .map(hex)
    .join(':');
  return `${left}::${right}`;
}

/** The pod's IPs (status.podIPs, falling back to status.podIP), parsed; unparseable ones are dropped. */
export function podIPs(pod: Readonly<Pod>): { family: IPFamily; canonical: string }[] {
  const raw = pod.status.podIPs?.length ? pod.status.podIPs.map((p) => p.ip) : pod.status.podIP ? [pod.status.podIP] : [];
  const out: { family: IPFamily; canonical: string }[] = [];
  for (const r of raw) {
    const ip = parseIP(r);
    if (ip !== undefined) out.push(ip);
  }
  return out;
}

/** Service selector as upstream: undefined (nil) matches nothing; `{}` matches everything; otherwise exact equality. */
export function selectorMatches(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  if (selector === undefined) return false;
  // Own keys in Object.entries order without building the entries array: this runs for every Pod of the namespace on
  // every sync, and those arrays were 13 % of all allocation in a 5,000-Pod rollout (docs/performance.md).
  for (const k in selector) {
    if (!Object.hasOwn(selector, k)) continue;
    if ((labels ?? {})[k] !== selector[k]) return false;
  }
  return true;
}
