import { API_GROUP } from '../labels.ts';

// Identity of this operator's API: group, version, kinds, and the condition vocabulary its objects report.
// Condition types and reasons are part of the API (users and alerts match on them), so they are declared here once,
// as const objects with string-literal unions, never as TS enums.

/** API group of every kind this operator serves. */
export const GROUP = API_GROUP;
/** The only served (and storage) version. */
export const VERSION = 'v1alpha1';
/** `apiVersion` value of objects in this group-version. */
export const API_VERSION = `${GROUP}/${VERSION}`;
/** `kubectl get <category>` lists every kind of this operator. */
export const CATEGORY = 'kube-endpoints-operator';

/** Kind names. */
export const Kind = {
  ExternalEndpoints: 'ExternalEndpoints',
  SessionAffinityPolicy: 'SessionAffinityPolicy',
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/**
 * Resource descriptors, structurally compatible with `ResourceType` of `controllers/runtime/resource.ts` (not imported:
 * `api/` depends on nothing of the runtime).
 */
export const EXTERNAL_ENDPOINTS_RESOURCE = {
  group: GROUP,
  version: VERSION,
  plural: 'externalendpoints',
  kind: Kind.ExternalEndpoints,
  namespaced: true,
} as const;
export const SESSION_AFFINITY_POLICIES_RESOURCE = {
  group: GROUP,
  version: VERSION,
  plural: 'sessionaffinitypolicies',
  kind: Kind.SessionAffinityPolicy,
  namespaced: true,
} as const;

/** Status of a condition, as metav1.ConditionStatus. */
export const ConditionStatus = { True: 'True', False: 'False', Unknown: 'Unknown' } as const;
export type ConditionStatus = (typeof ConditionStatus)[keyof typeof ConditionStatus];

// ---- ExternalEndpoints ------------------------------------------------------------------------------------------------

/**
 * Condition types of ExternalEndpoints. `Ready`: the EndpointSlices reflect the spec and at least one backend is
 * published ready. `ServiceFound`: the same-named Service exists and is selectorless. `Degraded`: some backends are
 * unhealthy, invalid or refused. `DNSResolved`: every `dnsName` resolved on its last attempt (False keeps the last good
 * addresses). `BelowMinHealthy`: fewer than `failurePolicy.minHealthy` backends are healthy and the failure policy
 * decides what is published.
 */
export const ExternalEndpointsConditionType = {
  Ready: 'Ready',
  ServiceFound: 'ServiceFound',
  Degraded: 'Degraded',
  DNSResolved: 'DNSResolved',
  BelowMinHealthy: 'BelowMinHealthy',
} as const;
export type ExternalEndpointsConditionType = (typeof ExternalEndpointsConditionType)[keyof typeof ExternalEndpointsConditionType];

/** Reasons used on ExternalEndpoints conditions (CamelCase, as API conventions require). */
export const ExternalEndpointsReason = {
  // ServiceFound
  ServiceFound: 'ServiceFound',
  ServiceNotFound: 'ServiceNotFound',
  ServiceHasSelector: 'ServiceHasSelector',
  ServiceIsExternalName: 'ServiceIsExternalName',
  PortNotFound: 'PortNotFound',
  // Ready
  BackendsReady: 'BackendsReady',
  NoReadyBackends: 'NoReadyBackends',
  NotPublished: 'NotPublished',
  // Degraded
  AllBackendsHealthy: 'AllBackendsHealthy',
  BackendsUnhealthy: 'BackendsUnhealthy',
  InvalidAddress: 'InvalidAddress',
  ForbiddenAddress: 'ForbiddenAddress',
  /** A legacy Endpoints object of the same name exists and is not ours (spec.publishEndpoints): it is left alone. */
  EndpointsConflict: 'EndpointsConflict',
  /** The credentials Secret of a database check is missing, unlabelled, or lacks a key: the check cannot run. */
  CredentialsUnavailable: 'CredentialsUnavailable',
  // DNSResolved
  Resolved: 'Resolved',
  ResolutionFailed: 'ResolutionFailed',
  NoDNSNames: 'NoDNSNames',
  // BelowMinHealthy
  EnoughHealthy: 'EnoughHealthy',
  PublishingAll: 'PublishingAll',
  PublishingNone: 'PublishingNone',
} as const;
export type ExternalEndpointsReason = (typeof ExternalEndpointsReason)[keyof typeof ExternalEndpointsReason];

// ---- SessionAffinityPolicy ----------------------------------------------------------------------------------------------

/**
 * Condition types of SessionAffinityPolicy. `Ready`: every matched Service is in the state this policy asks for (or
 * reported as why not). `Conflict`: at least one matched Service is governed by another policy.
 */
export const SessionAffinityPolicyConditionType = {
  Ready: 'Ready',
  Conflict: 'Conflict',
} as const;
export type SessionAffinityPolicyConditionType =
  (typeof SessionAffinityPolicyConditionType)[keyof typeof SessionAffinityPolicyConditionType];

/** Reasons used on SessionAffinityPolicy conditions. */
export const SessionAffinityPolicyReason = {
  // Ready
  Applied: 'Applied',
  PartiallyApplied: 'PartiallyApplied',
  NoMatchingServices: 'NoMatchingServices',
  ApplyFailed: 'ApplyFailed',
  // Conflict
  NoConflict: 'NoConflict',
  OverriddenByOtherPolicy: 'OverriddenByOtherPolicy',
} as const;
export type SessionAffinityPolicyReason = (typeof SessionAffinityPolicyReason)[keyof typeof SessionAffinityPolicyReason];
