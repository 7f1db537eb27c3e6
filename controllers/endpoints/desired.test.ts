import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointAddress, EndpointSubset, Pod, Service } from '../../api/core/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { PER_POD_MEMO_MIN_PODS } from '../shared/per-pod-memo.ts';
import { desiredSubsets, podEndpointAddress, selectPods, serviceHasManagedEndpoints } from './desired.ts';
import { type Family, podAddress, testPod, testPods, testService } from './test-fixtures.ts';

const ns = 'ns';
const count = (subsets: readonly EndpointSubset[]) => ({
  ready: subsets.reduce((n, s) => n + (s.addresses?.length ?? 0), 0),
  notReady: subsets.reduce((n, s) => n + (s.notReadyAddresses?.length ?? 0), 0),
});

describe('desiredSubsets: pod phase × readiness × terminating × publishNotReadyAddresses (TestSyncServiceAddresses)', () => {
  const makePod = (phase: string, ready: boolean, terminating: boolean): Pod => {
    const p = testPod(ns, 1, 1, ready);
    return {
      ...p,
      metadata: { ...p.metadata, ...(terminating ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
      status: { ...p.status, phase },
    };
  };
  const svc = (tolerate: boolean) => testService({ spec: { publishNotReadyAddresses: tolerate } });
  const cases: { name: string; given: { pod: Pod; service: Service }; want: { ready: number; notReady: number } }[] = [
    { name: 'running', given: { pod: makePod('Running', true, false), service: svc(false) }, want: { ready: 1, notReady: 0 } },
    {
      name: 'running, being deleted',
      given: { pod: makePod('Running', true, true), service: svc(false) },
      want: { ready: 0, notReady: 0 },
    },
    { name: 'unknown, ready', given: { pod: makePod('Unknown', true, false), service: svc(false) }, want: { ready: 1, notReady: 0 } },
    {
      name: 'unknown, ready, being deleted',
      given: { pod: makePod('Unknown', true, true), service: svc(false) },
      want: { ready: 0, notReady: 0 },
    },
    { name: 'pending, ready', given: { pod: makePod('Pending', true, false), service: svc(false) }, want: { ready: 1, notReady: 0 } },
    {
      name: 'pending, ready, being deleted',
      given: { pod: makePod('Pending', true, true), service: svc(false) },
      want: { ready: 0, notReady: 0 },
    },
    { name: 'unknown, not ready', given: { pod: makePod('Unknown', false, false), service: svc(false) }, want: { ready: 0, notReady: 1 } },
    { name: 'pending, not ready', given: { pod: makePod('Pending', false, false), service: svc(false) }, want: { ready: 0, notReady: 1 } },
    { name: 'failed', given: { pod: makePod('Failed', false, false), service: svc(false) }, want: { ready: 0, notReady: 0 } },
    { name: 'succeeded', given: { pod: makePod('Succeeded', false, false), service: svc(false) }, want: { ready: 0, notReady: 0 } },
    {
      name: 'running, not ready, tolerate',
      given: { pod: makePod('Running', false, false), service: svc(true) },
      want: { ready: 1, notReady: 0 },
    },
    {
      name: 'running, not ready, tolerate, being deleted',
      given: { pod: makePod('Running', false, true), service: svc(true) },
      want: { ready: 1, notReady: 0 },
    },
    { name: 'unknown, tolerate', given: { pod: makePod('Unknown', false, false), service: svc(true) }, want: { ready: 1, notReady: 0 } },
    {
      name: 'unknown, tolerate, being deleted',
      given: { pod: makePod('Unknown', false, true), service: svc(true) },
      want: { ready: 1, notReady: 0 },
    },
    { name: 'pending, tolerate', given: { pod: makePod('Pending', false, false), service: svc(true) }, want: { ready: 1, notReady: 0 } },
    {
      name: 'pending, tolerate, being deleted',
      given: { pod: makePod('Pending', false, true), service: svc(true) },
      want: { ready: 1, notReady: 0 },
    },
    { name: 'failed, tolerate', given: { pod: makePod('Failed', false, false), service: svc(true) }, want: { ready: 0, notReady: 0 } },
    {
      name: 'succeeded, tolerate',
      given: { pod: makePod('Succeeded', false, false), service: svc(true) },
      want: { ready: 0, notReady: 0 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { pod, service } = deepFreeze(c.given);
      assert.deepEqual(count(desiredSubsets(service, [pod]).subsets), c.want);
    });
  }
});

describe('podEndpointAddress: IP family (TestPodToEndpointAddressForService)', () => {
  const withFamilies = (clusterIP: string, ipFamilies: string[] | undefined) =>
    testService({ spec: { clusterIP, ...(ipFamilies === undefined ? { ipFamilies: undefined } : { ipFamilies }) } });
  const pod = (families: Family[]) => testPod(ns, 0, 1, true, families);
  const rawPod = (podIPs: string[], podIP?: string): Pod => {
    const p = testPod(ns, 0, 1, true);
    return {
      ...p,
      status: { ...p.status, podIPs: podIPs.map((ip) => ({ ip })), ...(podIP !== undefined ? { podIP } : { podIP: undefined }) },
    };
  };
  const cases: { name: string; given: { service: Service; pod: Pod }; want: string | undefined }[] = [
    {
      name: 'v4 service, single-stack cluster',
      given: { service: withFamilies('10.0.0.1', ['IPv4']), pod: pod(['IPv4']) },
      want: '1.2.3.4',
    },
    {
      name: 'v4 service, dual-stack cluster',
      given: { service: withFamilies('10.0.0.1', ['IPv4']), pod: pod(['IPv4', 'IPv6']) },
      want: '1.2.3.4',
    },
    {
      name: 'v4 service, IPv6-primary dual-stack cluster',
      given: { service: withFamilies('10.0.0.1', ['IPv4']), pod: pod(['IPv6', 'IPv4']) },
      want: '1.2.3.4',
    },
    { name: 'v4 headless, single stack', given: { service: withFamilies('None', ['IPv4']), pod: pod(['IPv4']) }, want: '1.2.3.4' },
    { name: 'v4 headless, dual stack', given: { service: withFamilies('None', ['IPv4']), pod: pod(['IPv4', 'IPv6']) }, want: '1.2.3.4' },
    { name: 'v6 service, dual stack', given: { service: withFamilies('3000::1', ['IPv6']), pod: pod(['IPv4', 'IPv6']) }, want: '2000::4' },
    { name: 'v6 headless, single stack', given: { service: withFamilies('None', ['IPv6']), pod: pod(['IPv6']) }, want: '2000::4' },
    { name: 'v6 headless, dual stack', given: { service: withFamilies('None', ['IPv6']), pod: pod(['IPv4', 'IPv6']) }, want: '2000::4' },
    {
      name: 'v6 service in a v4-only cluster: no address',
      given: { service: withFamilies('3000::1', ['IPv6']), pod: pod(['IPv4']) },
      want: undefined,
    },
    {
      name: 'IPv4 with leading zeros is re-printed canonically',
      given: { service: withFamilies('10.0.0.1', ['IPv4']), pod: rawPod(['01.2.3.4']) },
      want: '1.2.3.4',
    },
    {
      name: 'IPv6 is re-printed canonically',
      given: { service: withFamilies('3000::1', ['IPv6']), pod: rawPod(['2000:0:0::0004']) },
      want: '2000::4',
    },
    {
      name: 'IPv4-mapped IPv6 counts as IPv4',
      given: { service: withFamilies('10.0.0.1', ['IPv4']), pod: rawPod(['::ffff:1.2.3.9']) },
      want: '1.2.3.9',
    },
    {
      name: 'singular podIP is not used',
      given: { service: withFamilies('10.0.0.1', ['IPv4']), pod: rawPod([], '1.2.3.4') },
      want: undefined,
    },
    // Empty ipFamilies (TestPodToEndpointAddressForServiceEmptyIPFamilies): family from clusterIP, else from podIP.
    {
      name: 'no ipFamilies: headful IPv4',
      given: { service: withFamilies('10.0.0.1', undefined), pod: rawPod(['10.244.0.1']) },
      want: '10.244.0.1',
    },
    {
      name: 'no ipFamilies: headful IPv6',
      given: { service: withFamilies('fd00::1', undefined), pod: rawPod(['fd00::10']) },
      want: 'fd00::10',
    },
    {
      name: 'no ipFamilies: headful IPv4, only IPv6 pod IP',
      given: { service: withFamilies('10.0.0.1', undefined), pod: rawPod(['fd00::10']) },
      want: undefined,
    },
    {
      name: 'no ipFamilies: headless, IPv4 podIP',
      given: { service: withFamilies('None', undefined), pod: rawPod(['10.244.0.1'], '10.244.0.1') },
      want: '10.244.0.1',
    },
    {
      name: 'no ipFamilies: headless, IPv6 podIP',
      given: { service: withFamilies('None', undefined), pod: rawPod(['fd00::10'], 'fd00::10') },
      want: 'fd00::10',
    },
    {
      name: 'empty ipFamilies list behaves as none',
      given: { service: withFamilies('fd00::1', []), pod: rawPod(['1.1.1.1', 'fd00::10']) },
      want: 'fd00::10',
    },
    {
      name: 'unparseable pod IP matches IPv4 and prints <nil>',
      given: { service: withFamilies('10.0.0.1', ['IPv4']), pod: rawPod(['bogus']) },
      want: '<nil>',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { service, pod: p } = deepFreeze(c.given);
      assert.equal(podEndpointAddress(service, p)?.ip, c.want);
    });
  }

  it('sets nodeName even when empty, a targetRef without resourceVersion, and no hostname', () => {
    const p = deepFreeze(testPod(ns, 0, 1, true));
    assert.deepEqual(podEndpointAddress(deepFreeze(testService()), p), podAddress(ns, 0));
  });

  const hostnameCases: {
    name: string;
    given: { hostname?: string; subdomain?: string; podNamespace?: string };
    want: string | undefined;
  }[] = [
    { name: 'hostname with subdomain = service name', given: { hostname: 'h', subdomain: 'foo' }, want: 'h' },
    { name: 'subdomain of another service', given: { hostname: 'h', subdomain: 'bar' }, want: undefined },
    { name: 'no hostname', given: { subdomain: 'foo' }, want: undefined },
    { name: 'pod of another namespace', given: { hostname: 'h', subdomain: 'foo', podNamespace: 'other' }, want: undefined },
  ];
  for (const c of hostnameCases) {
    it(`hostname: ${c.name}`, () => {
      const p = testPod(c.given.podNamespace ?? ns, 0, 1, true);
      const pod = deepFreeze({ ...p, spec: { ...p.spec, hostname: c.given.hostname, subdomain: c.given.subdomain } });
      assert.equal(podEndpointAddress(deepFreeze(testService()), pod)?.hostname, c.want);
    });
  }
});

describe('desiredSubsets: ports', () => {
  const sub = (addresses: EndpointAddress[], ports: EndpointSubset['ports'], notReady: EndpointAddress[] = []): EndpointSubset => ({
    ...(addresses.length > 0 ? { addresses } : {}),
    ...(notReady.length > 0 ? { notReadyAddresses: notReady } : {}),
    ...(ports !== undefined ? { ports } : {}),
  });
  const cases: { name: string; given: { service: Service; pods: Pod[] }; want: EndpointSubset[] }[] = [
    {
      name: 'three pods serving two ports: one subset with both ports (TestSyncEndpointsItems)',
      given: {
        service: testService({
          spec: {
            ports: [
              { name: 'port0', port: 80, protocol: 'TCP', targetPort: 8080 },
              { name: 'port1', port: 88, protocol: 'TCP', targetPort: 8088 },
            ],
          },
        }),
        pods: testPods(ns, 3, 2),
      },
      want: [
        sub(
          [podAddress(ns, 0), podAddress(ns, 1), podAddress(ns, 2)],
          [
            { name: 'port1', port: 8088, protocol: 'TCP' },
            { name: 'port0', port: 8080, protocol: 'TCP' },
          ],
        ),
      ],
    },
    {
      name: 'not-ready pods go to notReadyAddresses (…EmptySelectorSelectsAllNotReady)',
      given: { service: testService({ spec: { selector: {} } }), pods: testPods(ns, 0, 1, 2) },
      want: [sub([], [{ port: 8080, protocol: 'TCP' }], [podAddress(ns, 0), podAddress(ns, 1)])],
    },
    {
      name: 'ready and not-ready pods share a subset (…EmptySelectorSelectsAllMixed)',
      given: { service: testService(), pods: testPods(ns, 1, 1, 1) },
      want: [sub([podAddress(ns, 0)], [{ port: 8080, protocol: 'TCP' }], [podAddress(ns, 1)])],
    },
    {
      name: 'named targetPort resolves per pod; a pod without the port is skipped for it',
      given: {
        service: testService({ spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'port1' }] } }),
        pods: [testPod(ns, 0, 2, true), testPod(ns, 1, 1, true)],
      },
      want: [sub([podAddress(ns, 0)], [{ name: 'http', port: 8081, protocol: 'TCP' }])],
    },
    {
      name: 'named targetPort must match the protocol',
      given: {
        service: testService({ spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 'port0' }] } }),
        pods: [testPod(ns, 0, 1, true)],
      },
      want: [],
    },
    {
      name: 'named targetPort on a sidecar (restartable init container)',
      given: {
        service: testService({ spec: { ports: [{ name: 'm', port: 9000, protocol: 'TCP', targetPort: 'metrics' }] } }),
        pods: [
          (() => {
            const p = testPod(ns, 0, 1, true);
            return {
              ...p,
              spec: {
                ...p.spec,
                initContainers: [
                  { name: 'side', restartPolicy: 'Always', ports: [{ name: 'metrics', containerPort: 9100, protocol: 'TCP' }] },
                ],
              },
            };
          })(),
        ],
      },
      want: [sub([podAddress(ns, 0)], [{ name: 'm', port: 9100, protocol: 'TCP' }])],
    },
    {
      name: 'same port number on TCP, UDP and SCTP (TestSyncEndpointsProtocolMultiProtocolSamePort): ports in hash order',
      given: {
        service: testService({
          spec: {
            ports: [
              { name: 'tcp', port: 80, protocol: 'TCP', targetPort: 8080 },
              { name: 'udp', port: 80, protocol: 'UDP', targetPort: 8080 },
              { name: 'sctp', port: 80, protocol: 'SCTP', targetPort: 8080 },
            ],
          },
        }),
        pods: [testPod(ns, 0, 1, true)],
      },
      want: [
        sub(
          [podAddress(ns, 0)],
          [
            { name: 'tcp', port: 8080, protocol: 'TCP' },
            { name: 'sctp', port: 8080, protocol: 'SCTP' },
            { name: 'udp', port: 8080, protocol: 'UDP' },
          ],
        ),
      ],
    },
    {
      name: 'appProtocol is copied (TestEndpointPortFromServicePort)',
      given: {
        service: testService({ spec: { ports: [{ name: 'web', port: 80, protocol: 'TCP', targetPort: 8080, appProtocol: 'http' }] } }),
        pods: [testPod(ns, 0, 1, true)],
      },
      want: [sub([podAddress(ns, 0)], [{ name: 'web', port: 8080, protocol: 'TCP', appProtocol: 'http' }])],
    },
    {
      name: 'headless Service without ports: port-less subset (TestSyncEndpointsHeadlessWithoutPort)',
      given: { service: testService({ spec: { clusterIP: 'None', ports: undefined } }), pods: testPods(ns, 1, 0) },
      want: [sub([podAddress(ns, 0)], undefined)],
    },
    {
      name: 'headless Service with ports: [] behaves the same (TestSyncEndpointsHeadlessService)',
      given: { service: testService({ spec: { clusterIP: 'None', ports: [] } }), pods: testPods(ns, 1, 0, 1) },
      want: [sub([podAddress(ns, 0)], undefined, [podAddress(ns, 1)])],
    },
    {
      name: 'a non-headless Service without ports gets nothing',
      given: { service: testService({ spec: { clusterIP: '', ports: [] } }), pods: testPods(ns, 1, 0) },
      want: [],
    },
    {
      name: 'terminal pods excluded: subsets become empty (…PhaseFailed/Succeeded)',
      given: {
        service: testService(),
        pods: testPods(ns, 0, 1, 2).map((p, i) => ({ ...p, status: { ...p.status, phase: i === 0 ? 'Failed' : 'Succeeded' } })),
      },
      want: [],
    },
    {
      name: 'a pod without any IP is excluded',
      given: { service: testService(), pods: [{ ...testPod(ns, 0, 1, true), status: { phase: 'Running', conditions: [] } }] },
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { service, pods } = deepFreeze(c.given);
      assert.deepEqual(desiredSubsets(service, pods).subsets, c.want);
    });
  }

  it('does not mutate the Service (TestSyncEndpointsHeadlessService)', () => {
    const service = deepFreeze(testService({ spec: { clusterIP: 'None', ports: [] } }));
    const before = structuredClone(service);
    desiredSubsets(service, deepFreeze(testPods(ns, 1, 0)));
    assert.deepEqual(service, before);
  });

  it('reports why pods were skipped', () => {
    const pods = deepFreeze([
      { ...testPod(ns, 0, 1, true), status: { phase: 'Failed', podIPs: [{ ip: '1.2.3.4' }] } },
      testPod(ns, 1, 1, true, ['IPv6']),
      testPod(ns, 2, 0, true),
    ]);
    const got = desiredSubsets(
      deepFreeze(testService({ spec: { ports: [{ name: 'x', port: 1, protocol: 'TCP', targetPort: 'nope' }] } })),
      pods,
    );
    assert.deepEqual(got.skippedPods, [
      { pod: 'pod0', reason: 'TerminalPhase' },
      { pod: 'pod1', reason: 'NoIPOfServiceFamily' },
      { pod: 'pod2', reason: 'NoMatchingPort' },
    ]);
  });
});

