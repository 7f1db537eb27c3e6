import type { CreatePod, NormalOutputs, Scenario, Step } from './scenario.ts';

// Parity scenarios, each one behaviour of kube-controller-manager, named after what it checks. Nodes `node-a` (zone-a)
// and `node-b` (zone-b) exist before any scenario runs. Pod IPs come from 10.244.0.0/16 and fd00:10:244::/64.

// Every pod of a scenario needs its own IP: equal IPs are ordered by Pod UID, which differs between clusters.
const pod = (name: string, i: number, extra: Partial<Extract<Step, { do: 'createPod' }>> = {}): Step => ({
  do: 'createPod',
  name,
  labels: { app: 'web' },
  nodeName: i % 2 === 0 ? 'node-a' : 'node-b',
  ips: [`10.244.${Math.floor(i / 200)}.${(i % 200) + 10}`],
  ready: true,
  ports: [{ name: 'http', containerPort: 8080 }],
  ...extra,
});
const pods = (n: number, prefix = 'web', extra: Partial<Extract<Step, { do: 'createPod' }>> = {}, firstIndex = 0): Step[] =>
  Array.from({ length: n }, (_, i) => pod(`${prefix}-${i}`, firstIndex + i, extra));
const web: Step = {
  do: 'createService',
  name: 'web',
  labels: { team: 'a' },
  selector: { app: 'web' },
  ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
};

const TOPOLOGY_MODE = 'service.kubernetes.io/topology-mode';

type SliceEndpoint = NonNullable<NormalOutputs['endpointslices']>[string][number]['hints'][number];
/** Each endpoint of a Service's slices as (zone, node, readiness, hints). */
const sliceEndpoints = (o: NormalOutputs, svc: string): SliceEndpoint[] => (o.endpointslices?.[svc] ?? []).flatMap((g) => g.hints);
const zonesOf = (e: SliceEndpoint): string[] => (e.hints?.forZones ?? []).map((z) => z.name);
/** Some endpoint's zone hints satisfy `p`. */
const someHint = (o: NormalOutputs, svc: string, p: (e: SliceEndpoint, zones: string[]) => boolean): boolean =>
  sliceEndpoints(o, svc).some((e) => p(e, zonesOf(e)));
/** There are endpoints, and every one's zone hints satisfy `p`. */
const everyHint = (o: NormalOutputs, svc: string, p: (e: SliceEndpoint, zones: string[]) => boolean): boolean =>
  sliceEndpoints(o, svc).length > 0 && sliceEndpoints(o, svc).every((e) => p(e, zonesOf(e)));
const overCapacity = (o: NormalOutputs, svc: string): string | undefined =>
  o.endpoints?.[svc]?.annotations?.['endpoints.kubernetes.io/over-capacity'];
const addressCount = (o: NormalOutputs, svc: string): number =>
  (o.endpoints?.[svc]?.subsets ?? []).reduce((n, s) => n + (s.addresses ?? []).length + (s.notReadyAddresses ?? []).length, 0);
/** There are endpoints, and none has hints. */
const noHints = (o: NormalOutputs, svc: string): boolean =>
  sliceEndpoints(o, svc).length > 0 && sliceEndpoints(o, svc).every((e) => e.hints === null);

/** A Pod on a given Node with IP 10.<block>.<i/200>.<i%200+10>: each scenario below uses its own block. */
const podOn = (
  name: string,
  node: string,
  i: number,
  labels: Record<string, string>,
  block = 246,
  extra: Partial<CreatePod> = {},
): CreatePod => ({
  do: 'createPod',
  name,
  labels,
  nodeName: node,
  ips: [`10.${block}.${Math.floor(i / 200)}.${(i % 200) + 10}`],
  ready: true,
  ports: [{ name: 'http', containerPort: 8080 }],
  ...extra,
});

/**
 * Scenarios added with the v1.37.2 target: topology hints and trafficDistribution, more than 1,000 addresses, a
 * Service recreated under the same name, a Node deleted under its Pods, a Pod IP handed to another Pod, and a selector
 * removed in the same update as a port change.
 */
