import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notReadyStatus, storedEndpointsFor, storedSlicesFor, testNode, testPod, testService } from '../explain/test-fixtures.ts';
import { type ChangeLine, ChangeTracker, changeText, clockTime } from './change-tracker.ts';

const svc = testService();
const nodes = [testNode('node-a', 'True')];
const ready1 = testPod('web-1', 1);
const notReady2 = testPod('web-2', 2, { status: notReadyStatus() });
const ready2 = testPod('web-2', 2);
const other = testPod('db-0', 9, { metadata: { labels: { app: 'db' } } });
const T0 = Date.UTC(2025, 0, 1, 12, 0, 1, 234);

/** A tracker that has listed web-1 ready and web-2 not ready, stored as the controllers write them. */
function synced(): ChangeTracker {
  const t = new ChangeTracker('web');
  const pods = [ready1, notReady2, other];
  assert.deepEqual(t.observe({ kind: 'pod', type: 'replace', objects: pods }, T0 - 1000), []);
  assert.equal(t.synced, false);
  assert.deepEqual(t.observe({ kind: 'service', type: 'replace', objects: [svc] }, T0 - 1000), []);
  assert.deepEqual(t.observe({ kind: 'slice', type: 'replace', objects: storedSlicesFor(svc, pods, nodes) }, T0 - 1000), []);
  assert.deepEqual(t.observe({ kind: 'endpoints', type: 'replace', objects: [storedEndpointsFor(svc, pods)] }, T0 - 1000), []);
  assert.equal(t.synced, true);
  return t;
}

const text = (lines: ChangeLine[]) => lines.map((l) => changeText(l, 0));

describe('ChangeTracker', () => {
  it('summarises what it watches once listed', () => {
    assert.equal(
      changeText(synced().summary(T0), 0),
      '12:00:01.234 watch web Service selector app=web; 2 Pods selected (1 Ready), 1 EndpointSlices, an Endpoints object; watching (Ctrl-C to stop)',
    );
  });

  it('a readiness flip: the Pod line, then the slice and Endpoints lines with their delays', () => {
    const t = synced();
    assert.deepEqual(text(t.observe({ kind: 'pod', type: 'apply', obj: ready2 }, T0)), ['12:00:01.234 pod web-2 became Ready']);
    const slices = storedSlicesFor(svc, [ready1, ready2], nodes);
    assert.deepEqual(text(t.observe({ kind: 'slice', type: 'apply', obj: slices[0] ?? assert.fail() }, T0 + 67)), [
      '12:00:01.301 slice web-abcde updated: web-2 ready (+67 ms after the Pod change)',
    ]);
    assert.deepEqual(text(t.observe({ kind: 'endpoints', type: 'apply', obj: storedEndpointsFor(svc, [ready1, ready2]) }, T0 + 90)), [
      '12:00:01.324 endpoints web updated: web-2 ready (+90 ms after the Pod change)',
    ]);
    // The delay is reported once: a later unrelated write of the same slice has none.
    const again = t.observe(
      { kind: 'slice', type: 'apply', obj: storedSlicesFor(svc, [ready1, notReady2], nodes)[0] ?? assert.fail() },
      T0 + 500,
    );
    assert.deepEqual(
      again.map((l) => [l.message, l.delayMs]),
      [['updated: web-2 not ready', undefined]],
    );
  });

  it('becoming not Ready names the Ready condition reason', () => {
    const t = synced();
    assert.deepEqual(
      t.observe({ kind: 'pod', type: 'apply', obj: testPod('web-1', 1, { status: notReadyStatus() }) }, T0).map((l) => l.message),
      ['became not Ready (ContainersNotReady)'],
    );
  });

  it('Pods the selector does not match are not reported; a relabelled Pod is', () => {
    const t = synced();
    assert.deepEqual(
      t.observe(
        { kind: 'pod', type: 'apply', obj: testPod('db-0', 9, { metadata: { labels: { app: 'db' } }, status: notReadyStatus() }) },
        T0,
      ),
      [],
    );
    assert.deepEqual(
      t
        .observe({ kind: 'pod', type: 'apply', obj: testPod('web-1', 1, { metadata: { labels: { app: 'old' } } }) }, T0)
        .map((l) => l.message),
      ['no longer selected (its labels changed)'],
    );
  });

  it('created, terminating and deleted Pods; a slice gone in a relist', () => {
    const t = synced();
    const fresh = testPod('web-3', 3, { status: { phase: 'Pending', conditions: [] }, spec: { nodeName: undefined } });
    assert.deepEqual(
      t.observe({ kind: 'pod', type: 'apply', obj: fresh }, T0).map((l) => l.message),
      ['created, not Ready'],
    );
    assert.deepEqual(
      t
        .observe({ kind: 'pod', type: 'apply', obj: testPod('web-3', 3, { status: { phase: 'Pending', conditions: [] } }) }, T0)
        .map((l) => l.message),
      ['scheduled to node-a'],
    );
    assert.deepEqual(
      t
        .observe({ kind: 'pod', type: 'apply', obj: testPod('web-1', 1, { metadata: { deletionTimestamp: '2025-01-01T12:00:00Z' } }) }, T0)
        .map((l) => l.message),
      ['terminating'],
    );
    assert.deepEqual(
      t.observe({ kind: 'pod', type: 'delete', obj: ready1 }, T0).map((l) => l.message),
      ['deleted'],
    );
    assert.deepEqual(text(t.observe({ kind: 'slice', type: 'replace', objects: [] }, T0)), ['12:00:01.234 slice web-abcde deleted']);
  });

  it('Service changes: selector and publishNotReadyAddresses', () => {
    const t = synced();
    assert.deepEqual(
      t
        .observe({ kind: 'service', type: 'apply', obj: testService({ selector: { app: 'web2' }, publishNotReadyAddresses: true }) }, T0)
        .map((l) => l.message),
      ['changed: selector app=web2; publishNotReadyAddresses true'],
    );
    assert.deepEqual(
      t.observe({ kind: 'service', type: 'delete', obj: svc }, T0).map((l) => l.message),
      ['deleted'],
    );
  });
});

describe('clockTime', () => {
  it('formats in the given zone', () => {
    assert.equal(clockTime(T0, 0), '12:00:01.234');
    assert.equal(clockTime(T0, -120), '14:00:01.234');
    assert.equal(clockTime(Date.UTC(2025, 0, 1, 0, 0, 0, 5), 60), '23:00:00.005');
  });
});
