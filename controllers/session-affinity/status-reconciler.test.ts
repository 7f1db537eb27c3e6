import assert from 'node:assert/strict';
import { FakeApiClient } from '../runtime/testing/fake-api-client.ts';
import { describe, it } from 'node:test';
import type { Service } from '../../api/core/v1.ts';
import { type SessionAffinityPolicy, sessionAffinityPolicySchema } from '../../api/v1alpha1/session-affinity-policy.ts';
import { FakeClock } from '../runtime/clock.ts';
import { ApplyFailures } from './apply-failures.ts';
import { FIELD_MANAGER } from './plan.ts';
import { PolicyStatusSyncError, PolicyStatusReconciler } from './status-reconciler.ts';
import { apiError, CLIENT_IP, MemoryStore, NONE, NS, policy, service, testContext } from './test-fixtures.ts';

function setup(given: { policies: SessionAffinityPolicy[]; services: Service[] }) {
  const client = new FakeApiClient();
  const policies = new MemoryStore<SessionAffinityPolicy>(given.policies);
  const services = new MemoryStore<Service>(given.services);
  const clock = new FakeClock(Date.parse('2026-03-01T12:00:00Z'));
  const reconciler = new PolicyStatusReconciler({
    policies,
    services,
    failures: new ApplyFailures(),
    client,
    clock,
  });
  const reconcile = (name: string) => reconciler.reconcile({ key: `${NS}/${name}` }, testContext());
  return { client, policies, reconcile };
}

const applied = service('web', {
  record: {
    kind: 'held',
    policy: 'sticky',
    applied: CLIENT_IP(3600),
    previous: NONE,
    previousOwnerSet: false,
  },
  affinity: CLIENT_IP(3600),
});

describe('PolicyStatusReconciler', () => {
  it('applies the whole status to the status subresource under our field manager', async () => {
    const { client, reconcile } = setup({
      policies: [policy('sticky', { mode: 'Enforce' }, { generation: 2 })],
      services: [applied],
    });
    await reconcile('sticky');
    assert.equal(client.calls.length, 1);
    const [call] = client.calls;
    assert.deepEqual(
      { ...call, body: undefined },
      {
        verb: 'patch',
        resource: 'sessionaffinitypolicies',
        namespace: NS,
        name: 'sticky',
        patchType: 'apply',
        fieldManager: FIELD_MANAGER,
        force: true,
        subresource: 'status',
        body: undefined,
      },
    );
    assert.deepEqual(call?.body, {
      apiVersion: 'kube-endpoints-operator.io/v1alpha1',
      kind: 'SessionAffinityPolicy',
      metadata: { name: 'sticky', namespace: NS },
      status: {
        observedGeneration: 2,
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            observedGeneration: 2,
            lastTransitionTime: '2026-03-01T12:00:00Z',
            reason: 'Applied',
            message: 'Applied to 1 Service',
          },
          {
            type: 'Conflict',
            status: 'False',
            observedGeneration: 2,
            lastTransitionTime: '2026-03-01T12:00:00Z',
            reason: 'NoConflict',
            message: 'No selected Service is governed by another policy',
          },
        ],
        matchedServices: 1,
        appliedServices: 1,
        conflictingServices: 0,
        services: [{ name: 'web', state: 'Applied' }],
      },
    });
  });

  it('writes nothing when the stored status is already the desired one', async () => {
    const first = setup({ policies: [policy('sticky')], services: [applied] });
    await first.reconcile('sticky');
    const written = (first.client.calls[0]?.body as { status?: unknown } | undefined)?.status;
    // As the informer would cache it after the write: through the JSON wire format and the zod parse.
    const stored = sessionAffinityPolicySchema.parse(JSON.parse(JSON.stringify({ ...policy('sticky'), status: written })));

    const { client, reconcile } = setup({
      policies: [stored],
      services: [applied],
    });
    await reconcile('sticky');
    assert.deepEqual(client.calls, []);
  });

  it('does nothing for a deleted policy, or one deleted while writing', async () => {
    const gone = setup({ policies: [], services: [applied] });
    await gone.reconcile('sticky');
    assert.deepEqual(gone.client.calls, []);

    const racing = setup({ policies: [policy('sticky')], services: [applied] });
    racing.client.failOn = () => apiError(404, 'NotFound');
    await racing.reconcile('sticky');
  });

  it('wraps other write failures', async () => {
    const { client, reconcile } = setup({
      policies: [policy('sticky')],
      services: [applied],
    });
    client.failOn = () => apiError(503, 'ServiceUnavailable');
    await assert.rejects(reconcile('sticky'), PolicyStatusSyncError);
  });
});
