import type { EndpointAddress, EndpointSubset, Endpoints, Service } from '../../api/core/v1.ts';
import {
  ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
  ANNOTATION_OVER_CAPACITY,
  LABEL_ENDPOINTS_MANAGED_BY,
  LABEL_HEADLESS,
  MANAGED_BY_ENDPOINTS_CONTROLLER,
} from '../../api/labels.ts';
import { semanticDeepEqual } from '../shared/go-value.ts';
import { formatTriggerTime } from '../shared/trigger-time-tracker.ts';
import { endpointSubsetsGo } from './go-types.ts';
import { serviceHasManagedEndpoints } from './desired.ts';
import { repackSubsets } from './repack.ts';
import { countAddresses, MAX_ENDPOINTS_CAPACITY, truncateSubsets } from './truncate.ts';

// Decides the one write (if any) that brings a Service's Endpoints to the desired state: upstream syncService steps 1
// and 8 to 11 (endpoints_controller.go: syncService), minus the I/O. The reconciler applies the result.

/** Value of the over-capacity annotation when addresses were dropped. */
export const OVER_CAPACITY_TRUNCATED = 'truncated';

/** Everything the plan depends on. */
export interface EndpointsPlanInput {
  /** The Service's (and Endpoints') namespace and name, from the work item key. */
  readonly namespace: string;
  readonly name: string;
  /** The Service from the cache; undefined when it no longer exists. */
  readonly service: Readonly<Service> | undefined;
  /** The Endpoints from the cache, if any. */
  readonly existing: Readonly<Endpoints> | undefined;
  /** The canonical untruncated subsets (desiredSubsets). Ignored when the Service is missing or not managed. */
  readonly desiredSubsets: readonly Readonly<EndpointSubset>[];
  /** The trigger-time tracker's answer for this sync in epoch ms; undefined (zero) removes the annotation. */
  readonly triggerTime: number | undefined;
  /** Address cap. Default {@link MAX_ENDPOINTS_CAPACITY}. */
  readonly maxCapacity?: number;
}

/**
 * The single write a sync makes.
 * - `none`: the Endpoints is already right (or not ours to touch);
 * - `create`: POST `object`;
 * - `update`: PUT `object`, which carries the cached resourceVersion (`previousResourceVersion`) for optimistic
 *   concurrency;
 * - `delete`: the Service is gone; DELETE the Endpoints of that name whatever its origin (NotFound is fine).
 */
export type EndpointsPlan =
  | { readonly kind: 'none'; readonly reason: 'NotManaged' | 'UpToDate' }
  | { readonly kind: 'create'; readonly object: Endpoints; readonly truncated: boolean }
  | { readonly kind: 'update'; readonly object: Endpoints; readonly previousResourceVersion: string; readonly truncated: boolean }
  | { readonly kind: 'delete'; readonly namespace: string; readonly name: string };

/**
 * Plans the write. The no-op check runs only for an existing Endpoints and skips the write when all hold:
 * - its subsets equal the untruncated desired ones semantically (nil == empty, targetRef resourceVersion ignored),
 *   either as stored or after repacking them (a hash-order change between versions must not cause writes);
 * - its labels are the Service's plus managed-by (the headless label is not checked);
 * - its over-capacity annotation is consistent (absent, and the stored subsets within the cap).
 * A trigger-time change alone therefore never writes. Otherwise the new object is the existing one (or a fresh one)
 * with the truncated desired subsets, the Service's labels (others dropped) plus the headless label when clusterIP is
 * "" or "None" and managed-by, and its annotations except the trigger time (set when defined, else removed) and the
 * over-capacity marker (set to "truncated" when addresses were dropped, else removed). Pure; never mutates its input.
 */
export function planEndpoints(input: EndpointsPlanInput): EndpointsPlan {
  const { namespace, name, service, existing } = input;
  if (service === undefined) return { kind: 'delete', namespace, name };
  if (!serviceHasManagedEndpoints(service)) return { kind: 'none', reason: 'NotManaged' };
  const max = input.maxCapacity ?? MAX_ENDPOINTS_CAPACITY;
  const serviceLabels = service.metadata.labels ?? {};
  const create = existing === undefined || (existing.metadata.resourceVersion ?? '') === '';

  // The four conditions are pure, so their order changes only the cost: the cheap label and capacity checks go first.
  // A Service above the cap fails the capacity check on every sync (its stored Endpoints carry the annotation), which
  // then skips repacking the stored subsets (docs/performance.md).
  if (
    existing !== undefined &&
    !create &&
    labelsCorrectForEndpoints(existing.metadata.labels, serviceLabels) &&
    capacityAnnotationSetCorrectly(existing.metadata.annotations, existing.subsets, max) &&
    (subsetsSemanticallyEqual(existing.subsets, input.desiredSubsets) ||
      subsetsSemanticallyEqual(repackSubsets(existing.subsets), input.desiredSubsets))
  ) {
    return { kind: 'none', reason: 'UpToDate' };
  }

  const { subsets, truncated } = truncateSubsets(input.desiredSubsets, max);
  const annotations: Record<string, string> = { ...(create ? {} : existing.metadata.annotations) };
  if (input.triggerTime !== undefined) annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME] = formatTriggerTime(input.triggerTime);
  else delete annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME];
  if (truncated) annotations[ANNOTATION_OVER_CAPACITY] = OVER_CAPACITY_TRUNCATED;
  else delete annotations[ANNOTATION_OVER_CAPACITY];

  const labels: Record<string, string> = { ...serviceLabels };
  if (isServiceIPSet(service)) delete labels[LABEL_HEADLESS];
  else labels[LABEL_HEADLESS] = '';
  labels[LABEL_ENDPOINTS_MANAGED_BY] = MANAGED_BY_ENDPOINTS_CONTROLLER;

  if (create || existing === undefined) {
    const object: Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace, labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
      ...(subsets.length > 0 ? { subsets: [...subsets] } : {}),
    };
    return { kind: 'create', object, truncated };
  }

  // The update body is the cached object with our changes, so fields we do not model survive the PUT. managedFields
  // is left out: an absent list keeps the server's, while echoing a cached copy could overwrite a newer one.
  const { managedFields: _managedFields, annotations: _annotations, labels: _labels, ...metadata } = existing.metadata;
  const { subsets: _subsets, ...rest } = existing;
  const object: Endpoints = {
    ...structuredClone(rest),
    apiVersion: existing.apiVersion ?? 'v1',
    kind: existing.kind ?? 'Endpoints',
    metadata: { ...structuredClone(metadata), labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    ...(subsets.length > 0 ? { subsets: [...subsets] } : {}),
  };
  return { kind: 'update', object, previousResourceVersion: existing.metadata.resourceVersion ?? '', truncated };
}

