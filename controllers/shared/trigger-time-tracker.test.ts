import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod, Service } from '../../api/core/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { formatTriggerTime, TriggerTimeTracker } from './trigger-time-tracker.ts';

const T0 = '2024-01-01T00:00:00Z';
const ms = (s: string) => Date.parse(s);

function service(created: string | undefined = T0): Service {
  return deepFreeze({ metadata: { name: 'svc', namespace: 'ns', ...(created ? { creationTimestamp: created } : {}) }, spec: {} });
}

function pod(name: string, readyAt: string | undefined): Pod {
  return deepFreeze({
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '1' },
    spec: { containers: [] },
    status: { conditions: readyAt === undefined ? [] : [{ type: 'Ready', status: 'True', lastTransitionTime: readyAt }] },
  });
}

describe('TriggerTimeTracker', () => {
  it('returns the service creation time for a new service without pods', () => {
    const t = new TriggerTimeTracker();
    assert.equal(t.computeEndpointLastChangeTriggerTime('ns', service(), []), ms(T0));
  });

  it('returns the service creation time for a new service with existing pods, even newer ones', () => {
    const t = new TriggerTimeTracker();
    assert.equal(t.computeEndpointLastChangeTriggerTime('ns', service(), [pod('a', '2024-01-01T00:00:05Z')]), ms(T0));
  });

  it('returns zero (undefined) for a new service without a creation time', () => {
    const t = new TriggerTimeTracker();
    assert.equal(t.computeEndpointLastChangeTriggerTime('ns', service(''), []), undefined);
  });

  it('returns the earliest time of the pods added since the last sync', () => {
    const t = new TriggerTimeTracker();
    t.computeEndpointLastChangeTriggerTime('ns', service(), []);
    const got = t.computeEndpointLastChangeTriggerTime('ns', service(), [
      pod('a', '2024-01-01T00:00:07Z'),
      pod('b', '2024-01-01T00:00:03Z'),
      pod('c', undefined),
    ]);
    assert.equal(got, ms('2024-01-01T00:00:03Z'));
  });

  it('returns the earliest changed time when pods are updated, ignoring unchanged ones', () => {
    const t = new TriggerTimeTracker();
    t.computeEndpointLastChangeTriggerTime('ns', service(), [pod('a', '2024-01-01T00:00:01Z'), pod('b', '2024-01-01T00:00:02Z')]);
    const got = t.computeEndpointLastChangeTriggerTime('ns', service(), [
      pod('a', '2024-01-01T00:00:01Z'),
      pod('b', '2024-01-01T00:00:09Z'),
    ]);
    assert.equal(got, ms('2024-01-01T00:00:09Z'));
  });

  it('returns zero when nothing changed', () => {
    const t = new TriggerTimeTracker();
    const pods = [pod('a', '2024-01-01T00:00:01Z')];
    t.computeEndpointLastChangeTriggerTime('ns', service(), pods);
    assert.equal(t.computeEndpointLastChangeTriggerTime('ns', service(), pods), undefined);
  });

  it('counts a pod deleted then re-added under the same name as a change', () => {
    const t = new TriggerTimeTracker();
    t.computeEndpointLastChangeTriggerTime('ns', service(), [pod('a', '2024-01-01T00:00:01Z')]);
    t.computeEndpointLastChangeTriggerTime('ns', service(), []);
    assert.equal(t.computeEndpointLastChangeTriggerTime('ns', service(), [pod('a', '2024-01-01T00:00:01Z')]), ms('2024-01-01T00:00:01Z'));
  });

  it('returns the creation time again after the service was deleted and re-added', () => {
    const t = new TriggerTimeTracker();
    t.computeEndpointLastChangeTriggerTime('ns', service(), [pod('a', '2024-01-01T00:00:01Z')]);
    t.deleteService('ns', 'svc');
    assert.equal(t.has('ns', 'svc'), false);
    const recreated = service('2024-02-01T00:00:00Z');
    assert.equal(t.computeEndpointLastChangeTriggerTime('ns', recreated, [pod('a', '2024-01-01T00:00:01Z')]), ms('2024-02-01T00:00:00Z'));
  });

  it('returns zero when the service is updated without pod changes', () => {
    const t = new TriggerTimeTracker();
    t.computeEndpointLastChangeTriggerTime('ns', service(), []);
    assert.equal(t.computeEndpointLastChangeTriggerTime('ns', service(), []), undefined);
  });

  it('keeps services in different namespaces apart', () => {
    const t = new TriggerTimeTracker();
    t.computeEndpointLastChangeTriggerTime('ns', service(), []);
    assert.equal(t.computeEndpointLastChangeTriggerTime('other', service(), []), ms(T0));
  });
});

describe('formatTriggerTime', () => {
  const cases = [
    { name: 'whole seconds have no fraction', given: '2024-05-01T10:00:00Z', want: '2024-05-01T10:00:00Z' },
    { name: 'trailing zeros are trimmed', given: '2024-05-01T10:00:00.500Z', want: '2024-05-01T10:00:00.5Z' },
    { name: 'milliseconds kept', given: '2024-05-01T10:00:00.123Z', want: '2024-05-01T10:00:00.123Z' },
    { name: 'offsets are converted to UTC', given: '2024-05-01T12:00:00+02:00', want: '2024-05-01T10:00:00Z' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(formatTriggerTime(Date.parse(c.given)), c.want));
});
