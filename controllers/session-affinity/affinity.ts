import { z } from 'zod';
import type { Service } from '../../api/core/v1.ts';
import {
  DEFAULT_CLIENT_IP_TIMEOUT_SECONDS,
  MAX_CLIENT_IP_TIMEOUT_SECONDS,
  MIN_CLIENT_IP_TIMEOUT_SECONDS,
  type SessionAffinityPolicySpec,
} from '../../api/v1alpha1/session-affinity-policy.ts';

// A Service's session affinity as one value: the type plus, for ClientIP, the timeout. The two Service fields are read,
// compared, recorded and restored together, always in the canonical form the API server's defaulting produces
// (pkg/apis/core/v1/defaults.go: SetDefaults_Service), so that "what we applied" and "what is live" compare exactly.

/** Canonical affinity: `None` carries no config; `ClientIP` always carries its timeout (defaulted to 10800). */
export type Affinity = { readonly sessionAffinity: 'None' } | { readonly sessionAffinity: 'ClientIP'; readonly timeoutSeconds: number };

/** The API default: what a Service gets when nobody sets its affinity. */
export const DEFAULT_AFFINITY: Affinity = Object.freeze({
  sessionAffinity: 'None',
});

/** Zod schema of a recorded affinity (annotation JSON); strict, so a hand-edited record is refused, not guessed at. */
export const affinitySchema = z.discriminatedUnion('sessionAffinity', [
  z.strictObject({ sessionAffinity: z.literal('None') }),
  z.strictObject({
    sessionAffinity: z.literal('ClientIP'),
    timeoutSeconds: z.int().min(MIN_CLIENT_IP_TIMEOUT_SECONDS).max(MAX_CLIENT_IP_TIMEOUT_SECONDS),
  }),
]);

const clientIP = (timeoutSeconds: number): Affinity => ({
  sessionAffinity: 'ClientIP',
  timeoutSeconds,
});

/**
 * The Service's affinity as the API server stores it: an unset or unknown type is `None` (validation admits only
 * ClientIP and None, and defaulting turns '' into None); ClientIP without a timeout has the 10800 s default.
 */
export function serviceAffinity(service: Readonly<Service>): Affinity {
  if (service.spec.sessionAffinity !== 'ClientIP') return DEFAULT_AFFINITY;
  return clientIP(service.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_CLIENT_IP_TIMEOUT_SECONDS);
}

/** The affinity a policy sets: its type, and under ClientIP its timeout or the Service default. */
export function policyAffinity(spec: Readonly<Pick<SessionAffinityPolicySpec, 'sessionAffinity' | 'timeoutSeconds'>>): Affinity {
  if (spec.sessionAffinity !== 'ClientIP') return DEFAULT_AFFINITY;
  return clientIP(spec.timeoutSeconds ?? DEFAULT_CLIENT_IP_TIMEOUT_SECONDS);
}

/** Exact equality of two canonical affinities. */
export function sameAffinity(a: Affinity, b: Affinity): boolean {
  if (a.sessionAffinity === 'ClientIP' && b.sessionAffinity === 'ClientIP') return a.timeoutSeconds === b.timeoutSeconds;
  return a.sessionAffinity === b.sessionAffinity;
}

/**
 * The Service spec fields of a server-side apply configuration that sets `affinity`. Under None the config is left
 * out: applying it would make this field manager own a field that defaulting clears anyway.
 */
export function affinityApplySpec(affinity: Affinity): Record<string, unknown> {
  if (affinity.sessionAffinity === 'None') return { sessionAffinity: 'None' };
  return {
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: {
      clientIP: { timeoutSeconds: affinity.timeoutSeconds },
    },
  };
}

/** The Service spec fields of a JSON merge patch that sets `affinity` (null deletes a config left by ClientIP). */
export function affinityMergePatchSpec(affinity: Affinity): Record<string, unknown> {
  if (affinity.sessionAffinity === 'None') return { sessionAffinity: 'None', sessionAffinityConfig: null };
  return affinityApplySpec(affinity);
}

/** Human-readable form for Events and status: `None` or `ClientIP (timeout 3600s)`. */
export function describeAffinity(affinity: Affinity): string {
  return affinity.sessionAffinity === 'None' ? 'None' : `ClientIP (timeout ${affinity.timeoutSeconds}s)`;
}