describe('selectPods and serviceHasManagedEndpoints', () => {
  const pods = deepFreeze([
    testPod(ns, 0, 1, true),
    testPod('other', 1, 1, true),
    { ...testPod(ns, 2, 1, true), metadata: { ...testPod(ns, 2, 1, true).metadata, labels: { foo: 'baz' } } },
  ]);
  const cases: { name: string; given: Service; want: { selected: string[]; managed: boolean } }[] = [
    { name: 'selector matches same-namespace pods only', given: testService(), want: { selected: ['pod0'], managed: true } },
    {
      name: 'empty selector selects every pod of the namespace',
      given: testService({ spec: { selector: {} } }),
      want: { selected: ['pod0', 'pod2'], managed: true },
    },
    {
      name: 'no selector: nothing, not managed',
      given: testService({ spec: { selector: undefined } }),
      want: { selected: [], managed: false },
    },
    {
      name: 'ExternalName: not managed',
      given: testService({ spec: { type: 'ExternalName', externalName: 'x.example' } }),
      want: { selected: ['pod0'], managed: false },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const svc = deepFreeze(c.given);
      assert.deepEqual({ selected: selectPods(svc, pods).map((p) => p.metadata.name), managed: serviceHasManagedEndpoints(svc) }, c.want);
    });
  }
});

