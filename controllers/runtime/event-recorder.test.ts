import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ObjectReference } from '../../api/core/meta.ts';
import { ApiError } from './api-errors.ts';
import { FakeClock } from './clock.ts';
import { type EventRecorderOptions, formatEventTime, KubeEventRecorder } from './event-recorder.ts';
import { connectionRefused } from './testing/api-error.ts';
import { FakeApiClient } from './testing/fake-api-client.ts';
import { EVENTS } from './resource.ts';
import { captureLogger } from './runtime-test-helpers.ts';

const svc: ObjectReference = Object.freeze({ kind: 'Service', namespace: 'shop', name: 'web', uid: 'u-1', apiVersion: 'v1' });
const other: ObjectReference = Object.freeze({ kind: 'Service', namespace: 'shop', name: 'api', uid: 'u-2', apiVersion: 'v1' });

function setup(opts: Partial<EventRecorderOptions> = {}) {
  const clock = new FakeClock(Date.UTC(2026, 10, 21, 5, 40, 14, 123));
  const client = new FakeApiClient();
  const { logger, lines } = captureLogger();
  const recorder = new KubeEventRecorder({
    client,
    clock,
    logger,
    component: 'endpoint-controller',
    host: 'node-1',
    random: () => 0.5,
    ...opts,
  });
  const body = (i: number) => client.calls[i]?.body as Record<string, unknown> & { metadata: { name: string; namespace: string } };
  return { clock, client, lines, recorder, body };
}

