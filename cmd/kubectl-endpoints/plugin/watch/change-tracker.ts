import type { Endpoints, Service } from '../../../../api/core/v1.ts';
import type { EndpointSlice } from '../../../../api/discovery/v1.ts';
import { isPodReady, selectorMatches } from '../../../../controllers/shared/pod-endpoints.ts';
import type { PodDetail } from '../explain/snapshot.ts';

// `kubectl endpoints why SERVICE --watch`: turns what the watches of one Service's Pods, EndpointSlices, Endpoints and
// the Service itself deliver into one line per change a person cares about, with the time it was observed. Pure and
// synchronous: the caller feeds it events in arrival order with their time. A slice or Endpoints line that reports a
// Pod's new state carries the delay since that Pod's change was observed, which is the endpoint controllers' latency
// as seen from here (watch delivery included).

/** The four watched collections. */
export type WatchedKind = 'pod' | 'service' | 'slice' | 'endpoints';

/** One printed change. */
export interface ChangeLine {
  /** When it was observed, ms since the epoch. */
  readonly at: number;
  readonly kind: WatchedKind | 'watch';
  readonly name: string;
  readonly message: string;
  /** For a slice or Endpoints change that follows a Pod change: ms since the Pod change was observed. */
  readonly delayMs?: number;
  readonly pod?: string;
}

/** A decoded watch event. `replace` is a full (re)list. */
export type Observed =
  | { readonly kind: 'pod'; readonly type: 'replace'; readonly objects: readonly Readonly<PodDetail>[] }
  | { readonly kind: 'pod'; readonly type: 'apply' | 'delete'; readonly obj: Readonly<PodDetail> }
  | { readonly kind: 'service'; readonly type: 'replace'; readonly objects: readonly Readonly<Service>[] }
  | { readonly kind: 'service'; readonly type: 'apply' | 'delete'; readonly obj: Readonly<Service> }
  | { readonly kind: 'slice'; readonly type: 'replace'; readonly objects: readonly Readonly<EndpointSlice>[] }
  | { readonly kind: 'slice'; readonly type: 'apply' | 'delete'; readonly obj: Readonly<EndpointSlice> }
  | { readonly kind: 'endpoints'; readonly type: 'replace'; readonly objects: readonly Readonly<Endpoints>[] }
  | { readonly kind: 'endpoints'; readonly type: 'apply' | 'delete'; readonly obj: Readonly<Endpoints> };

/** What matters of a Pod for its endpoint. */
interface PodFacts {
  readonly labels: Readonly<Record<string, string>>;
  readonly ready: boolean;
  readonly readyReason: string;
  readonly ips: string;
  readonly node: string;
  readonly phase: string;
  readonly terminating: boolean;
}

/** An endpoint's state in a slice or in the Endpoints object, keyed by Pod name (or address when it has no Pod). */
type EndpointStates = ReadonlyMap<string, string>;

function podFacts(pod: Readonly<PodDetail>): PodFacts {
  const ready = pod.status.conditions?.find((c) => c.type === 'Ready');
  return {
    labels: pod.metadata.labels ?? {},
    ready: isPodReady(pod),
    readyReason: ready?.status !== 'True' && ready?.reason ? ready.reason : '',
    ips: (pod.status.podIPs ?? []).map((p) => p.ip).join(', '),
    node: pod.spec.nodeName ?? '',
    phase: pod.status.phase ?? '',
    terminating: pod.metadata.deletionTimestamp !== undefined,
  };
}

function conditionsWord(c: { ready?: boolean; serving?: boolean; terminating?: boolean } | undefined): string {
  // A nil ready condition means ready, as the EndpointSlice API defines it.
  if (c?.ready !== false) return 'ready';
  if (c.terminating === true) return c.serving === true ? 'serving (terminating)' : 'terminating';
  return 'not ready';
}

function sliceStates(slice: Readonly<EndpointSlice>): EndpointStates {
  const out = new Map<string, string>();
  for (const e of slice.endpoints ?? []) out.set(e.targetRef?.name ?? e.addresses.join(','), conditionsWord(e.conditions));
  return out;
}

function endpointsStates(ep: Readonly<Endpoints>): EndpointStates {
  const out = new Map<string, string>();
  for (const s of ep.subsets ?? []) {
    for (const a of s.notReadyAddresses ?? []) out.set(a.targetRef?.name ?? a.ip, 'not ready');
    // A Pod ready on one port set and not on another is reported ready.
    for (const a of s.addresses ?? []) out.set(a.targetRef?.name ?? a.ip, 'ready');
  }
  return out;
}

/** The per-endpoint changes from `before` to `after`, in name order. */
function endpointChanges(before: EndpointStates, after: EndpointStates): { pod: string; text: string }[] {
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  const out: { pod: string; text: string }[] = [];
  for (const n of names) {
    const b = before.get(n);
    const a = after.get(n);
    if (b === a) continue;
    out.push({ pod: n, text: a === undefined ? `${n} removed` : b === undefined ? `${n} added (${a})` : `${n} ${a}` });
  }
  return out;
}

