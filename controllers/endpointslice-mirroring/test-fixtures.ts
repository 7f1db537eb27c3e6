import type { EndpointSlice } from '../../api/discovery/v1.ts';
import type { ResourceType } from '../runtime/resource.ts';
import { RecordingApiClient as BaseRecordingApiClient } from '../runtime/testing/recording-api-client.ts';

export { apiError } from '../runtime/testing/api-error.ts';
export { MemoryStore } from '../runtime/testing/memory-store.ts';
export { type RecordedEvent, RecordingEventRecorder } from '../runtime/testing/recording-event-recorder.ts';
export { testContext } from '../runtime/testing/test-context.ts';

// Fakes for this controller's tests: an API client that records every call and answers like the API server for
// EndpointSlices (names from generateName, uids, generations). The store, recorder and context are the shared ones.

/** One call made through {@link RecordingApiClient}. */
export interface ApiCall {
  readonly verb: 'create' | 'update' | 'delete';
  readonly resource: string;
  readonly namespace: string;
  readonly name: string;
  readonly body?: unknown;
}

/**
 * Records create/update/delete and answers them like the API server does for EndpointSlices: a create gets a name
 * (generateName + counter), a uid and generation 1; an update keeps the stored uid and bumps the generation. Reads
 * are not expected from a reconciler (it reads caches) and throw. `failOn` injects one error per matching call.
 */
export class RecordingApiClient extends BaseRecordingApiClient<ApiCall> {
  readonly #objects = new Map<string, EndpointSlice>();
  #seq = 0;

  /** Seeds the "server" with slices that already exist (so updates can keep their uid and generation). */
  seed(slices: readonly EndpointSlice[]): void {
    for (const s of slices) this.#objects.set(`${s.metadata.namespace}/${s.metadata.name}`, structuredClone(s));
  }

  override async create(r: ResourceType, namespace: string, body: unknown): Promise<unknown> {
    const slice = structuredClone(body) as EndpointSlice;
    const name = slice.metadata.name ?? `${slice.metadata.generateName ?? ''}${(this.#seq++).toString(36).padStart(5, 'x')}`;
    this.record({ verb: 'create', resource: r.plural, namespace, name, body });
    slice.metadata = { ...slice.metadata, name, uid: `uid-${name}`, generation: 1, resourceVersion: String(++this.#seq) };
    this.#objects.set(`${namespace}/${name}`, slice);
    return structuredClone(slice);
  }

  override async update(r: ResourceType, namespace: string, name: string, body: unknown): Promise<unknown> {
    this.record({ verb: 'update', resource: r.plural, namespace, name, body });
    const old = this.#objects.get(`${namespace}/${name}`);
    const slice = structuredClone(body) as EndpointSlice;
    slice.metadata = {
      ...slice.metadata,
      uid: old?.metadata.uid ?? `uid-${name}`,
      generation: (old?.metadata.generation ?? 0) + 1,
      resourceVersion: String(++this.#seq),
    };
    this.#objects.set(`${namespace}/${name}`, slice);
    return structuredClone(slice);
  }

  override async delete(r: ResourceType, namespace: string, name: string): Promise<void> {
    this.record({ verb: 'delete', resource: r.plural, namespace, name });
    this.#objects.delete(`${namespace}/${name}`);
  }

  /** The slices the fake server holds now. */
  slices(): EndpointSlice[] {
    return [...this.#objects.values()];
  }
}