const NEW_SCENARIOS: readonly Scenario[] = [
  {
    // Hints need Ready Nodes with a zone and allocatable CPU (topologycache.go: SetNodes); node-a and node-b have no
    // status, so this scenario brings three Nodes of its own and removes them (and its Pods) at the end. Upstream
    // re-evaluates topology only when a Node's readiness or zone changes, and then resyncs only Services whose hints
    // are overloaded (endpointslice_controller.go: updateNode, checkNodeTopologyDistribution): a CPU change alone is
    // not even read until another Node event. The Service keeps at most 5
    // endpoints (one slice at this suite's cap): with several slices, which endpoints a redistribution re-points
    // depends on upstream's random packing.
    name: 'topology-mode Auto: hints by zone CPU, redistributed; CPU change, zone losing its Node, withdrawn',
    steps: [
      { do: 'createNode', name: 'topo-a', zone: 'zone-a', cpu: '2' },
      { do: 'createNode', name: 'topo-b', zone: 'zone-b', cpu: '2' },
      { do: 'createNode', name: 'topo-c', zone: 'zone-c', cpu: '1' },
      { ...web, name: 'topo', selector: { app: 'topo' }, annotations: { [TOPOLOGY_MODE]: 'Auto' } } as Step,
      // 5-9, one Pod per step (in a burst, which Pods share a slice is timing upstream): zones a, b, c hold 1, 3, 1
      // endpoints for a 2:2:1 CPU split, so zone b gives zone a one endpoint.
      podOn('topo-a-0', 'topo-a', 0, { app: 'topo' }),
      ...[0, 1, 2].map((k) => podOn(`topo-b-${k}`, 'topo-b', 1 + k, { app: 'topo' })),
      podOn('topo-c-0', 'topo-c', 4, { app: 'topo' }),
      // 10: zone c's Node now has 6 CPUs: not even the topology cache reads it (no readiness or zone change).
      { do: 'setNodeStatus', name: 'topo-c', cpu: '6', ready: true },
      // 11: zone c loses its only Ready Node: its endpoint is in a zone without Nodes, hints are removed.
      { do: 'setNodeStatus', name: 'topo-c', cpu: '6', ready: false },
      // 12: back, the cache reads 2:2:6; no hints, so nothing is overloaded and nothing resyncs.
      { do: 'setNodeStatus', name: 'topo-c', cpu: '6', ready: true },
      // 13: the next sync: 4 ready endpoints on 2:2:6, zone c needs 2 and gets one from zone b.
      { do: 'setPodStatus', name: 'topo-b-2', ready: false },
      // 14: annotation removed: hints withdrawn; 15: a readiness change keeps them off; 16: annotation back, hints back.
      { do: 'patchService', name: 'topo', patch: { metadata: { annotations: { [TOPOLOGY_MODE]: null } } } },
      { do: 'setPodStatus', name: 'topo-b-2', ready: true },
      { do: 'patchService', name: 'topo', patch: { metadata: { annotations: { [TOPOLOGY_MODE]: 'auto' } } } },
      { do: 'deleteService', name: 'topo' },
      ...['topo-a-0', 'topo-b-0', 'topo-b-1', 'topo-b-2', 'topo-c-0'].map((name): Step => ({ do: 'deletePod', name })),
      ...['topo-a', 'topo-b', 'topo-c'].map((name): Step => ({ do: 'deleteNode', name })),
    ],
    expect: [
      {
        afterStep: 9,
        what: 'a zone-b endpoint hinted for zone-a, the rest for their own zone',
        holds: (o) =>
          someHint(o, 'topo', (e, z) => e.zone === 'zone-b' && z.join() === 'zone-a') && everyHint(o, 'topo', (_, z) => z.length === 1),
      },
      { afterStep: 11, what: 'no hints', holds: (o) => noHints(o, 'topo') },
      { afterStep: 12, what: 'still no hints', holds: (o) => noHints(o, 'topo') },
      {
        afterStep: 13,
        what: 'a zone-b endpoint hinted for zone-c',
        holds: (o) => someHint(o, 'topo', (e, z) => e.zone === 'zone-b' && z.join() === 'zone-c'),
      },
      { afterStep: 14, what: 'hints withdrawn', holds: (o) => noHints(o, 'topo') },
      { afterStep: 15, what: 'still no hints', holds: (o) => noHints(o, 'topo') },
      { afterStep: 16, what: 'hints again', holds: (o) => everyHint(o, 'topo', (_, z) => z.length > 0) },
    ],
  },
  {
    name: 'trafficDistribution PreferClose, PreferSameZone, PreferSameNode, removed; topology annotation overrides it',
    steps: [
      { do: 'createNode', name: 'td-nozone' },
      { ...web, name: 'td', selector: { app: 'td' }, trafficDistribution: 'PreferClose' } as Step,
      podOn('td-0', 'node-a', 0, { app: 'td' }, 247),
      podOn('td-1', 'node-b', 1, { app: 'td' }, 247),
      podOn('td-2', 'node-b', 2, { app: 'td' }, 247, { ready: false }),
      { do: 'patchService', name: 'td', patch: { spec: { trafficDistribution: 'PreferSameZone' } } },
      { do: 'patchService', name: 'td', patch: { spec: { trafficDistribution: 'PreferSameNode' } } },
      { do: 'setPodStatus', name: 'td-2', ready: true },
      // An endpoint without a zone.
      podOn('td-3', 'td-nozone', 3, { app: 'td' }, 247),
      { do: 'deletePod', name: 'td-3' },
      { do: 'patchService', name: 'td', patch: { metadata: { annotations: { [TOPOLOGY_MODE]: 'Auto' } } } },
      { do: 'patchService', name: 'td', patch: { metadata: { annotations: { [TOPOLOGY_MODE]: null } } } },
      { do: 'patchService', name: 'td', patch: { spec: { trafficDistribution: null } } },
    ],
    expect: [
      { afterStep: 4, what: 'ready endpoints hinted for their own zone', holds: (o) => everyHint(o, 'td', (e, z) => z.join() === e.zone) },
      {
        afterStep: 7,
        what: 'node hints (PreferSameNode)',
        holds: (o) => sliceEndpoints(o, 'td').some((e) => (e.hints?.forNodes ?? []).length > 0),
      },
      { afterStep: 13, what: 'no hints', holds: (o) => noHints(o, 'td') },
    ],
  },
  {
    // 1,000 ready Pods, then 1,001 and 1,002: the Endpoints object is truncated to 1,000 addresses and annotated
    // over-capacity, the slices hold everything (201 at this suite's 5 per slice, which also exercises packing at
    // scale); back at 1,000 the annotation goes. The Pods exist before the Service, so each controller syncs it once
    // and fills 200 slices; later Pods come one at a time, so which slice each lands in (and leaves) is the same on
    // both sides: deleting two of the first 1,000 would hit one slice or two, depending on upstream's random packing.
    name: 'more than 1,000 addresses: Endpoints truncated and annotated over-capacity, all in slices',
    fullOnly: true,
    steps: [
      {
        do: 'createPods',
        pods: Array.from({ length: 1000 }, (_, i) => podOn(`big-${i}`, i % 2 === 0 ? 'node-a' : 'node-b', i, { app: 'big' }, 248)),
      },
      { ...web, name: 'big', selector: { app: 'big' } } as Step,
      podOn('big-1000', 'node-a', 1000, { app: 'big' }, 248),
      { do: 'setPodStatus', name: 'big-7', ready: false },
      podOn('big-1001', 'node-b', 1001, { app: 'big' }, 248),
      { do: 'deletePod', name: 'big-1001' },
      { do: 'deletePod', name: 'big-1000' },
      { do: 'deleteService', name: 'big' },
    ],
    expect: [
      {
        afterStep: 2,
        what: '1,000 addresses, not over capacity',
        holds: (o) => overCapacity(o, 'big') === undefined && addressCount(o, 'big') === 1000,
      },
      {
        afterStep: 3,
        what: 'the Endpoints truncated to 1,000 and annotated',
        holds: (o) => overCapacity(o, 'big') === 'truncated' && addressCount(o, 'big') === 1000,
      },
      {
        afterStep: 5,
        what: '1,002 endpoints in slices',
        holds: (o) => (o.endpointslices?.big ?? []).reduce((n, g) => n + g.hints.length, 0) === 1002,
      },
      {
        afterStep: 7,
        what: 'the annotation gone at 1,000',
        holds: (o) => overCapacity(o, 'big') === undefined && addressCount(o, 'big') === 1000,
      },
    ],
  },
  {
    name: 'Service deleted and recreated under the same name, with the garbage collector',
    steps: [
      web,
      ...pods(3),
      { do: 'deleteService', name: 'web' },
      { ...web, ports: [{ name: 'http', port: 81, targetPort: 'http', protocol: 'TCP' }] } as Step,
      // Deleted and recreated back to back: the new Service's controllers meet the old Service's slices.
      { do: 'steps', steps: [{ do: 'deleteService', name: 'web' }, web] },
      { do: 'steps', steps: [{ do: 'deleteService', name: 'web' }, { ...web, selector: null } as Step] },
    ],
  },
  {
    // Nothing resyncs a plain Service when a Node goes: the next Pod event does, and then the Pods on the missing Node
    // are left out of the slices (and retried), while the Endpoints keep them.
    name: 'Node deleted with Pods on it',
    steps: [
      { do: 'createNode', name: 'doomed', zone: 'zone-c' },
      web,
      podOn('on-doomed-0', 'doomed', 0, { app: 'web' }, 249),
      podOn('on-doomed-1', 'doomed', 1, { app: 'web' }, 249, { ready: false }),
      podOn('elsewhere', 'node-a', 2, { app: 'web' }, 249),
      { do: 'deleteNode', name: 'doomed' },
      podOn('later', 'node-b', 3, { app: 'web' }, 249),
      { do: 'deletePod', name: 'on-doomed-0' },
      { do: 'deletePod', name: 'on-doomed-1' },
    ],
  },
  {
    name: 'Pod IP reused by another Pod (terminating holder, then deleted)',
    steps: [
      web,
      podOn('first', 'node-a', 0, { app: 'web' }, 250),
      podOn('bystander', 'node-b', 1, { app: 'web' }, 250),
      { do: 'terminatePod', name: 'first' },
      // The IP of a terminating Pod handed to a new one, as after a sandbox is torn down.
      podOn('second', 'node-b', 0, { app: 'web' }, 250),
      { do: 'deletePod', name: 'first' },
      { do: 'deletePod', name: 'second' },
      podOn('third', 'node-a', 0, { app: 'web' }, 250, { ready: false }),
      { do: 'setPodStatus', name: 'third', ready: true },
    ],
  },
  {
    // The same change made by deleting the Service and recreating it selectorless with other ports, back to back: if
    // the endpoints controller syncs the key only after the new Service exists, it finds a selectorless Service and
    // leaves the old Endpoints (it deletes them only when the Service is gone), and mirroring then mirrors them; if it
    // syncs in between, the Endpoints are deleted first. Upstream's outcome depends on that timing.
    name: 'Service recreated selectorless with other ports before the controllers react',
    steps: [
      web,
      ...pods(3),
      {
        do: 'steps',
        steps: [
          { do: 'deleteService', name: 'web' },
          { ...web, selector: null, ports: [{ name: 'web', port: 80, targetPort: 8080, protocol: 'TCP' }] } as Step,
        ],
      },
      { do: 'setPodStatus', name: 'web-1', ready: false },
      { do: 'patchService', name: 'web', patch: { spec: { selector: { app: 'web' } } } },
    ],
  },
  {
    // Issue 15's churn report: a selector removed in the same update that changes the ports. The endpoints and
    // EndpointSlice controllers stop managing the Service; what they wrote last stays, and mirroring takes over.
    name: 'selector removed in the same update as a port change, then restored',
    steps: [
      web,
      ...pods(3),
      {
        do: 'patchService',
        name: 'web',
        patch: { spec: { selector: null, ports: [{ name: 'web', port: 80, targetPort: 8080, protocol: 'TCP' }] } },
      },
      { do: 'setPodStatus', name: 'web-1', ready: false },
      {
        do: 'patchService',
        name: 'web',
        patch: { spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] } },
      },
    ],
  },
];

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'ready pods become endpoints; readiness flips move them',
    steps: [web, ...pods(3), { do: 'setPodStatus', name: 'web-1', ready: false }, { do: 'setPodStatus', name: 'web-1', ready: true }],
  },
  {
    name: 'scale up and down across slice boundaries (minimal-churn packing)',
    steps: [
      web,
      ...pods(12),
      { do: 'deletePod', name: 'web-3' },
      { do: 'deletePod', name: 'web-4' },
      { do: 'deletePod', name: 'web-5' },
      ...pods(2, 'more', {}, 100),
      { do: 'deletePod', name: 'web-0' },
    ],
  },
  {
    name: 'named targetPort resolves per pod by name and protocol; containers before sidecars',
    steps: [
      web,
      pod('p-main', 0),
      pod('p-other-port', 1, { ports: [{ name: 'http', containerPort: 9090 }] }),
      pod('p-no-port', 2, { ports: [{ name: 'metrics', containerPort: 9100 }] }),
      pod('p-udp', 3, { ports: [{ name: 'http', containerPort: 8080, protocol: 'UDP' }] }),
      pod('p-sidecar', 4, { ports: [], sidecarPorts: [{ name: 'http', containerPort: 7070 }] }),
      pod('p-both', 5, { ports: [{ name: 'http', containerPort: 8081 }], sidecarPorts: [{ name: 'http', containerPort: 7071 }] }),
    ],
  },
  {
    name: 'multi-port Service groups addresses into one subset',
    steps: [
      {
        do: 'createService',
        name: 'multi',
        selector: { app: 'multi' },
        ports: [
          { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
          { name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' },
          { name: 'grpc', port: 90, targetPort: 'grpc', protocol: 'TCP' },
        ],
      },
      ...pods(3, 'm', { labels: { app: 'multi' }, ports: [{ name: 'grpc', containerPort: 9000 }] }),
      pod('m-nogrpc', 7, { labels: { app: 'multi' }, ports: [] }),
    ],
  },
  {
    name: 'headless Service with hostname and subdomain (port-less subsets)',
    steps: [
      { do: 'createService', name: 'db', selector: { app: 'db' }, headless: true, ports: [] },
      pod('db-0', 0, { labels: { app: 'db' }, hostname: 'db-0', subdomain: 'db' }),
      pod('db-1', 1, { labels: { app: 'db' }, hostname: 'db-1', subdomain: 'other' }),
      pod('db-2', 2, { labels: { app: 'db' }, ready: false }),
    ],
  },
  {
    name: 'terminating pods: out of Endpoints, in slices as terminating',
    steps: [web, ...pods(3), { do: 'terminatePod', name: 'web-0' }, { do: 'setPodStatus', name: 'web-0', ready: false }],
  },
  {
    name: 'publishNotReadyAddresses keeps not-ready and terminating pods ready',
    steps: [
      { ...web, name: 'pub', selector: { app: 'pub' }, publishNotReadyAddresses: true } as Step,
      ...pods(3, 'pub', { labels: { app: 'pub' } }),
      { do: 'setPodStatus', name: 'pub-1', ready: false },
      { do: 'terminatePod', name: 'pub-2' },
    ],
  },
  {
    name: 'pods without IP and pods in a terminal phase are excluded',
    steps: [
      web,
      pod('no-ip', 0, { ips: [] }),
      pod('failed', 1, { phase: 'Failed' }),
      pod('done', 2, { phase: 'Succeeded' }),
      pod('ok', 3),
      { do: 'setPodStatus', name: 'no-ip', ips: ['10.244.9.9'] },
    ],
  },
  {
    name: 'relabelling a pod moves it between Services',
    steps: [
      web,
      { ...web, name: 'api', selector: { app: 'api' } } as Step,
      ...pods(2),
      { do: 'relabelPod', name: 'web-0', labels: { app: 'api' } },
      { do: 'relabelPod', name: 'web-1', labels: { app: 'none' } },
    ],
  },
  {
    name: 'selector change and removal; removal hands the Endpoints to mirroring',
    steps: [
      web,
      ...pods(2),
      ...pods(1, 'alt', { labels: { app: 'alt' } }, 100),
      { do: 'patchService', name: 'web', patch: { spec: { selector: { app: 'alt' } } } },
      { do: 'patchService', name: 'web', patch: { spec: { selector: null } } },
    ],
  },
  {
    name: 'Service deleted: Endpoints deleted by the endpoints controller, slices by the garbage collector',
    steps: [web, ...pods(2), { do: 'deleteService', name: 'web' }],
  },
  {
    name: 'ExternalName Service gets nothing',
    steps: [
      { do: 'createService', name: 'ext', type: 'ExternalName', externalName: 'db.example.com', selector: { app: 'web' } },
      ...pods(1),
    ],
  },
  {
    name: 'dual-stack Service: slices per family, Endpoints for the primary family',
    steps: [
      { ...web, name: 'ds', selector: { app: 'ds' }, ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] } as Step,
      pod('ds-0', 0, { labels: { app: 'ds' }, ips: ['10.244.7.1', 'fd00:10:244::7:1'] }),
      pod('ds-1', 1, { labels: { app: 'ds' }, ips: ['10.244.7.2'] }),
    ],
  },
  {
    name: 'IPv6-primary dual-stack Service',
    steps: [
      { ...web, name: 'ds6', selector: { app: 'ds6' }, ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6', 'IPv4'] } as Step,
      pod('ds6-0', 0, { labels: { app: 'ds6' }, ips: ['10.244.8.1', 'fd00:10:244::8:1'] }),
    ],
  },
  {
    name: 'pod on a Node that does not exist',
    steps: [web, pod('ghost', 0, { nodeName: 'node-missing' }), pod('real', 1)],
  },
  {
    name: 'mirroring: custom Endpoints of a selectorless Service, updated, skip-mirror, deleted',
    compare: ['endpointslices', 'endpoints'],
    steps: [
      { do: 'createService', name: 'legacy', selector: null, labels: { team: 'b' }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
      {
        do: 'createEndpoints',
        name: 'legacy',
        labels: { owner: 'me' },
        subsets: [
          {
            addresses: [{ ip: '192.0.2.10' }, { ip: '192.0.2.11' }],
            notReadyAddresses: [{ ip: '192.0.2.12' }],
            ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
          },
        ],
      },
      {
        do: 'updateEndpoints',
        name: 'legacy',
        subsets: [
          {
            addresses: Array.from({ length: 7 }, (_, i) => ({ ip: `192.0.2.${20 + i}` })),
            ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
          },
          { addresses: [{ ip: '2001:db8::1' }, { ip: '192.0.2.30' }], ports: [{ name: 'alt', port: 9090, protocol: 'TCP' }] },
        ],
      },
      {
        do: 'updateEndpoints',
        name: 'legacy',
        labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
        subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 80 }] }],
      },
      {
        do: 'updateEndpoints',
        name: 'legacy',
        labels: { owner: 'me' },
        subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 80 }] }],
      },
      { do: 'deleteEndpoints', name: 'legacy' },
    ],
  },
  ...NEW_SCENARIOS,
];
