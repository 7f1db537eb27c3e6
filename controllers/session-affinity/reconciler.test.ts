import assert from 'node:assert/strict';
import { SERVICES } from '../runtime/resource.ts';
import { FakeApiClient } from '../runtime/testing/fake-api-client.ts';
import { describe, it } from 'node:test';
import type { Service } from '../../api/core/v1.ts';
import type { SessionAffinityPolicy } from '../../api/v1alpha1/session-affinity-policy.ts';
import { StaleCacheError } from '../runtime/reconcile.ts';
import { ApplyFailures } from './apply-failures.ts';
import { FIELD_MANAGER } from './plan.ts';
import { SessionAffinitySyncError, SessionAffinityReconciler } from './reconciler.ts';
import { type AffinityRecord, ANNOTATION_SESSION_AFFINITY_POLICY, formatRecord } from './record.ts';
import {
  apiError,
  CLIENT_IP,
  MemoryStore,
  managedField,
  NONE,
  NS,
  policy,
  RecordingEventRecorder,
  service,
  testContext,
} from './test-fixtures.ts';

const held = (over: Partial<Extract<AffinityRecord, { kind: 'held' }>> = {}): AffinityRecord => ({
  kind: 'held',
  policy: 'sticky',
  applied: CLIENT_IP(3600),
  previous: NONE,
  previousManager: 'kubectl-create',
  previousOwnerSet: false,
  ...over,
});

function setup(given: { services: Service[]; policies: SessionAffinityPolicy[]; live?: Service[] }) {
  const client = new FakeApiClient();
  client.seed(SERVICES, ...(given.live ?? []));
  const recorder = new RecordingEventRecorder();
  const failures = new ApplyFailures();
  const notified: string[] = [];
  const services = new MemoryStore<Service>(given.services);
  const policies = new MemoryStore<SessionAffinityPolicy>(given.policies);
  const reconciler = new SessionAffinityReconciler({
    services,
    policies,
    client,
    recorder,
    failures,
    policyStatusChanged: (key) => notified.push(key),
  });
  const reconcile = (name: string) => reconciler.reconcile({ key: `${NS}/${name}` }, testContext());
  return { client, recorder, failures, notified, services, reconcile };
}

const enforce = policy('sticky', { mode: 'Enforce' });

