import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { externalEndpointsSchema } from '../../../api/v1alpha1/external-endpoints.ts';
import { sessionAffinityPolicySchema } from '../../../api/v1alpha1/session-affinity-policy.ts';
import { explainWhy } from './explain/explain-why.ts';
import { DEFAULT_EXPLAIN_SETTINGS } from './explain/snapshot.ts';
import {
  NS,
  notReadyStatus,
  storedEndpointsFor,
  storedSlicesFor,
  testNode,
  testPod,
  testService,
  testSnapshot,
} from './explain/test-fixtures.ts';
import { renderWhy } from './render-why.ts';
import { newStyle } from './style.ts';

const plain = newStyle(false);
const svc = testService();
const nodes = [testNode('node-a', 'True'), testNode('node-b', 'Unknown')];
const pods = [
  testPod('web-ready', 1),
  testPod('web-done', 2, { status: { phase: 'Succeeded' } }),
  testPod('web-port', 3, { spec: { containers: [{ name: 'app', ports: [{ name: 'web', containerPort: 8080, protocol: 'TCP' }] }] } }),
  testPod('web-ghost', 4, { spec: { nodeName: 'ghost' } }),
  testPod('web-v6', 5, { status: { podIP: 'fd00::5', podIPs: [{ ip: 'fd00::5' }] } }),
  testPod('web-bye', 6, { metadata: { deletionTimestamp: '2025-01-02T00:00:00Z' } }),
  testPod('web-slow', 7, { spec: { nodeName: 'node-b' }, status: notReadyStatus() }),
  testPod('web-typo', 8, { metadata: { labels: { app: 'wbe' } } }),
];
const policy = sessionAffinityPolicySchema.parse({
  metadata: { name: 'sticky', namespace: NS, creationTimestamp: '2025-01-01T00:00:00Z' },
  spec: { serviceSelector: {}, sessionAffinity: 'ClientIP', timeoutSeconds: 60, mode: 'Enforce' },
});
const snapshot = testSnapshot({
  service: svc,
  pods,
  nodes: { kind: 'found', value: nodes },
  endpoints: storedEndpointsFor(svc, pods),
  endpointSlices: storedSlicesFor(svc, pods, nodes),
  sessionAffinityPolicies: { kind: 'found', value: [policy] },
});

describe('renderWhy', () => {
  const text = renderWhy(explainWhy(snapshot, DEFAULT_EXPLAIN_SETTINGS), plain);
  const line = (pod: string) => text.split('\n').find((l) => l.includes(` ${pod} `)) ?? '';

  const expectations: [pod: string, pattern: RegExp][] = [
    ['web-ready', /✓ web-ready\s+ready\s+10\.0\.0\.1 on node-a/],
    ['web-done', /✗ web-done\s+absent\s+Pod phase Succeeded/],
    ['web-port', /✗ web-port\s+absent\s+no Service port resolves on this Pod: "http" \(TCP\) not declared; it declares web 8080\/TCP/],
    ['web-ghost', /✗ web-ghost\s+absent\s+Node ghost does not exist/],
    ['web-v6', /✗ web-v6\s+absent\s+no IPv4 address: Pod IPs fd00::5/],
    ['web-bye', /! web-bye\s+serving\s+terminating \(deleted 2025-01-02T00:00:00Z\), still serving/],
    ['web-slow', /! web-slow\s+not ready\s+not Ready: Ready=False \(ContainersNotReady/],
  ];
  for (const [pod, pattern] of expectations) it(`explains ${pod}`, () => assert.match(line(pod), pattern));

  it('breaks a not-ready Pod down: Node first, then the container', () => {
    assert.match(
      text,
      /web-slow[^\n]*\n\s+Node node-b is not reporting \(Ready Unknown\) \(NodeStatusUnknown: Kubelet stopped posting node status\.\)\n\s+container app not ready: running, readiness probe not passing, 2 restarts/,
    );
  });

  it('says the Endpoints object still lists a Pod the EndpointSlices skip', () => {
    assert.match(text, /web-ghost[^\n]*\n\s+Endpoints: still listed in the Endpoints object as ready/);
  });

  it('shows the near miss with its diff, the endpoint counts and the governing policy with its caveat', () => {
    assert.match(text, /Pods that almost match \(1\)\n\s+~ web-typo\s+app=wbe \(the Service selects app=web\)/);
    assert.match(text, /endpoints\s+✓ 1 ready, 1 serving, 1 not ready in 2 EndpointSlices/);
    assert.match(text, /governed by SessionAffinityPolicy sticky \(mode Enforce, priority 0\): ClientIP \(timeout 60s\)/);
    assert.match(text, /caveat: timeoutSeconds 60 is shorter than TIME_WAIT/);
  });

  it('is plain when not colouring and coloured when colouring', () => {
    assert.equal(text.includes('\u001b['), false, 'no escape codes');
    assert.ok(renderWhy(explainWhy(snapshot, DEFAULT_EXPLAIN_SETTINGS), newStyle(true)).includes('\u001b[32m✓\u001b[39m web-ready'));
  });

  it('summarises large Services: every Pod with something to say, ready ones counted', () => {
    const many = Array.from({ length: 30 }, (_, i) => testPod(`w-${String(i).padStart(2, '0')}`, i + 10));
    const broken = testPod('w-broken', 99, { status: { phase: 'Failed' } });
    const big = testSnapshot({ pods: [...many, broken] });
    const out = renderWhy(explainWhy(big, DEFAULT_EXPLAIN_SETTINGS), plain);
    assert.match(out, /✗ w-broken/);
    assert.doesNotMatch(out, / w-00 /);
    assert.match(out, /… and 30 more \(30 ready with nothing to report\); -o json lists every Pod/);
  });

  it('renders an ExternalEndpoints-backed Service with each backend', () => {
    const xep = externalEndpointsSchema.parse({
      metadata: { name: 'web', namespace: NS, generation: 1 },
      spec: { endpoints: [{ ip: '192.0.2.10' }, { ip: '192.0.2.11' }], ports: [{ port: 8080 }], healthCheck: { type: 'HTTP' } },
      status: {
        observedGeneration: 1,
        endpoints: [
          { address: '192.0.2.10', healthy: true, consecutiveFailures: 0, consecutiveSuccesses: 3 },
          { address: '192.0.2.11', healthy: false, lastError: 'HTTP 503', consecutiveFailures: 4, consecutiveSuccesses: 0 },
        ],
      },
    });
    const out = renderWhy(
      explainWhy(
        testSnapshot({ service: testService({ selector: undefined }), externalEndpoints: { kind: 'found', value: xep } }),
        DEFAULT_EXPLAIN_SETTINGS,
      ),
      plain,
    );
    assert.match(out, /no selector: endpoints come from the ExternalEndpoints of the same name/);
    assert.match(out, /✗ 192\.0\.2\.11\s+unhealthy: HTTP 503 \(4 failures in a row\), published absent/);
    assert.match(out, /health check HTTP; failure policy: minHealthy 1, PublishAll below it/);
  });

  it('a missing Service is one line', () => {
    assert.equal(
      renderWhy(explainWhy(testSnapshot({ service: undefined }), DEFAULT_EXPLAIN_SETTINGS), plain),
      '✗ Service shop/web not found\n',
    );
  });
});
