import { z } from 'zod';
import { objectMetaSchema } from '../core/meta.ts';
import { conditionsSchema } from './condition.ts';
import type { CustomResourceDescriptor } from './custom-resource.ts';
import { API_VERSION, CATEGORY, GROUP, Kind, SESSION_AFFINITY_POLICIES_RESOURCE, VERSION } from './group-version.ts';
import { labelSelectorSchema } from './label-selector.ts';
import { withValidationRules } from './validation-rule.ts';

// SessionAffinityPolicy: Service session affinity as namespace policy. The timeout rules are the Service API's own
// (pkg/apis/core/validation/validation.go: validateClientIPAffinityConfig): 1..86400 seconds, only with ClientIP, 10800
// when ClientIP leaves it unset. That default cannot be an OpenAPI default, because the API server would then also set
// it under `None` and the "only with ClientIP" rule would refuse the object; {@link effectiveTimeoutSeconds} applies it
// instead.

/** Affinity values, as core/v1 Service. */
export const SessionAffinity = { ClientIP: 'ClientIP', None: 'None' } as const;
export type SessionAffinity = (typeof SessionAffinity)[keyof typeof SessionAffinity];

/** `Enforce`: overwrite the Service's affinity. `Default`: set it only where no other field manager owns it. */
export const SessionAffinityPolicyMode = { Enforce: 'Enforce', Default: 'Default' } as const;
export type SessionAffinityPolicyMode = (typeof SessionAffinityPolicyMode)[keyof typeof SessionAffinityPolicyMode];

/** What a policy did to one matched Service. */
export const ServiceAffinityState = {
  /** The policy's affinity is on the Service. */
  Applied: 'Applied',
  /** Another policy governs the Service (higher priority, older, or lower name). */
  Overridden: 'Overridden',
  /** Mode Default and the Service's owner set affinity: left as is. */
  OwnerSet: 'OwnerSet',
  /** Affinity cannot apply (an ExternalName Service) or would break the Service (provider restriction). */
  Unsupported: 'Unsupported',
  /** Applying failed; the message says why. Retried. */
  Failed: 'Failed',
  /** This policy governs the Service and the controller has not yet brought it to the policy's state. */
  Pending: 'Pending',
} as const;
export type ServiceAffinityState = (typeof ServiceAffinityState)[keyof typeof ServiceAffinityState];

/** Service API's affinity timeout bounds and default (core/v1 validation and defaulting). */
export const MIN_CLIENT_IP_TIMEOUT_SECONDS = 1;
export const MAX_CLIENT_IP_TIMEOUT_SECONDS = 86400;
export const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10800;
/** Most Services listed by name in status (counts are exact). */
export const MAX_LISTED_SERVICES = 50;
/** Most warnings kept in status. */
export const MAX_WARNINGS = 32;

const TIMEOUT_MESSAGE = `must be between ${MIN_CLIENT_IP_TIMEOUT_SECONDS} and ${MAX_CLIENT_IP_TIMEOUT_SECONDS} seconds (one day)`;

/** Desired state of SessionAffinityPolicy. */
export const sessionAffinityPolicySpecSchema = withValidationRules(
  z
    .object({
      serviceSelector: labelSelectorSchema.describe(
        'Services of this namespace the policy applies to. An empty selector ({}) selects every Service of the namespace.',
      ),
      sessionAffinity: z.enum(SessionAffinity).describe('Affinity to set: ClientIP (a client keeps reaching the same backend) or None.'),
      timeoutSeconds: z
        .int32()
        .min(MIN_CLIENT_IP_TIMEOUT_SECONDS, TIMEOUT_MESSAGE)
        .max(MAX_CLIENT_IP_TIMEOUT_SECONDS, TIMEOUT_MESSAGE)
        .optional()
        .describe(
          `Idle time after which a client's affinity expires, ${MIN_CLIENT_IP_TIMEOUT_SECONDS}..${MAX_CLIENT_IP_TIMEOUT_SECONDS} seconds. Only with ClientIP; unset means ${DEFAULT_CLIENT_IP_TIMEOUT_SECONDS} (3 hours), as for Services.`,
        ),
      priority: z
        .int32()
        .default(0)
        .describe(
          'When several policies select a Service, the highest priority wins; ties go to the oldest policy, then the lowest name. Default 0.',
        ),
      mode: z
        .enum(SessionAffinityPolicyMode)
        .default('Default')
        .describe(
          "Enforce: set the affinity on every selected Service. Default (default): only on Services whose owner has not set sessionAffinity. The Service's previous affinity is restored when the policy stops applying.",
        ),
    })
    .describe('Which Services get which session affinity.'),
  [
    {
      rule: "self.sessionAffinity == 'ClientIP' || !has(self.timeoutSeconds)",
      message: 'timeoutSeconds may only be set when sessionAffinity is ClientIP',
      fieldPath: '.timeoutSeconds',
      reason: 'FieldValueForbidden',
      check: (s) => s.sessionAffinity === 'ClientIP' || s.timeoutSeconds === undefined,
    },
  ],
);
export type SessionAffinityPolicySpec = z.infer<typeof sessionAffinityPolicySpecSchema>;
/** The spec as written by users (defaults not yet applied). */
export type SessionAffinityPolicySpecInput = z.input<typeof sessionAffinityPolicySpecSchema>;

