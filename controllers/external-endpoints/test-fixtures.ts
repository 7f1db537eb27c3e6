import type { Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import {
  type ExternalEndpointsSpecInput,
  type ExternalEndpointsStatus,
  externalEndpointsSchema,
} from '../../api/v1alpha1/external-endpoints.ts';
import { API_VERSION } from '../../api/v1alpha1/group-version.ts';
import type { IndexFunc } from '../runtime/cache/store.ts';
import { MemoryStore as BaseMemoryStore } from '../runtime/testing/memory-store.ts';
import type { ReconcileContext } from '../runtime/reconcile.ts';
import { testContext as sharedTestContext } from '../runtime/testing/test-context.ts';

export { apiError } from '../runtime/testing/api-error.ts';
export { type RecordedEvent, RecordingEventRecorder } from '../runtime/testing/recording-event-recorder.ts';

// Builders and fakes for this folder's tests (not a test itself). Objects are wire-format, as the caches hold them.

export const NS = 'prod';
export const UID = 'xep-uid-1';

/** An ExternalEndpoints `prod/db` (uid xep-uid-1, generation 1) with `spec` parsed (defaults applied). */
export function makeObject(
  spec: ExternalEndpointsSpecInput,
  patch: { status?: ExternalEndpointsStatus; uid?: string; generation?: number } = {},
) {
  return externalEndpointsSchema.parse({
    apiVersion: API_VERSION,
    kind: 'ExternalEndpoints',
    metadata: { name: 'db', namespace: NS, uid: patch.uid ?? UID, generation: patch.generation ?? 1, resourceVersion: '10' },
    spec,
    ...(patch.status === undefined ? {} : { status: patch.status }),
  });
}

/** A selectorless Service `prod/db` with one TCP port named `pg` (override via `spec`). */
export function makeService(spec: Partial<Service['spec']> = {}): Service {
  return {
    metadata: { name: 'db', namespace: NS, uid: 'svc-uid', resourceVersion: '5' },
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.20', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }], ...spec },
  };
}

/** The shared MemoryStore, freezing copies: these tests keep building on fixtures after putting them. */
export class MemoryStore<
  T extends { metadata?: { namespace?: string | undefined; name?: string | undefined } | undefined },
> extends BaseMemoryStore<T> {
  constructor(items: readonly T[] = [], indexers: Readonly<Record<string, IndexFunc<T>>> = {}) {
    super(items, indexers, { copyOnPut: true });
  }
}

/** A reconcile context with a silent logger. */
export function testContext(signal: AbortSignal = new AbortController().signal): ReconcileContext {
  return sharedTestContext({ signal });
}

/** The slices of a set of objects, for assertions: `addressType: address=ready/serving/terminating ...` per slice. */
export function describeSlices(slices: readonly Readonly<EndpointSlice>[]): string[] {
  return slices
    .map(
      (s) =>
        `${s.addressType}: ${(s.endpoints ?? [])
          .map(
            (e) =>
              `${e.addresses.join(',')}=${e.conditions?.ready ? 'R' : '-'}${e.conditions?.serving ? 'S' : '-'}${e.conditions?.terminating ? 'T' : '-'}`,
          )
          .join(' ')}`,
    )
    .sort();
}
