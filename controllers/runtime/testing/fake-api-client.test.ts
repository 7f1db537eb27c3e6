import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAlreadyExists, isConflict, isNotFound } from '../api-errors.ts';
import { ENDPOINT_SLICES, NODES, PODS, SERVICES } from '../resource.ts';
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

  it('answers getPath from seeded paths, NotFound for any other', async () => {
    const c = new FakeApiClient();
    c.seedPath('/version', { gitVersion: 'v1.37.2' });
    assert.deepEqual(await c.getPath('/version'), { gitVersion: 'v1.37.2' });
    await assert.rejects(c.getPath('/healthz'), isNotFound);
    assert.deepEqual(
      c.calls.map((x) => [x.verb, x.path]),
      [
        ['getPath', '/version'],
        ['getPath', '/healthz'],
      ],
    );
    assert.deepEqual(c.writes, []);
  });

  it('deletes only when the uid and resourceVersion preconditions match (Conflict otherwise)', async () => {
    const c = new FakeApiClient();
    c.seed(PODS, { metadata: { name: 'p', namespace: 'ns', uid: 'u1', resourceVersion: '7' } });
    await assert.rejects(c.delete(PODS, 'ns', 'p', { preconditions: { uid: 'u0' } }), isConflict);
    await assert.rejects(c.delete(PODS, 'ns', 'p', { preconditions: { resourceVersion: '6' } }), isConflict);
    assert.notEqual(c.object(PODS, 'ns', 'p'), undefined);
    await c.delete(PODS, 'ns', 'p', { preconditions: { uid: 'u1', resourceVersion: '7' } });
    assert.equal(c.object(PODS, 'ns', 'p'), undefined);
  });

  it('binds a Pod: sets spec.nodeName; NotFound when missing, Conflict for another uid, a bound or deleting Pod', async () => {
    const c = new FakeApiClient();
    const bind = (name: string, uid: string, node: string) =>
      c.create(
        PODS,
        'ns',
        { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: 'ns', uid }, target: { kind: 'Node', name: node } },
        { subresource: { name, subresource: 'binding' } },
      );
    c.seed(
      PODS,
      { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [] } },
      { metadata: { name: 'd', namespace: 'ns', uid: 'd1', deletionTimestamp: '2026-01-01T00:00:00Z' }, spec: {} },
    );
    await assert.rejects(bind('missing', 'm', 'n1'), isNotFound);
    await assert.rejects(bind('p', 'other-uid', 'n1'), isConflict);
    await assert.rejects(bind('d', 'd1', 'n1'), isConflict);
    const before = c.object(PODS, 'ns', 'p')?.metadata.resourceVersion;
    await bind('p', 'u1', 'n1');
    const bound = c.object(PODS, 'ns', 'p');
    assert.deepEqual(bound?.spec, { containers: [], nodeName: 'n1' });
    assert.notEqual(bound?.metadata.resourceVersion, before);
    await assert.rejects(bind('p', 'u1', 'n2'), (err: unknown) => isConflict(err) && /already assigned to node "n1"/.test(String(err)));
    assert.deepEqual(
      c.calls.map((x) => [x.verb, x.resource, x.name, x.subresource]),
      ['missing', 'p', 'd', 'p', 'p'].map((name) => ['create', 'pods', name, 'binding']),
    );
  });
});