describe('SessionAffinityReconciler', () => {
  it('makes no call for a converged Service, a Service nobody governs, or a missing one', async () => {
    const { client, recorder, reconcile } = setup({
      services: [
        service('web', { record: held(), affinity: CLIENT_IP(3600) }),
        service('api', { labels: { tier: 'backend' } }),
        service('bad', { labels: { tier: 'backend' }, record: '{' }),
      ],
      policies: [enforce],
    });
    for (const name of ['web', 'api', 'bad', 'gone']) await reconcile(name);
    assert.deepEqual(client.calls, []);
    assert.deepEqual(recorder.events, []);
  });

  it('takes a Service over: reads its owners, then one forced server-side apply of only our fields', async () => {
    const live = service('web', {
      managedFields: [managedField('kubectl-create', 'Update', { a: true })],
    });
    const { client, recorder, reconcile } = setup({
      services: [service('web')],
      policies: [enforce],
      live: [live],
    });
    await reconcile('web');
    assert.deepEqual(client.calls, [
      { verb: 'get', resource: 'services', namespace: NS, name: 'web' },
      {
        verb: 'patch',
        resource: 'services',
        namespace: NS,
        name: 'web',
        patchType: 'apply',
        fieldManager: FIELD_MANAGER,
        force: true,
        body: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: {
            name: 'web',
            namespace: NS,
            resourceVersion: '100',
            annotations: {
              [ANNOTATION_SESSION_AFFINITY_POLICY]: formatRecord(held()),
            },
          },
          spec: {
            sessionAffinity: 'ClientIP',
            sessionAffinityConfig: { clientIP: { timeoutSeconds: 3600 } },
          },
        },
      },
    ]);
    assert.deepEqual(recorder.events, [
      {
        object: {
          kind: 'Service',
          apiVersion: 'v1',
          namespace: NS,
          name: 'web',
          uid: 'uid-web',
          resourceVersion: '100',
        },
        type: 'Normal',
        reason: 'SessionAffinityApplied',
        message: 'Applied sessionAffinity ClientIP (timeout 3600s) from SessionAffinityPolicy sticky (mode Enforce)',
      },
    ]);
  });

  it('restores the previous owner’s value under its name before releasing our fields', async () => {
    const record = held({
      applied: NONE,
      previous: CLIENT_IP(600),
      previousManager: 'helm',
      previousOwnerSet: true,
    });
    const cached = service('web', { record, affinity: NONE });
    const live = service('web', {
      record,
      affinity: NONE,
      managedFields: [managedField(FIELD_MANAGER, 'Apply', { a: true })],
    });
    const { client, recorder, reconcile } = setup({
      services: [cached],
      policies: [],
      live: [live],
    });
    await reconcile('web');
    assert.deepEqual(
      client.calls.map((c) => [c.verb, c.patchType, c.fieldManager, c.force, c.body]),
      [
        ['get', undefined, undefined, undefined, undefined],
        [
          'patch',
          'merge',
          'helm',
          undefined,
          {
            metadata: { resourceVersion: '100' },
            spec: {
              sessionAffinity: 'ClientIP',
              sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
            },
          },
        ],
        [
          'patch',
          'apply',
          FIELD_MANAGER,
          false,
          {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: 'web', namespace: NS },
          },
        ],
      ],
    );
    assert.deepEqual(
      recorder.events.map((e) => [e.reason, e.message]),
      [['SessionAffinityRestored', 'Restored sessionAffinity ClientIP (timeout 600s): SessionAffinityPolicy sticky no longer applies']],
    );
  });

  it('plans from the live object when it differs from the cache', async () => {
    // The cache still shows no record; the live Service was already taken over (our echo has not arrived yet).
    const live = service('web', {
      record: held(),
      affinity: CLIENT_IP(3600),
      resourceVersion: '101',
    });
    const { client, reconcile } = setup({
      services: [service('web')],
      policies: [enforce],
      live: [live],
    });
    await reconcile('web');
    assert.deepEqual(
      client.calls.map((c) => c.verb),
      ['get'],
    );
  });

  it('turns a resourceVersion conflict into a quiet stale-cache retry', async () => {
    const { client, failures, reconcile } = setup({
      services: [service('web', { record: held(), affinity: CLIENT_IP(3600) })],
      policies: [policy('sticky', { mode: 'Enforce', timeoutSeconds: 60 })],
    });
    client.failOn = () => apiError(409, 'Conflict');
    await assert.rejects(reconcile('web'), StaleCacheError);
    assert.equal(failures.get(`${NS}/web`), undefined);
  });

  it('records a failure for the governing policy, tells its status, and clears both on success', async () => {
    const { client, failures, notified, reconcile } = setup({
      services: [service('web', { record: held(), affinity: CLIENT_IP(3600) })],
      policies: [policy('sticky', { mode: 'Enforce', timeoutSeconds: 60 })],
    });
    client.failOn = () => apiError(500, 'InternalError');
    await assert.rejects(reconcile('web'), (err: unknown) => err instanceof SessionAffinitySyncError && err.cause !== undefined);
    assert.equal(failures.get(`${NS}/web`)?.policy, 'sticky');
    assert.deepEqual(notified, [`${NS}/sticky`]);

    client.failOn = undefined;
    await reconcile('web');
    assert.equal(failures.get(`${NS}/web`), undefined);
    assert.deepEqual(notified, [`${NS}/sticky`, `${NS}/sticky`]);
  });

  it('stops when the Service disappears between cache and GET', async () => {
    const { client, reconcile } = setup({
      services: [service('web')],
      policies: [enforce],
    });
    await reconcile('web');
    assert.deepEqual(
      client.calls.map((c) => c.verb),
      ['get'],
    );
  });

  it('after a restart, a namespace of converged Services costs zero API calls', async () => {
    const { client, reconcile } = setup({
      services: [
        service('a', { record: held(), affinity: CLIENT_IP(3600) }),
        service('b', {
          labels: { tier: 'web' },
          record: { kind: 'ownerSet' },
          affinity: CLIENT_IP(5),
        }),
        service('c', { labels: { tier: 'backend' } }),
        service('d', { type: 'ExternalName' }),
      ],
      policies: [enforce, policy('gentle', { serviceSelector: { matchLabels: { tier: 'web' } } })],
    });
    for (const name of ['a', 'b', 'c', 'd']) await reconcile(name);
    assert.deepEqual(client.calls, []);
  });
});
