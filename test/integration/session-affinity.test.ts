import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { type Service, serviceSchema } from '../../api/core/v1.ts';
import {
  type SessionAffinityPolicy,
  type SessionAffinityPolicySpecInput,
  sessionAffinityPolicySchema,
} from '../../api/v1alpha1/session-affinity-policy.ts';
import { type Affinity, serviceAffinity } from '../../controllers/session-affinity/affinity.ts';
import { setupSessionAffinityController } from '../../controllers/session-affinity/controller.ts';
import { affinityOwnership } from '../../controllers/session-affinity/ownership.ts';
import { FIELD_MANAGER } from '../../controllers/session-affinity/plan.ts';
import { ANNOTATION_SESSION_AFFINITY_POLICY, readRecord } from '../../controllers/session-affinity/record.ts';
import { SESSION_AFFINITY_POLICIES } from '../../controllers/session-affinity/resources.ts';
import { newApiClient, type RequestRecord } from '../../controllers/runtime/api-client.ts';
import { ApiError, isInvalid } from '../../controllers/runtime/api-errors.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import { Manager } from '../../controllers/runtime/manager.ts';
import { EVENTS, SERVICES } from '../../controllers/runtime/resource.ts';
import { startTestCluster } from '../envtest/test-cluster.ts';
import { waitFor } from '../envtest/wait-for.ts';
import { waitForCrdsEstablished } from '../envtest/crds-established.ts';

// SessionAffinityPolicy against a real kube-apiserver: the CRD's validation, and the controller's server-side apply,
// ownership and restore semantics, which only the real field manager can confirm (a fake would just echo our model).

const env = await startTestCluster({ name: 'session-affinity-test' });
const run = promisify(execFile);
const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', env.cluster.kubeconfigPath, ...args], { timeout: 60_000 });
await kubectl('apply', '-f', join(import.meta.dirname, '../../config/crd/bases'));
await waitForCrdsEstablished(env.client, ['sessionaffinitypolicies.kube-endpoints-operator.io']);

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete']);
const CLIENT_IP = (timeoutSeconds: number): Affinity => ({ sessionAffinity: 'ClientIP', timeoutSeconds });
const NONE: Affinity = { sessionAffinity: 'None' };

/** A running operator with only this controller; `requests` sees every API call it makes. */
interface Operator {
  readonly requests: RequestRecord[];
  readonly registry: Registry;
  stop(): Promise<void>;
}

function startOperator(): Operator {
  const requests: RequestRecord[] = [];
  const client = newApiClient(env.kubeConfig, {
    clock: realClock,
    qps: 1000,
    burst: 2000,
    userAgent: 'session-affinity-test',
    observer: (r) => requests.push(r),
  });
  const registry = new Registry();
  const manager = new Manager({
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    client,
    registry,
    gracefulShutdownTimeoutMs: 5_000,
  });
  setupSessionAffinityController(manager, { statusBatchPeriodMs: 100 });
  const abort = new AbortController();
  const outcome = manager.start(abort.signal);
  let stopped: Promise<void> | undefined;
  return {
    requests,
    registry,
    stop: () => {
      stopped ??= (async () => {
        abort.abort();
        await outcome;
      })();
      return stopped;
    },
  };
}

let operator: Operator;
before(() => {
  operator = startOperator();
});
after(() => operator.stop());

// ---- helpers -----------------------------------------------------------------------------------------------------------

/** Creates a Service the way `kubectl create` does: an Update operation under its own field manager. */
async function createService(
  ns: string,
  name: string,
  opts: { labels?: Record<string, string>; affinity?: Affinity; type?: string; manager?: string } = {},
): Promise<void> {
  const spec: Record<string, unknown> =
    opts.type === 'ExternalName'
      ? { type: 'ExternalName', externalName: 'db.example.com' }
      : { selector: { app: name }, ports: [{ port: 80 }] };
  if (opts.affinity?.sessionAffinity === 'ClientIP') {
    spec.sessionAffinity = 'ClientIP';
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: opts.affinity.timeoutSeconds } };
  }
  await env.client.create(
    SERVICES,
    ns,
    { apiVersion: 'v1', kind: 'Service', metadata: { name, labels: opts.labels ?? { tier: 'frontend' } }, spec },
    { fieldManager: opts.manager ?? 'kubectl-create' },
  );
}

