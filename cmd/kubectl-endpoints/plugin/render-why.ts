import type { AffinityReport } from './explain/affinity-governance.ts';
import type { EndpointCounts, WhyReport } from './explain/explain-why.ts';
import type { ExternalEndpointsReport } from './explain/external-backends.ts';
import type { NearMiss } from './explain/near-miss.ts';
import type { ContainerPortRef, EndpointState, PodReason, PodVerdict, ServicePortRef } from './explain/pod-verdict.ts';
import type { ReadinessCause } from './explain/readiness.ts';
import type { RatedFinding } from './explain/service-findings.ts';
import type { Style } from './style.ts';

// The human form of a why report. One line per finding and per Pod, the first failing rule in words with the evidence
// that shows it, and follow-up lines only for detail a person needs to act. Large Services are summarised: every Pod
// with something to say is listed, fully ready ones only while there are few.

/** Ready Pods with nothing to report are listed one by one only up to this many selected Pods. */
export const LIST_ALL_PODS_UP_TO = 20;
/** Most Pods listed with something to report; the rest are counted. */
export const MAX_LISTED_PODS = 100;

const STATE_LABEL: Readonly<Record<EndpointState, string>> = {
  ready: 'ready',
  serving: 'serving',
  terminating: 'terminating',
  notReady: 'not ready',
  absent: 'absent',
};

