import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAlreadyExists, isConflict, isNotFound } from '../api-errors.ts';
import { ENDPOINT_SLICES, NODES, SERVICES } from '../resource.ts';
import { FakeApiClient, mergePatch } from './fake-api-client.ts';
import { apiError } from './api-error.ts';

const slice = (name: string, endpoints: string[] = []) => ({
  metadata: { name, namespace: 'ns', labels: { 'kubernetes.io/service-name': 'svc' } },
  addressType: 'IPv4',
  endpoints: endpoints.map((a) => ({ addresses: [a] })),
});

describe('FakeApiClient', () => {
  it('creates with generateName, uid, generation 1 and a new resourceVersion; a taken name is AlreadyExists', async () => {
    const c = new FakeApiClient();
    const created = (await c.create(ENDPOINT_SLICES, 'ns', { metadata: { generateName: 'svc-' }, addressType: 'IPv4' })) as {
      metadata: Record<string, unknown>;
    };
    assert.match(String(created.metadata.name), /^svc-.{5}$/);
    assert.equal(created.metadata.generateName, undefined);
    assert.equal(created.metadata.uid, `uid-${String(created.metadata.name)}`);
    assert.equal(created.metadata.generation, 1);
    assert.equal(created.metadata.namespace, 'ns');
    assert.equal(c.calls[0]?.name, '', 'the call records the name as requested');
    await c.create(ENDPOINT_SLICES, 'ns', slice('a'));
    await assert.rejects(c.create(ENDPOINT_SLICES, 'ns', slice('a')), isAlreadyExists);
  });

  it('updates: NotFound when missing, Conflict on a stale resourceVersion, generation bumped only for content or labels', async () => {
    const c = new FakeApiClient();
    await assert.rejects(c.update(ENDPOINT_SLICES, 'ns', 'a', slice('a')), isNotFound);
    const v1 = (await c.create(ENDPOINT_SLICES, 'ns', slice('a'))) as { metadata: { resourceVersion: string; generation: number } };
    const v2 = (await c.update(ENDPOINT_SLICES, 'ns', 'a', {
      ...slice('a', ['10.0.0.1']),
      metadata: { ...slice('a').metadata, ...v1.metadata },
    })) as {
      metadata: { resourceVersion: string; generation: number; uid: string };
    };
    assert.equal(v2.metadata.generation, 2);
    assert.notEqual(v2.metadata.resourceVersion, v1.metadata.resourceVersion);
    await assert.rejects(
      c.update(ENDPOINT_SLICES, 'ns', 'a', {
        ...slice('a'),
        metadata: { ...slice('a').metadata, resourceVersion: v1.metadata.resourceVersion },
      }),
      isConflict,
    );
    const v3 = (await c.update(ENDPOINT_SLICES, 'ns', 'a', {
      ...slice('a', ['10.0.0.1']),
      metadata: { ...slice('a').metadata, annotations: { x: 'y' } },
    })) as {
      metadata: { generation: number; uid: string };
    };
    assert.equal(v3.metadata.generation, 2, 'an annotation is metadata: no new generation');
    assert.equal(v3.metadata.uid, 'uid-a');
  });

  it('merge-patches (status subresource: status only), deletes with NotFound when missing', async () => {
    const c = new FakeApiClient();
    c.seed(SERVICES, { metadata: { name: 's', namespace: 'ns' }, spec: { a: 1 }, status: { x: { y: 1, z: 2 } } });
    await c.patch(SERVICES, 'ns', 's', { spec: { a: 2 }, status: { x: { y: null } } }, 'merge', { subresource: 'status' });
    assert.deepEqual(c.object(SERVICES, 'ns', 's')?.spec, { a: 1 });
    assert.deepEqual(c.object(SERVICES, 'ns', 's')?.status, { x: { z: 2 } });
    await assert.rejects(c.patch(SERVICES, 'ns', 'missing', {}, 'merge'), isNotFound);
    await c.delete(SERVICES, 'ns', 's');
    await assert.rejects(c.delete(SERVICES, 'ns', 's'), isNotFound);
    assert.deepEqual(mergePatch({ a: [1, 2], b: 1 }, { a: [3] }), { a: [3], b: 1 });
  });

  it('lists by namespace, label and field selector', async () => {
    const c = new FakeApiClient();
    c.seed(ENDPOINT_SLICES, slice('a'), { ...slice('b'), metadata: { name: 'b', namespace: 'other', labels: {} } });
    c.seed(NODES, { metadata: { name: 'n1' } });
    const names = async (ns: string, opts = {}) =>
      (await c.list(ENDPOINT_SLICES, ns, opts)).items.map((o) => (o as { metadata: { name: string } }).metadata.name);
    assert.deepEqual(await names(''), ['a', 'b']);
    assert.deepEqual(await names('ns'), ['a']);
    assert.deepEqual(await names('', { labelSelector: 'kubernetes.io/service-name=svc' }), ['a']);
    assert.deepEqual(await names('', { labelSelector: '!kubernetes.io/service-name' }), ['b']);
    assert.deepEqual(await names('', { fieldSelector: 'metadata.name=b' }), ['b']);
  });

  it('records every call, then injects failures before anything is stored', async () => {
    const c = new FakeApiClient();
    c.failOnce = (call) => (call.verb === 'create' ? apiError(500, 'InternalError') : undefined);
    await assert.rejects(c.create(ENDPOINT_SLICES, 'ns', slice('a')));
    assert.equal(c.object(ENDPOINT_SLICES, 'ns', 'a'), undefined);
    await c.create(ENDPOINT_SLICES, 'ns', slice('a'));
    assert.deepEqual(
      c.calls.map((x) => `${x.verb} ${x.name}`),
      ['create a', 'create a'],
    );
    c.hang = true;
    const abort = new AbortController();
    const pending = c.get(ENDPOINT_SLICES, 'ns', 'a', abort.signal);
    abort.abort(new Error('stopped'));
    await assert.rejects(pending, /stopped/);
  });
});
