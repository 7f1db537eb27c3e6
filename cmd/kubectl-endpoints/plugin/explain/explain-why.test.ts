import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LABEL_MANAGED_BY, LABEL_SKIP_MIRROR, MANAGED_BY_ENDPOINTSLICE_CONTROLLER } from '../../../../api/labels.ts';
import { externalEndpointsSchema } from '../../../../api/v1alpha1/external-endpoints.ts';
import { explainWhy, type WhyReport, whyExitCode } from './explain-why.ts';
import { DEFAULT_EXPLAIN_SETTINGS, type ServiceSnapshot } from './snapshot.ts';
import {
  NS,
  notReadyStatus,
  storedEndpointsFor,
  storedMirroredSlicesFor,
  storedSlicesFor,
  testEndpoints,
  testNode,
  testPod,
  testService,
  testSnapshot,
} from './test-fixtures.ts';

const svc = testService();
const selectorless = testService({ selector: undefined });
const pods = [testPod('web-1', 1), testPod('web-2', 2)];
const nodes = [testNode('node-a', 'True')];
const inSync = { service: svc, pods, endpoints: storedEndpointsFor(svc, pods), endpointSlices: storedSlicesFor(svc, pods, nodes) };

const externalEndpoints = externalEndpointsSchema.parse({
  apiVersion: 'kube-endpoints-operator.io/v1alpha1',
  kind: 'ExternalEndpoints',
  metadata: { name: 'web', namespace: NS, generation: 1 },
  spec: { endpoints: [{ ip: '192.0.2.10' }], ports: [{ name: 'http', port: 8080 }], publishEndpoints: true },
});

const customEndpoints = testEndpoints(['192.0.2.1', '192.0.2.2'], [], {
  managedFields: [{ manager: 'kubectl-create', operation: 'Update', time: '2025-01-01T00:00:00Z' }],
});
const skipMirror = testEndpoints(['192.0.2.1'], [], { labels: { [LABEL_SKIP_MIRROR]: 'true' } });

