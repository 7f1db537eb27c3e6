import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointSlice } from '../../../../api/discovery/v1.ts';
import { newStyle } from '../style.ts';
import { renderWhyPod } from '../render-why-pod.ts';
import { explainPod, type WhyPodReport, whyPodExitCode } from './explain-pod.ts';
import { DEFAULT_EXPLAIN_SETTINGS, type ServiceSnapshot } from './snapshot.ts';
import { notReadyStatus, storedEndpointsFor, storedSlicesFor, testNode, testPod, testService, testSnapshot } from './test-fixtures.ts';

const svc = testService();
const nodes = [testNode('node-a', 'True')];
const ready = testPod('web-1', 1);
const notReady = testPod('web-1', 1, { status: notReadyStatus() });
const stored = (pods = [ready], service = svc) => ({
  endpoints: storedEndpointsFor(service, pods),
  endpointSlices: storedSlicesFor(service, pods, nodes),
});
const gated = testPod('web-1', 1, {
  spec: { readinessGates: [{ conditionType: 'example.com/lb' }] },
  status: {
    conditions: [
      { type: 'ContainersReady', status: 'True' },
      {
        type: 'Ready',
        status: 'False',
        reason: 'ReadinessGatesNotReady',
        message: 'corresponding condition of pod readiness gate "example.com/lb" does not exist.',
      },
    ],
  },
});
const wrongPort = testPod('web-1', 1, { spec: { containers: [{ name: 'app', ports: [{ name: 'web', containerPort: 8080 }] }] } });
const dualService = testService({ ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' });
const dualPod = testPod('web-1', 1, { status: { podIPs: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }] } });
const withHints = (slices: EndpointSlice[]): EndpointSlice[] =>
  slices.map((s) => ({ ...s, endpoints: (s.endpoints ?? []).map((e) => ({ ...e, hints: { forZones: [{ name: 'zone-a' }] } })) }));

const cases: { name: string; given: Partial<ServiceSnapshot>; pod?: string; want: (r: WhyPodReport) => void; exit: number }[] = [
  {
    name: 'a ready Pod, stored as the controllers write it',
    given: { pods: [ready], ...stored() },
    exit: 0,
    want: (r) => {
      assert.deepEqual(r.selector, { matches: true, labels: [{ key: 'app', want: 'web', actual: 'web', matches: true }] });
      assert.equal(r.verdict?.state, 'ready');
      assert.deepEqual(r.pod.ips, [{ ip: '10.0.0.1', family: 'IPv4' }]);
      assert.deepEqual(r.pod.node, { name: 'node-a', ready: 'True' });
      assert.deepEqual(
        r.storedSlices.map((s) => [s.slice, s.addressType, s.addresses, s.conditions, s.zone, s.ports]),
        [['web-abcde', 'IPv4', ['10.0.0.1'], { ready: true, serving: true, terminating: false }, 'zone-a', ['http:8080/TCP']]],
      );
      assert.deepEqual(r.expectedSlices[0]?.zone, 'zone-a');
      assert.deepEqual(r.storedEndpoints, [{ ip: '10.0.0.1', ready: true, ports: ['http:8080/TCP'] }]);
      assert.deepEqual([r.slicesUpToDate, r.endpointsUpToDate], [true, true]);
    },
  },
  {
    name: 'the selector does not match: which label, with the Pod value',
    given: { pods: [testPod('web-1', 1, { metadata: { labels: { app: 'api' } } })] },
    exit: 3,
    want: (r) => {
      assert.deepEqual(r.selector, { matches: false, labels: [{ key: 'app', want: 'web', actual: 'api', matches: false }] });
      assert.equal(r.verdict, undefined);
      assert.deepEqual(r.storedSlices, []);
    },
  },
  {
    name: 'a readiness gate not set: NotReady with the gate, listed not ready in both',
    given: { pods: [gated], ...stored([gated]) },
    exit: 3,
    want: (r) => {
      assert.deepEqual(r.pod.readinessGates, [{ conditionType: 'example.com/lb', status: 'Missing' }]);
      assert.equal(r.verdict?.reason?.code, 'NotReady');
      assert.equal(r.storedSlices[0]?.conditions.ready, false);
      assert.deepEqual(r.storedEndpoints, [{ ip: '10.0.0.1', ready: false, ports: ['http:8080/TCP'] }]);
      assert.equal(r.slicesUpToDate, true);
    },
  },
  {
    name: 'stored while it was not ready, ready now: both stored objects out of date',
    given: { pods: [ready], ...stored([notReady]) },
    exit: 3,
    want: (r) => {
      assert.equal(r.verdict?.state, 'ready');
      assert.deepEqual([r.slicesUpToDate, r.endpointsUpToDate], [false, false]);
    },
  },
  {
    name: 'dual-stack: one endpoint per family',
    given: { service: dualService, pods: [dualPod], ...stored([dualPod], dualService) },
    exit: 0,
    want: (r) => {
      assert.deepEqual(r.pod.ips, [
        { ip: '10.0.0.1', family: 'IPv4' },
        { ip: 'fd00::1', family: 'IPv6' },
      ]);
      assert.deepEqual(
        r.expectedSlices.map((e) => [e.addressType, e.addresses]),
        [
          ['IPv4', ['10.0.0.1']],
          ['IPv6', ['fd00::1']],
        ],
      );
      assert.deepEqual(
        r.storedSlices.map((s) => s.addressType),
        ['IPv4', 'IPv6'],
      );
      assert.equal(r.slicesUpToDate, true);
    },
  },
  {
    name: 'the named targetPort is not declared: absent, with the Endpoints reason; a port-less slice does not count',
    given: { pods: [wrongPort], ...stored([wrongPort]) },
    exit: 3,
    want: (r) => {
      assert.deepEqual(
        r.storedSlices.map((s) => [s.ports, s.conditions.ready]),
        [[[], true]],
      );
      assert.equal(r.verdict?.reason?.code, 'NoPortResolved');
      assert.equal(r.verdict?.ports[0]?.resolved, undefined);
      assert.deepEqual(r.verdict?.endpoints, { state: 'absent', reason: 'NoMatchingPort' });
      assert.deepEqual(r.pod.containerPorts, [{ container: 'app', name: 'web', port: 8080, protocol: 'TCP' }]);
    },
  },
  {
    name: 'publishNotReadyAddresses: expected ready although not serving',
    given: { service: testService({ publishNotReadyAddresses: true }), pods: [notReady] },
    exit: 3,
    want: (r) => {
      assert.equal(r.publishNotReadyAddresses, true);
      assert.deepEqual(r.expectedSlices[0]?.conditions, { ready: true, serving: false, terminating: false });
      assert.equal(r.slicesUpToDate, false, 'nothing stored yet');
    },
  },
  {
    name: 'terminating: serving in slices, left out of Endpoints',
    given: { pods: [testPod('web-1', 1, { metadata: { deletionTimestamp: '2025-01-01T00:01:00Z' } })] },
    exit: 3,
    want: (r) => {
      assert.equal(r.verdict?.state, 'serving');
      assert.deepEqual(r.verdict?.endpoints, { state: 'absent', reason: 'Terminating' });
      assert.equal(r.pod.deletionTimestamp, '2025-01-01T00:01:00Z');
    },
  },
  {
    name: 'trafficDistribution with zone hints stored',
    given: {
      service: testService({ trafficDistribution: 'PreferClose' }),
      pods: [ready],
      endpointSlices: withHints(storedSlicesFor(svc, [ready], nodes)),
    },
    exit: 0,
    want: (r) => {
      assert.deepEqual(r.topology, { kind: 'trafficDistribution', value: 'PreferClose' });
      assert.deepEqual(r.storedSlices[0]?.hints, { forZones: [{ name: 'zone-a' }] });
    },
  },
  {
    name: 'no selector: no verdict',
    given: { service: testService({ selector: undefined }), pods: [ready] },
    exit: 3,
    want: (r) => assert.deepEqual([r.selector, r.verdict], [undefined, undefined]),
  },
  { name: 'Pod not found', given: { pods: [ready] }, pod: 'web-9', exit: 2, want: (r) => assert.equal(r.pod.found, false) },
  { name: 'Service not found', given: { service: undefined, pods: [ready] }, exit: 2, want: (r) => assert.equal(r.service.found, false) },
];

