import type { Service } from '../../api/core/v1.ts';
import {
  type SessionAffinityPolicy,
  type SessionAffinityPolicySpecInput,
  sessionAffinityPolicySchema,
} from '../../api/v1alpha1/session-affinity-policy.ts';
import type { Affinity } from './affinity.ts';
import { type AffinityRecord, ANNOTATION_SESSION_AFFINITY_POLICY, formatRecord } from './record.ts';

export { apiError } from '../runtime/testing/api-error.ts';
export { MemoryStore } from '../runtime/testing/memory-store.ts';
export { type RecordedEvent, RecordingEventRecorder } from '../runtime/testing/recording-event-recorder.ts';
export { testContext } from '../runtime/testing/test-context.ts';

// Fixtures and fakes for this controller's tests: Services and policies in wire format, managedFields entries and a
// queue. The API client (testing/fake-api-client.ts), store, recorder and context are the shared ones.

export const NS = 'shop';

/** Options of {@link service}. */
export interface ServiceFixture {
  readonly labels?: Record<string, string>;
  /** The live affinity. Default None. */
  readonly affinity?: Affinity;
  /** Our record: an object is formatted, a string is used as is. */
  readonly record?: AffinityRecord | string;
  readonly annotations?: Record<string, string>;
  readonly type?: string;
  readonly ports?: number;
  readonly externalTrafficPolicy?: string;
  readonly resourceVersion?: string;
  readonly managedFields?: unknown[];
  readonly namespace?: string;
}

/** A Service as the API server returns it (affinity fields always present after defaulting). */
export function service(name: string, f: ServiceFixture = {}): Service {
  const affinity = f.affinity ?? { sessionAffinity: 'None' };
  const annotations = { ...f.annotations };
  if (f.record !== undefined) {
    annotations[ANNOTATION_SESSION_AFFINITY_POLICY] = typeof f.record === 'string' ? f.record : formatRecord(f.record);
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: f.namespace ?? NS,
      uid: `uid-${name}`,
      resourceVersion: f.resourceVersion ?? '100',
      labels: f.labels ?? { tier: 'frontend' },
      ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
      ...(f.managedFields === undefined ? {} : { managedFields: f.managedFields }),
    },
    spec: {
      type: f.type ?? 'ClusterIP',
      selector: { app: name },
      ports: Array.from({ length: f.ports ?? 1 }, (_, i) => ({
        name: `p${i}`,
        port: 80 + i,
        protocol: 'TCP',
      })),
      sessionAffinity: affinity.sessionAffinity,
      ...(affinity.sessionAffinity === 'ClientIP'
        ? {
            sessionAffinityConfig: {
              clientIP: { timeoutSeconds: affinity.timeoutSeconds },
            },
          }
        : {}),
      ...(f.externalTrafficPolicy === undefined ? {} : { externalTrafficPolicy: f.externalTrafficPolicy }),
    },
  };
}

/** A policy as the informer caches it (schema defaults applied). */
export function policy(
  name: string,
  spec: Partial<SessionAffinityPolicySpecInput> = {},
  meta: {
    creationTimestamp?: string;
    generation?: number;
    namespace?: string;
    deletionTimestamp?: string;
  } = {},
): SessionAffinityPolicy {
  return sessionAffinityPolicySchema.parse({
    apiVersion: 'kube-endpoints-operator.io/v1alpha1',
    kind: 'SessionAffinityPolicy',
    metadata: {
      name,
      namespace: meta.namespace ?? NS,
      uid: `uid-${name}`,
      generation: meta.generation ?? 1,
      creationTimestamp: meta.creationTimestamp ?? '2026-01-01T00:00:00Z',
      ...(meta.deletionTimestamp === undefined ? {} : { deletionTimestamp: meta.deletionTimestamp }),
    },
    spec: {
      serviceSelector: { matchLabels: { tier: 'frontend' } },
      sessionAffinity: 'ClientIP',
      timeoutSeconds: 3600,
      ...spec,
    },
  });
}

/** One managedFields entry owning the affinity type (`a`) and/or the ClientIP timeout (`c`). */
export function managedField(
  manager: string,
  operation: 'Apply' | 'Update',
  owns: { a?: boolean; c?: boolean; subresource?: string },
): unknown {
  const spec: Record<string, unknown> = { 'f:selector': {} };
  if (owns.a === true) spec['f:sessionAffinity'] = {};
  if (owns.c === true)
    spec['f:sessionAffinityConfig'] = {
      'f:clientIP': { 'f:timeoutSeconds': {} },
    };
  return {
    manager,
    operation,
    apiVersion: 'v1',
    time: '2026-01-01T00:00:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:spec': spec },
    ...(owns.subresource === undefined ? {} : { subresource: owns.subresource }),
  };
}

export const CLIENT_IP = (timeoutSeconds: number): Affinity => ({
  sessionAffinity: 'ClientIP',
  timeoutSeconds,
});
export const NONE: Affinity = { sessionAffinity: 'None' };

/** Records enqueued keys (immediate and delayed). */
export class RecordingQueue {
  readonly added: string[] = [];
  readonly delayed: { key: string; delayMs: number }[] = [];
  enqueue(key: string): void {
    this.added.push(key);
  }
  enqueueAfter(key: string, delayMs: number): void {
    this.delayed.push({ key, delayMs });
  }
}
