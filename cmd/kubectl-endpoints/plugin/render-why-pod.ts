import type { EndpointConditions, EndpointHints } from '../../../api/discovery/v1.ts';
import type { EndpointsAbsenceReason, EndpointState } from './explain/pod-verdict.ts';
import { proxiedSlice, type WhyPodReport } from './explain/explain-pod.ts';
import { reasonText } from './render-why.ts';
import type { Style } from './style.ts';

// The human form of `why SERVICE POD`: the Pod's facts in the order the controllers look at them (selector, scheduling
// and IPs, readiness, ports), the controllers' verdict, then where it actually is in the stored EndpointSlices and
// Endpoints, compared with what the controllers would write for it now.

const STATE_LABEL: Readonly<Record<EndpointState, string>> = {
  ready: 'ready',
  serving: 'serving (terminating)',
  terminating: 'terminating, not serving',
  notReady: 'not ready',
  absent: 'absent',
};

/** Why the Endpoints controller leaves a selected Pod out (endpoints_controller.go: syncService). */
export function endpointsAbsenceText(reason: EndpointsAbsenceReason | undefined): string {
  switch (reason) {
    case 'TerminalPhase':
      return 'its phase is terminal (Succeeded or Failed)';
    case 'NoPodIP':
      return 'it has no IP yet';
    case 'Terminating':
      return 'it is terminating (Endpoints never lists terminating Pods)';
    case 'NoIPOfServiceFamily':
      return "it has no IP of the Service's IP family";
    case 'NoMatchingPort':
      return 'no Service port resolves on it';
    case 'OverCapacity':
      return 'the Endpoints object is over its 1000-address capacity';
    case undefined:
      return 'the Service has no ports to list it under';
  }
}

function conditionsText(c: Readonly<EndpointConditions>): string {
  const b = (v: boolean | undefined) => (v === undefined ? 'unset' : String(v));
  return `ready=${b(c.ready)} serving=${b(c.serving)} terminating=${b(c.terminating)}`;
}

function hintsText(h: Readonly<EndpointHints> | undefined): string {
  if (h === undefined) return 'no hints';
  const zones = (h.forZones ?? []).map((z) => z.name);
  const nodes = (h.forNodes ?? []).map((n) => n.name);
  return [zones.length > 0 ? `hints zones ${zones.join(',')}` : '', nodes.length > 0 ? `hints nodes ${nodes.join(',')}` : '']
    .filter((x) => x !== '')
    .join(', ');
}

const label = (name: string) => `  ${name.padEnd(12)} `;
const cont = ' '.repeat(15);

