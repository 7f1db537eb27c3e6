import type { Scenario, Step } from './scenario.ts';

// Parity scenarios, each a behaviour of upstream-behaviour.md (§ in the name). Nodes `node-a` (zone-a) and `node-b`
// (zone-b) exist before any scenario runs. Pod IPs come from 10.244.0.0/16 and fd00:10:244::/64.

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

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'ready pods become endpoints; readiness flips move them (§2.4, §9.1)',
    steps: [web, ...pods(3), { do: 'setPodStatus', name: 'web-1', ready: false }, { do: 'setPodStatus', name: 'web-1', ready: true }],
  },
  {
    name: 'scale up and down across slice boundaries (§3.4 packing)',
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
    name: 'named targetPort resolves per pod by name and protocol; containers before sidecars (§1.6)',
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
    name: 'multi-port Service groups addresses into one subset (§2.6)',
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
    name: 'headless Service with hostname and subdomain (§1.5, port-less subsets)',
    steps: [
      { do: 'createService', name: 'db', selector: { app: 'db' }, headless: true, ports: [] },
      pod('db-0', 0, { labels: { app: 'db' }, hostname: 'db-0', subdomain: 'db' }),
      pod('db-1', 1, { labels: { app: 'db' }, hostname: 'db-1', subdomain: 'other' }),
      pod('db-2', 2, { labels: { app: 'db' }, ready: false }),
    ],
  },
  {
    name: 'terminating pods: out of Endpoints, in slices as terminating (§9.1)',
    steps: [web, ...pods(3), { do: 'terminatePod', name: 'web-0' }, { do: 'setPodStatus', name: 'web-0', ready: false }],
  },
  {
    name: 'publishNotReadyAddresses keeps not-ready and terminating pods ready (§9.1)',
    steps: [
      { ...web, name: 'pub', selector: { app: 'pub' }, publishNotReadyAddresses: true } as Step,
      ...pods(3, 'pub', { labels: { app: 'pub' } }),
      { do: 'setPodStatus', name: 'pub-1', ready: false },
      { do: 'terminatePod', name: 'pub-2' },
    ],
  },
  {
    name: 'pods without IP and pods in a terminal phase are excluded (§1.4)',
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
    name: 'relabelling a pod moves it between Services (§1.3)',
    steps: [
      web,
      { ...web, name: 'api', selector: { app: 'api' } } as Step,
      ...pods(2),
      { do: 'relabelPod', name: 'web-0', labels: { app: 'api' } },
      { do: 'relabelPod', name: 'web-1', labels: { app: 'none' } },
    ],
  },
  {
    name: 'selector change and removal; removal hands the Endpoints to mirroring (§2.8)',
    steps: [
      web,
      ...pods(2),
      ...pods(1, 'alt', { labels: { app: 'alt' } }, 100),
      { do: 'patchService', name: 'web', patch: { spec: { selector: { app: 'alt' } } } },
      { do: 'patchService', name: 'web', patch: { spec: { selector: null } } },
    ],
  },
  {
    name: 'Service deleted: Endpoints deleted, slices kept without GC (§9.10)',
    steps: [web, ...pods(2), { do: 'deleteService', name: 'web' }],
  },
  {
    name: 'ExternalName Service gets nothing (§2.4)',
    steps: [
      { do: 'createService', name: 'ext', type: 'ExternalName', externalName: 'db.example.com', selector: { app: 'web' } },
      ...pods(1),
    ],
  },
  {
    name: 'dual-stack Service: slices per family, Endpoints for the primary family (§2.4, §9.3)',
    steps: [
      { ...web, name: 'ds', selector: { app: 'ds' }, ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] } as Step,
      pod('ds-0', 0, { labels: { app: 'ds' }, ips: ['10.244.7.1', 'fd00:10:244::7:1'] }),
      pod('ds-1', 1, { labels: { app: 'ds' }, ips: ['10.244.7.2'] }),
    ],
  },
  {
    name: 'IPv6-primary dual-stack Service (§2.4)',
    steps: [
      { ...web, name: 'ds6', selector: { app: 'ds6' }, ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6', 'IPv4'] } as Step,
      pod('ds6-0', 0, { labels: { app: 'ds6' }, ips: ['10.244.8.1', 'fd00:10:244::8:1'] }),
    ],
  },
  {
    name: 'pod on a Node that does not exist (§3.3, §9.14)',
    steps: [web, pod('ghost', 0, { nodeName: 'node-missing' }), pod('real', 1)],
  },
  {
    name: 'mirroring: custom Endpoints of a selectorless Service, updated, skip-mirror, deleted (§4)',
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
];