describe('KubeEventRecorder', () => {
  it('writes a core/v1 Event in client-go shape', async () => {
    const t = setup();
    t.recorder.event(svc, 'Warning', 'FailedToUpdateEndpoint', 'Failed to update endpoint shop/web: conflict');
    await t.recorder.flush();
    assert.equal(t.client.calls.length, 1);
    assert.equal(t.client.calls[0]?.verb, 'create');
    assert.equal(t.client.calls[0]?.namespace, 'shop');
    const e = t.body(0);
    const now = formatEventTime(t.clock.now());
    assert.equal(now, '2026-11-21T05:40:14Z');
    assert.match(e.metadata.name, /^web\.[0-9a-f]+$/);
    assert.deepEqual(
      { ...e, metadata: { namespace: e.metadata.namespace } },
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { namespace: 'shop' },
        involvedObject: svc,
        reason: 'FailedToUpdateEndpoint',
        message: 'Failed to update endpoint shop/web: conflict',
        type: 'Warning',
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        source: { component: 'endpoint-controller', host: 'node-1' },
      },
    );
  });

  it('patches count and lastTimestamp of the existing Event for an identical repeat', async () => {
    const t = setup();
    t.recorder.event(svc, 'Warning', 'Failed', 'same');
    await t.recorder.flush();
    const name = t.body(0).metadata.name;
    const first = formatEventTime(t.clock.now());
    await t.clock.advance(60_000);
    t.recorder.event(svc, 'Warning', 'Failed', 'same');
    await t.clock.advance(60_000);
    t.recorder.event(svc, 'Warning', 'Failed', 'same');
    await t.recorder.flush();
    assert.deepEqual(
      t.client.calls.map((c) => [c.verb, c.name || (c.body as { metadata: { name: string } }).metadata.name, c.patchType]),
      [
        ['create', name, undefined],
        ['patch', name, 'strategic'],
        ['patch', name, 'strategic'],
      ],
    );
    assert.deepEqual(t.client.calls[2]?.body, { count: 3, lastTimestamp: formatEventTime(t.clock.now()), message: 'same' });
    const stored = t.client.object(EVENTS, 'shop', name);
    assert.equal(stored?.count, 3);
    assert.equal(stored?.firstTimestamp, first);
  });

  it('creates a separate Event when the message, reason, type or object differs', async () => {
    const t = setup();
    t.recorder.event(svc, 'Warning', 'Failed', 'one');
    t.recorder.event(svc, 'Warning', 'Failed', 'two');
    t.recorder.event(svc, 'Normal', 'Failed', 'one');
    t.recorder.event(svc, 'Warning', 'Other', 'one');
    t.recorder.event(other, 'Warning', 'Failed', 'one');
    await t.recorder.flush();
    assert.deepEqual(
      t.client.calls.map((c) => c.verb),
      ['create', 'create', 'create', 'create', 'create'],
    );
    assert.equal(new Set(t.client.calls.map((_, i) => t.body(i).metadata.name)).size, 5, 'unique names even within one millisecond');
  });

  it('folds the tenth distinct message of one reason into a combined Event that later ones increment', async () => {
    const t = setup();
    for (let i = 1; i <= 12; i++) t.recorder.event(svc, 'Warning', 'FailedToCreateEndpointSlice', `attempt ${i}`);
    await t.recorder.flush();
    const verbs = t.client.calls.map((c) => c.verb);
    assert.deepEqual(verbs, [...Array(10).fill('create'), 'patch', 'patch']);
    assert.equal(t.body(8).message, 'attempt 9');
    assert.equal(t.body(9).message, '(combined from similar events): attempt 10');
    assert.deepEqual(t.client.calls[11]?.body, {
      count: 3,
      lastTimestamp: formatEventTime(t.clock.now()),
      message: '(combined from similar events): attempt 12',
    });
  });

  it('starts aggregation afresh after ten quiet minutes', async () => {
    const t = setup();
    for (let i = 1; i <= 9; i++) t.recorder.event(svc, 'Warning', 'R', `m${i}`);
    await t.recorder.flush();
    await t.clock.advance(600_001);
    t.recorder.event(svc, 'Warning', 'R', 'm10');
    await t.recorder.flush();
    assert.equal(t.body(9).message, 'm10');
  });

  it('drops Events past a burst of 25 per object and allows one more every 5 minutes', async () => {
    const t = setup();
    for (let i = 1; i <= 30; i++) t.recorder.event(svc, 'Normal', `Reason${i}`, 'm');
    t.recorder.event(other, 'Normal', 'Reason1', 'm');
    await t.recorder.flush();
    const about = (name: string) => t.client.calls.filter((_, i) => (t.body(i).involvedObject as ObjectReference).name === name).length;
    assert.equal(about('web'), 25);
    assert.equal(about('api'), 1, 'another object has its own bucket');
    await t.clock.advance(299_000);
    t.recorder.event(svc, 'Normal', 'Late1', 'm');
    await t.recorder.flush();
    assert.equal(about('web'), 25);
    await t.clock.advance(1_000);
    t.recorder.event(svc, 'Normal', 'Late2', 'm');
    t.recorder.event(svc, 'Normal', 'Late3', 'm');
    await t.recorder.flush();
    assert.equal(about('web'), 26);
    assert.equal(t.body(t.client.calls.length - 1).reason, 'Late2');
  });

  it('creates the Event anew, keeping the count, when the one to patch has expired on the server', async () => {
    const t = setup();
    t.recorder.event(svc, 'Warning', 'Failed', 'same');
    await t.recorder.flush();
    const name = t.body(0).metadata.name;
    await t.client.delete(EVENTS, 'shop', name);
    t.recorder.event(svc, 'Warning', 'Failed', 'same');
    await t.recorder.flush();
    assert.deepEqual(
      t.client.calls.map((c) => c.verb),
      ['create', 'delete', 'patch', 'create'],
    );
    assert.equal(t.body(3).count, 2);
    assert.equal(t.body(3).metadata.name, name);
  });

  it('never throws into the caller and does not retry an answer from the server', async () => {
    const t = setup();
    t.client.failOn = () =>
      new ApiError({
        code: 403,
        reason: 'Forbidden',
        message: 'events is forbidden',
        verb: 'create',
        path: '/api/v1/namespaces/shop/events',
      });
    assert.doesNotThrow(() => t.recorder.event(svc, 'Warning', 'Failed', 'x'));
    await t.recorder.flush();
    await t.clock.advance(600_000);
    assert.equal(t.client.calls.length, 1);
    assert.ok(t.lines.some((l) => l.msg === 'Server rejected Event' && l.level === 50));
  });

  it('retries network failures, first after a random part of 10 s, then every 10 s, 12 tries in all', async () => {
    const t = setup({ random: () => 0.25 });
    t.client.failOn = () => connectionRefused();
    t.recorder.event(svc, 'Warning', 'Failed', 'x');
    await t.clock.advance(0);
    assert.equal(t.client.calls.length, 1);
    await t.clock.advance(2_499);
    assert.equal(t.client.calls.length, 1);
    await t.clock.advance(1);
    assert.equal(t.client.calls.length, 2);
    await t.clock.advance(10_000);
    assert.equal(t.client.calls.length, 3);
    await t.clock.advance(1_000_000);
    assert.equal(t.client.calls.length, 12);
    await t.recorder.flush();
    assert.ok(t.lines.some((l) => l.msg === 'Failed to write Event: retry limit exceeded'));
  });

  it('drops new Events while its bounded queue is full', async () => {
    const t = setup({ maxQueued: 2 });
    t.client.hang = true;
    t.recorder.event(svc, 'Normal', 'A', 'm'); // taken by the writer at once, then hangs
    t.recorder.event(svc, 'Normal', 'B', 'm');
    t.recorder.event(svc, 'Normal', 'C', 'm');
    t.recorder.event(svc, 'Normal', 'D', 'm');
    assert.ok(t.lines.some((l) => l.msg === 'Dropped Event: queue full' && (l.reason as string) === 'D'));
    await t.recorder.close();
  });

  it('keeps bounded correlation caches: an evicted Event is created again instead of patched', async () => {
    const t = setup({ cacheSize: 2 });
    t.recorder.event(svc, 'Normal', 'A', 'm');
    t.recorder.event(svc, 'Normal', 'B', 'm');
    t.recorder.event(svc, 'Normal', 'C', 'm');
    t.recorder.event(svc, 'Normal', 'C', 'm');
    t.recorder.event(svc, 'Normal', 'A', 'm');
    await t.recorder.flush();
    assert.deepEqual(
      t.client.calls.map((c) => c.verb),
      ['create', 'create', 'create', 'patch', 'create'],
    );
  });

  it('puts Events about cluster-scoped objects in the default namespace', async () => {
    const t = setup();
    t.recorder.event({ kind: 'Node', name: 'node-1', uid: 'n' }, 'Normal', 'Seen', 'm');
    await t.recorder.flush();
    assert.equal(t.client.calls[0]?.namespace, 'default');
  });

  it('ignores Events after close', async () => {
    const t = setup();
    await t.recorder.close();
    t.recorder.event(svc, 'Normal', 'A', 'm');
    await t.recorder.flush();
    assert.equal(t.client.calls.length, 0);
  });
});