describe('explainPod', () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = explainPod(testSnapshot(c.given), c.pod ?? 'web-1', DEFAULT_EXPLAIN_SETTINGS);
      c.want(r);
      assert.equal(whyPodExitCode(r), c.exit);
      // Every report renders.
      assert.ok(renderWhyPod(r, newStyle(false)).endsWith('\n'));
    });
  }
});

describe('renderWhyPod', () => {
  const text = (given: Partial<ServiceSnapshot>) =>
    renderWhyPod(explainPod(testSnapshot(given), 'web-1', DEFAULT_EXPLAIN_SETTINGS), newStyle(false));

  it('shows the gate, the verdict and where the Pod is stored', () => {
    const t = text({ pods: [gated], ...stored([gated]) });
    assert.match(t, /^Pod shop\/web-1 behind Service web \(ClusterIP 10\.96\.0\.10\)\n {2}selector {5}✓ app=web\n/);
    assert.match(t, /gates {8}! example\.com\/lb: not set yet/);
    assert.match(t, /ports {8}✓ http 80→"http"\/TCP resolves to 8080 \(container app\)/);
    assert.match(t, /Verdict\n {2}! not Ready: Ready=False \(ReadinessGatesNotReady/);
    assert.match(t, /! web-abcde IPv4 10\.0\.0\.1 \[http:8080\/TCP\] ready=false serving=false terminating=false, zone zone-a/);
    assert.match(t, /Endpoints\n {2}! 10\.0\.0\.1 in notReadyAddresses \[http:8080\/TCP\]\n$/);
  });

  it('names the label that does not match', () => {
    assert.match(text({ pods: [testPod('web-1', 1, { metadata: { labels: {} } })] }), /✗ app=web: the Pod has no label app/);
  });

  it('says what the controllers would write when stored is stale', () => {
    const t = text({ pods: [ready], ...stored([notReady]) });
    assert.match(t, /! stored differs from what the EndpointSlice controller writes for this Pod now \(see: kubectl endpoints diff web\)/);
    assert.match(t, /! the Endpoints controller would list it as ready/);
  });
});
