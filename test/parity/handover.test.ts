import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type Endpoints, endpointsSchema } from '../../api/core/v1.ts';
import { type EndpointSlice, endpointSliceSchema } from '../../api/discovery/v1.ts';
import { ENDPOINT_SLICES, ENDPOINTS, NAMESPACES } from '../../controllers/runtime/resource.ts';
import { startTestCluster } from '../envtest/test-cluster.ts';
import { applyStep } from './apply-step.ts';
import { type ControllerProcess, waitForIdle } from './controller-process.ts';
import { describeDifferences } from './diff.ts';
import { externalSubsets, freshIp, handoverFixture, web0Ip } from './handover-fixture.ts';
import { KcmProcess } from './kcm-process.ts';
import { OperatorProcess } from './operator-process.ts';
import { findOrphans, listServiceObjects } from './orphans.ts';
import type { Step } from './scenario.ts';
import { WriteAudit } from './write-audit.ts';

// Hand-over both ways on ONE API server (README: "switching either way leaves no orphaned slices"). kube-controller-
// manager's three endpoint controllers write everything for a set of Services and stop; this operator (the real
// binary, as a child process) starts on the same API server and must make no write at all, then handles a change and
// writes a second namespace from scratch; it stops, and kube-controller-manager starts again and must make no write
// either. That last step is also the check that what the operator wrote is what kube-controller-manager would have.
//
// Writes are measured the same way for both sides, from the API server: its apiserver_request_total for write verbs on
// Endpoints and EndpointSlices, and a watch on both (WriteAudit); for the operator also its own client metrics. The
// test makes no write to either resource while an audit that must stay at zero runs.

const DUAL_STACK = { 'service-cluster-ip-range': '10.0.0.0/24,fd00:10:96::/112' };
const cluster = await startTestCluster({ name: 'handover', apiServerFlags: DUAL_STACK });
const kcm = new KcmProcess(cluster);
const ours = new OperatorProcess(cluster);

/** After a take-over, how long the new side's queues must stay empty: longer than every delayed first sync (1 s). */
const TAKEOVER_QUIET_MS = 3_000;

/** Every Endpoints and EndpointSlice of the namespaces, by `kind ns/name`, as stored (resourceVersion included). */
async function stored(namespaces: readonly string[]): Promise<Map<string, Endpoints | EndpointSlice>> {
  const out = new Map<string, Endpoints | EndpointSlice>();
  for (const ns of namespaces) {
    for (const i of (await cluster.client.list(ENDPOINTS, ns)).items) {
      const e = endpointsSchema.parse(i);
      out.set(`endpoints ${ns}/${e.metadata.name}`, e);
    }
    for (const i of (await cluster.client.list(ENDPOINT_SLICES, ns)).items) {
      const s = endpointSliceSchema.parse(i);
      out.set(`endpointslice ${ns}/${s.metadata.name}`, s);
    }
  }
  return out;
}

