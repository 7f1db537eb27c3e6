import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainDiff } from './explain/explain-diff.ts';
import { DEFAULT_EXPLAIN_SETTINGS } from './explain/snapshot.ts';
import {
  notReadyStatus,
  storedEndpointsFor,
  storedSlicesFor,
  testNode,
  testPod,
  testService,
  testSnapshot,
} from './explain/test-fixtures.ts';
import { renderDiff } from './render-diff.ts';
import { newStyle } from './style.ts';

const svc = testService();
const pods = [testPod('web-1', 1), testPod('web-2', 2)];
const nodes = [testNode('node-a', 'True')];
const endpoints = storedEndpointsFor(svc, pods);
endpoints.metadata.managedFields = [
  ...(endpoints.metadata.managedFields ?? []),
  { manager: 'kubectl-patch', operation: 'Update', time: '2025-01-03T00:00:00Z' },
];

describe('renderDiff', () => {
  it('in sync: says so, lists the stored objects and their writers', () => {
    const text = renderDiff(
      explainDiff(
        testSnapshot({ pods, endpoints: storedEndpointsFor(svc, pods), endpointSlices: storedSlicesFor(svc, pods, nodes) }),
        DEFAULT_EXPLAIN_SETTINGS,
      ),
      newStyle(false),
    );
    assert.match(text, /^✓ Service shop\/web: stored endpoints match/);
    assert.match(text, /stored: managed-by endpoint-controller; written by kube-endpoints-operator \(Update 2025-01-01T00:00:00Z\)/);
    assert.match(text, /web-abcde\s+IPv4 http:8080\/TCP 2 endpoints\s+keep; managed-by endpointslice-controller\.k8s\.io/);
  });

  it('out of sync: each address change, and the foreign writer marked', () => {
    const changed = [testPod('web-1', 1), testPod('web-2', 2, { status: notReadyStatus() })];
    const text = renderDiff(
      explainDiff(testSnapshot({ pods: changed, endpoints, endpointSlices: storedSlicesFor(svc, pods, nodes) }), DEFAULT_EXPLAIN_SETTINGS),
      newStyle(false),
    );
    assert.match(text, /^! Service shop\/web: stored endpoints differ/);
    assert.match(text, /the controller would update it\n\s+~ 10\.0\.0\.2 \(web-2\) http:8080\/TCP\s+ready → notReady/);
    assert.match(text, /kubectl-patch \(Update 2025-01-03T00:00:00Z\) foreign/);
    assert.match(text, /endpointslice-controller would write:\n\s+~ update web-abcde IPv4 http:8080\/TCP \(2 endpoints\)/);
    assert.match(text, /~ 10\.0\.0\.2 \(web-2\) IPv4 http:8080\/TCP\s+ready → not ready \[ready, serving\]/);
  });
});