function serviceFacts(s: Readonly<Service>): string[] {
  const selector =
    s.spec.selector === undefined
      ? '(none)'
      : Object.entries(s.spec.selector)
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
  const ports = (s.spec.ports ?? []).map((p) => `${p.name ? `${p.name} ` : ''}${p.port}→${p.targetPort ?? p.port}/${p.protocol ?? 'TCP'}`);
  return [
    `selector ${selector}`,
    `ports ${ports.join(', ') || '(none)'}`,
    `publishNotReadyAddresses ${s.spec.publishNotReadyAddresses === true}`,
  ];
}

/** Follows one Service; see the file comment. */
export class ChangeTracker {
  readonly #service: string;
  #selector: Readonly<Record<string, string>> | undefined;
  #serviceFacts: string[] | undefined;
  readonly #pods = new Map<string, PodFacts>();
  readonly #slices = new Map<string, EndpointStates>();
  #endpoints: EndpointStates | undefined;
  /** When each Pod's last endpoint-relevant change was observed, until a slice (resp. Endpoints) line reports it. */
  readonly #pendingForSlices = new Map<string, number>();
  readonly #pendingForEndpoints = new Map<string, number>();
  readonly #listed = new Set<WatchedKind>();

  constructor(service: string) {
    this.#service = service;
  }

  /** Whether every collection has been listed once. */
  get synced(): boolean {
    return this.#listed.size === 4;
  }

  /** The lines for one event observed at `at`. The first list of each collection prints nothing. */
  observe(event: Observed, at: number): ChangeLine[] {
    const first = event.type === 'replace' && !this.#listed.has(event.kind);
    if (event.type === 'replace') this.#listed.add(event.kind);
    const lines = this.#observe(event, at);
    return first ? [] : lines;
  }

