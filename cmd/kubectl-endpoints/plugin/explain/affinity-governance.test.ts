import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from '../../../../api/core/v1.ts';
import { type SessionAffinityPolicy, sessionAffinityPolicySchema } from '../../../../api/v1alpha1/session-affinity-policy.ts';
import { deepFreeze } from '../../../../controllers/runtime/testing/deep-freeze.ts';
import { ANNOTATION_SESSION_AFFINITY_POLICY } from '../../../../controllers/session-affinity/record.ts';
import { type AffinityReport, affinityGovernance } from './affinity-governance.ts';
import type { Lookup } from './snapshot.ts';
import { NS, testService } from './test-fixtures.ts';

function policy(name: string, spec: Record<string, unknown>, created = '2025-01-01T00:00:00Z', status?: unknown): SessionAffinityPolicy {
  return sessionAffinityPolicySchema.parse({
    metadata: { name, namespace: NS, creationTimestamp: created },
    spec: { serviceSelector: { matchLabels: { team: 'shop' } }, sessionAffinity: 'ClientIP', ...spec },
    ...(status !== undefined ? { status } : {}),
  });
}

const sticky = policy('sticky', { timeoutSeconds: 3600, mode: 'Enforce', priority: 10 }, '2025-01-02T00:00:00Z', {
  services: [{ name: 'web', state: 'Applied' }],
});
const older = policy('older', { timeoutSeconds: 600 });
const otherTeam = policy('other-team', { serviceSelector: { matchLabels: { team: 'payments' } } });

const held: Service = testService(
  {
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 3600 } },
    ports: [
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' },
      { name: 'grpc', port: 9090, protocol: 'TCP', targetPort: 9090 },
    ],
  },
  {
    annotations: {
      [ANNOTATION_SESSION_AFFINITY_POLICY]: JSON.stringify({
        policy: 'sticky',
        applied: { sessionAffinity: 'ClientIP', timeoutSeconds: 3600 },
        previous: { sessionAffinity: 'None' },
        previousOwnerSet: false,
      }),
    },
  },
);

const cases: {
  name: string;
  given: { service: Service; policies: Lookup<readonly SessionAffinityPolicy[]> };
  want: (r: AffinityReport) => void;
}[] = [
  {
    name: 'the highest priority wins; the loser is listed; record, state and caveats shown',
    given: { service: held, policies: { kind: 'found', value: [older, sticky, otherTeam] } },
    want: (r) => {
      assert.deepEqual(r.governedBy, { name: 'sticky', mode: 'Enforce', priority: 10, affinity: 'ClientIP (timeout 3600s)' });
      assert.deepEqual(
        r.overridden.map((p) => p.name),
        ['older'],
      );
      assert.equal(r.state, 'Applied');
      assert.deepEqual(r.record, { kind: 'held', policy: 'sticky', applied: 'ClientIP (timeout 3600s)', previous: 'None' });
      assert.equal(r.current, 'ClientIP (timeout 3600s)');
      assert.equal(r.caveats.length, 1, 'the multi-port caveat');
    },
  },
  {
    name: 'near miss: a policy selecting another team does not govern',
    given: { service: testService(), policies: { kind: 'found', value: [otherTeam] } },
    want: (r) => {
      assert.equal(r.governedBy, undefined);
      assert.deepEqual(r.overridden, []);
      assert.deepEqual(r.record, { kind: 'none' });
    },
  },
  {
    name: 'same priority: the older policy wins',
    given: {
      service: testService(),
      policies: { kind: 'found', value: [policy('b-newer', {}, '2025-02-01T00:00:00Z'), policy('a-older', {}, '2025-01-01T00:00:00Z')] },
    },
    want: (r) => assert.equal(r.governedBy?.name, 'a-older'),
  },
  {
    name: 'ExternalName: affinity does not apply, nothing governs it',
    given: {
      service: testService({ type: 'ExternalName', externalName: 'x.example.com', selector: undefined }),
      policies: { kind: 'found', value: [sticky] },
    },
    want: (r) => {
      assert.equal(r.applies, false);
      assert.equal(r.governedBy, undefined);
      assert.deepEqual(r.overridden, []);
    },
  },
  {
    name: 'policies unreadable: said so, nothing guessed',
    given: { service: testService(), policies: { kind: 'unavailable', reason: 'SessionAffinityPolicies: CRD not installed' } },
    want: (r) => {
      assert.equal(r.available, false);
      assert.match(r.reason ?? '', /CRD not installed/);
      assert.equal(r.governedBy, undefined);
    },
  },
];

describe('affinityGovernance: the session-affinity controller resolution, record and status', () => {
  for (const c of cases) it(c.name, () => c.want(affinityGovernance(deepFreeze(c.given.service), deepFreeze(c.given.policies))));
});
