import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeControllerRegistry } from '../runtime/testing/fake-controller-registry.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { EVENT_COMPONENT, InvalidEndpointsOptionsError, setupEndpointsController, USER_AGENT } from './controller.ts';
import { testEndpoints, testPod, testService } from './test-fixtures.ts';

function fakeRegistry() {
  const registry = new FakeControllerRegistry();
  const informer = (plural: string) => registry.informerFor<unknown>(plural);
  const enqueued = () => registry.enqueued.map((e) => [e.key, e.delayMs ?? 0]);
  return { registry, informer, enqueued };
}

describe('setupEndpointsController', () => {
  it('uses upstream names, defaults and the client-go default rate limiter', () => {
    const f = fakeRegistry();
    setupEndpointsController(f.registry);
    assert.deepEqual(f.registry.clients, [USER_AGENT]);
    assert.equal(USER_AGENT, 'endpoint-controller');
    assert.deepEqual(f.registry.recorders, [EVENT_COMPONENT]);
    assert.equal(EVENT_COMPONENT, 'endpoint-controller');
    const options = f.registry.controllers[0];
    assert.equal(options?.name, 'endpoints-controller');
    assert.equal(options?.workers, 5);
    assert.equal(options?.maxRetries, 15);
    // 5 ms·2ⁿ per key: the first three retries of one key.
    assert.deepEqual([options?.rateLimiter?.when('k'), options?.rateLimiter?.when('k'), options?.rateLimiter?.when('k')], [5, 10, 20]);
  });

  it('watches Services, Pods and Endpoints through the API schemas', () => {
    const f = fakeRegistry();
    setupEndpointsController(f.registry);
    assert.deepEqual(f.registry.informerKeys().sort(), ['endpoints?', 'pods?', 'services?']);
    const pod = f.informer('pods').spec.parse({ metadata: { name: 'p', namespace: 'ns', uid: 'u', resourceVersion: '1' } }) as {
      spec: { containers: unknown[] };
    };
    assert.deepEqual(pod.spec.containers, []);
    assert.throws(() => f.informer('services').spec.parse({ spec: {} }));
    assert.throws(() => f.informer('endpoints').spec.parse({ metadata: {}, subsets: [{ addresses: [{}] }] }));
  });

  it('wires handlers: Services at once, Pods after the batch period, Endpoints deletes', () => {
    const f = fakeRegistry();
    setupEndpointsController(f.registry, { batchPeriodMs: 2000, workers: 2 });
    assert.equal(f.registry.controllers[0]?.workers, 2);
    const services = f.informer('services');
    const svc = deepFreeze(testService());
    services.store.upsert(svc);
    for (const h of services.handlers ?? []) h.onAdd?.(svc);
    for (const h of f.informer('pods').handlers ?? []) h.onAdd?.(deepFreeze(testPod('ns', 0, 1, true)));
    for (const h of f.informer('endpoints').handlers ?? []) h.onDelete?.(deepFreeze(testEndpoints()), false);
    assert.deepEqual(f.enqueued(), [
      ['ns/foo', 0],
      ['ns/foo', 2000],
      ['ns/foo', 0],
    ]);
  });

  it('on start, enqueues every cached Endpoints except leader-election locks', async () => {
    const f = fakeRegistry();
    setupEndpointsController(f.registry);
    const endpoints = f.informer('endpoints');
    endpoints.store.upsert(deepFreeze(testEndpoints({ metadata: { name: 'orphan', labels: {} } })));
    endpoints.store.upsert(
      deepFreeze(testEndpoints({ metadata: { name: 'lock', annotations: { 'control-plane.alpha.kubernetes.io/leader': '{}' } } })),
    );
    await f.registry.controllers[0]?.onStart?.(new AbortController().signal);
    assert.deepEqual(f.enqueued(), [['ns/orphan', 0]]);
  });

  it('rejects invalid options', () => {
    assert.throws(() => setupEndpointsController(fakeRegistry().registry, { workers: 0 }), InvalidEndpointsOptionsError);
    assert.throws(() => setupEndpointsController(fakeRegistry().registry, { batchPeriodMs: -1 }), InvalidEndpointsOptionsError);
  });
});