  /** The line that says what is being watched, once everything is listed. */
  summary(at: number): ChangeLine {
    const selected = [...this.#pods.values()].filter((p) => this.#selected(p));
    const ready = selected.filter((p) => p.ready).length;
    const service = this.#serviceFacts === undefined ? 'not found (yet)' : (this.#serviceFacts[0] ?? '');
    return {
      at,
      kind: 'watch',
      name: this.#service,
      message: `Service ${service}; ${selected.length} Pods selected (${ready} Ready), ${this.#slices.size} EndpointSlices, ${this.#endpoints === undefined ? 'no' : 'an'} Endpoints object; watching (Ctrl-C to stop)`,
    };
  }

  #selected(p: PodFacts): boolean {
    return selectorMatches(this.#selector, p.labels);
  }

  #observe(event: Observed, at: number): ChangeLine[] {
    switch (event.kind) {
      case 'pod':
        if (event.type === 'replace') {
          const seen = new Set(event.objects.map((p) => p.metadata.name));
          const lines = event.objects.flatMap((p) => this.#pod(p, at));
          for (const name of [...this.#pods.keys()]) if (!seen.has(name)) lines.push(...this.#podGone(name, at));
          return lines;
        }
        return event.type === 'apply' ? this.#pod(event.obj, at) : this.#podGone(event.obj.metadata.name, at);
      case 'service':
        if (event.type === 'replace') {
          const s = event.objects.find((o) => o.metadata.name === this.#service);
          return s ? this.#serviceApplied(s, at) : this.#serviceGone(at);
        }
        return event.type === 'apply' ? this.#serviceApplied(event.obj, at) : this.#serviceGone(at);
      case 'slice':
        if (event.type === 'replace') {
          const seen = new Set(event.objects.map((s) => s.metadata.name ?? ''));
          const lines = event.objects.flatMap((s) => this.#slice(s, at));
          for (const name of [...this.#slices.keys()]) if (!seen.has(name)) lines.push(...this.#sliceGone(name, at));
          return lines;
        }
        return event.type === 'apply' ? this.#slice(event.obj, at) : this.#sliceGone(event.obj.metadata.name ?? '', at);
      case 'endpoints':
        if (event.type === 'replace') {
          const e = event.objects.find((o) => o.metadata.name === this.#service);
          return e ? this.#endpointsApplied(e, at) : this.#endpointsGone(at);
        }
        return event.type === 'apply' ? this.#endpointsApplied(event.obj, at) : this.#endpointsGone(at);
    }
  }

  #podLine(name: string, message: string, at: number): ChangeLine {
    this.#pendingForSlices.set(name, at);
    this.#pendingForEndpoints.set(name, at);
    return { at, kind: 'pod', name, message, pod: name };
  }

  #pod(pod: Readonly<PodDetail>, at: number): ChangeLine[] {
    const name = pod.metadata.name;
    const now = podFacts(pod);
    const before = this.#pods.get(name);
    this.#pods.set(name, now);
    const selected = this.#selected(now);
    const wasSelected = before !== undefined && this.#selected(before);
    if (!selected && !wasSelected) return [];
    if (!selected) return [this.#podLine(name, 'no longer selected (its labels changed)', at)];
    if (before === undefined)
      return [this.#podLine(name, `created${now.node ? ` on ${now.node}` : ''}, ${now.ready ? 'Ready' : 'not Ready'}`, at)];
    const out: ChangeLine[] = [];
    if (!wasSelected) out.push(this.#podLine(name, `now selected, ${now.ready ? 'Ready' : 'not Ready'}`, at));
    if (now.node !== before.node && now.node !== '') out.push(this.#podLine(name, `scheduled to ${now.node}`, at));
    if (now.ips !== before.ips) out.push(this.#podLine(name, now.ips === '' ? 'lost its IPs' : `got IP ${now.ips}`, at));
    if (now.phase !== before.phase && (now.phase === 'Succeeded' || now.phase === 'Failed'))
      out.push(this.#podLine(name, `finished (${now.phase})`, at));
    if (now.terminating && !before.terminating) out.push(this.#podLine(name, 'terminating', at));
    if (now.ready !== before.ready && wasSelected) {
      out.push(this.#podLine(name, now.ready ? 'became Ready' : `became not Ready${now.readyReason ? ` (${now.readyReason})` : ''}`, at));
    }
    return out;
  }

  #podGone(name: string, at: number): ChangeLine[] {
    const before = this.#pods.get(name);
    this.#pods.delete(name);
    return before !== undefined && this.#selected(before) ? [this.#podLine(name, 'deleted', at)] : [];
  }

  #serviceApplied(s: Readonly<Service>, at: number): ChangeLine[] {
    const facts = serviceFacts(s);
    const before = this.#serviceFacts;
    this.#serviceFacts = facts;
    this.#selector = s.spec.type === 'ExternalName' ? undefined : s.spec.selector;
    if (before === undefined) return [{ at, kind: 'service', name: this.#service, message: `created: ${facts.join('; ')}` }];
    const changed = facts.filter((f, i) => f !== before[i]);
    return changed.length === 0 ? [] : [{ at, kind: 'service', name: this.#service, message: `changed: ${changed.join('; ')}` }];
  }

  #serviceGone(at: number): ChangeLine[] {
    if (this.#serviceFacts === undefined) return [];
    this.#serviceFacts = undefined;
    this.#selector = undefined;
    return [{ at, kind: 'service', name: this.#service, message: 'deleted' }];
  }

  /** Lines for endpoint changes, each with the delay since its Pod's pending change (which it then consumes). */
  #endpointLines(
    kind: 'slice' | 'endpoints',
    name: string,
    verb: string,
    changes: { pod: string; text: string }[],
    pending: Map<string, number>,
    at: number,
  ): ChangeLine[] {
    return changes.map((c) => {
      const since = pending.get(c.pod);
      pending.delete(c.pod);
      return { at, kind, name, message: `${verb}: ${c.text}`, pod: c.pod, ...(since !== undefined ? { delayMs: at - since } : {}) };
    });
  }

  #slice(slice: Readonly<EndpointSlice>, at: number): ChangeLine[] {
    const name = slice.metadata.name ?? '';
    const now = sliceStates(slice);
    const before = this.#slices.get(name);
    this.#slices.set(name, now);
    const changes = endpointChanges(before ?? new Map(), now);
    if (before === undefined && changes.length === 0) return [{ at, kind: 'slice', name, message: 'created (no endpoints)' }];
    return this.#endpointLines('slice', name, before === undefined ? 'created' : 'updated', changes, this.#pendingForSlices, at);
  }

  #sliceGone(name: string, at: number): ChangeLine[] {
    if (!this.#slices.delete(name)) return [];
    return [{ at, kind: 'slice', name, message: 'deleted' }];
  }

  #endpointsApplied(ep: Readonly<Endpoints>, at: number): ChangeLine[] {
    const now = endpointsStates(ep);
    const before = this.#endpoints;
    this.#endpoints = now;
    const changes = endpointChanges(before ?? new Map(), now);
    if (before === undefined && changes.length === 0)
      return [{ at, kind: 'endpoints', name: this.#service, message: 'created (no addresses)' }];
    return this.#endpointLines(
      'endpoints',
      this.#service,
      before === undefined ? 'created' : 'updated',
      changes,
      this.#pendingForEndpoints,
      at,
    );
  }

  #endpointsGone(at: number): ChangeLine[] {
    if (this.#endpoints === undefined) return [];
    this.#endpoints = undefined;
    return [{ at, kind: 'endpoints', name: this.#service, message: 'deleted' }];
  }
}

/** `HH:MM:SS.mmm` of `ms` in the time zone `offsetMinutes` west of UTC (as Date.getTimezoneOffset gives it). */
export function clockTime(ms: number, offsetMinutes: number): string {
  const d = new Date(ms - offsetMinutes * 60_000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
}

/** One line of text (without newline). */
export function changeText(line: ChangeLine, offsetMinutes: number): string {
  const delay = line.delayMs !== undefined ? ` (+${line.delayMs} ms after the Pod change)` : '';
  return `${clockTime(line.at, offsetMinutes)} ${line.kind} ${line.name} ${line.message}${delay}`;
}
