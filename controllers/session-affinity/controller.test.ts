import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from '../../api/core/v1.ts';
import type { SessionAffinityPolicy } from '../../api/v1alpha1/session-affinity-policy.ts';
import { FakeControllerRegistry } from '../runtime/testing/fake-controller-registry.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import {
  CONTROLLER_NAME,
  EVENT_COMPONENT,
  InvalidSessionAffinityOptionsError,
  STATUS_CONTROLLER_NAME,
  setupSessionAffinityController,
  USER_AGENT,
} from './controller.ts';
import { NS, policy, service } from './test-fixtures.ts';

describe('setupSessionAffinityController', () => {
  it('registers the two queues, informers for Services and policies, one client and one event source', () => {
    const registry = new FakeControllerRegistry();
    const handles = setupSessionAffinityController(registry);
    assert.deepEqual(
      registry.controllers.map((c) => [c.name, c.workers]),
      [
        [STATUS_CONTROLLER_NAME, 1],
        [CONTROLLER_NAME, 2],
      ],
    );
    assert.equal(CONTROLLER_NAME, 'session-affinity-controller');
    assert.deepEqual([handles.services.name, handles.status.name], [CONTROLLER_NAME, STATUS_CONTROLLER_NAME]);
    assert.deepEqual(
      registry.informers.map((i) => i.spec.resource.plural),
      ['services', 'sessionaffinitypolicies'],
    );
    assert.deepEqual(registry.clients, [USER_AGENT]);
    assert.deepEqual(registry.recorders, [EVENT_COMPONENT]);
    assert.ok(registry.controllers.every((c) => c.rateLimiter !== undefined));
    assert.notEqual(registry.controllers[0]?.rateLimiter, registry.controllers[1]?.rateLimiter, 'one limiter per queue');
  });

  it('parses policies with the CRD defaults and refuses invalid ones', () => {
    const registry = new FakeControllerRegistry();
    setupSessionAffinityController(registry);
    const { parse } = registry.informerFor<SessionAffinityPolicy>('sessionaffinitypolicies').spec;
    const parsed = parse({
      metadata: { name: 'p', namespace: NS },
      spec: { serviceSelector: {}, sessionAffinity: 'None' },
    });
    assert.deepEqual([parsed.spec.mode, parsed.spec.priority], ['Default', 0]);
    assert.throws(() =>
      parse({
        metadata: { name: 'p' },
        spec: {
          serviceSelector: {},
          sessionAffinity: 'None',
          timeoutSeconds: 5,
        },
      }),
    );
  });

  it('routes informer events to the queues', () => {
    const registry = new FakeControllerRegistry();
    setupSessionAffinityController(registry, { statusBatchPeriodMs: 250 });
    const services = registry.informerFor<Service>('services');
    const policies = registry.informerFor<SessionAffinityPolicy>('sessionaffinitypolicies');
    policies.store.upsert(deepFreeze(policy('sticky')));
    for (const h of services.handlers) h.onAdd?.(service('web'));
    assert.deepEqual(
      registry.enqueued.map((e) => [e.controller, e.key, e.delayMs]),
      [
        [CONTROLLER_NAME, `${NS}/web`, undefined],
        [STATUS_CONTROLLER_NAME, `${NS}/sticky`, 250],
      ],
    );
  });

  it('refuses options out of range', () => {
    assert.throws(() => setupSessionAffinityController(new FakeControllerRegistry(), { workers: 0 }), InvalidSessionAffinityOptionsError);
    assert.throws(
      () =>
        setupSessionAffinityController(new FakeControllerRegistry(), {
          statusWorkers: 51,
        }),
      InvalidSessionAffinityOptionsError,
    );
    assert.throws(
      () =>
        setupSessionAffinityController(new FakeControllerRegistry(), {
          statusBatchPeriodMs: -1,
        }),
      InvalidSessionAffinityOptionsError,
    );
  });
});
