import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoints, Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME, MANAGED_BY_MIRRORING_CONTROLLER } from '../../api/labels.ts';
import { FakeControllerRegistry } from '../runtime/testing/fake-controller-registry.ts';
import {
  CONTROLLER_NAME,
  EVENT_COMPONENT,
  InvalidEndpointSliceMirroringOptionsError,
  setupEndpointSliceMirroringController,
  USER_AGENT,
} from './controller.ts';
import { MIRRORED_SLICES_INDEX } from './mirrored-slices.ts';

const enqueued = (registry: FakeControllerRegistry) => registry.enqueued.map((e) => [e.key, e.delayMs]);

describe('setupEndpointSliceMirroringController', () => {
  it('wires upstream names: controller, user agent, event component, retry budget', () => {
    const registry = new FakeControllerRegistry();
    const handle = setupEndpointSliceMirroringController(registry, { workers: 3, maxEndpointsPerSubset: 500, batchPeriodMs: 0 });
    assert.equal(handle.name, 'endpointslice-mirroring-controller');
    assert.equal(CONTROLLER_NAME, 'endpointslice-mirroring-controller');
    assert.deepEqual(registry.clients, [USER_AGENT]);
    assert.equal(USER_AGENT, 'endpointslicemirroring-controller');
    assert.deepEqual(registry.recorders, [EVENT_COMPONENT]);
    assert.equal(EVENT_COMPONENT, 'endpoint-slice-mirroring-controller');
    const [options] = registry.controllers;
    assert.equal(options?.workers, 3);
    assert.equal(options?.maxRetries, 15);
  });

  it('watches Endpoints, Services and EndpointSlices, parsing with the API schemas', () => {
    const registry = new FakeControllerRegistry();
    setupEndpointSliceMirroringController(registry);
    assert.deepEqual(registry.informerKeys().sort(), ['endpoints?', 'endpointslices?', 'services?']);
    const slices = registry.informerFor<EndpointSlice>('endpointslices');
    assert.ok(slices.spec.indexers?.[MIRRORED_SLICES_INDEX]);
    assert.equal(slices.spec.labelSelector, undefined, 'unfiltered, so managed-by changes are seen as updates');
    assert.throws(() => slices.spec.parse({ metadata: {}, addressType: 'bogus' }));
    assert.deepEqual(registry.informerFor<Endpoints>('endpoints').spec.parse({ metadata: { name: 'a' } }), { metadata: { name: 'a' } });
  });

  it('retries 1 s, 2 s, 4 s ... capped at 100 s by default', () => {
    const registry = new FakeControllerRegistry();
    setupEndpointSliceMirroringController(registry);
    const limiter = registry.controllers[0]?.rateLimiter;
    assert.ok(limiter);
    assert.deepEqual(
      Array.from({ length: 9 }, () => limiter.when('ns/a')),
      [1000, 2000, 4000, 8000, 16000, 32000, 64000, 100000, 100000],
    );
    limiter.forget('ns/a');
    assert.equal(limiter.when('ns/a'), 1000);
  });

  it('routes informer events to the queue: Endpoints and Services at once, slices after the batch period', () => {
    const registry = new FakeControllerRegistry();
    setupEndpointSliceMirroringController(registry, { batchPeriodMs: 1500 });
    const ep: Endpoints = { metadata: { name: 'a', namespace: 'ns' } };
    const svc: Service = { metadata: { name: 'b', namespace: 'ns' }, spec: {} };
    const slice: EndpointSlice = {
      metadata: {
        name: 'c-x',
        namespace: 'ns',
        uid: 'u',
        labels: { [LABEL_SERVICE_NAME]: 'c', [LABEL_MANAGED_BY]: MANAGED_BY_MIRRORING_CONTROLLER },
      },
      addressType: 'IPv4',
    };
    for (const h of registry.informerFor<Endpoints>('endpoints').handlers) h.onAdd?.(ep);
    for (const h of registry.informerFor<Service>('services').handlers) h.onAdd?.(svc);
    for (const h of registry.informerFor<EndpointSlice>('endpointslices').handlers) h.onAdd?.(slice);
    assert.deepEqual(enqueued(registry), [
      ['ns/a', undefined],
      ['ns/b', undefined],
      ['ns/c', 1500],
    ]);
  });

  it('rejects options outside upstream ranges', () => {
    for (const options of [
      { workers: 0 },
      { workers: 51 },
      { maxEndpointsPerSubset: 0 },
      { maxEndpointsPerSubset: 1001 },
      { batchPeriodMs: -1 },
    ]) {
      assert.throws(
        () => setupEndpointSliceMirroringController(new FakeControllerRegistry(), options),
        InvalidEndpointSliceMirroringOptionsError,
        JSON.stringify(options),
      );
    }
  });
});