/** What changed between two {@link stored} states: objects added, removed, or rewritten (with the fields that differ). */
function changesBetween(before: Map<string, unknown>, after: Map<string, unknown>): string[] {
  const out: string[] = [];
  const rv = (o: unknown) => (o as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
  for (const [k, a] of after) {
    const b = before.get(k);
    if (b === undefined) out.push(`created ${k}`);
    else if (rv(a) !== rv(b))
      out.push(
        `rewrote ${k}: ${describeDifferences(b, a, 12).join('; ').replaceAll('upstream=', 'before=').replaceAll('ours=', 'after=')}`,
      );
  }
  for (const k of before.keys()) if (!after.has(k)) out.push(`deleted ${k}`);
  return out;
}

async function applyAll(ns: string, steps: readonly Step[]): Promise<void> {
  for (const step of steps) await applyStep(cluster.client, ns, step);
}

async function assertNoOrphans(namespaces: readonly string[], when: string): Promise<void> {
  for (const ns of namespaces) {
    assert.deepEqual(findOrphans(await listServiceObjects(cluster.client, ns)), [], `${when}: orphans in ${ns}`);
  }
}

/**
 * Mirrored Endpoints with more addresses than a slice may mirror get this Warning Event on every sync, from both
 * implementations (endpointslicemirroring reconciler.go: reconcile), so a take-over writes it too. No other Event is
 * expected.
 */
const TAKEOVER_EVENT_REASONS: ReadonlySet<string> = new Set(['TooManyAddressesToMirror']);

/** What a take-over wrote, for the report. */
interface TakeOver {
  /** Write requests to Endpoints and EndpointSlices. */
  readonly endpointWrites: number;
  readonly eventWrites: number;
  /** From the start of the process until its queues were empty. */
  readonly idleMs: number;
}

/**
 * Starts `next` (the other side being stopped) and asserts that taking over made no write to Endpoints or
 * EndpointSlices: no write request, no change seen by the watch, every object unchanged (same resourceVersion). Events
 * other than {@link TAKEOVER_EVENT_REASONS} are not allowed either.
 */
async function takeOver(next: ControllerProcess, namespaces: readonly string[]): Promise<TakeOver> {
  const before = await stored(namespaces);
  const audit = await WriteAudit.start(cluster);
  const started = performance.now();
  try {
    await next.start();
    await waitForIdle(next, { quietMs: TAKEOVER_QUIET_MS });
  } finally {
    await audit.stop();
  }
  const idleMs = performance.now() - started - TAKEOVER_QUIET_MS;
  const writes = await audit.writeRequests();
  const changed = changesBetween(before, await stored(namespaces));
  const reasons = audit.eventReasons();
  process.stderr.write(
    `[handover] ${next.side} took over ${before.size} objects: ${writes.endpoints} write requests to Endpoints/EndpointSlices, ` +
      `${audit.changes().length} changes seen by the watch, ${writes.events} Event writes (${reasons.join(', ') || 'none'}); ` +
      `idle ${(idleMs / 1000).toFixed(1)} s after start\n`,
  );
  assert.deepEqual(changed, [], `${next.side} rewrote objects on take-over`);
  assert.deepEqual(audit.changes(), [], `${next.side}: watch events on take-over`);
  assert.equal(writes.endpoints, 0, `${next.side}: write requests to Endpoints/EndpointSlices on take-over`);
  assert.deepEqual(
    reasons.filter((r) => !TAKEOVER_EVENT_REASONS.has(r)),
    [],
    `${next.side}: unexpected Events on take-over`,
  );
  return { endpointWrites: writes.endpoints, eventWrites: writes.events, idleMs };
}

describe('hand-over between kube-controller-manager and the operator on one API server', () => {
  const fromKcm = 'handover-kcm';
  const fromOurs = 'handover-ours';

  before(async () => {
    await cluster.createNode('node-a', 'zone-a');
    await cluster.createNode('node-b', 'zone-b');
    for (const name of [fromKcm, fromOurs]) {
      await cluster.client.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
  });

  it('kube-controller-manager writes, stops; the operator takes over with zero writes and nothing orphaned', async () => {
    await kcm.start();
    await applyAll(fromKcm, handoverFixture(0));
    await waitForIdle(kcm);
    const written = await stored([fromKcm]);
    // The fixture really crossed the boundaries it is meant to: web's 12 Pods need 3 slices; ext's two port sets need
    // 2 mirrored slices, and its 7 ready addresses are truncated to the 5 a subset may mirror.
    const slicesOf = (svc: string) =>
      [...written]
        .filter(([key]) => key.startsWith('endpointslice '))
        .map(([, o]) => o as EndpointSlice)
        .filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === svc);
    assert.equal(slicesOf('web').length, 3, 'web: 3 slices');
    assert.equal(slicesOf('ext').length, 2, 'ext: 2 mirrored slices');
    assert.equal(
      slicesOf('ext').reduce((n, s) => n + (s.endpoints ?? []).length, 0),
      7,
      'ext: 5 of 7 ready addresses mirrored, and the 2 not-ready ones',
    );
    assert.deepEqual(new Set(slicesOf('ds').map((s) => s.addressType)), new Set(['IPv4', 'IPv6']), 'ds: both families');
    await assertNoOrphans([fromKcm], 'as kube-controller-manager wrote it');
    await kcm.stop();

    const { eventWrites } = await takeOver(ours, [fromKcm]);
    assert.equal(await ours.writes(), eventWrites, 'every write request the operator counted itself was one of those Events');
    assert.ok((await ours.queues()).adds >= 6, 'the operator synced the Services (so zero writes is not zero work)');
    await assertNoOrphans([fromKcm], 'after the operator took over');
  });

  it('the operator then handles changes to what it took over, and writes a namespace of its own', async () => {
    assert.ok(ours.running, 'the operator from the previous test runs');
    const audit = await WriteAudit.start(cluster);
    try {
      await applyAll(fromKcm, [
        {
          do: 'createPod',
          name: 'web-new',
          labels: { app: 'web' },
          nodeName: 'node-a',
          ips: [freshIp(0)],
          ready: true,
          ports: [{ name: 'http', containerPort: 8080 }],
        },
        { do: 'deletePod', name: 'web-0' },
        { do: 'setPodStatus', name: 'web-3', ready: true },
        { do: 'updateEndpoints', name: 'ext', subsets: externalSubsets(0, 4) },
      ]);
      await applyAll(fromOurs, handoverFixture(1));
      await waitForIdle(ours);
    } finally {
      await audit.stop();
    }
    // The same instruments that saw nothing on take-over see these writes.
    assert.ok((await audit.writeRequests()).endpoints > 0, 'the audit counted the writes');
    assert.ok(audit.changes().length > 0, 'the audit watch saw the changes');
    assert.ok((await ours.writes()) > 0, 'the operator counted its writes');

    const objs = await listServiceObjects(cluster.client, fromKcm);
    const webIps =
      objs.endpoints.find((e) => e.metadata.name === 'web')?.subsets?.flatMap((s) => (s.addresses ?? []).map((a) => a.ip)) ?? [];
    assert.ok(webIps.includes(freshIp(0)) && !webIps.includes(web0Ip(0)), `web Endpoints updated: ${webIps.join(' ')}`);
    const sliceIps = objs.slices
      .filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'web')
      .flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses));
    assert.ok(sliceIps.includes(freshIp(0)) && !sliceIps.includes(web0Ip(0)), `web slices updated: ${sliceIps.join(' ')}`);
    const mirrored = objs.slices.filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'ext');
    assert.equal(
      mirrored.reduce((n, s) => n + (s.endpoints ?? []).length, 0),
      6,
      'ext: 4 + 2 mirrored addresses',
    );
    await assertNoOrphans([fromKcm, fromOurs], 'after the operator handled the changes');
    await ours.stop();
  });

  it('kube-controller-manager takes over from the operator with zero writes and nothing orphaned', async () => {
    await ours.stop(); // stopped by the previous test, unless it failed
    await takeOver(kcm, [fromKcm, fromOurs]);
    await assertNoOrphans([fromKcm, fromOurs], 'after kube-controller-manager took over');
  });
});