describe('desiredSubsets: addresses remembered per Pod object', () => {
  // The same Pod objects synced again, a replaced object, and Services that answer the family and hostname questions
  // differently: each sync must give what a fresh computation gives (podEndpointAddress builds without the memo).
  const fresh = (service: Service, pods: readonly Pod[]) =>
    pods.map((p) => podEndpointAddress(service, p)).filter((a): a is EndpointAddress => a !== undefined);
  const addressesOf = (subsets: readonly EndpointSubset[]) =>
    subsets.flatMap((s) => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]);
  const byIP = (a: EndpointAddress, b: EndpointAddress) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);
  const dual = testPods(ns, 2, 1, 0, ['IPv4', 'IPv6']).map((p) =>
    deepFreeze({ ...p, spec: { ...p.spec, hostname: `h-${p.metadata.name}`, subdomain: 'foo' } }),
  );
  const [first, second] = dual;
  assert.ok(first !== undefined && second !== undefined);
  const replaced = deepFreeze({ ...first, status: { ...first.status, podIPs: [{ ip: '1.2.9.9' }, { ip: '2000::99' }] } });
  // Enough Pods for the memo to be used (PER_POD_MEMO_MIN_PODS).
  const filler = deepFreeze(Array.from({ length: PER_POD_MEMO_MIN_PODS }, (_, i) => testPod(ns, 10 + i, 1, true, ['IPv4', 'IPv6'])));
  const steps: { name: string; service: Service; pods: readonly Pod[]; want: string[] }[] = [
    { name: 'first sync', service: testService(), pods: dual, want: ['1.2.3.4 h-pod0', '1.2.3.5 h-pod1'] },
    { name: 'same objects again', service: testService(), pods: dual, want: ['1.2.3.4 h-pod0', '1.2.3.5 h-pod1'] },
    { name: 'a Pod object replaced', service: testService(), pods: [replaced, second], want: ['1.2.3.5 h-pod1', '1.2.9.9 h-pod0'] },
    {
      name: 'an IPv6 Service, same objects',
      service: testService({ spec: { ipFamilies: ['IPv6'] } }),
      pods: [replaced, second],
      want: ['2000::5 h-pod1', '2000::99 h-pod0'],
    },
    {
      name: 'a Service of another name: no hostname',
      service: testService({ metadata: { name: 'bar' } }),
      pods: [replaced, second],
      want: ['1.2.3.5 -', '1.2.9.9 -'],
    },
    { name: 'back to the first Service', service: testService(), pods: [replaced, second], want: ['1.2.3.5 h-pod1', '1.2.9.9 h-pod0'] },
  ];
  for (const step of steps) {
    it(step.name, () => {
      const pods = [...step.pods, ...filler];
      const got = addressesOf(desiredSubsets(step.service, pods).subsets);
      assert.deepEqual(
        got.filter((a) => a.targetRef?.name === 'pod0' || a.targetRef?.name === 'pod1').map((a) => `${a.ip} ${a.hostname ?? '-'}`),
        step.want,
      );
      assert.deepEqual(got, fresh(step.service, pods).sort(byIP));
    });
  }
});