/** The timeout the policy sets on a Service: its own, the Service default under ClientIP, none under None. */
export function effectiveTimeoutSeconds(spec: Pick<SessionAffinityPolicySpec, 'sessionAffinity' | 'timeoutSeconds'>): number | undefined {
  if (spec.sessionAffinity !== 'ClientIP') return undefined;
  return spec.timeoutSeconds ?? DEFAULT_CLIENT_IP_TIMEOUT_SECONDS;
}

/** State of one matched Service. */
export const serviceAffinityStatusSchema = z
  .object({
    name: z.string().min(1).max(63).describe('Name of the Service.'),
    state: z
      .enum(ServiceAffinityState)
      .describe(
        'Applied, Overridden (another policy governs it), OwnerSet (mode Default, owner value kept), Unsupported, Failed, or Pending (not yet applied).',
      ),
    governedBy: z.string().max(253).optional().describe('The policy that governs the Service, when it is not this one.'),
    message: z.string().max(1024).optional().describe('Details, for example why affinity is unsupported or why applying failed.'),
  })
  .describe('What this policy did to one Service.');
export type ServiceAffinityStatus = z.infer<typeof serviceAffinityStatusSchema>;

/** Observed state of SessionAffinityPolicy. */
export const sessionAffinityPolicyStatusSchema = z
  .object({
    observedGeneration: z.int().min(0).optional().describe('metadata.generation this status was computed from.'),
    conditions: conditionsSchema.optional(),
    matchedServices: z.int32().min(0).optional().describe('Services the selector matches.'),
    appliedServices: z.int32().min(0).optional().describe("Matched Services that carry this policy's affinity."),
    conflictingServices: z.int32().min(0).optional().describe('Matched Services governed by another policy.'),
    services: z
      .array(serviceAffinityStatusSchema)
      .max(MAX_LISTED_SERVICES)
      .optional()
      .meta({
        description: `Matched Services and their state, by name (at most ${MAX_LISTED_SERVICES}; the counts are exact).`,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    warnings: z
      .array(z.string().max(1024))
      .max(MAX_WARNINGS)
      .optional()
      .describe(
        'Caveats of the affinity on the matched Services: per-port versus per-Service affinity on multi-port Services, load balancers that refuse ClientIP, timeout caps of some data planes.',
      ),
  })
  .describe('Observed state of the policy and of the Services it selects.');
export type SessionAffinityPolicyStatus = z.infer<typeof sessionAffinityPolicyStatusSchema>;

/** A whole SessionAffinityPolicy object in wire format (metadata loose; never write a parsed object back whole). */
export const sessionAffinityPolicySchema = z.looseObject({
  apiVersion: z.literal(API_VERSION).optional(),
  kind: z.literal(Kind.SessionAffinityPolicy).optional(),
  metadata: objectMetaSchema,
  spec: sessionAffinityPolicySpecSchema,
  status: sessionAffinityPolicyStatusSchema.optional(),
});
export type SessionAffinityPolicy = z.infer<typeof sessionAffinityPolicySchema>;

/** The CRD of SessionAffinityPolicy. */
export const sessionAffinityPolicyCrd: CustomResourceDescriptor = {
  group: GROUP,
  version: VERSION,
  kind: Kind.SessionAffinityPolicy,
  plural: SESSION_AFFINITY_POLICIES_RESOURCE.plural,
  singular: 'sessionaffinitypolicy',
  shortNames: ['sap'],
  categories: [CATEGORY],
  scope: 'Namespaced',
  description:
    'SessionAffinityPolicy sets Service session affinity (ClientIP or None, with a timeout) on the Services of its namespace that its selector matches, and restores their previous affinity when it stops applying.',
  spec: sessionAffinityPolicySpecSchema,
  status: sessionAffinityPolicyStatusSchema,
  printerColumns: [
    { name: 'Affinity', type: 'string', jsonPath: '.spec.sessionAffinity', description: 'Affinity set on matched Services.' },
    { name: 'Timeout', type: 'integer', jsonPath: '.spec.timeoutSeconds', description: 'ClientIP timeout in seconds (empty: 10800).' },
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'Enforce or Default.', priority: 1 },
    { name: 'Priority', type: 'integer', jsonPath: '.spec.priority', description: 'Precedence among policies.', priority: 1 },
    { name: 'Matched', type: 'integer', jsonPath: '.status.matchedServices', description: 'Services matched.' },
    { name: 'Applied', type: 'integer', jsonPath: '.status.appliedServices', description: "Services carrying this policy's affinity." },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' },
  ],
};
