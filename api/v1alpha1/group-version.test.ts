import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conditionSchema } from './condition.ts';
import { externalEndpointsCrd } from './external-endpoints.ts';
import {
  API_VERSION,
  EXTERNAL_ENDPOINTS_RESOURCE,
  ExternalEndpointsConditionType,
  ExternalEndpointsReason,
  SESSION_AFFINITY_POLICIES_RESOURCE,
  SessionAffinityPolicyConditionType,
  SessionAffinityPolicyReason,
} from './group-version.ts';
import { sessionAffinityPolicyCrd } from './session-affinity-policy.ts';

describe('group-version', () => {
  it('names the API kube-endpoints-operator.io/v1alpha1', () => {
    assert.equal(API_VERSION, 'kube-endpoints-operator.io/v1alpha1');
  });

  it('resource descriptors agree with the CRDs (REST paths are built from them)', () => {
    for (const [resource, crd] of [
      [EXTERNAL_ENDPOINTS_RESOURCE, externalEndpointsCrd],
      [SESSION_AFFINITY_POLICIES_RESOURCE, sessionAffinityPolicyCrd],
    ] as const) {
      assert.deepEqual(
        [resource.group, resource.version, resource.plural, resource.kind, resource.namespaced],
        [crd.group, crd.version, crd.plural, crd.kind, crd.scope === 'Namespaced'],
      );
    }
  });

  it('every condition type and reason is one the condition schema (and so the API server) accepts', () => {
    const types = [...Object.values(ExternalEndpointsConditionType), ...Object.values(SessionAffinityPolicyConditionType)];
    const reasons = [...Object.values(ExternalEndpointsReason), ...Object.values(SessionAffinityPolicyReason)];
    const bad: string[] = [];
    for (const type of types) {
      for (const reason of reasons) {
        const c = { type, status: 'True', reason, message: '', lastTransitionTime: '2026-01-01T00:00:00Z' };
        if (!conditionSchema.safeParse(c).success) bad.push(`${type}/${reason}`);
      }
    }
    assert.deepEqual(bad, []);
  });
});