const cases: {
  name: string;
  given: Partial<ServiceSnapshot>;
  want: { findings: string[]; exit: number; check?: (r: WhyReport) => void };
}[] = [
  {
    name: 'in sync with two ready Pods: no finding at all',
    given: inSync,
    want: { findings: [], exit: 0, check: (r) => assert.deepEqual([r.published.ready, r.expected?.ready], [2, 2]) },
  },
  { name: 'Service not found', given: { service: undefined }, want: { findings: ['ServiceNotFound'], exit: 2 } },
  {
    name: 'ExternalName: no Pods, no endpoints, by design',
    given: {
      service: testService({ type: 'ExternalName', externalName: 'db.example.com', selector: undefined, clusterIP: undefined }),
      pods,
    },
    want: { findings: ['ExternalName'], exit: 3, check: (r) => assert.equal(r.pods.length, 0) },
  },
  {
    name: 'selectorless with nothing behind it',
    given: { service: selectorless, pods },
    want: { findings: ['Selectorless', 'NoEndpointsSource'], exit: 3 },
  },
  {
    name: 'selectorless with user-written Endpoints, mirrored and in sync',
    given: { service: selectorless, endpoints: customEndpoints, endpointSlices: storedMirroredSlicesFor(customEndpoints) },
    want: {
      findings: ['Selectorless'],
      exit: 0,
      check: (r) => {
        const f = r.findings[0];
        assert.equal(f?.code === 'Selectorless' && f.source, 'Endpoints');
        assert.deepEqual(f?.code === 'Selectorless' && f.mirroring, { mirrored: true });
        assert.deepEqual(f?.code === 'Selectorless' && f.endpoints?.fieldManagers.map((m) => m.manager), ['kubectl-create']);
        assert.equal(r.published.ready, 2);
      },
    },
  },
  {
    name: 'selectorless with user-written Endpoints not mirrored yet',
    given: { service: selectorless, endpoints: customEndpoints },
    want: { findings: ['Selectorless', 'EndpointSlicesOutOfDate'], exit: 3 },
  },
  {
    name: 'selectorless Endpoints with the skip-mirror label: kube-proxy never sees them',
    given: { service: selectorless, endpoints: skipMirror },
    want: { findings: ['Selectorless', 'MirroringSkipped'], exit: 3 },
  },
  {
    name: 'near miss: the skip-mirror label on the Endpoints an ExternalEndpoints publishes is not a problem',
    given: { service: selectorless, endpoints: skipMirror, externalEndpoints: { kind: 'found', value: externalEndpoints } },
    want: {
      findings: ['Selectorless'],
      exit: 3,
      check: (r) => assert.equal(r.findings[0]?.code === 'Selectorless' && r.findings[0].source, 'ExternalEndpoints'),
    },
  },
  {
    name: 'an ExternalEndpoints for a Service with a selector is ignored',
    given: { ...inSync, externalEndpoints: { kind: 'found', value: externalEndpoints } },
    want: { findings: ['ExternalEndpointsIgnored'], exit: 0 },
  },
  {
    name: 'selectorless with slices the EndpointSlice controller left behind',
    given: { service: selectorless, endpointSlices: storedSlicesFor(svc, pods, nodes) },
    want: { findings: ['Selectorless', 'LeftoverEndpointSlices'], exit: 0 },
  },
  {
    name: 'headless and publishNotReadyAddresses are reported as context',
    given: (() => {
      const s = testService({ clusterIP: 'None', clusterIPs: ['None'], publishNotReadyAddresses: true });
      const p = [testPod('web-1', 1, { status: notReadyStatus() })];
      return { service: s, pods: p, endpoints: storedEndpointsFor(s, p), endpointSlices: storedSlicesFor(s, p, nodes) };
    })(),
    want: { findings: ['Headless', 'PublishNotReadyAddresses'], exit: 0 },
  },
  {
    name: 'no Pod matches, one almost does',
    given: {
      pods: [testPod('web-1', 1, { metadata: { labels: { ap: 'web' } } }), testPod('db-1', 2, { metadata: { labels: { app: 'db' } } })],
    },
    want: {
      findings: ['NoMatchingPods', 'EndpointsOutOfDate', 'EndpointSlicesOutOfDate'],
      exit: 3,
      check: (r) =>
        assert.deepEqual(
          r.nearMisses.map((m) => m.pod),
          ['web-1'],
        ),
    },
  },
  {
    name: 'ready Pods but nothing stored yet (controllers not running): out of date, no ready endpoint published',
    given: { pods },
    want: {
      findings: ['EndpointsOutOfDate', 'EndpointSlicesOutOfDate'],
      exit: 3,
      check: (r) => assert.deepEqual([r.published.ready, r.expected?.ready], [0, 2]),
    },
  },
  {
    name: 'Nodes unreadable: said so, and no slice plan is guessed',
    given: { ...inSync, nodes: { kind: 'unavailable', reason: 'forbidden to read Nodes' } },
    want: { findings: ['NodesUnavailable'], exit: 0 },
  },
  {
    name: 'a Service being deleted',
    given: { ...inSync, service: testService({}, { deletionTimestamp: '2025-01-02T00:00:00Z' }) },
    want: { findings: ['ServiceTerminating'], exit: 0 },
  },
];

