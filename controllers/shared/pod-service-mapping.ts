import { objectKey } from '../../api/core/meta.ts';
import type { Pod, Service } from '../../api/core/v1.ts';
import { isPodReady, selectorMatches } from './pod-endpoints.ts';

// Which Services must be re-synced after a Pod event: upstream's pod projection (GetPodUpdateProjectionKey,
// GetServicesToUpdate in k8s.io/endpointslice util/controller_utils.go). Shared by the Endpoints and EndpointSlice
// controllers. Split in two on purpose, as upstream: the key is computed in the informer handler from the two Pod
// versions (cheap, no Service lookup), the Service lookup happens later against the Service cache.

type Labels = Readonly<Record<string, string>>;

/**
 * What a Pod event means for Service membership. `labels` are the Pod's current labels (its last labels on delete).
 * `oldLabels` is set only when an update changed labels, hostname or subdomain; `podChanged` then says whether the Pod
 * also changed in a way that alters its endpoint (so both old and new Services need a sync, not only the difference).
 */
export interface PodProjectionKey {
  readonly namespace: string;
  readonly labels: Labels;
  readonly oldLabels?: Labels;
  readonly podChanged: boolean;
}

/** What an update changed, as upstream's podEndpointsChanged. */
export interface PodEndpointsChange {
  /** Deletion timestamp set on either version, Ready flipped, or status.podIPs differ (length or any ip). */
  readonly podChanged: boolean;
  /** Labels, spec.hostname or spec.subdomain differ. */
  readonly labelsChanged: boolean;
}

/**
 * Compares two versions of one Pod. Not compared, as upstream: phase, container ports, nodeName, status.podIP
 * (singular). Any version carrying a deletionTimestamp counts as a change: upstream compares two decoded pointers,
 * which always differ when either is set.
 */
export function podEndpointsChanged(oldPod: Readonly<Pod>, newPod: Readonly<Pod>): PodEndpointsChange {
  const labelsChanged =
    !labelsEqual(oldPod.metadata.labels, newPod.metadata.labels) ||
    (oldPod.spec.hostname ?? '') !== (newPod.spec.hostname ?? '') ||
    (oldPod.spec.subdomain ?? '') !== (newPod.spec.subdomain ?? '');
  return { podChanged: podChanged(oldPod, newPod), labelsChanged };
}

function podChanged(oldPod: Readonly<Pod>, newPod: Readonly<Pod>): boolean {
  if (oldPod.metadata.deletionTimestamp !== undefined || newPod.metadata.deletionTimestamp !== undefined) return true;
  if (isPodReady(oldPod) !== isPodReady(newPod)) return true;
  const oldIPs = oldPod.status.podIPs ?? [];
  const newIPs = newPod.status.podIPs ?? [];
  if (oldIPs.length !== newIPs.length) return true;
  return oldIPs.some((ip, i) => ip.ip !== newIPs[i]?.ip);
}

// An absent label map and an empty one are the same here: the API server omits empty maps, so both decode alike.
function labelsEqual(a: Labels = {}, b: Labels = {}): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
}

/**
 * The projection key of a Pod event, or undefined when no Service can be affected.
 * - add (`oldPod` undefined): the new Pod's labels;
 * - delete (`newPod` undefined; pass the tombstone's last state): the old Pod's labels;
 * - update: undefined for a resync (same resourceVersion) or an irrelevant change (podEndpointsChanged), otherwise the
 *   new labels, plus the old labels and `podChanged` when labels, hostname or subdomain changed.
 */
export function podUpdateKey(oldPod: Readonly<Pod> | undefined, newPod: Readonly<Pod> | undefined): PodProjectionKey | undefined {
  if (newPod === undefined && oldPod === undefined) return undefined;
  if (oldPod === undefined)
    return { namespace: newPod?.metadata.namespace ?? '', labels: newPod?.metadata.labels ?? {}, podChanged: false };
  if (newPod === undefined) return { namespace: oldPod.metadata.namespace, labels: oldPod.metadata.labels ?? {}, podChanged: false };
  if (oldPod.metadata.resourceVersion === newPod.metadata.resourceVersion) return undefined;
  const change = podEndpointsChanged(oldPod, newPod);
  if (!change.podChanged && !change.labelsChanged) return undefined;
  const base = { namespace: newPod.metadata.namespace, labels: newPod.metadata.labels ?? {} };
  if (!change.labelsChanged) return { ...base, podChanged: false };
  return { ...base, oldLabels: oldPod.metadata.labels ?? {}, podChanged: change.podChanged };
}

/**
 * Keys (`namespace/name`, sorted) of the Services to sync for a projection key. `services` may be the Services of the
 * key's namespace or any superset: others are ignored. A Service with no selector matches nothing, `{}` matches every
 * Pod. With old labels: the union of old and new matches when the Pod itself changed, else their symmetric difference
 * (a pure relabel only matters to Services it joined or left).
 */
export function servicesToUpdate(services: readonly Readonly<Service>[], key: PodProjectionKey): string[] {
  const matching = (labels: Labels): Set<string> => {
    const out = new Set<string>();
    for (const svc of services) {
      if ((svc.metadata.namespace ?? '') !== key.namespace) continue;
      if (selectorMatches(svc.spec.selector, labels)) out.add(objectKey(svc));
    }
    return out;
  };
  const current = matching(key.labels);
  if (key.oldLabels === undefined) return [...current].sort();
  const previous = matching(key.oldLabels);
  const result = new Set<string>();
  for (const k of current) if (key.podChanged || !previous.has(k)) result.add(k);
  for (const k of previous) if (key.podChanged || !current.has(k)) result.add(k);
  return [...result].sort();
}
