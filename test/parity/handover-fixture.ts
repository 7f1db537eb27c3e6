import type { EndpointSubset } from '../../api/core/v1.ts';
import type { Step } from './scenario.ts';

// The objects a hand-over test gives one implementation of the endpoint controllers to write and the other to take
// over: slices across the size cap (PARITY_TUNING: 5 per slice, 5 per mirrored subset), ready, not-ready and
// terminating Pods, two port sets in one Service, a headless Service with hostnames that publishes not-ready
// addresses, a dual-stack Service, a selectorless Service whose Endpoints are mirrored across two slices, an
// ExternalName Service and a Service without ports. Nodes node-a (zone-a) and node-b (zone-b) must exist.
// Every Pod IP is unique (`base` keeps two fixtures in one cluster apart, as ordering ties break on Pod UID).

const node = (i: number) => (i % 2 === 0 ? 'node-a' : 'node-b');

export function handoverFixture(base: number): Step[] {
  const v4 = (i: number) => `10.${100 + base}.0.${i + 10}`;
  const v6 = (i: number) => `fd00:10:${100 + base}::${(i + 10).toString(16)}`;
  const http = { name: 'http', containerPort: 8080 };
  const steps: Step[] = [
    {
      do: 'createService',
      name: 'web',
      labels: { team: 'a' },
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    },
    {
      do: 'createService',
      name: 'multi',
      ports: [
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        { name: 'metrics', port: 9100, targetPort: 'metrics', protocol: 'TCP' },
      ],
    },
    {
      do: 'createService',
      name: 'db',
      headless: true,
      publishNotReadyAddresses: true,
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    },
    {
      do: 'createService',
      name: 'ds',
      ipFamilyPolicy: 'RequireDualStack',
      ipFamilies: ['IPv4', 'IPv6'],
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
    },
    { do: 'createService', name: 'ext', selector: null, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    { do: 'createService', name: 'extname', selector: null, type: 'ExternalName', externalName: 'db.example.invalid' },
    { do: 'createService', name: 'noports', selector: { app: 'web' }, headless: true, ports: [] },
  ];
  for (let i = 0; i < 12; i++) {
    steps.push({
      do: 'createPod',
      name: `web-${i}`,
      labels: { app: 'web' },
      nodeName: node(i),
      ips: [v4(i)],
      ready: i !== 3 && i !== 7,
      ports: [http],
    });
  }
  steps.push({ do: 'terminatePod', name: 'web-5' });
  for (let i = 0; i < 4; i++) {
    const ports = i < 2 ? [http, { name: 'metrics', containerPort: 9100 }] : [{ name: 'http', containerPort: 8081 }];
    steps.push({ do: 'createPod', name: `multi-${i}`, labels: { app: 'multi' }, nodeName: node(i), ips: [v4(20 + i)], ready: true, ports });
  }
  for (let i = 0; i < 3; i++) {
    steps.push({
      do: 'createPod',
      name: `db-${i}`,
      labels: { app: 'db' },
      nodeName: node(i),
      ips: [v4(30 + i)],
      ready: i !== 2,
      hostname: `db-${i}`,
      subdomain: 'db',
    });
  }
  for (let i = 0; i < 6; i++) {
    steps.push({
      do: 'createPod',
      name: `ds-${i}`,
      labels: { app: 'ds' },
      nodeName: node(i),
      ips: [v4(40 + i), v6(40 + i)],
      ready: true,
      ports: [http],
    });
  }
  steps.push({ do: 'createEndpoints', name: 'ext', subsets: externalSubsets(base, 7) });
  return steps;
}

/** The selectorless Service's Endpoints: `n` ready addresses on port 8080 and two not-ready ones on 9090. */
export function externalSubsets(base: number, n: number): EndpointSubset[] {
  return [
    {
      addresses: Array.from({ length: n }, (_, i) => ({ ip: `10.${150 + base}.0.${i + 10}` })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    },
    {
      notReadyAddresses: [{ ip: `10.${150 + base}.1.10` }, { ip: `10.${150 + base}.1.11` }],
      ports: [{ name: 'http', port: 9090, protocol: 'TCP' }],
    },
  ];
}

/** An IP the fixture never hands out, for a Pod added after the hand-over. */
export const freshIp = (base: number): string => `10.${100 + base}.0.200`;
/** The IP of web-0, which the change after the hand-over deletes. */
export const web0Ip = (base: number): string => `10.${100 + base}.0.10`;
