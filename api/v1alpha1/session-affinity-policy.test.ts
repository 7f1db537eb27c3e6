import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldErrors } from './field-errors.ts';
import {
  DEFAULT_CLIENT_IP_TIMEOUT_SECONDS,
  effectiveTimeoutSeconds,
  type SessionAffinityPolicySpecInput,
  sessionAffinityPolicySchema,
  sessionAffinityPolicySpecSchema,
  sessionAffinityPolicyStatusSchema,
} from './session-affinity-policy.ts';

const base: SessionAffinityPolicySpecInput = { serviceSelector: { matchLabels: { tier: 'frontend' } }, sessionAffinity: 'ClientIP' };
const spec = (patch: Record<string, unknown>): unknown => ({ ...base, ...patch });
const check = (given: unknown): string[] => {
  const r = sessionAffinityPolicySpecSchema.safeParse(given);
  return r.success ? [] : fieldErrors(r.error, 'spec');
};

describe('SessionAffinityPolicy spec (the Service API rules for sessionAffinityConfig)', () => {
  const cases: { name: string; given: unknown; want: string[] }[] = [
    { name: 'ClientIP without a timeout', given: base, want: [] },
    { name: 'ClientIP with the smallest timeout, 1', given: spec({ timeoutSeconds: 1 }), want: [] },
    { name: 'ClientIP with the largest timeout, 86400', given: spec({ timeoutSeconds: 86400 }), want: [] },
    { name: 'None without a timeout', given: spec({ sessionAffinity: 'None' }), want: [] },
    { name: 'an empty selector (every Service)', given: spec({ serviceSelector: {} }), want: [] },
    { name: 'a negative priority and Enforce mode', given: spec({ priority: -5, mode: 'Enforce' }), want: [] },
    {
      name: 'timeout 0',
      given: spec({ timeoutSeconds: 0 }),
      want: ['spec.timeoutSeconds: must be between 1 and 86400 seconds (one day)'],
    },
    {
      name: 'timeout 86401',
      given: spec({ timeoutSeconds: 86401 }),
      want: ['spec.timeoutSeconds: must be between 1 and 86400 seconds (one day)'],
    },
    {
      name: 'a timeout with None',
      given: spec({ sessionAffinity: 'None', timeoutSeconds: 3600 }),
      want: ['spec.timeoutSeconds: timeoutSeconds may only be set when sessionAffinity is ClientIP'],
    },
    {
      name: 'an unknown affinity',
      given: spec({ sessionAffinity: 'Cookie' }),
      want: ['spec.sessionAffinity: Invalid option: expected one of "ClientIP"|"None"'],
    },
    {
      name: 'an unknown mode',
      given: spec({ mode: 'Override' }),
      want: ['spec.mode: Invalid option: expected one of "Enforce"|"Default"'],
    },
    {
      name: 'a missing selector',
      given: { sessionAffinity: 'ClientIP' },
      want: ['spec.serviceSelector: Invalid input: expected object, received undefined'],
    },
    {
      name: 'a bad selector',
      given: spec({ serviceSelector: { matchExpressions: [{ key: 'tier', operator: 'In' }] } }),
      want: ['spec.serviceSelector.matchExpressions[0].values: values must be non-empty when operator is In or NotIn'],
    },
    {
      name: 'a fractional priority',
      given: spec({ priority: 1.5 }),
      want: ['spec.priority: Invalid input: expected int, received number'],
    },
  ];
  for (const c of cases) {
    it(`${c.want.length === 0 ? 'accepts' : 'rejects'} ${c.name}`, () => {
      assert.deepEqual(check(c.given), c.want);
    });
  }

  it('defaults priority to 0 and mode to Default, and leaves the timeout unset', () => {
    assert.deepEqual(sessionAffinityPolicySpecSchema.parse(base), { ...base, priority: 0, mode: 'Default' });
  });
});

describe('effectiveTimeoutSeconds', () => {
  const cases: { name: string; given: Parameters<typeof effectiveTimeoutSeconds>[0]; want: number | undefined }[] = [
    {
      name: 'the Service default 10800 under ClientIP without a timeout',
      given: { sessionAffinity: 'ClientIP' },
      want: DEFAULT_CLIENT_IP_TIMEOUT_SECONDS,
    },
    { name: 'the policy timeout under ClientIP', given: { sessionAffinity: 'ClientIP', timeoutSeconds: 60 }, want: 60 },
    { name: 'none under None', given: { sessionAffinity: 'None' }, want: undefined },
  ];
  for (const c of cases) {
    it(`is ${c.name}`, () => {
      assert.equal(effectiveTimeoutSeconds(c.given), c.want);
    });
  }
  it('uses the upstream default of 3 hours', () => {
    assert.equal(DEFAULT_CLIENT_IP_TIMEOUT_SECONDS, 10800);
  });
});

describe('SessionAffinityPolicy status', () => {
  it('accepts counts, a per-Service list and warnings', () => {
    const r = sessionAffinityPolicyStatusSchema.safeParse({
      observedGeneration: 3,
      matchedServices: 3,
      appliedServices: 1,
      conflictingServices: 1,
      services: [
        { name: 'web', state: 'Applied' },
        { name: 'api', state: 'Overridden', governedBy: 'api-sticky' },
        { name: 'legacy', state: 'Unsupported', message: 'ExternalName Service' },
      ],
      warnings: ['web: 2 ports; affinity is per port under iptables and nftables, per Service under IPVS'],
    });
    assert.equal(r.success, true);
  });

  it('caps the per-Service list at 50 names', () => {
    const services = Array.from({ length: 51 }, (_, i) => ({ name: `svc-${i}`, state: 'Applied' }));
    const r = sessionAffinityPolicyStatusSchema.safeParse({ services });
    assert.equal(r.success, false);
    if (!r.success) assert.deepEqual(fieldErrors(r.error, 'status'), ['status.services: Too big: expected array to have <=50 items']);
  });

  it('parses a whole object in wire format', () => {
    const obj = sessionAffinityPolicySchema.parse({
      apiVersion: 'kube-endpoints-operator.io/v1alpha1',
      kind: 'SessionAffinityPolicy',
      metadata: { name: 'p', namespace: 'ns' },
      spec: base,
    });
    assert.equal(obj.spec.mode, 'Default');
  });
});
