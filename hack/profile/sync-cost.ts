// The CPU cost of one sync of a large Service, without an API server: the pure halves of the EndpointSlice and
// Endpoints controllers (desired state and plan) over N Pods whose slices/Endpoints already match, i.e. the work every
// sync repeats during a rollout even when it writes little. Run with --cpu-prof to see where it goes.
//
//   node [--cpu-prof] hack/profile/sync-cost.ts [--pods 5000] [--syncs 50]

import { parseArgs } from 'node:util';
import { desiredSubsets, selectPods } from '../../controllers/endpoints/desired.ts';
import { planEndpoints } from '../../controllers/endpoints/plan.ts';
import { reconcileSlices } from '../../controllers/endpointslice/plan.ts';
import {
  DEFAULT_PORTS,
  endpointFor,
  makeNode,
  makePod,
  makeService,
  makeSlice,
  MANAGED_BY,
} from '../../controllers/endpointslice/test-fixtures.ts';

/** CPU time of this process (user + system), ms: less disturbed than wall time by other load on a shared machine. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const { values } = parseArgs({ options: { pods: { type: 'string' }, syncs: { type: 'string' } } });
const n = Number(values.pods ?? 5000);
const syncs = Number(values.syncs ?? 50);
const service = makeService({ spec: { ports: [{ name: 'foo', port: 80, targetPort: 'http', protocol: 'TCP' }] } });
const pods = Array.from({ length: n }, (_, i) =>
  makePod(i, {
    ips: [`10.${64 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`],
    nodeName: `node-${i % 10}`,
    containerPorts: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
  }),
);
const nodes = new Map(Array.from({ length: 10 }, (_, i) => [`node-${i}`, makeNode(`node-${i}`, `zone-${i % 3}`)]));
const slices = [];
for (let i = 0; i < n; i += 100)
  slices.push(
    makeSlice(
      `foo-${i}`,
      pods.slice(i, i + 100).map((p) => endpointFor(p, { zone: `zone-${Number((p.spec.nodeName ?? '').slice(5)) % 3}` })),
      { ports: DEFAULT_PORTS.map((p) => ({ ...p })), service },
    ),
  );
const input = {
  service,
  pods,
  nodes,
  existingSlices: slices,
  maxEndpointsPerSlice: 100,
  managedBy: MANAGED_BY,
  preferSameTrafficDistribution: true,
};
let writes = 0;
const first = reconcileSlices({ ...input, triggerTime: undefined });
for (const t of first.addressTypes) writes += t.toCreate.length + t.toUpdate.length + t.toDelete.length;
const started = cpuMs();
for (let i = 0; i < syncs; i++) reconcileSlices({ ...input, triggerTime: undefined });
const ms = (cpuMs() - started) / syncs;
process.stdout.write(`${n} Pods: ${ms.toFixed(1)} ms CPU per EndpointSlice sync (first plan writes ${writes} slices)\n`);

// The Endpoints controller: the existing object is what the first plan would write, so later syncs find it up to date
// (or, above the 1,000-address cap, compare and truncate again).
const plan0 = planEndpoints({
  namespace: 'test',
  name: 'foo',
  service,
  existing: undefined,
  desiredSubsets: desiredSubsets(service, pods).subsets,
  triggerTime: undefined,
});
const existing = plan0.kind === 'create' ? { ...plan0.object, metadata: { ...plan0.object.metadata, resourceVersion: '5' } } : undefined;
let kind = '';
const epStarted = cpuMs();
for (let i = 0; i < syncs; i++) {
  const selected = selectPods(service, pods);
  kind = planEndpoints({
    namespace: 'test',
    name: 'foo',
    service,
    existing,
    desiredSubsets: desiredSubsets(service, selected).subsets,
    triggerTime: undefined,
  }).kind;
}
const epMs = (cpuMs() - epStarted) / syncs;
process.stdout.write(`${n} Pods: ${epMs.toFixed(1)} ms CPU per Endpoints sync (plan: ${kind})\n`);