function selectorText(selector: Readonly<Record<string, string>>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function portText(p: ServicePortRef): string {
  return `${p.name ? `${p.name} ` : ''}${p.port}→${p.targetPort}/${p.protocol}`;
}

function portRef(p: ServicePortRef): string {
  return typeof p.targetPort === 'string' ? `"${p.targetPort}" (${p.protocol})` : `${p.targetPort}/${p.protocol}`;
}

function containerPortsText(ports: readonly ContainerPortRef[]): string {
  if (ports.length === 0) return 'it declares no ports';
  return `it declares ${ports.map((p) => `${p.name ?? '(unnamed)'} ${p.port}/${p.protocol}`).join(', ')}`;
}

function countsText(c: EndpointCounts): string {
  const parts = [`${c.ready} ready`];
  if (c.serving > 0) parts.push(`${c.serving} serving`);
  if (c.terminating > 0) parts.push(`${c.terminating} terminating`);
  if (c.notReady > 0) parts.push(`${c.notReady} not ready`);
  return parts.join(', ');
}

function stateStyle(style: Style, state: EndpointState): (s: string) => string {
  return state === 'ready' ? style.ok : state === 'absent' ? style.bad : style.warn;
}

function icon(style: Style, state: EndpointState): string {
  return stateStyle(style, state)(state === 'ready' ? '✓' : state === 'absent' ? '✗' : '!');
}

/** The text of one Service-level finding. */
export function findingText(f: RatedFinding, service: string): string {
  switch (f.code) {
    case 'ServiceNotFound':
      return `Service ${service} not found`;
    case 'ServiceTerminating':
      return `the Service is being deleted (since ${f.deletionTimestamp})`;
    case 'ExternalName':
      return `ExternalName Service: DNS answers with a CNAME to ${f.externalName || '(empty)'}; it has no endpoints, by design`;
    case 'Selectorless': {
      const mirror = f.mirroring.mirrored ? 'mirrored into EndpointSlices' : `not mirrored (${f.mirroring.reason ?? ''})`;
      switch (f.source) {
        case 'ExternalEndpoints':
          return `no selector: endpoints come from the ExternalEndpoints of the same name (see below), not from Pods`;
        case 'Endpoints': {
          const writers = f.endpoints?.fieldManagers.map((m) => m.manager).join(', ') || 'unknown';
          return `no selector: endpoints come from the Endpoints object (${f.endpoints?.addresses ?? 0} addresses, written by ${writers}), ${mirror}`;
        }
        case 'EndpointSlices':
          return `no selector: endpoints come from EndpointSlices managed by ${f.sliceManagers.filter((m) => m !== '').join(', ') || '(no managed-by label)'}`;
        case 'None':
          return 'no selector: the endpoint controllers compute nothing for it; endpoints must be provided';
      }
      return '';
    }
    case 'NoEndpointsSource':
      return 'nothing provides endpoints: add a selector, or create an Endpoints object, EndpointSlices or an ExternalEndpoints of the same name';
    case 'MirroringSkipped':
      return f.reason === 'SkipMirrorLabel'
        ? 'the Endpoints object carries endpointslice.kubernetes.io/skip-mirror=true: no EndpointSlices are made from it, so kube-proxy does not see these addresses'
        : 'the Endpoints object is a leader-election lock (control-plane.alpha.kubernetes.io/leader): it is never mirrored';
    case 'ExternalEndpointsIgnored':
      return f.reason === 'ServiceHasSelector'
        ? 'an ExternalEndpoints of the same name exists but the Service has a selector: it is ignored (remove the selector to use it)'
        : 'an ExternalEndpoints of the same name exists but the Service is ExternalName: it is ignored';
    case 'LeftoverEndpointSlices':
      return `EndpointSlices from when the Service had a selector are still there and still used by proxies: ${f.slices.join(', ')} (the controller leaves them; delete them if unwanted)`;
    case 'Headless':
      return f.withoutPorts
        ? 'headless Service without ports: DNS returns the Pod IPs; endpoints carry no ports'
        : 'headless Service (clusterIP None): DNS returns the Pod IPs directly, no virtual IP';
    case 'PublishNotReadyAddresses':
      return 'publishNotReadyAddresses: every Pod with an IP is published as ready, whatever its readiness, terminating ones included';
    case 'NoMatchingPods':
      return `no Pod matches the selector ${selectorText(f.selector)}${f.nearMisses > 0 ? ` (${f.nearMisses} almost match, see below)` : ''}`;
    case 'EndpointsOverCapacity':
      return `the Endpoints object is over capacity: it keeps ${f.kept} of ${f.addresses} addresses (${f.droppedPods} Pod${f.droppedPods === 1 ? '' : 's'} left out; EndpointSlices list them all)`;
    case 'EndpointsOutOfDate':
      return `the stored Endpoints is out of date: the controller would ${f.action} it${f.foreignManagers.length > 0 ? `; edited by ${f.foreignManagers.join(', ')}` : ''} (see: kubectl endpoints diff ${service.split('/')[1] ?? service})`;
    case 'EndpointSlicesOutOfDate': {
      const writes = [
        f.creates > 0 ? `${f.creates} to create` : '',
        f.updates > 0 ? `${f.updates} to update` : '',
        f.deletes > 0 ? `${f.deletes} to delete` : '',
      ].filter((x) => x !== '');
      return `the stored EndpointSlices are out of date: ${writes.join(', ') || 'awaiting garbage collection'}, ${f.endpointChanges} endpoint changes${f.foreignManagers.length > 0 ? `; edited by ${f.foreignManagers.join(', ')}` : ''} (see: kubectl endpoints diff ${service.split('/')[1] ?? service})`;
    }
    case 'NodesUnavailable':
      return `Nodes could not be read (${f.reason}): node rules were not checked`;
  }
}

function causeText(c: ReadinessCause): string {
  switch (c.kind) {
    case 'NodeNotReady':
      return `Node ${c.node} is ${c.status === 'False' ? 'NotReady' : 'not reporting (Ready Unknown)'}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`;
    case 'ContainerNotReady': {
      const what = c.sidecar ? `sidecar ${c.container}` : `container ${c.container}`;
      const restarts = c.restartCount > 0 ? `, ${c.restartCount} restarts` : '';
      if (c.state === 'running') {
        const probe = c.started === false ? 'startup probe not yet passed' : 'readiness probe not passing';
        return `${what} not ready: running, ${probe}${restarts}`;
      }
      if (c.state === 'waiting')
        return `${what} not ready: waiting${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}${restarts}`;
      if (c.state === 'terminated') {
        return `${what} not ready: terminated${c.reason ? ` (${c.reason}${c.exitCode !== undefined ? `, exit code ${c.exitCode}` : ''})` : ''}${restarts}`;
      }
      return `${what} not ready${restarts}`;
    }
    case 'ReadinessGateNotReady':
      return c.status === 'Missing'
        ? `readiness gate ${c.conditionType}: condition not set yet (whatever sets it has not reported)`
        : `readiness gate ${c.conditionType}: ${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`;
  }
}

/** The first failing rule in words, and follow-up detail lines. */
export function reasonText(reason: PodReason, pod: PodVerdict): { headline: string; details: string[] } {
  switch (reason.code) {
    case 'TerminalPhase':
      return { headline: `Pod phase ${reason.phase}: a finished Pod is never an endpoint`, details: [] };
    case 'NoPodIP':
      if (!reason.scheduled) {
        const why = reason.scheduling
          ? ` (${reason.scheduling.reason ?? ''}${reason.scheduling.message ? `: ${reason.scheduling.message}` : ''})`
          : '';
        return { headline: `no IP: not scheduled to a Node yet${why}`, details: [] };
      }
      return { headline: `no IP yet: scheduled to Node ${pod.nodeName ?? ''}, but the kubelet has not reported an IP`, details: [] };
    case 'NoPortResolved':
      return {
        headline: `no Service port resolves on this Pod: ${reason.missing.map(portRef).join(', ')} not declared; ${containerPortsText(reason.containerPorts)}`,
        details: ['a named targetPort must match a container port by name and protocol'],
      };
    case 'NodeMissing':
      return reason.nodeName === ''
        ? { headline: 'no Node: EndpointSlices skip a Pod whose Node is unknown', details: [] }
        : { headline: `Node ${reason.nodeName} does not exist: EndpointSlices skip the Pod until it does`, details: [] };
    case 'IPFamilyNotServed':
      return {
        headline: `no ${reason.serviceFamilies.join('/')} address: Pod IPs ${reason.podIPs.join(', ') || '(none in status.podIPs)'}, Service families ${reason.serviceFamilies.join(', ')}`,
        details: [],
      };
    case 'Terminating':
      return reason.serving
        ? {
            headline: `terminating (deleted ${reason.deletionTimestamp}), still serving: proxies use it only while no endpoint is ready`,
            details: [],
          }
        : { headline: `terminating (deleted ${reason.deletionTimestamp}) and no longer serving`, details: [] };
    case 'NotReady': {
      const rc = reason.readyCondition;
      const headline =
        rc.status === 'Missing'
          ? 'not Ready: the Pod has no Ready condition (the kubelet has not reported it)'
          : `not Ready: Ready=${rc.status}${rc.reason ? ` (${rc.reason}${rc.message ? `: ${rc.message}` : ''})` : ''}`;
      return { headline, details: reason.causes.map(causeText) };
    }
    case 'NamedPortNotFound':
      return {
        headline: `ready, but not for ${reason.missing.map(portRef).join(', ')}: not declared; ${containerPortsText(reason.containerPorts)}`,
        details: [],
      };
  }
}

function endpointsNote(p: PodVerdict): string | undefined {
  const e = p.endpoints;
  if (e === undefined) return undefined;
  if (e.reason === 'OverCapacity') return 'left out of the Endpoints object: over its 1000-address capacity';
  if (p.state === 'absent' && e.state !== 'absent')
    return `still listed in the Endpoints object as ${e.state === 'ready' ? 'ready' : 'not ready'}`;
  return undefined;
}

function notable(p: PodVerdict): boolean {
  return p.state !== 'ready' || p.reason !== undefined || endpointsNote(p) !== undefined;
}

function podLines(style: Style, p: PodVerdict, width: number): string[] {
  const name = p.pod.padEnd(width);
  const state = stateStyle(style, p.state)(STATE_LABEL[p.state].padEnd(11));
  const where = p.addresses.length > 0 ? `${p.addresses.join(', ')}${p.nodeName ? ` on ${p.nodeName}` : ''}` : '';
  const indent = ' '.repeat(width + 18);
  const lines: string[] = [];
  if (p.reason === undefined) {
    const extra = p.state === 'ready' && p.conditions?.serving === false ? ' (published although not Ready: publishNotReadyAddresses)' : '';
    lines.push(`  ${icon(style, p.state)} ${name}  ${state} ${where}${extra}`);
  } else {
    const { headline, details } = reasonText(p.reason, p);
    lines.push(`  ${icon(style, p.state)} ${name}  ${state} ${headline}`);
    for (const d of details) lines.push(`${indent}${style.dim(d)}`);
    if (where !== '' && p.state !== 'absent') lines.push(`${indent}${style.dim(where)}`);
  }
  const note = endpointsNote(p);
  if (note !== undefined) lines.push(`${indent}${style.dim(`Endpoints: ${note}`)}`);
  return lines;
}

function nearMissText(m: NearMiss): string {
  const d = m.difference;
  if (d.actual !== undefined) return `${d.key}=${d.actual} (the Service selects ${d.key}=${d.want})`;
  const hint = d.similarKey ? `; it has ${d.similarKey.key}=${d.similarKey.value}` : '';
  return `no label ${d.key} (the Service selects ${d.key}=${d.want}${hint})`;
}

function externalLines(style: Style, x: ExternalEndpointsReport): string[] {
  const lines = [style.bold(`ExternalEndpoints ${x.name}`)];
  lines.push(
    `  health check ${x.healthCheck}; failure policy: minHealthy ${x.failurePolicy.minHealthy}, ${x.failurePolicy.whenBelowMinHealthy} below it${x.readyCount !== undefined ? `; ${x.readyCount}/${x.totalCount ?? '?'} ready` : ''}`,
  );
  if (!x.statusCurrent)
    lines.push(`  ${style.warn('!')} status is from an older generation of the spec: the operator has not caught up yet`);
  for (const c of x.conditions) {
    const good = (c.type === 'Degraded' || c.type === 'BelowMinHealthy') === (c.status !== 'True');
    lines.push(`  ${good ? style.ok('✓') : style.warn('!')} ${c.type}=${c.status} ${c.reason}${c.message ? `: ${c.message}` : ''}`);
  }
  const width = Math.max(0, ...x.backends.map((b) => (b.address + (b.resolvedFrom ? ` (${b.resolvedFrom})` : '')).length));
  for (const b of x.backends) {
    const label = (b.address + (b.resolvedFrom ? ` (${b.resolvedFrom})` : '')).padEnd(width);
    const health = b.maintenance
      ? style.warn('maintenance')
      : b.healthy
        ? style.ok('healthy')
        : style.bad(`unhealthy${b.lastError ? `: ${b.lastError}` : ''} (${b.consecutiveFailures} failures in a row)`);
    const probe = b.lastProbeTime ? style.dim(`, last probe ${b.lastProbeTime}`) : '';
    lines.push(`  ${icon(style, b.published)} ${label}  ${health}, published ${STATE_LABEL[b.published]}${probe}`);
  }
  for (const p of x.pending) {
    lines.push(
      `  ${style.warn('!')} ${p.ip ?? p.dnsName ?? ''}  ${p.ip ? 'not probed yet' : 'not resolved yet'}${p.maintenance ? ' (maintenance)' : ''}`,
    );
  }
  return lines;
}

function affinityLines(style: Style, a: AffinityReport): string[] {
  const lines = [style.bold('Session affinity')];
  if (!a.applies) return [...lines, '  not applicable to an ExternalName Service'];
  lines.push(`  current: ${a.current}`);
  if (!a.available) return [...lines, `  SessionAffinityPolicies could not be read (${a.reason ?? ''})`];
  if (a.governedBy === undefined) {
    lines.push('  no SessionAffinityPolicy selects this Service: its affinity is its own');
  } else {
    const g = a.governedBy;
    const notApplied = a.state === undefined && a.record.kind !== 'ownerSet' && g.affinity !== a.current ? ' — not applied (yet)' : '';
    const state = a.state ? ` — ${a.state}${a.message ? `: ${a.message}` : ''}` : notApplied;
    lines.push(`  governed by SessionAffinityPolicy ${g.name} (mode ${g.mode}, priority ${g.priority}): ${g.affinity}${state}`);
  }
  for (const o of a.overridden)
    lines.push(`  ${style.dim(`also selects it but loses: ${o.name} (priority ${o.priority}, ${o.affinity})`)}`);
  if (a.record.kind === 'held')
    lines.push(`  ${style.dim(`recorded: ${a.record.applied} applied by ${a.record.policy}; restores ${a.record.previous}`)}`);
  if (a.record.kind === 'ownerSet') lines.push(`  ${style.dim("the Service's owner set its affinity: a Default-mode policy leaves it")}`);
  if (a.record.kind === 'invalid') lines.push(`  ${style.warn('!')} the affinity record annotation is not valid JSON of a known shape`);
  for (const c of a.caveats) lines.push(`  ${style.warn('caveat:')} ${c}`);
  return lines;
}

/** Renders a why report for a person. Pure; ends with a newline. */
export function renderWhy(report: WhyReport, style: Style): string {
  const svc = report.service;
  const key = `${svc.namespace}/${svc.name}`;
  const out: string[] = [];
  if (!svc.found) {
    out.push(style.bad(`✗ Service ${key} not found`));
    return `${out.join('\n')}\n`;
  }
  const kind = svc.type === 'ExternalName' ? 'ExternalName' : `${svc.type ?? 'ClusterIP'}${svc.clusterIP ? ` ${svc.clusterIP}` : ''}`;
  out.push(style.bold(`Service ${key}`) + style.dim(` (${kind})`));
  if (svc.selector !== undefined) out.push(`  selector   ${selectorText(svc.selector)}`);
  if ((svc.ports?.length ?? 0) > 0) out.push(`  ports      ${(svc.ports ?? []).map(portText).join(', ')}`);
  const pub = report.published;
  const readyIcon = pub.ready > 0 ? style.ok('✓') : style.bad('✗');
  out.push(`  endpoints  ${readyIcon} ${countsText(pub)} in ${pub.slices} EndpointSlice${pub.slices === 1 ? '' : 's'}`);
  const exp = report.expected;
  if (
    exp !== undefined &&
    (exp.ready !== pub.ready || exp.notReady !== pub.notReady || exp.serving !== pub.serving || exp.terminating !== pub.terminating)
  ) {
    out.push(`             ${style.warn('!')} from its Pods the controllers compute ${countsText(exp)}`);
  }

  if (report.findings.length > 0) {
    out.push('', style.bold('Service'));
    for (const f of report.findings) {
      const mark = f.severity === 'cause' ? style.bad('✗') : f.severity === 'warning' ? style.warn('!') : style.dim('·');
      out.push(`  ${mark} ${findingText(f, key)}`);
    }
  }

  if (exp !== undefined) {
    out.push('', style.bold(`Pods (${report.pods.length} selected)`));
    const listed = report.pods.length <= LIST_ALL_PODS_UP_TO ? report.pods : report.pods.filter(notable);
    const shown = listed.slice(0, MAX_LISTED_PODS);
    const width = Math.max(0, ...shown.map((p) => p.pod.length));
    for (const p of shown) out.push(...podLines(style, p, width));
    const hidden = report.pods.length - shown.length;
    if (hidden > 0)
      out.push(
        style.dim(`  … and ${hidden} more (${report.pods.length - listed.length} ready with nothing to report); -o json lists every Pod`),
      );
  }

  if (report.nearMisses.length > 0) {
    out.push('', style.bold(`Pods that almost match (${report.nearMissTotal})`));
    const width = Math.max(0, ...report.nearMisses.map((m) => m.pod.length));
    for (const m of report.nearMisses) out.push(`  ${style.warn('~')} ${m.pod.padEnd(width)}  ${nearMissText(m)}`);
    if (report.nearMissTotal > report.nearMisses.length)
      out.push(style.dim(`  … and ${report.nearMissTotal - report.nearMisses.length} more`));
  }

  if (report.externalEndpoints !== undefined) out.push('', ...externalLines(style, report.externalEndpoints));
  if (report.sessionAffinity !== undefined) out.push('', ...affinityLines(style, report.sessionAffinity));
  return `${out.join('\n')}\n`;
}
