import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from '../../api/core/v1.ts';
import type { SessionAffinityPolicy } from '../../api/v1alpha1/session-affinity-policy.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { policyEventHandler, serviceEventHandler } from './handlers.ts';
import { CLIENT_IP, MemoryStore, NONE, NS, policy, RecordingQueue, service } from './test-fixtures.ts';

const DELAY = 1000;
const frontend = policy('frontend');
const backend = policy('backend', {
  serviceSelector: { matchLabels: { tier: 'backend' } },
});

function serviceHandler(policies: SessionAffinityPolicy[]) {
  const services = new RecordingQueue();
  const status = new RecordingQueue();
  const handler = serviceEventHandler(services, status, new MemoryStore<SessionAffinityPolicy>(policies), DELAY);
  return { services, status, handler };
}

describe('serviceEventHandler', () => {
  it('an added Service is reconciled, and the status of the policies selecting it', () => {
    const { services, status, handler } = serviceHandler([frontend, backend]);
    handler.onAdd?.(deepFreeze(service('web')));
    assert.deepEqual(services.added, [`${NS}/web`]);
    assert.deepEqual(status.delayed, [{ key: `${NS}/frontend`, delayMs: DELAY }]);
  });

  it('a relabelled Service updates the status of the policies of its old and new labels', () => {
    const { services, status, handler } = serviceHandler([frontend, backend]);
    handler.onUpdate?.(deepFreeze(service('web')), deepFreeze(service('web', { labels: { tier: 'backend' }, resourceVersion: '101' })));
    assert.deepEqual(services.added, [`${NS}/web`]);
    assert.deepEqual(
      status.delayed.map((d) => d.key),
      [`${NS}/frontend`, `${NS}/backend`],
    );
  });

  it('a resync (same resourceVersion) enqueues nothing', () => {
    const { services, status, handler } = serviceHandler([frontend]);
    handler.onUpdate?.(deepFreeze(service('web')), deepFreeze(service('web')));
    assert.deepEqual([services.added, status.delayed], [[], []]);
  });

  it('a deleted Service only changes status', () => {
    const { services, status, handler } = serviceHandler([frontend]);
    handler.onDelete?.(deepFreeze(service('web')), false);
    assert.deepEqual(services.added, []);
    assert.deepEqual(
      status.delayed.map((d) => d.key),
      [`${NS}/frontend`],
    );
  });
});

function policyHandler(services: Service[], policies: SessionAffinityPolicy[]) {
  const serviceQueue = new RecordingQueue();
  const status = new RecordingQueue();
  const handler = policyEventHandler(
    serviceQueue,
    status,
    new MemoryStore<Service>(services),
    new MemoryStore<SessionAffinityPolicy>(policies),
    DELAY,
  );
  return { serviceQueue, status, handler };
}

describe('policyEventHandler', () => {
  const svcs = [service('web'), service('api', { labels: { tier: 'backend' } }), service('other', { namespace: 'elsewhere' })];

  it('a new policy enqueues the Services it selects and every status of the namespace', () => {
    const { serviceQueue, status, handler } = policyHandler(svcs, [frontend, backend]);
    handler.onAdd?.(deepFreeze(frontend));
    assert.deepEqual(serviceQueue.added, [`${NS}/web`]);
    assert.deepEqual(status.added, [`${NS}/frontend`]);
    assert.deepEqual(
      status.delayed.map((d) => d.key),
      [`${NS}/frontend`, `${NS}/backend`],
    );
  });

  it('a selector change enqueues the Services of the old and the new selector', () => {
    const { serviceQueue, handler } = policyHandler(svcs, [frontend]);
    const moved = policy('frontend', { serviceSelector: { matchLabels: { tier: 'backend' } } }, { generation: 2 });
    handler.onUpdate?.(deepFreeze(frontend), deepFreeze(moved));
    assert.deepEqual(serviceQueue.added.sort(), [`${NS}/api`, `${NS}/web`]);
  });

  it('a status-only update (same generation: our own write) enqueues nothing', () => {
    const { serviceQueue, status, handler } = policyHandler(svcs, [frontend]);
    handler.onUpdate?.(deepFreeze(frontend), deepFreeze({ ...frontend, status: { matchedServices: 1 } }));
    assert.deepEqual([serviceQueue.added, status.added, status.delayed], [[], [], []]);
  });

  it('deletion starting (a finalizer holds the object) counts as a change', () => {
    const { serviceQueue, handler } = policyHandler(svcs, [frontend]);
    handler.onUpdate?.(deepFreeze(frontend), deepFreeze(policy('frontend', {}, { deletionTimestamp: '2026-02-01T00:00:00Z' })));
    assert.deepEqual(serviceQueue.added, [`${NS}/web`]);
  });

  it('a deleted policy enqueues what it selected and the Services whose record names it', () => {
    const relabelled = service('moved', {
      labels: { tier: 'none' },
      record: {
        kind: 'held',
        policy: 'frontend',
        applied: CLIENT_IP(5),
        previous: NONE,
        previousOwnerSet: false,
      },
    });
    const { serviceQueue, status, handler } = policyHandler([...svcs, relabelled], [backend]);
    handler.onDelete?.(deepFreeze(frontend), false);
    assert.deepEqual(serviceQueue.added.sort(), [`${NS}/moved`, `${NS}/web`]);
    assert.deepEqual(
      status.delayed.map((d) => d.key),
      [`${NS}/backend`],
    );
  });
});