async function getService(ns: string, name: string): Promise<Service> {
  return serviceSchema.parse(await env.client.get(SERVICES, ns, name));
}

function policyBody(name: string, spec: Partial<SessionAffinityPolicySpecInput>): Record<string, unknown> {
  return {
    apiVersion: 'kube-endpoints-operator.io/v1alpha1',
    kind: 'SessionAffinityPolicy',
    metadata: { name },
    spec: { serviceSelector: { matchLabels: { tier: 'frontend' } }, sessionAffinity: 'ClientIP', timeoutSeconds: 3600, ...spec },
  };
}

async function createPolicy(ns: string, name: string, spec: Partial<SessionAffinityPolicySpecInput>): Promise<void> {
  await env.client.create(SESSION_AFFINITY_POLICIES, ns, policyBody(name, spec));
}

async function getPolicy(ns: string, name: string): Promise<SessionAffinityPolicy> {
  return sessionAffinityPolicySchema.parse(await env.client.get(SESSION_AFFINITY_POLICIES, ns, name));
}

/** Waits until the Service's affinity equals `want`, and returns the Service. */
async function waitForAffinity(ns: string, name: string, want: Affinity, timeoutMs = 15_000): Promise<Service> {
  return waitFor(
    async () => {
      const s = await getService(ns, name);
      return JSON.stringify(serviceAffinity(s)) === JSON.stringify(want) ? s : false;
    },
    { description: `Service ${ns}/${name} to have affinity ${JSON.stringify(want)}`, timeoutMs },
  );
}

/** Waits until the policy's status satisfies `check` (which throws or returns false until then). */
async function waitForStatus(
  ns: string,
  name: string,
  check: (p: SessionAffinityPolicy) => boolean,
  what: string,
): Promise<SessionAffinityPolicy> {
  return waitFor(
    async () => {
      const p = await getPolicy(ns, name);
      return check(p) ? p : false;
    },
    { description: `status of SessionAffinityPolicy ${ns}/${name}: ${what}`, timeoutMs: 15_000 },
  );
}

/** Waits until our field manager holds nothing on the Service and the record annotation is gone. */
async function waitForReleased(ns: string, name: string): Promise<Service> {
  return waitFor(
    async () => {
      const s = await getService(ns, name);
      const ours = (s.metadata.managedFields ?? []).some((e) => (e as { manager?: string }).manager === FIELD_MANAGER);
      return !ours && s.metadata.annotations?.[ANNOTATION_SESSION_AFFINITY_POLICY] === undefined ? s : false;
    },
    { description: `Service ${ns}/${name} released by ${FIELD_MANAGER}`, timeoutMs: 15_000 },
  );
}