/** Renders a Pod report for a person. Pure; ends with a newline. */
export function renderWhyPod(r: WhyPodReport, style: Style): string {
  const svc = `${r.service.namespace}/${r.service.name}`;
  const pod = `${r.service.namespace}/${r.pod.name}`;
  if (!r.service.found) return `${style.bad(`✗ Service ${svc} not found`)}\n`;
  if (!r.pod.found) return `${style.bad(`✗ Pod ${pod} not found`)}\n`;
  const out: string[] = [];
  const kind = `${r.service.type ?? 'ClusterIP'}${r.service.clusterIP ? ` ${r.service.clusterIP}` : ''}`;
  out.push(style.bold(`Pod ${pod}`) + style.dim(` behind Service ${r.service.name} (${kind})`));

  // Selector.
  if (r.selector === undefined) {
    const why = r.service.type === 'ExternalName' ? 'an ExternalName Service' : 'the Service has no selector';
    out.push(`${label('selector')}${style.bad('✗')} ${why}: no Pod is ever selected (see: kubectl endpoints why ${r.service.name})`);
  } else if (r.selector.labels.length === 0) {
    out.push(`${label('selector')}${style.ok('✓')} empty selector: selects every Pod of the namespace`);
  } else {
    r.selector.labels.forEach((l, i) => {
      const head = i === 0 ? label('selector') : cont;
      if (l.matches) out.push(`${head}${style.ok('✓')} ${l.key}=${l.want}`);
      else if (l.actual !== undefined) out.push(`${head}${style.bad('✗')} ${l.key}=${l.want}: the Pod has ${l.key}=${l.actual}`);
      else out.push(`${head}${style.bad('✗')} ${l.key}=${l.want}: the Pod has no label ${l.key}`);
    });
  }

  // Scheduling, IPs, phase.
  const p = r.pod;
  const node = p.node
    ? `${p.node.name} (${p.node.ready === 'absent' ? 'no such Node' : p.node.ready === 'unavailable' ? 'Nodes not readable' : `Ready=${p.node.ready}`})`
    : style.warn('not scheduled');
  out.push(`${label('node')}${node}`);
  out.push(`${label('IPs')}${p.ips.length > 0 ? p.ips.map((i) => `${i.ip} (${i.family})`).join(', ') : style.warn('none yet')}`);
  out.push(
    `${label('phase')}${p.phase ?? 'unknown'}${p.deletionTimestamp ? style.warn(`, terminating since ${p.deletionTimestamp}`) : ''}`,
  );

  // Readiness.
  const conds = p.conditions.map((c) => {
    const text = `${c.type}=${c.status}${c.status !== 'True' && c.reason ? ` (${c.reason})` : ''}`;
    return c.status === 'True' ? text : style.warn(text);
  });
  out.push(`${label('conditions')}${conds.length > 0 ? conds.join('  ') : style.warn('none reported')}`);
  p.containers.forEach((c, i) => {
    const head = i === 0 ? label('containers') : cont;
    const what = `${c.sidecar ? 'sidecar ' : ''}${c.name}`;
    const detail = `${c.state}${c.reason ? ` (${c.reason})` : ''}${c.started === false ? ', not started' : ''}${c.restartCount > 0 ? `, ${c.restartCount} restarts` : ''}`;
    out.push(`${head}${c.ready ? style.ok('✓') : style.warn('!')} ${what} ${c.ready ? 'ready' : 'not ready'}: ${detail}`);
  });
  p.readinessGates.forEach((g, i) => {
    const head = i === 0 ? label('gates') : cont;
    out.push(
      `${head}${g.status === 'True' ? style.ok('✓') : style.warn('!')} ${g.conditionType}: ${g.status === 'Missing' ? 'not set yet' : g.status}`,
    );
  });

  // Ports.
  const ports = r.verdict?.ports ?? [];
  ports.forEach((sp, i) => {
    const head = i === 0 ? label('ports') : cont;
    const target = typeof sp.targetPort === 'string' ? `"${sp.targetPort}"` : String(sp.targetPort);
    const name = `${sp.name ? `${sp.name} ` : ''}${sp.port}→${target}/${sp.protocol}`;
    if (sp.resolved !== undefined) {
      const c = p.containerPorts.find((cp) => cp.port === sp.resolved && cp.protocol === sp.protocol);
      out.push(`${head}${style.ok('✓')} ${name} resolves to ${sp.resolved}${c ? ` (container ${c.container})` : ''}`);
    } else {
      out.push(`${head}${style.bad('✗')} ${name}: no container port named ${sp.targetPort} with protocol ${sp.protocol}`);
    }
  });
  out.push(`${label('publishNotReadyAddresses')}${r.publishNotReadyAddresses ? 'true: listed as ready whatever its readiness' : 'false'}`);

  // Verdict.
  const v = r.verdict;
  out.push('', style.bold('Verdict'));
  if (v === undefined) {
    out.push(`  ${style.bad('✗')} not an endpoint: the Service does not select it`);
  } else if (v.reason === undefined) {
    out.push(`  ${v.state === 'ready' ? style.ok('✓') : style.warn('!')} ${STATE_LABEL[v.state]} endpoint of every Service port`);
  } else {
    const { headline, details } = reasonText(v.reason, v);
    const mark = v.state === 'ready' ? style.ok('✓') : v.state === 'absent' ? style.bad('✗') : style.warn('!');
    // The NotReady headline already starts with "not Ready".
    out.push(`  ${mark} ${v.reason.code === 'NotReady' ? headline : `${STATE_LABEL[v.state]}: ${headline}`}`);
    for (const d of details) out.push(`      ${style.dim(d)}`);
  }

  // EndpointSlices.
  out.push('', style.bold('EndpointSlices'));
  for (const e of r.expectedSlices) {
    out.push(
      `  ${style.dim('expected')}  ${e.addressType} ${e.addresses.join(',')} [${e.ports.join(' ')}] ${conditionsText(e.conditions)}${e.zone ? ` zone ${e.zone}` : ''}`,
    );
  }
  if (r.storedSlices.length === 0)
    out.push(`  ${r.expectedSlices.length === 0 ? style.dim('·') : style.bad('✗')} not in any EndpointSlice`);
  for (const s of r.storedSlices) {
    const proxied = proxiedSlice(r, s);
    const mark = !proxied ? style.warn('!') : s.conditions.ready !== false ? style.ok('✓') : style.warn('!');
    const extra = [s.zone ? `zone ${s.zone}` : '', r.topology.kind !== 'none' || s.hints ? hintsText(s.hints) : ''].filter((x) => x !== '');
    out.push(
      `  ${mark} ${s.slice} ${s.addressType} ${s.addresses.join(',')} [${s.ports.join(' ')}] ${conditionsText(s.conditions)}${extra.length > 0 ? `, ${extra.join(', ')}` : ''}${s.managedBy ? style.dim(` (${s.managedBy})`) : ''}`,
    );
    if (!proxied) out.push(`      ${style.dim('a port-less slice: proxies ignore it for a Service with a cluster IP')}`);
  }
  if (r.topology.kind === 'annotation') out.push(`  ${style.dim('topology: the topology-mode annotation asks for zone hints (Auto)')}`);
  if (r.topology.kind === 'trafficDistribution') out.push(`  ${style.dim(`topology: trafficDistribution ${r.topology.value}`)}`);
  if (!r.slicesUpToDate) {
    out.push(
      `  ${style.warn('!')} stored differs from what the EndpointSlice controller writes for this Pod now (see: kubectl endpoints diff ${r.service.name})`,
    );
  }

  // Endpoints.
  out.push('', style.bold('Endpoints'));
  if (r.storedEndpoints === undefined) out.push(`  ${style.dim('·')} no Endpoints object`);
  else if (r.storedEndpoints.length === 0) {
    const why = v?.endpoints?.state === 'absent' ? `: ${endpointsAbsenceText(v.endpoints.reason)}` : '';
    out.push(`  ${style.dim('·')} not listed${why}`);
  }
  for (const a of r.storedEndpoints ?? []) {
    out.push(
      `  ${a.ready ? style.ok('✓') : style.warn('!')} ${a.ip} in ${a.ready ? 'addresses' : 'notReadyAddresses'} [${a.ports.join(' ')}]`,
    );
  }
  if (r.endpointsUpToDate === false) {
    const want = v?.endpoints?.state ?? 'absent';
    out.push(
      `  ${style.warn('!')} the Endpoints controller would list it as ${want === 'notReady' ? 'not ready' : want}${want === 'absent' ? ` (${endpointsAbsenceText(v?.endpoints?.reason)})` : ''} (see: kubectl endpoints diff ${r.service.name})`,
    );
  }
  return `${out.join('\n')}\n`;
}
