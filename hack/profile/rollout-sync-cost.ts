// The CPU cost of one whole reconcile of a large Service during a rolling restart, without an API server: the real
// EndpointSlice and Endpoints reconcilers over informer stores (IndexedStore), with a client that stores what they
// write straight into those stores (an API server and informer with no latency). Unlike sync-cost.ts, which runs only
// the pure desired-state and plan halves over a fixed Pod list, each step here first replaces one Pod in the store (a
// new name, IP and Ready transition time, as a rollout does), so every sync also pays for what the reconcilers read:
// selecting the Service's Pods from the Pod cache, trigger-time tracking, the slice cache, and the writes' decoding.
// `--other-pods` adds Pods of the same namespace that the Service does not select. Run with --cpu-prof to see where
// it goes.
//
//   node [--cpu-prof] hack/profile/rollout-sync-cost.ts [--pods 5000] [--syncs 200] [--other-pods 0]

import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { objectKey } from '../../api/core/meta.ts';
import type { Endpoints, Node, Pod, Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { EndpointsReconciler } from '../../controllers/endpoints/reconciler.ts';
import { StaleEndpointsTracker } from '../../controllers/endpoints/stale-endpoints-tracker.ts';
import { EndpointSliceMetrics } from '../../controllers/endpointslice/metrics.ts';
import { EndpointSliceReconciler, SLICES_BY_SERVICE_INDEX, slicesByServiceIndex } from '../../controllers/endpointslice/reconciler.ts';
import { makeNode, makePod, makeService, MANAGED_BY, NS } from '../../controllers/endpointslice/test-fixtures.ts';
import type { ApiClient } from '../../controllers/runtime/api-client.ts';
import { IndexedStore } from '../../controllers/runtime/cache/indexed-store.ts';
import type { ReconcileContext } from '../../controllers/runtime/reconcile.ts';
import type { ResourceType } from '../../controllers/runtime/resource.ts';
import { CacheCatchUp } from '../../controllers/shared/cache-catch-up.ts';
import { WrittenEndpoints } from '../../controllers/endpoints/written-endpoints.ts';
import { EndpointSliceTracker } from '../../controllers/shared/endpoint-slice-tracker.ts';
import { TriggerTimeTracker } from '../../controllers/shared/trigger-time-tracker.ts';

/** CPU time of this process (user + system), ms: less disturbed than wall time by other load on a shared machine. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const { values } = parseArgs({
  options: { pods: { type: 'string' }, syncs: { type: 'string' }, 'other-pods': { type: 'string' } },
});
const n = Number(values.pods ?? 5000);
const syncs = Number(values.syncs ?? 200);
const others = Number(values['other-pods'] ?? 0);

const nsOf = (o: { metadata: { namespace?: string | undefined } }) => o.metadata.namespace ?? '';
const services = new IndexedStore<Service>({ keyFunc: objectKey, namespaceFunc: nsOf });
const pods = new IndexedStore<Pod>({ keyFunc: objectKey, namespaceFunc: nsOf });
const nodes = new IndexedStore<Node>({ keyFunc: (o) => o.metadata.name, namespaceFunc: () => '' });
const slices = new IndexedStore<EndpointSlice>({
  keyFunc: objectKey,
  namespaceFunc: nsOf,
  indexers: { [SLICES_BY_SERVICE_INDEX]: slicesByServiceIndex },
});
const endpoints = new IndexedStore<Endpoints>({ keyFunc: objectKey, namespaceFunc: nsOf });

const service = makeService({ spec: { ports: [{ name: 'foo', port: 80, targetPort: 'http', protocol: 'TCP' }] } });
services.upsert(service);
for (let i = 0; i < 10; i++) nodes.upsert(makeNode(`node-${i}`, `zone-${i % 3}`));
const ip = (i: number) => `10.${64 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;
/**
 * Pod number `i`: Ready 20 Pods a second (the benchmark's rollouts ran at 20-40 Pods/s, and Ready times have whole
 * seconds), labelled as a Deployment's Pods are; the replacements come from a new ReplicaSet.
 */
const rolloutPod = (i: number, app = 'bar'): Pod => {
  const pod = makePod(i, {
    ips: [ip(i)],
    nodeName: `node-${i % 10}`,
    containerPorts: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    labels: { foo: app, 'pod-template-hash': i < n ? '5d4c8b7f9' : '7b9f6c5d4' },
  });
  const ready = new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 20) * 1000).toISOString();
  return { ...pod, status: { ...pod.status, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: ready }] } };
};
for (let i = 0; i < n; i++) pods.upsert(rolloutPod(i));
for (let i = 0; i < others; i++) pods.upsert(rolloutPod(1_000_000 + i, 'other'));