async function rejected(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => assert.fail('the API server accepted an invalid policy'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
  return err;
}

async function eventReasons(ns: string, name: string): Promise<string[]> {
  const list = await env.client.list(EVENTS, ns, { fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => (e as { reason?: string }).reason ?? '').sort();
}

const servicesStatus = (p: SessionAffinityPolicy) =>
  p.status?.services?.map((s) => `${s.name}:${s.state}${s.governedBy ? `:${s.governedBy}` : ''}`);

// ---- tests -------------------------------------------------------------------------------------------------------------

describe('SessionAffinityPolicy validation by the API server', () => {
  const cases: { name: string; spec: Partial<SessionAffinityPolicySpecInput> | Record<string, unknown>; want: string }[] = [
    {
      name: 'timeout 0',
      spec: { timeoutSeconds: 0 },
      want: 'spec.timeoutSeconds: Invalid value: 0: spec.timeoutSeconds in body should be greater than or equal to 1',
    },
    {
      name: 'timeout 86401',
      spec: { timeoutSeconds: 86401 },
      want: 'spec.timeoutSeconds: Invalid value: 86401: spec.timeoutSeconds in body should be less than or equal to 86400',
    },
    {
      name: 'a timeout with None',
      spec: { sessionAffinity: 'None', timeoutSeconds: 60 },
      want: 'spec.timeoutSeconds: Forbidden: timeoutSeconds may only be set when sessionAffinity is ClientIP',
    },
    {
      name: 'a selector requirement without values',
      spec: { serviceSelector: { matchExpressions: [{ key: 'tier', operator: 'In' }] } },
      want: 'spec.serviceSelector.matchExpressions[0].values: Required value: values must be non-empty when operator is In or NotIn',
    },
    {
      name: 'a selector with an invalid label key',
      spec: { serviceSelector: { matchLabels: { 'bad key!': 'x' } } },
      want: 'spec.serviceSelector.matchLabels: Invalid value',
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name} with a readable message`, async () => {
      const ns = await env.createNamespace('sap-invalid');
      const err = await rejected(
        env.client.create(SESSION_AFFINITY_POLICIES, ns, policyBody('bad', c.spec as Partial<SessionAffinityPolicySpecInput>)),
      );
      assert.ok(isInvalid(err), err.message);
      assert.ok(err.message.includes(c.want), err.message);
    });
  }

  it('accepts a valid policy and defaults mode and priority', async () => {
    const ns = await env.createNamespace('sap-valid');
    await createPolicy(ns, 'ok', {});
    const p = await getPolicy(ns, 'ok');
    assert.deepEqual([p.spec.mode, p.spec.priority], ['Default', 0]);
  });
});

describe('SessionAffinityPolicy controller', () => {
  it('sets the affinity on matching Services only, and reports them in status', async () => {
    const ns = await env.createNamespace('sap-apply');
    await createService(ns, 'web');
    await createService(ns, 'api', { labels: { tier: 'backend' } });
    await createService(ns, 'ext', { type: 'ExternalName' });
    await createPolicy(ns, 'sticky', { mode: 'Enforce' });

    const web = await waitForAffinity(ns, 'web', CLIENT_IP(3600));
    const ownership = affinityOwnership(web.metadata.managedFields, FIELD_MANAGER);
    assert.deepEqual(ownership.ours, { sessionAffinity: true, timeoutSeconds: true });
    assert.deepEqual(readRecord(web), {
      kind: 'held',
      policy: 'sticky',
      applied: CLIENT_IP(3600),
      previous: NONE,
      previousManager: 'kubectl-create',
      previousOwnerSet: false,
    });

    const p = await waitForStatus(ns, 'sticky', (q) => q.status?.appliedServices === 1 && q.status.matchedServices === 2, '1 of 2 applied');
    assert.deepEqual(servicesStatus(p), ['ext:Unsupported', 'web:Applied']);
    assert.equal(p.status?.observedGeneration, 1);
    assert.deepEqual(
      p.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['Ready', 'True', 'Applied'],
        ['Conflict', 'False', 'NoConflict'],
      ],
    );
    assert.deepEqual(serviceAffinity(await getService(ns, 'api')), NONE);
    assert.deepEqual(serviceAffinity(await getService(ns, 'ext')), NONE);
    await waitFor(async () => (await eventReasons(ns, 'web')).includes('SessionAffinityApplied'), { description: 'Applied event on web' });
  });

  it('follows a Service relabelled into and out of the selector', async () => {
    const ns = await env.createNamespace('sap-relabel');
    await createService(ns, 'web', { labels: { tier: 'backend' } });
    await createPolicy(ns, 'sticky', { mode: 'Enforce' });
    await waitForStatus(ns, 'sticky', (p) => p.status?.matchedServices === 0, 'nothing matched');

    await env.client.patch(SERVICES, ns, 'web', { metadata: { labels: { tier: 'frontend' } } }, 'merge', { fieldManager: 'kubectl-label' });
    await waitForAffinity(ns, 'web', CLIENT_IP(3600));

    await env.client.patch(SERVICES, ns, 'web', { metadata: { labels: { tier: 'backend' } } }, 'merge', { fieldManager: 'kubectl-label' });
    await waitForAffinity(ns, 'web', NONE);
    await waitForReleased(ns, 'web');
    await waitForStatus(ns, 'sticky', (p) => p.status?.matchedServices === 0, 'nothing matched again');
  });

  it('resolves overlapping policies by priority, reports the conflict, and hands over when the winner goes', async () => {
    const ns = await env.createNamespace('sap-overlap');
    await createService(ns, 'web');
    await createPolicy(ns, 'low', { mode: 'Enforce', timeoutSeconds: 600 });
    await createPolicy(ns, 'high', { mode: 'Enforce', timeoutSeconds: 60, priority: 10 });

    await waitForAffinity(ns, 'web', CLIENT_IP(60));
    const low = await waitForStatus(ns, 'low', (p) => p.status?.conflictingServices === 1, 'web governed by high');
    assert.deepEqual(servicesStatus(low), ['web:Overridden:high']);
    assert.deepEqual(
      low.status?.conditions?.find((c) => c.type === 'Conflict')?.message,
      '1 selected Service governed by other policies: web (by high)',
    );

    await env.client.delete(SESSION_AFFINITY_POLICIES, ns, 'high');
    await waitForAffinity(ns, 'web', CLIENT_IP(600));
    await waitForStatus(ns, 'low', (p) => p.status?.appliedServices === 1 && p.status.conflictingServices === 0, 'low applied');

    await env.client.delete(SESSION_AFFINITY_POLICIES, ns, 'low');
    await waitForAffinity(ns, 'web', NONE);
    await waitForReleased(ns, 'web');
  });

  it("Default leaves the owner's affinity, Enforce overrides it, and deleting the policy restores both exactly", async () => {
    const ns = await env.createNamespace('sap-modes');
    await createService(ns, 'owned', { affinity: CLIENT_IP(900), manager: 'helm' });
    await createService(ns, 'plain');
    await createPolicy(ns, 'sticky', {});

    await waitForAffinity(ns, 'plain', CLIENT_IP(3600));
    const p = await waitForStatus(ns, 'sticky', (q) => servicesStatus(q)?.join() === 'owned:OwnerSet,plain:Applied', 'owned kept');
    assert.equal(p.status?.appliedServices, 1);
    assert.deepEqual(serviceAffinity(await getService(ns, 'owned')), CLIENT_IP(900));

    await env.client.patch(SESSION_AFFINITY_POLICIES, ns, 'sticky', { spec: { mode: 'Enforce' } }, 'merge');
    await waitForAffinity(ns, 'owned', CLIENT_IP(3600));
    await waitForStatus(ns, 'sticky', (q) => q.status?.appliedServices === 2 && q.status.observedGeneration === 2, 'both applied');

    await env.client.delete(SESSION_AFFINITY_POLICIES, ns, 'sticky');
    await waitForAffinity(ns, 'owned', CLIENT_IP(900));
    await waitForAffinity(ns, 'plain', NONE);
    const owned = await waitForReleased(ns, 'owned');
    await waitForReleased(ns, 'plain');
    // The owner's field manager owns its value again, as before the policy.
    const ownership = affinityOwnership(owned.metadata.managedFields, FIELD_MANAGER);
    assert.deepEqual(
      ownership.sessionAffinity.map((o) => o.manager),
      ['helm'],
    );
    assert.deepEqual(
      ownership.timeoutSeconds.map((o) => o.manager),
      ['helm'],
    );
    await waitFor(async () => (await eventReasons(ns, 'owned')).includes('SessionAffinityRestored'), {
      description: 'Restored event on owned',
    });
  });

  it('Default treats None declared by a server-side apply as set, and None from a plain create as unset', async () => {
    const ns = await env.createNamespace('sap-declared');
    const declared = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'declared', namespace: ns, labels: { tier: 'frontend' } },
      spec: { selector: { app: 'declared' }, ports: [{ port: 80 }], sessionAffinity: 'None' },
    };
    await env.client.patch(SERVICES, ns, 'declared', declared, 'apply', { fieldManager: 'gitops' });
    await createService(ns, 'created');
    await createPolicy(ns, 'sticky', {});

    await waitForAffinity(ns, 'created', CLIENT_IP(3600));
    await waitForStatus(ns, 'sticky', (p) => servicesStatus(p)?.join() === 'created:Applied,declared:OwnerSet', 'declared kept');
    const kept = await getService(ns, 'declared');
    assert.deepEqual(serviceAffinity(kept), NONE);
    assert.deepEqual(readRecord(kept), { kind: 'ownerSet' });
  });

  it("keeps the owner's edit made while a Default policy applied", async () => {
    const ns = await env.createNamespace('sap-edit-default');
    await createService(ns, 'web');
    await createPolicy(ns, 'sticky', {});
    await waitForAffinity(ns, 'web', CLIENT_IP(3600));

    // The owner changes only the timeout: the policy yields without losing the owner's ClientIP.
    await env.client.patch(SERVICES, ns, 'web', { spec: { sessionAffinityConfig: { clientIP: { timeoutSeconds: 700 } } } }, 'merge', {
      fieldManager: 'kubectl-edit',
    });
    await waitForStatus(ns, 'sticky', (p) => servicesStatus(p)?.join() === 'web:OwnerSet', 'web owner-set');
    const web = await getService(ns, 'web');
    assert.deepEqual(serviceAffinity(web), CLIENT_IP(700));
    assert.deepEqual(readRecord(web), { kind: 'ownerSet' });

    await env.client.delete(SESSION_AFFINITY_POLICIES, ns, 'sticky');
    const released = await waitForReleased(ns, 'web');
    assert.deepEqual(serviceAffinity(released), CLIENT_IP(700));
  });

  it("restores the owner's latest edit after an Enforce policy overrode it", async () => {
    const ns = await env.createNamespace('sap-edit-enforce');
    await createService(ns, 'web', { affinity: CLIENT_IP(900) });
    await createPolicy(ns, 'sticky', { mode: 'Enforce' });
    await waitForAffinity(ns, 'web', CLIENT_IP(3600));

    await env.client.patch(SERVICES, ns, 'web', { spec: { sessionAffinity: 'None', sessionAffinityConfig: null } }, 'merge', {
      fieldManager: 'kubectl-edit',
    });
    const enforced = await waitFor(
      async () => {
        const s = await getService(ns, 'web');
        const r = readRecord(s);
        return (
          r.kind === 'held' &&
          r.previousManager === 'kubectl-edit' &&
          JSON.stringify(serviceAffinity(s)) === JSON.stringify(CLIENT_IP(3600))
        );
      },
      { description: 'the edit recorded and the policy enforced again', timeoutMs: 15_000 },
    );
    assert.ok(enforced);
    await waitFor(async () => (await eventReasons(ns, 'web')).includes('SessionAffinityEnforced'), {
      description: 'Enforced event on web',
    });

    await env.client.delete(SESSION_AFFINITY_POLICIES, ns, 'sticky');
    await waitForAffinity(ns, 'web', NONE);
    await waitForReleased(ns, 'web');
  });

  it('after a restart, makes zero writes (and reads nothing but its list and watch)', async () => {
    const ns = await env.createNamespace('sap-restart');
    await createService(ns, 'web');
    await createService(ns, 'owned', { labels: { tier: 'web' }, affinity: CLIENT_IP(900) });
    await createPolicy(ns, 'sticky', { mode: 'Enforce' });
    await createPolicy(ns, 'gentle', { serviceSelector: { matchLabels: { tier: 'web' } } });
    await waitForAffinity(ns, 'web', CLIENT_IP(3600));
    await waitForStatus(ns, 'gentle', (p) => servicesStatus(p)?.join() === 'owned:OwnerSet', 'owned owner-set');
    await waitForStatus(ns, 'sticky', (p) => p.status?.appliedServices === 1, 'web applied');

    await operator.stop();
    const services = (await env.client.list(SERVICES, '')).items.length;
    const policies = (await env.client.list(SESSION_AFFINITY_POLICIES, '')).items.length;
    operator = startOperator();
    const reconciled = async (controller: string) => {
      const metric = operator.registry.getSingleMetric('controller_runtime_reconcile_total');
      const values = metric === undefined ? [] : (await metric.get()).values;
      return values.filter((v) => v.labels.controller === controller).reduce((sum, v) => sum + v.value, 0);
    };
    await waitFor(async () => (await reconciled('session-affinity-controller')) >= services, {
      description: `${services} Service reconciles after the restart`,
      timeoutMs: 20_000,
    });
    await waitFor(async () => (await reconciled('session-affinity-policy-status-controller')) >= policies, {
      description: `${policies} status reconciles after the restart`,
      timeoutMs: 20_000,
    });
    // Let anything a reconcile might still enqueue (status batching is 100 ms) run.
    await new Promise((r) => setTimeout(r, 1_000));
    const writes = operator.requests.filter((r) => WRITE_VERBS.has(r.verb));
    assert.deepEqual(writes, []);
    assert.deepEqual(
      operator.requests.filter((r) => r.verb === 'get').map((r) => r.resource),
      [],
    );
  });
});
