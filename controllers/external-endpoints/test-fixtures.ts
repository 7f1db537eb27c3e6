import type { Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import {
  type ExternalEndpointsSpecInput,
  type ExternalEndpointsStatus,
  externalEndpointsSchema,
} from '../../api/v1alpha1/external-endpoints.ts';
import { API_VERSION } from '../../api/v1alpha1/group-version.ts';
import type { PatchType } from '../runtime/api-client.ts';
import type { IndexFunc } from '../runtime/cache/store.ts';
import type { ResourceType } from '../runtime/resource.ts';
import { apiError } from '../runtime/testing/api-error.ts';
import { MemoryStore as BaseMemoryStore } from '../runtime/testing/memory-store.ts';
import type { ReconcileContext } from '../runtime/reconcile.ts';
import { RecordingApiClient } from '../runtime/testing/recording-api-client.ts';
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

/** One write made through {@link FakeApiServer}. */
export interface ApiWrite {
  readonly verb: 'create' | 'update' | 'patch' | 'delete';
  readonly resource: string;
  readonly name: string;
  readonly subresource?: string | undefined;
  readonly body?: unknown;
}

type Obj = { metadata: Record<string, unknown> & { name?: string; generateName?: string; resourceVersion?: string } } & Record<
  string,
  unknown
>;

/**
 * A tiny API server for EndpointSlices, Endpoints and ExternalEndpoints status: names from generateName, uids,
 * generations bumped on every slice write, optimistic concurrency on update, AlreadyExists on create, merge patch of
 * the status subresource. Records every write; `failOnce` injects one error.
 */
export class FakeApiServer extends RecordingApiClient<ApiWrite> {
  readonly #objects = new Map<string, Obj>();
  #seq = 0;

  /** Every write, in order. */
  get writes(): ApiWrite[] {
    return this.calls;
  }

  static #key(resource: string, namespace: string, name: string): string {
    return `${resource}/${namespace}/${name}`;
  }

  /** Stores an object as if another client had created it. */
  put(r: ResourceType, obj: object): void {
    const o = structuredClone(obj) as Obj;
    o.metadata.resourceVersion = String(++this.#seq);
    this.#objects.set(FakeApiServer.#key(r.plural, String(o.metadata.namespace ?? ''), String(o.metadata.name ?? '')), o);
  }

  /** Objects of one resource, as stored. */
  list_(r: ResourceType): Obj[] {
    return [...this.#objects.entries()].filter(([k]) => k.startsWith(`${r.plural}/`)).map(([, v]) => structuredClone(v));
  }

  override async create(r: ResourceType, namespace: string, body: unknown): Promise<unknown> {
    const o = structuredClone(body) as Obj;
    const name = o.metadata.name ?? `${o.metadata.generateName ?? ''}${(++this.#seq).toString(36).padStart(5, '0')}`;
    this.record({ verb: 'create', resource: r.plural, name, body });
    const key = FakeApiServer.#key(r.plural, namespace, name);
    if (this.#objects.has(key)) throw apiError(409, 'AlreadyExists');
    o.metadata = { ...o.metadata, name, namespace, uid: `uid-${name}`, generation: 1, resourceVersion: String(++this.#seq) };
    delete o.metadata.generateName;
    this.#objects.set(key, o);
    return structuredClone(o);
  }

  override async update(r: ResourceType, namespace: string, name: string, body: unknown): Promise<unknown> {
    this.record({ verb: 'update', resource: r.plural, name, body });
    const key = FakeApiServer.#key(r.plural, namespace, name);
    const old = this.#objects.get(key);
    if (old === undefined) throw apiError(404, 'NotFound');
    const o = structuredClone(body) as Obj;
    if (o.metadata.resourceVersion !== undefined && o.metadata.resourceVersion !== old.metadata.resourceVersion)
      throw apiError(409, 'Conflict');
    o.metadata = {
      ...o.metadata,
      uid: old.metadata.uid,
      generation: Number(old.metadata.generation ?? 0) + 1,
      resourceVersion: String(++this.#seq),
    };
    this.#objects.set(key, o);
    return structuredClone(o);
  }

  override async patch(
    r: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    type: PatchType,
    opts?: { subresource?: string },
  ): Promise<unknown> {
    this.record({ verb: 'patch', resource: r.plural, name, subresource: opts?.subresource, body });
    if (type !== 'merge') throw new Error(`unexpected patch type ${type}`);
    const key = FakeApiServer.#key(r.plural, namespace, name);
    const old = this.#objects.get(key);
    if (old === undefined) throw apiError(404, 'NotFound');
    const o = { ...structuredClone(old), ...(structuredClone(body) as object) } as Obj;
    o.metadata = { ...old.metadata, resourceVersion: String(++this.#seq) };
    this.#objects.set(key, o);
    return structuredClone(o);
  }

  override async delete(r: ResourceType, namespace: string, name: string): Promise<void> {
    this.record({ verb: 'delete', resource: r.plural, name });
    if (!this.#objects.delete(FakeApiServer.#key(r.plural, namespace, name))) throw apiError(404, 'NotFound');
  }

  override async get(r: ResourceType, namespace: string, name: string): Promise<unknown> {
    const o = this.#objects.get(FakeApiServer.#key(r.plural, namespace, name));
    if (o === undefined) throw apiError(404, 'NotFound');
    return structuredClone(o);
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
