import type { AddressChange, EndpointsDiff, KeyChange, StoredObjectInfo } from './explain/endpoints-diff.ts';
import type { DiffReport } from './explain/explain-diff.ts';
import type { EndpointSummary, SliceEndpointChange, SlicesDiff, StoredSliceInfo } from './explain/slices-diff.ts';
import type { FieldManagerEntry } from './explain/field-managers.ts';
import type { Style } from './style.ts';

// The human form of a diff report: per object, the write the controller would make and, address by address, what
// would change; then who wrote the stored objects, with writers other than the endpoint controllers marked foreign.

function managers(style: Style, info: StoredObjectInfo): string {
  if (info.fieldManagers.length === 0) return 'written by (no managedFields)';
  const foreign = new Set(info.foreignManagers.map((m) => m.manager));
  const text = info.fieldManagers.map((m: FieldManagerEntry) => {
    const label = `${m.manager} (${m.operation}${m.subresource ? ` ${m.subresource}` : ''}${m.time ? ` ${m.time}` : ''})`;
    return foreign.has(m.manager) ? style.warn(`${label} foreign`) : label;
  });
  return `written by ${text.join(', ')}`;
}

function stateText(s: EndpointSummary | undefined): string {
  if (s === undefined) return 'absent';
  if (s.ready !== false) return 'ready';
  if (s.terminating === true) return s.serving === true ? 'serving' : 'terminating';
  return 'not ready';
}

function addressLine(style: Style, c: AddressChange): string {
  const who = c.pod ? ` (${c.pod})` : '';
  const mark = c.desired === 'absent' ? style.bad('-') : c.stored === 'absent' ? style.ok('+') : style.warn('~');
  const fields = c.fields ? ` [${c.fields.join(', ')}]` : '';
  const states = c.stored === c.desired ? c.desired : `${c.stored} → ${c.desired}`;
  return `    ${mark} ${c.ip}${who} ${c.ports || '(no ports)'}  ${states}${fields}`;
}

function keyLines(label: string, changes: readonly KeyChange[]): string[] {
  if (changes.length === 0) return [];
  const text = changes.map((c) =>
    c.desired === undefined ? `-${c.key}` : c.stored === undefined ? `+${c.key}=${c.desired}` : `${c.key}: ${c.stored} → ${c.desired}`,
  );
  return [`    ${label}: ${text.join(', ')}`];
}

function endpointsLines(style: Style, key: string, e: EndpointsDiff): string[] {
  const lines = [style.bold(`Endpoints ${key}`)];
  if (e.stored !== undefined) {
    const by = e.stored.managedBy !== undefined ? `managed-by ${e.stored.managedBy}` : 'no managed-by label';
    lines.push(`  stored: ${by}; ${managers(style, e.stored)}`);
  } else {
    lines.push('  stored: none');
  }
  if (!e.managedByController) {
    lines.push(`  ${style.dim('the Endpoints controller does not manage it (no selector, ExternalName, or no Service): left as is')}`);
    return lines;
  }
  if (e.action === 'none') {
    lines.push(`  ${style.ok('✓')} up to date`);
    return lines;
  }
  lines.push(`  ${style.warn('!')} the controller would ${e.action} it${e.truncated ? ' (truncated to the address cap)' : ''}`);
  for (const c of e.addressChanges) lines.push(addressLine(style, c));
  lines.push(...keyLines('labels', e.labelChanges), ...keyLines('annotations', e.annotationChanges));
  return lines;
}

function sliceEndpointLine(style: Style, c: SliceEndpointChange): string {
  const who = c.pod ? ` (${c.pod})` : '';
  const mark = c.desired === undefined ? style.bad('-') : c.stored === undefined ? style.ok('+') : style.warn('~');
  const was = stateText(c.stored);
  const will = stateText(c.desired);
  const states = was === will ? will : `${was} → ${will}`;
  const fields = c.fields ? ` [${c.fields.join(', ')}]` : '';
  return `    ${mark} ${c.addresses.join(',')}${who} ${c.addressType} ${c.ports}  ${states}${fields}`;
}

function storedSliceLine(style: Style, s: StoredSliceInfo, width: number): string {
  const action =
    s.action === 'keep'
      ? style.ok('keep')
      : s.action === 'ignored'
        ? style.dim('not ours')
        : style.warn(
            `${s.action}${s.deleteReason ? ` (${s.deleteReason})` : ''}${s.changes && s.changes.length > 0 ? ` (${s.changes.join(', ')})` : ''}`,
          );
  const deleting = s.beingDeleted ? ' being deleted;' : '';
  return `  ${s.name.padEnd(width)}  ${s.addressType} ${s.ports} ${s.endpoints} endpoint${s.endpoints === 1 ? '' : 's'}  ${action};${deleting} managed-by ${s.managedBy ?? '(none)'}; ${managers(style, s)}`;
}

function slicesLines(style: Style, s: SlicesDiff): string[] {
  const lines = [style.bold('EndpointSlices')];
  if (s.unavailable !== undefined) return [...lines, `  ${style.bad('✗')} ${s.unavailable}`];
  for (const p of s.plans) {
    const writes = p.creates.length + p.updates.length + p.deletes.length;
    if (!p.active && writes === 0) {
      lines.push(`  ${style.dim(`${p.controller}: not involved (${p.reason ?? ''})`)}`);
      continue;
    }
    if (writes === 0) {
      lines.push(`  ${style.ok('✓')} ${p.controller}: up to date`);
      continue;
    }
    lines.push(`  ${style.warn('!')} ${p.controller}${p.active ? '' : ` (${p.reason ?? ''})`} would write:`);
    for (const c of p.creates) lines.push(`    ${style.ok('+')} create ${c}`);
    for (const u of p.updates) lines.push(`    ${style.warn('~')} update ${u}`);
    for (const d of p.deletes) lines.push(`    ${style.bad('-')} delete ${d}`);
  }
  if (s.endpointChanges.length > 0) {
    lines.push('  endpoint changes:');
    for (const c of s.endpointChanges) lines.push(sliceEndpointLine(style, c));
  }
  if (s.stored.some((x) => x.action === 'awaitingGarbageCollection')) {
    lines.push(`  ${style.warn('!')} the Service is gone: its EndpointSlices are left to the garbage collector (owner references)`);
  }
  lines.push(`  stored (${s.stored.length}):`);
  const width = Math.max(0, ...s.stored.map((x) => x.name.length));
  for (const x of s.stored) lines.push(storedSliceLine(style, x, width));
  return lines;
}

/** Renders a diff report for a person. Pure; ends with a newline. */
export function renderDiff(report: DiffReport, style: Style): string {
  const key = `${report.service.namespace}/${report.service.name}`;
  const head = !report.service.found
    ? style.warn(`Service ${key} not found`)
    : report.inSync
      ? style.ok(`✓ Service ${key}: stored endpoints match what the controllers would write`)
      : style.warn(`! Service ${key}: stored endpoints differ from what the controllers would write`);
  const out = [head, '', ...endpointsLines(style, key, report.endpoints), '', ...slicesLines(style, report.endpointSlices)];
  return `${out.join('\n')}\n`;
}
