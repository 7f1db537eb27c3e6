// Heap retained by the per-Pod memos of the Endpoints and EndpointSlice desired states (docs/performance.md, "Whole
// reconciles during a rollout"): N Pods are built, then the heap after GC is compared before and after one
// computation of each desired state whose result is dropped, so only the memos (WeakMaps keyed by the Pods) keep
// anything. `--per-service` splits the Pods into Services of that many Pods (below PER_POD_MEMO_MIN_PODS nothing
// should be kept).
//
//   node --expose-gc hack/profile/memo-heap.ts [--pods 50000] [--per-service 50000]

import { parseArgs } from 'node:util';
import type { Pod } from '../../api/core/v1.ts';
import { desiredSubsets } from '../../controllers/endpoints/desired.ts';
import { desiredAddressTypeState } from '../../controllers/endpointslice/desired.ts';
import { makeNode, makePod, makeService } from '../../controllers/endpointslice/test-fixtures.ts';

const { values } = parseArgs({ options: { pods: { type: 'string' }, 'per-service': { type: 'string' } } });
const n = Number(values.pods ?? 50_000);
const perService = Number(values['per-service'] ?? n);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const ip = (i: number) => `10.${64 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;
const pods: Pod[] = Array.from({ length: n }, (_, i) =>
  makePod(i, { ips: [ip(i)], nodeName: `node-${i % 10}`, containerPorts: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }),
);
const nodes = new Map(Array.from({ length: 10 }, (_, i) => [`node-${i}`, makeNode(`node-${i}`, `zone-${i % 3}`)] as const));
const service = makeService({ spec: { ports: [{ name: 'foo', port: 80, targetPort: 'http', protocol: 'TCP' }] } });
const groups = Array.from({ length: Math.ceil(n / perService) }, (_, g) => pods.slice(g * perService, (g + 1) * perService));
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const before = heap();
for (const group of groups) desiredSubsets(service, group);
const afterEndpoints = heap();
for (const group of groups) desiredAddressTypeState(service, group, nodes, 'IPv4');
const afterSlices = heap();
const report = (bytes: number) => `${(bytes / n).toFixed(0)} B/Pod (${(bytes / 2 ** 20).toFixed(1)} MiB)`;
process.stdout.write(
  `${n} Pods in Services of ${perService}: Endpoints memo ${report(afterEndpoints - before)}, ` +
    `EndpointSlice memo ${report(afterSlices - afterEndpoints)}\n`,
);