/** Upstream IsServiceIPSet: a clusterIP other than "" and "None". */
export function isServiceIPSet(service: Readonly<Service>): boolean {
  const ip = service.spec.clusterIP ?? '';
  return ip !== '' && ip !== 'None';
}

/** Semantic equality of subsets, ignoring targetRef resourceVersion (upstream semanticIgnoreResourceVersion). */
export function subsetsSemanticallyEqual(
  a: readonly Readonly<EndpointSubset>[] | undefined,
  b: readonly Readonly<EndpointSubset>[] | undefined,
): boolean {
  // Semantic equality treats nil and empty lists alike, so lists of different lengths can never be equal: checked
  // first, because the full comparison builds Go values of every address (a Service above the 1,000-address cap
  // otherwise paid that on every sync, docs/performance.md).
  if (!sameShape(a, b) || !sameAddressIPs(a, b)) return false;
  return semanticDeepEqual(
    endpointSubsetsGo(a),
    endpointSubsetsGo(b),
    (type, field) => type === 'v1.ObjectReference' && field === 'ResourceVersion',
  );
}

/** Same number of subsets, and per subset the same number of addresses, not-ready addresses and ports. */
function sameShape(a: readonly Readonly<EndpointSubset>[] | undefined, b: readonly Readonly<EndpointSubset>[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const p = x[i];
    const q = y[i];
    if (
      (p?.addresses?.length ?? 0) !== (q?.addresses?.length ?? 0) ||
      (p?.notReadyAddresses?.length ?? 0) !== (q?.notReadyAddresses?.length ?? 0) ||
      (p?.ports?.length ?? 0) !== (q?.ports?.length ?? 0)
    )
      return false;
  }
  return true;
}

/**
 * Whether addresses at the same positions have the same IP (for subsets of the same shape). An IP is a plain string
 * in Go too, so any difference makes the subsets semantically unequal; during a rollout one usually shows up early,
 * before Go values of every address are built.
 */
function sameAddressIPs(a: readonly Readonly<EndpointSubset>[] | undefined, b: readonly Readonly<EndpointSubset>[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  for (let i = 0; i < x.length; i++) {
    const p = x[i];
    const q = y[i];
    if (!sameIPs(p?.addresses, q?.addresses) || !sameIPs(p?.notReadyAddresses, q?.notReadyAddresses)) return false;
  }
  return true;
}

function sameIPs(a: readonly Readonly<EndpointAddress>[] | undefined, b: readonly Readonly<EndpointAddress>[] | undefined): boolean {
  const n = Math.min(a?.length ?? 0, b?.length ?? 0);
  for (let i = 0; i < n; i++) if (a?.[i]?.ip !== b?.[i]?.ip) return false;
  return true;
}

/**
 * Upstream labelsCorrectForEndpoints: managed-by is ours, and apart from managed-by and the headless label the
 * Endpoints labels are exactly the Service labels.
 */
export function labelsCorrectForEndpoints(
  endpointsLabels: Readonly<Record<string, string>> | undefined,
  serviceLabels: Readonly<Record<string, string>>,
): boolean {
  const current = endpointsLabels ?? {};
  if (current[LABEL_ENDPOINTS_MANAGED_BY] !== MANAGED_BY_ENDPOINTS_CONTROLLER) return false;
  let skipped = 0;
  for (const [k, v] of Object.entries(current)) {
    if (k === LABEL_HEADLESS || k === LABEL_ENDPOINTS_MANAGED_BY) skipped++;
    else if (!Object.hasOwn(serviceLabels, k) || serviceLabels[k] !== v) return false;
  }
  return Object.keys(serviceLabels).length === Object.keys(current).length - skipped;
}

/**
 * Upstream capacityAnnotationSetCorrectly: false when the stored subsets exceed the cap (they must be truncated),
 * otherwise true exactly when the over-capacity annotation is absent.
 */
export function capacityAnnotationSetCorrectly(
  annotations: Readonly<Record<string, string>> | undefined,
  subsets: readonly Readonly<EndpointSubset>[] | undefined,
  max: number = MAX_ENDPOINTS_CAPACITY,
): boolean {
  if (countAddresses(subsets) > max) return false;
  return !Object.hasOwn(annotations ?? {}, ANNOTATION_OVER_CAPACITY);
}
