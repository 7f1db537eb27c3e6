import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node, Pod, Service } from '../../api/core/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { addressTypesForService, desiredAddressTypeState } from './desired.ts';
import { type IPAddressType, podToEndpoint } from './endpoint.ts';
import { PER_POD_MEMO_MIN_PODS } from '../shared/per-pod-memo.ts';
import { makeNode, makePod, makeService, nodeLookup } from './test-fixtures.ts';

describe('addressTypesForService (upstream TestSupportedServiceAddressType)', () => {
  const svc = (spec: Partial<Service['spec']>) => makeService({ spec: { ipFamilies: undefined, clusterIP: undefined, ...spec } });
  const cases: { name: string; given: Service; want: IPAddressType[] }[] = [
    { name: 'v4 Service without ipFamilies (old API server)', given: svc({ clusterIP: '10.0.0.10' }), want: ['IPv4'] },
    { name: 'v6 Service without ipFamilies (old API server)', given: svc({ clusterIP: '2000::1' }), want: ['IPv6'] },
    { name: 'v4 Service', given: svc({ ipFamilies: ['IPv4'] }), want: ['IPv4'] },
    { name: 'v6 Service', given: svc({ ipFamilies: ['IPv6'] }), want: ['IPv6'] },
    { name: 'v4,v6 Service', given: svc({ ipFamilies: ['IPv4', 'IPv6'] }), want: ['IPv4', 'IPv6'] },
    { name: 'v6,v4 Service keeps the family order', given: svc({ ipFamilies: ['IPv6', 'IPv4'] }), want: ['IPv6', 'IPv4'] },
    { name: 'headless without selector and families', given: svc({ clusterIP: 'None', selector: undefined }), want: ['IPv4', 'IPv6'] },
    { name: 'headless with selector, no families', given: svc({ clusterIP: 'None' }), want: ['IPv4', 'IPv6'] },
    {
      name: 'headless without selector, with families',
      given: svc({ clusterIP: 'None', selector: undefined, ipFamilies: ['IPv4', 'IPv6'] }),
      want: ['IPv4', 'IPv6'],
    },
    {
      name: 'headless with selector and families',
      given: svc({ clusterIP: 'None', ipFamilies: ['IPv4', 'IPv6'] }),
      want: ['IPv4', 'IPv6'],
    },
    { name: 'no clusterIP and no families counts as headless', given: svc({}), want: ['IPv4', 'IPv6'] },
    { name: 'unknown families are ignored', given: svc({ ipFamilies: ['IPv5'], clusterIP: '10.0.0.1' }), want: ['IPv4'] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(addressTypesForService(deepFreeze(c.given)), c.want));
});

describe('desiredAddressTypeState', () => {
  const nodes = nodeLookup(makeNode('node-1', 'zone-a'));
  type Want = { groups: { ports: string[]; endpoints: string[] }[]; errors: string[] };
  const summary = (service: Service, pods: Pod[], lookup: Map<string, Node>, type: IPAddressType = 'IPv4'): Want => {
    const state = desiredAddressTypeState(deepFreeze(service), deepFreeze(pods), lookup, type);
    return {
      groups: [...state.groups.values()].map((g) => ({
        ports: g.ports.map((p) => `${p.name}:${p.port}`),
        endpoints: [...g.endpoints.values()].map(
          (e) => `${e.targetRef?.name}@${e.addresses.join(',')}${e.zone === undefined ? '' : `/${e.zone}`}`,
        ),
      })),
      errors: [...state.errors],
    };
  };
  const namedPortService = makeService({ spec: { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] } });
  const podWithHttp = (n: number, port: number) => makePod(n, { containerPorts: [{ name: 'http', containerPort: port, protocol: 'TCP' }] });

  const cases: { name: string; given: () => Want; want: Want }[] = [
    {
      name: 'one group with the zone from the Node',
      given: () => summary(makeService(), [makePod(0), makePod(1)], nodes),
      want: { groups: [{ ports: ['foo:8080'], endpoints: ['pod0@1.2.0.4/zone-a', 'pod1@1.2.0.5/zone-a'] }], errors: [] },
    },
    {
      name: 'named port resolving to different numbers gives one group per number',
      given: () => summary(namedPortService, [podWithHttp(0, 8080), podWithHttp(1, 8081), podWithHttp(2, 8080)], nodes),
      want: {
        groups: [
          { ports: ['http:8080'], endpoints: ['pod0@1.2.0.4/zone-a', 'pod2@1.2.0.6/zone-a'] },
          { ports: ['http:8081'], endpoints: ['pod1@1.2.0.5/zone-a'] },
        ],
        errors: [],
      },
    },
    {
      name: 'a Pod without the named port lands in the port-less group',
      given: () => summary(namedPortService, [makePod(0)], nodes),
      want: { groups: [{ ports: [], endpoints: ['pod0@1.2.0.4/zone-a'] }], errors: [] },
    },
    {
      name: 'two named ports: one group per set of resolved ports, whichever port a Pod lacks',
      given: () =>
        summary(
          makeService({
            spec: {
              ports: [
                { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
                { name: 'admin', port: 81, targetPort: 'admin', protocol: 'TCP' },
              ],
            },
          }),
          [
            makePod(0, { containerPorts: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }),
            makePod(1, { containerPorts: [{ name: 'admin', containerPort: 8080, protocol: 'TCP' }] }),
            makePod(2, {
              containerPorts: [
                { name: 'http', containerPort: 8080, protocol: 'TCP' },
                { name: 'admin', containerPort: 9090, protocol: 'TCP' },
              ],
            }),
            makePod(3),
            makePod(4, { containerPorts: [{ name: 'admin', containerPort: 8080, protocol: 'TCP' }] }),
          ],
          nodes,
        ),
      want: {
        groups: [
          { ports: ['http:8080'], endpoints: ['pod0@1.2.0.4/zone-a'] },
          { ports: ['admin:8080'], endpoints: ['pod1@1.2.0.5/zone-a', 'pod4@1.2.0.8/zone-a'] },
          { ports: ['http:8080', 'admin:9090'], endpoints: ['pod2@1.2.0.6/zone-a'] },
          { ports: [], endpoints: ['pod3@1.2.0.7/zone-a'] },
        ],
        errors: [],
      },
    },
    {
      name: 'terminal and IP-less Pods are left out; terminating Pods stay',
      given: () =>
        summary(
          makeService(),
          [makePod(0, { phase: 'Failed' }), makePod(1, { phase: 'Succeeded' }), makePod(2, { ips: [] }), makePod(3, { terminating: true })],
          nodes,
        ),
      want: { groups: [{ ports: ['foo:8080'], endpoints: ['pod3@1.2.0.7/zone-a'] }], errors: [] },
    },
    {
      name: 'a Pod without an IP of the family leaves an empty group behind',
      given: () => summary(makeService(), [makePod(0)], nodes, 'IPv6'),
      want: { groups: [{ ports: ['foo:8080'], endpoints: [] }], errors: [] },
    },
    {
      name: 'a Pod on an unknown Node is skipped with an error',
      given: () => summary(makeService(), [makePod(0), makePod(1, { nodeName: 'node-gone' })], nodes),
      want: {
        groups: [{ ports: ['foo:8080'], endpoints: ['pod0@1.2.0.4/zone-a'] }],
        errors: ['skipping Pod pod1 for Service test/foo: Node node-gone Not Found'],
      },
    },
    {
      name: 'a Pod without nodeName is skipped with an error too',
      given: () => summary(makeService(), [makePod(0, { nodeName: '' })], nodes),
      want: { groups: [{ ports: ['foo:8080'], endpoints: [] }], errors: ['skipping Pod pod0 for Service test/foo: Node  Not Found'] },
    },
    {
      name: 'with publishNotReadyAddresses a Pod on an unknown Node is kept without zone',
      given: () => summary(makeService({ spec: { publishNotReadyAddresses: true } }), [makePod(0, { nodeName: 'node-gone' })], nodes),
      want: { groups: [{ ports: ['foo:8080'], endpoints: ['pod0@1.2.0.4'] }], errors: [] },
    },
    {
      name: 'two Pods with the same IP are both kept (names differ)',
      given: () => summary(makeService(), [makePod(0, { ips: ['10.0.0.1'] }), makePod(1, { ips: ['10.0.0.1'] })], nodes),
      want: { groups: [{ ports: ['foo:8080'], endpoints: ['pod0@10.0.0.1/zone-a', 'pod1@10.0.0.1/zone-a'] }], errors: [] },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(c.given(), c.want));

  it('keeps the later of two Pods with the same identity', () => {
    const a = makePod(0);
    const b = makePod(0, { ready: false });
    const state = desiredAddressTypeState(makeService(), deepFreeze([a, b]), nodes, 'IPv4');
    const [group] = state.groups.values();
    assert.deepEqual(
      [...(group?.endpoints.values() ?? [])].map((e) => e.conditions?.ready),
      [false],
    );
  });
});

describe('desiredAddressTypeState: endpoints remembered per Pod object', () => {
  // The same Pod objects synced again, a replaced object, and everything else an endpoint depends on changing: each
  // sync must give what podToEndpoint (no memo) gives.
  const pods = [0, 1].map((n) =>
    deepFreeze(makePod(n, { ips: [`10.0.0.${n + 1}`, `2000::${n + 1}`], hostname: `h${n}`, subdomain: 'foo' })),
  );
  const [first, second] = pods;
  assert.ok(first !== undefined && second !== undefined);
  const replaced = deepFreeze({ ...first, status: { ...first.status, conditions: [{ type: 'Ready', status: 'False' }] } });
  // Enough Pods for the memo to be used (PER_POD_MEMO_MIN_PODS).
  const filler = deepFreeze(
    Array.from({ length: PER_POD_MEMO_MIN_PODS }, (_, i) =>
      makePod(10 + i, { ips: [`10.1.${i >> 8}.${i & 255}`, `2000::1:${i.toString(16)}`] }),
    ),
  );
  const zoneA = nodeLookup(makeNode('node-1', 'zone-a'));
  const zoneB = nodeLookup(makeNode('node-1', 'zone-b'));
  const named = (name: string) => makeService({ metadata: { name } });
  const steps: { name: string; service: Service; pods: readonly Pod[]; nodes: Map<string, Node>; type: IPAddressType; want: string[] }[] = [
    {
      name: 'first sync',
      service: named('foo'),
      pods,
      nodes: zoneA,
      type: 'IPv4',
      want: ['10.0.0.1 ready zone-a h0', '10.0.0.2 ready zone-a h1'],
    },
    {
      name: 'same objects again',
      service: named('foo'),
      pods,
      nodes: zoneA,
      type: 'IPv4',
      want: ['10.0.0.1 ready zone-a h0', '10.0.0.2 ready zone-a h1'],
    },
    {
      name: 'a Pod object replaced',
      service: named('foo'),
      pods: [replaced, second],
      nodes: zoneA,
      type: 'IPv4',
      want: ['10.0.0.1 not-ready zone-a h0', '10.0.0.2 ready zone-a h1'],
    },
    {
      name: "the Node's zone changed",
      service: named('foo'),
      pods: [replaced, second],
      nodes: zoneB,
      type: 'IPv4',
      want: ['10.0.0.1 not-ready zone-b h0', '10.0.0.2 ready zone-b h1'],
    },
    {
      name: 'publishNotReadyAddresses',
      service: makeService({ spec: { publishNotReadyAddresses: true } }),
      pods: [replaced, second],
      nodes: zoneB,
      type: 'IPv4',
      want: ['10.0.0.1 ready zone-b h0', '10.0.0.2 ready zone-b h1'],
    },
    {
      name: 'a Service of another name: no hostname',
      service: named('bar'),
      pods: [replaced, second],
      nodes: zoneB,
      type: 'IPv4',
      want: ['10.0.0.1 not-ready zone-b -', '10.0.0.2 ready zone-b -'],
    },
    {
      name: 'the other address type',
      service: named('bar'),
      pods: [replaced, second],
      nodes: zoneB,
      type: 'IPv6',
      want: ['2000::1 not-ready zone-b -', '2000::2 ready zone-b -'],
    },
  ];
  for (const step of steps) {
    it(step.name, () => {
      const pods = [...step.pods, ...filler];
      const state = desiredAddressTypeState(step.service, pods, step.nodes, step.type);
      const got = [...state.groups.values()].flatMap((g) => [...g.endpoints.values()]);
      assert.deepEqual(
        got
          .slice(0, 2)
          .map(
            (e) => `${e.addresses.join(',')} ${e.conditions?.ready === true ? 'ready' : 'not-ready'} ${e.zone ?? '-'} ${e.hostname ?? '-'}`,
          ),
        step.want,
      );
      assert.deepEqual(
        got,
        pods.map((p) => podToEndpoint(p, step.nodes.get('node-1'), step.service, step.type)),
      );
    });
  }
});
