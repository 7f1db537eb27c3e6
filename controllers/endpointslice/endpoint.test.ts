import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node, Pod, Service } from '../../api/core/v1.ts';
import type { SliceEndpoint, SlicePort } from '../../api/discovery/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { endpointAddresses, endpointPortsForPod, type IPAddressType, podToEndpoint } from './endpoint.ts';
import { makeNode, makePod, makeService } from './test-fixtures.ts';

const target = (pod: Pod) => ({ kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid });

describe('podToEndpoint (upstream TestPodToEndpoint)', () => {
  const svc = makeService();
  const publishNotReady = makeService({ spec: { publishNotReadyAddresses: true } });
  const readyPod = makePod(1);
  const unreadyPod = makePod(1, { ready: false });
  const multiIPPod = makePod(1, { ips: ['1.2.3.4', '1234::5678:0000:0000:9abc:def0'] });
  const hostnamePod = makePod(1, { hostname: 'example-hostname', subdomain: 'foo' });
  const readyTerminating = makePod(1, { terminating: true });
  const unreadyTerminating = makePod(1, { ready: false, terminating: true });
  const zoned = makeNode('node-1', 'us-central1-a');

  const cases: { name: string; given: { pod: Pod; svc: Service; node?: Node; addressType?: IPAddressType }; want: SliceEndpoint }[] = [
    {
      name: 'ready pod',
      given: { pod: readyPod, svc },
      want: {
        addresses: ['1.2.0.5'],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: 'node-1',
        targetRef: target(readyPod),
      },
    },
    {
      name: 'ready pod + publishNotReadyAddresses',
      given: { pod: readyPod, svc: publishNotReady },
      want: {
        addresses: ['1.2.0.5'],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: 'node-1',
        targetRef: target(readyPod),
      },
    },
    {
      name: 'unready pod',
      given: { pod: unreadyPod, svc },
      want: {
        addresses: ['1.2.0.5'],
        conditions: { ready: false, serving: false, terminating: false },
        nodeName: 'node-1',
        targetRef: target(unreadyPod),
      },
    },
    {
      name: 'unready pod + publishNotReadyAddresses is ready',
      given: { pod: unreadyPod, svc: publishNotReady },
      want: {
        addresses: ['1.2.0.5'],
        conditions: { ready: true, serving: false, terminating: false },
        nodeName: 'node-1',
        targetRef: target(unreadyPod),
      },
    },
    {
      name: 'ready pod + node zone label',
      given: { pod: readyPod, svc, node: zoned },
      want: {
        addresses: ['1.2.0.5'],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: 'node-1',
        zone: 'us-central1-a',
        targetRef: target(readyPod),
      },
    },
    {
      name: 'multi-IP pod gives only its IPv4 address to an IPv4 slice',
      given: { pod: multiIPPod, svc, node: zoned },
      want: {
        addresses: ['1.2.3.4'],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: 'node-1',
        zone: 'us-central1-a',
        targetRef: target(multiIPPod),
      },
    },
    {
      name: 'multi-IP pod gives its canonical IPv6 address to an IPv6 slice',
      given: { pod: multiIPPod, svc, addressType: 'IPv6' },
      want: {
        addresses: ['1234::5678:0:0:9abc:def0'],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: 'node-1',
        targetRef: target(multiIPPod),
      },
    },
    {
      name: 'hostname set when the subdomain is the Service name',
      given: { pod: hostnamePod, svc, node: zoned },
      want: {
        addresses: ['1.2.0.5'],
        conditions: { ready: true, serving: true, terminating: false },
        hostname: 'example-hostname',
        nodeName: 'node-1',
        zone: 'us-central1-a',
        targetRef: target(hostnamePod),
      },
    },
    {
      name: 'hostname not set when the subdomain differs',
      given: { pod: makePod(1, { hostname: 'h', subdomain: 'other' }), svc },
      want: {
        addresses: ['1.2.0.5'],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: 'node-1',
        targetRef: target(makePod(1)),
      },
    },
    {
      name: 'ready terminating pod: not ready, still serving, terminating',
      given: { pod: readyTerminating, svc },
      want: {
        addresses: ['1.2.0.5'],
        conditions: { ready: false, serving: true, terminating: true },
        nodeName: 'node-1',
        targetRef: target(readyTerminating),
      },
    },
    {
      name: 'not ready terminating pod',
      given: { pod: unreadyTerminating, svc },
      want: {
        addresses: ['1.2.0.5'],
        conditions: { ready: false, serving: false, terminating: true },
        nodeName: 'node-1',
        targetRef: target(unreadyTerminating),
      },
    },
    {
      name: 'ready terminating pod + publishNotReadyAddresses is ready',
      given: { pod: readyTerminating, svc: publishNotReady },
      want: {
        addresses: ['1.2.0.5'],
        conditions: { ready: true, serving: true, terminating: true },
        nodeName: 'node-1',
        targetRef: target(readyTerminating),
      },
    },
    {
      name: 'empty nodeName is omitted',
      given: { pod: makePod(1, { nodeName: '' }), svc },
      want: { addresses: ['1.2.0.5'], conditions: { ready: true, serving: true, terminating: false }, targetRef: target(makePod(1)) },
    },
    {
      name: 'node with an empty zone label gives no zone',
      given: { pod: readyPod, svc, node: makeNode('node-1', '') },
      want: {
        addresses: ['1.2.0.5'],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: 'node-1',
        targetRef: target(readyPod),
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { pod, svc: service, node, addressType } = deepFreeze(c.given);
      assert.deepEqual(podToEndpoint(pod, node, service, addressType ?? 'IPv4'), c.want);
    });
  }
});

