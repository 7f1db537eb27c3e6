import { objectKey } from '../../api/core/meta.ts';
import type { Service } from '../../api/core/v1.ts';
import { labelSelectorMatches } from '../../api/v1alpha1/label-selector.ts';
import type { SessionAffinityPolicy } from '../../api/v1alpha1/session-affinity-policy.ts';
import type { EventHandler } from '../runtime/cache/event-handler.ts';
import { NAMESPACE_INDEX, type Store } from '../runtime/cache/store.ts';
import { recordedPolicy } from './record.ts';

// Informer events to work-queue keys. Two queues: Service keys (the affinity on each Service) and policy keys (each
// policy's status). A Service's governing policy depends on every policy of its namespace, so a policy change enqueues
// the Services its old or new selector matches and the status of every policy of the namespace.

/** Where the handlers put keys: a controller's queue. */
export interface KeyQueue {
  enqueue(key: string): void;
  /** Adds after `delayMs`; the earliest pending deadline for a key wins. */
  enqueueAfter(key: string, delayMs: number): void;
}

function policiesIn(policies: Store<SessionAffinityPolicy>, namespace: string): readonly Readonly<SessionAffinityPolicy>[] {
  return policies.byIndex(NAMESPACE_INDEX, namespace);
}

/**
 * Service events: every add, update (not a resync: same resourceVersion) and delete re-evaluates the Service (add and
 * update) and, after `statusDelayMs` so a burst gives one status write, the status of each policy of the namespace whose
 * selector matches the old or the new labels.
 */
export function serviceEventHandler(
  serviceQueue: KeyQueue,
  statusQueue: KeyQueue,
  policies: Store<SessionAffinityPolicy>,
  statusDelayMs: number,
): EventHandler<Service> {
  const enqueueStatus = (...versions: Readonly<Service>[]) => {
    const namespace = versions[0]?.metadata.namespace ?? '';
    for (const p of policiesIn(policies, namespace)) {
      if (versions.some((s) => labelSelectorMatches(p.spec.serviceSelector, s.metadata.labels))) {
        statusQueue.enqueueAfter(objectKey(p), statusDelayMs);
      }
    }
  };
  return {
    onAdd: (service) => {
      serviceQueue.enqueue(objectKey(service));
      enqueueStatus(service);
    },
    onUpdate: (oldService, newService) => {
      if (oldService.metadata.resourceVersion === newService.metadata.resourceVersion) return;
      serviceQueue.enqueue(objectKey(newService));
      enqueueStatus(oldService, newService);
    },
    onDelete: (service) => {
      enqueueStatus(service);
    },
  };
}

/**
 * Policy events: add, delete, and updates that change what the policy selects or sets (a new generation, or deletion
 * starting) enqueue the Services its old or new selector matches, plus (on delete) the Services whose record names it,
 * and the status of every policy of the namespace. Status-only updates (our own writes) enqueue nothing.
 */
export function policyEventHandler(
  serviceQueue: KeyQueue,
  statusQueue: KeyQueue,
  services: Store<Service>,
  policies: Store<SessionAffinityPolicy>,
  statusDelayMs: number,
): EventHandler<SessionAffinityPolicy> {
  const enqueue = (versions: readonly Readonly<SessionAffinityPolicy>[], alsoRecorded: boolean) => {
    const first = versions[0];
    if (first === undefined) return;
    const namespace = first.metadata.namespace ?? '';
    const name = first.metadata.name ?? '';
    for (const s of services.byIndex(NAMESPACE_INDEX, namespace)) {
      const selected = versions.some((p) => labelSelectorMatches(p.spec.serviceSelector, s.metadata.labels));
      if (selected || (alsoRecorded && recordedPolicy(s) === name)) serviceQueue.enqueue(objectKey(s));
    }
    for (const p of policiesIn(policies, namespace)) statusQueue.enqueueAfter(objectKey(p), statusDelayMs);
  };
  return {
    onAdd: (policy) => {
      enqueue([policy], false);
      statusQueue.enqueue(objectKey(policy));
    },
    onUpdate: (oldPolicy, newPolicy) => {
      const changed =
        oldPolicy.metadata.generation !== newPolicy.metadata.generation ||
        (oldPolicy.metadata.deletionTimestamp === undefined) !== (newPolicy.metadata.deletionTimestamp === undefined);
      if (!changed) return;
      enqueue([oldPolicy, newPolicy], false);
      statusQueue.enqueue(objectKey(newPolicy));
    },
    onDelete: (policy) => {
      enqueue([policy], true);
    },
  };
}