describe('explainWhy: Service-level findings and exit codes', () => {
  for (const c of cases) {
    it(c.name, () => {
      const report = explainWhy(testSnapshot(c.given), DEFAULT_EXPLAIN_SETTINGS);
      assert.deepEqual(
        report.findings.map((f) => f.code),
        c.want.findings,
      );
      assert.equal(whyExitCode(report), c.want.exit);
      c.want.check?.(report);
    });
  }

  it('reports the 1000-address cap of the Endpoints object and which Pods it drops', () => {
    const many = Array.from({ length: 1001 }, (_, i) =>
      testPod(`web-${String(i).padStart(4, '0')}`, i, {
        status: { podIP: `10.1.${i >> 8}.${i & 255}`, podIPs: [{ ip: `10.1.${i >> 8}.${i & 255}` }] },
      }),
    );
    const report = explainWhy(testSnapshot({ pods: many }), DEFAULT_EXPLAIN_SETTINGS);
    const f = report.findings.find((x) => x.code === 'EndpointsOverCapacity');
    assert.deepEqual(f, { severity: 'warning', code: 'EndpointsOverCapacity', addresses: 1001, kept: 1000, droppedPods: 1 });
    const dropped = report.pods.filter((p) => p.endpoints?.reason === 'OverCapacity');
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]?.state, 'ready');
  });

  it('near miss: exactly 1000 addresses is not over capacity', () => {
    const many = Array.from({ length: 1000 }, (_, i) =>
      testPod(`web-${i}`, i, { status: { podIP: `10.1.${i >> 8}.${i & 255}`, podIPs: [{ ip: `10.1.${i >> 8}.${i & 255}` }] } }),
    );
    const report = explainWhy(testSnapshot({ pods: many }), DEFAULT_EXPLAIN_SETTINGS);
    assert.equal(
      report.findings.some((x) => x.code === 'EndpointsOverCapacity'),
      false,
    );
  });

  it('lists Pods absent first, ready last, and counts what the controllers compute', () => {
    const p = [
      testPod('a-ready', 1),
      testPod('b-gone', 2, { status: { phase: 'Failed' } }),
      testPod('c-slow', 3, { status: notReadyStatus() }),
    ];
    const report = explainWhy(testSnapshot({ pods: p }), DEFAULT_EXPLAIN_SETTINGS);
    assert.deepEqual(
      report.pods.map((x) => `${x.pod}:${x.state}`),
      ['b-gone:absent', 'c-slow:notReady', 'a-ready:ready'],
    );
    assert.deepEqual(report.expected, { ready: 1, serving: 0, terminating: 0, notReady: 1, absent: 1 });
  });

  it('counts published endpoints once per Pod and ignores slices being deleted', () => {
    const slices = storedSlicesFor(svc, pods, nodes);
    const first = slices[0];
    assert.ok(first);
    const doomed = { ...first, metadata: { ...first.metadata, name: 'web-old', deletionTimestamp: '2025-01-02T00:00:00Z' } };
    const report = explainWhy(testSnapshot({ ...inSync, endpointSlices: [...slices, doomed] }), DEFAULT_EXPLAIN_SETTINGS);
    assert.deepEqual(report.published, { ready: 2, serving: 0, terminating: 0, notReady: 0, slices: 1 });
  });

  it('a nil ready condition in a stored slice counts as ready (the API meaning)', () => {
    const report = explainWhy(
      testSnapshot({
        service: selectorless,
        endpointSlices: [
          {
            metadata: { name: 'custom', namespace: NS, labels: { [LABEL_MANAGED_BY]: 'my-controller' } },
            addressType: 'IPv4',
            endpoints: [{ addresses: ['192.0.2.7'] }],
            ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
          },
        ],
      }),
      DEFAULT_EXPLAIN_SETTINGS,
    );
    assert.equal(report.published.ready, 1);
    assert.equal(report.findings[0]?.code === 'Selectorless' && report.findings[0].source, 'EndpointSlices');
  });

  it('never reports slices of another manager as out of date', () => {
    const foreign = storedSlicesFor(svc, pods, nodes).map((s) => ({
      ...s,
      metadata: { ...s.metadata, name: 'other', labels: { ...s.metadata.labels, [LABEL_MANAGED_BY]: 'someone-else' } },
    }));
    const report = explainWhy(
      testSnapshot({ ...inSync, endpointSlices: [...inSync.endpointSlices, ...foreign] }),
      DEFAULT_EXPLAIN_SETTINGS,
    );
    assert.deepEqual(
      report.findings.map((f) => f.code),
      [],
    );
    assert.notEqual(MANAGED_BY_ENDPOINTSLICE_CONTROLLER, 'someone-else');
  });
});