describe('endpointAddresses', () => {
  const cases: { name: string; given: { ips: string[]; podIP?: string; type: IPAddressType }; want: string[] }[] = [
    { name: 'leading zeros are canonicalised', given: { ips: ['01.02.03.004'], type: 'IPv4' }, want: ['1.2.3.4'] },
    { name: 'IPv4-mapped IPv6 counts as IPv4', given: { ips: ['::ffff:10.0.0.1'], type: 'IPv4' }, want: ['10.0.0.1'] },
    { name: 'IPv4-mapped IPv6 is absent from IPv6', given: { ips: ['::ffff:10.0.0.1'], type: 'IPv6' }, want: [] },
    {
      name: 'several IPs of one family are sorted as strings',
      given: { ips: ['10.0.0.9', '10.0.0.10'], type: 'IPv4' },
      want: ['10.0.0.10', '10.0.0.9'],
    },
    { name: 'an unparseable IP is written as <nil> in IPv4 slices, like Go', given: { ips: ['bogus'], type: 'IPv4' }, want: ['<nil>'] },
    { name: 'an unparseable IP is absent from IPv6 slices', given: { ips: ['bogus'], type: 'IPv6' }, want: [] },
    { name: 'status.podIP alone is not read', given: { ips: [], podIP: '10.0.0.1', type: 'IPv4' }, want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const pod = makePod(1, { ips: c.given.ips });
      if (c.given.podIP !== undefined) pod.status.podIP = c.given.podIP;
      assert.deepEqual(endpointAddresses(deepFreeze(pod), c.given.type), c.want);
    });
  }
});

describe('endpointPortsForPod (upstream TestGetEndpointPorts)', () => {
  const named = (name: string, containerPort: number, protocol = 'TCP') => ({ name, containerPort, protocol });
  const cases: { name: string; given: { service: Service; pod: Pod }; want: SlicePort[] }[] = [
    {
      name: 'appProtocol is copied',
      given: {
        service: makeService({
          spec: { ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP', appProtocol: 'example.com/custom-protocol' }] },
        }),
        pod: makePod(1),
      },
      want: [{ name: 'http', port: 80, protocol: 'TCP', appProtocol: 'example.com/custom-protocol' }],
    },
    {
      name: 'named port resolves through the container ports',
      given: {
        service: makeService({
          spec: {
            ports: [
              { name: 'http', port: 80, targetPort: 80, protocol: 'TCP' },
              { name: 'https', port: 443, targetPort: 'https', protocol: 'TCP', appProtocol: 'https' },
            ],
          },
        }),
        pod: makePod(1, { containerPorts: [named('https', 8443)] }),
      },
      want: [
        { name: 'http', port: 80, protocol: 'TCP' },
        { name: 'https', port: 8443, protocol: 'TCP', appProtocol: 'https' },
      ],
    },
    {
      name: 'sidecar (restartable init container) named port',
      given: {
        service: makeService({ spec: { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] } }),
        pod: (() => {
          const p = makePod(1);
          p.spec.initContainers = [{ name: 'sidecar', restartPolicy: 'Always', ports: [named('http', 8888)] }];
          return p;
        })(),
      },
      want: [{ name: 'http', port: 8888, protocol: 'TCP' }],
    },
    {
      name: 'a regular container beats a sidecar',
      given: {
        service: makeService({ spec: { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] } }),
        pod: (() => {
          const p = makePod(1, { containerPorts: [named('http', 8080)] });
          p.spec.initContainers = [{ name: 'sidecar', restartPolicy: 'Always', ports: [named('http', 8888)] }];
          return p;
        })(),
      },
      want: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    },
    {
      name: 'an unresolvable named port is left out',
      given: {
        service: makeService({
          spec: {
            ports: [
              { name: 'a', port: 80, targetPort: 'missing', protocol: 'TCP' },
              { name: 'b', port: 81, targetPort: 81, protocol: 'TCP' },
            ],
          },
        }),
        pod: makePod(1),
      },
      want: [{ name: 'b', port: 81, protocol: 'TCP' }],
    },
    {
      name: 'a protocol mismatch does not resolve',
      given: {
        service: makeService({ spec: { ports: [{ name: 'dns', port: 53, targetPort: 'dns', protocol: 'UDP' }] } }),
        pod: makePod(1, { containerPorts: [named('dns', 5353, 'TCP')] }),
      },
      want: [],
    },
    {
      name: 'an unnamed Service port gets the empty name',
      given: { service: makeService({ spec: { ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } }), pod: makePod(1) },
      want: [{ name: '', port: 8080, protocol: 'TCP' }],
    },
    {
      name: 'headless Service without ports gives an empty list',
      given: { service: makeService({ spec: { clusterIP: 'None', ports: [] } }), pod: makePod(1) },
      want: [],
    },
    {
      name: 'non-headless Service without ports gives an empty list too',
      given: { service: makeService({ spec: { ports: [] } }), pod: makePod(1) },
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { service, pod } = deepFreeze(c.given);
      assert.deepEqual(endpointPortsForPod(service, pod), c.want);
    });
  }
});
