import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_SERVICE_NAME } from '../../api/labels.ts';
import { StaleCacheError } from '../runtime/reconcile.ts';
import { ENDPOINT_SLICES } from '../runtime/resource.ts';
import { apiError } from '../runtime/testing/api-error.ts';
import { FakeApiClient } from '../runtime/testing/fake-api-client.ts';
import { testContext } from '../runtime/testing/test-context.ts';
import { EndpointSliceTracker } from './endpoint-slice-tracker.ts';
import { applySlicePlan, type SliceOperation, type SliceWrites } from './slice-writer.ts';

const slice = (name: string): EndpointSlice => ({
  metadata: { name, namespace: 'ns', labels: { [LABEL_SERVICE_NAME]: 'svc' } },
  addressType: 'IPv4',
  endpoints: [],
});
const terminating = () => apiError(403, 'Forbidden', [{ reason: 'NamespaceTerminating' }]);

function setup() {
  const client = new FakeApiClient();
  const tracker = new EndpointSliceTracker();
  const writes: SliceOperation[] = [];
  const ctx = {
    client,
    tracker,
    namespace: 'ns',
    owner: 'Service ns/svc',
    signal: new AbortController().signal,
    logger: testContext().logger,
    onWrite: (op: SliceOperation) => writes.push(op),
  };
  const stored = (name: string) => client.object(ENDPOINT_SLICES, 'ns', name) as unknown as EndpointSlice;
  return { client, tracker, writes, ctx, stored };
}

const plan = (p: Partial<SliceWrites>): SliceWrites => ({ toCreate: [], toUpdate: [], toDelete: [], ...p });

describe('applySlicePlan', () => {
  it('creates, updates, then deletes; tracks and reports each write; an empty plan makes no call', async () => {
    const t = setup();
    t.client.seed(ENDPOINT_SLICES, slice('u'), slice('d'));
    const outcome = await applySlicePlan(t.ctx, plan({ toCreate: [slice('c')], toUpdate: [t.stored('u')], toDelete: [t.stored('d')] }));
    assert.deepEqual(outcome, { kind: 'applied' });
    assert.deepEqual(
      t.client.calls.map((c) => `${c.verb} ${c.name}`),
      ['create c', 'update u', 'delete d'],
    );
    assert.deepEqual(t.writes, ['create', 'update', 'delete']);
    assert.equal(t.tracker.shouldSync(t.stored('c')), false, 'our own create is tracked');
    assert.equal(t.tracker.has(t.stored('u')), true);
    const calls = t.client.calls.length;
    assert.deepEqual(await applySlicePlan(t.ctx, plan({})), { kind: 'applied' });
    assert.equal(t.client.calls.length, calls);
  });

  it('stops quietly at a create refused by a terminating namespace', async () => {
    const t = setup();
    t.client.seed(ENDPOINT_SLICES, slice('d'));
    t.client.failOn = (c) => (c.verb === 'create' ? terminating() : undefined);
    const outcome = await applySlicePlan(t.ctx, plan({ toCreate: [slice('a'), slice('b')], toDelete: [t.stored('d')] }));
    assert.deepEqual(outcome, { kind: 'namespace-terminating' });
    assert.deepEqual(
      t.client.calls.map((c) => c.verb),
      ['create'],
    );
  });

  it('fails at the first error with upstream messages; AlreadyExists and Conflict are failures by default', async () => {
    const t = setup();
    t.client.seed(ENDPOINT_SLICES, slice('a'), slice('u'));
    const exists = await applySlicePlan(t.ctx, plan({ toCreate: [slice('a')], toUpdate: [t.stored('u')] }));
    assert.equal(exists.kind, 'failed');
    assert.match(exists.kind === 'failed' ? exists.message : '', /^failed to create EndpointSlice for Service ns\/svc: .*AlreadyExists/);
    assert.equal(t.client.calls.length, 1, 'nothing after the failure');

    const stale = { ...t.stored('u'), metadata: { ...t.stored('u').metadata, resourceVersion: '0' } };
    const conflict = await applySlicePlan(t.ctx, plan({ toUpdate: [stale] }));
    assert.match(conflict.kind === 'failed' ? conflict.message : '', /^failed to update u EndpointSlice for Service ns\/svc: .*Conflict/);
    const asStale = await applySlicePlan(t.ctx, plan({ toUpdate: [stale] }), { conflictIsStaleCache: true });
    assert.ok(asStale.kind === 'stale' && asStale.error instanceof StaleCacheError);
  });

  it('takes a NotFound delete as done (untracked, unreported) unless told to fail', async () => {
    const t = setup();
    assert.deepEqual(await applySlicePlan(t.ctx, plan({ toDelete: [slice('gone')] })), { kind: 'applied' });
    assert.deepEqual(t.writes, []);
    const outcome = await applySlicePlan(t.ctx, plan({ toDelete: [slice('gone')] }), { deleteNotFound: 'fail' });
    assert.match(outcome.kind === 'failed' ? outcome.message : '', /^failed to delete gone EndpointSlice for Service ns\/svc: /);
  });

  it('sends no create while told to skip them, but still updates and deletes', async () => {
    const t = setup();
    t.client.seed(ENDPOINT_SLICES, slice('d'));
    await applySlicePlan(t.ctx, plan({ toCreate: [slice('c')], toDelete: [t.stored('d')] }), { skipCreates: true });
    assert.deepEqual(
      t.client.calls.map((c) => c.verb),
      ['delete'],
    );
  });
});