// The API server and informer in one: every write lands in the store at once, with a new resourceVersion.
let resourceVersion = 1000;
let created = 0;
const storeOf = (r: ResourceType): IndexedStore<EndpointSlice> | IndexedStore<Endpoints> =>
  r.plural === 'endpointslices' ? slices : endpoints;
type Written = { metadata: { name?: string; generateName?: string; generation?: number; uid?: string; resourceVersion?: string } };
const store = (r: ResourceType, body: Written, generation: number): unknown => {
  const name = body.metadata.name ?? `${body.metadata.generateName ?? ''}${created++}`;
  const written = {
    ...body,
    metadata: { ...body.metadata, name, uid: `uid-${name}`, generation, resourceVersion: String(++resourceVersion) },
  };
  (storeOf(r) as IndexedStore<Written>).upsert(written);
  return written;
};
const unsupported = () => {
  throw new Error('not used by the reconcilers');
};
const client: ApiClient = {
  get: unsupported,
  list: unsupported,
  watch: unsupported,
  patch: unsupported,
  getPath: unsupported,
  forComponent: unsupported,
  create: (r, _namespace, body) => Promise.resolve(store(r, body as Written, 1)),
  update: (r, namespace, name, body) => {
    const old = (storeOf(r) as IndexedStore<Written>).get(`${namespace}/${name}`);
    return Promise.resolve(store(r, body as Written, (old?.metadata.generation ?? 0) + 1));
  },
  delete: (r, namespace, name) => {
    storeOf(r).remove(`${namespace}/${name}`);
    return Promise.resolve();
  },
};
const events = { event: () => undefined };
const sliceReconciler = new EndpointSliceReconciler({
  services,
  pods,
  nodes,
  endpointSlices: slices,
  client,
  events,
  tracker: new EndpointSliceTracker(),
  catchUp: new CacheCatchUp(),
  triggerTimeTracker: new TriggerTimeTracker(),
  metrics: new EndpointSliceMetrics(new Registry(), 100),
  options: { maxEndpointsPerSlice: 100, managedBy: MANAGED_BY },
});
const endpointsReconciler = new EndpointsReconciler({
  services,
  pods,
  endpoints,
  client,
  clock: { now: () => 0, setTimer: unsupported, sleep: unsupported },
  events,
  triggerTimes: new TriggerTimeTracker(),
  staleEndpoints: new StaleEndpointsTracker(),
  catchUp: new CacheCatchUp(),
  written: new WrittenEndpoints(),
});
const ctx: ReconcileContext = { logger: pino({ level: 'silent' }), reconcileId: 'cost', signal: new AbortController().signal };
const request = { key: `${NS}/${service.metadata.name ?? ''}` };

// The first syncs write everything; the measured ones each follow one Pod replacement.
await sliceReconciler.reconcile(request, ctx);
await endpointsReconciler.reconcile(request, ctx);
let sliceMs = 0;
let endpointsMs = 0;
for (let step = 0; step < syncs; step++) {
  pods.remove(`${NS}/pod${step}`);
  pods.upsert(rolloutPod(n + step));
  let t = cpuMs();
  await sliceReconciler.reconcile(request, ctx);
  sliceMs += cpuMs() - t;
  t = cpuMs();
  await endpointsReconciler.reconcile(request, ctx);
  endpointsMs += cpuMs() - t;
}
process.stdout.write(
  `${n} Pods (+${others} not selected), ${syncs} Pod replacements: ${(sliceMs / syncs).toFixed(1)} ms CPU per EndpointSlice sync, ` +
    `${(endpointsMs / syncs).toFixed(1)} ms CPU per Endpoints sync (${slices.size} slices)\n`,
);
