import { pino } from 'pino';
import type { ObjectReference } from '../../api/core/meta.ts';
import { objectKey } from '../../api/core/meta.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import type { ApiClient, ListResult, PatchType, WatchEvent } from '../runtime/api-client.ts';
import { ApiError } from '../runtime/api-errors.ts';
import type { IndexFunc, Store } from '../runtime/cache/store.ts';
import { NAMESPACE_INDEX } from '../runtime/cache/store.ts';
import type { EventRecorder } from '../runtime/manager-types.ts';
import type { ReconcileContext } from '../runtime/reconcile.ts';
import type { ResourceType } from '../runtime/resource.ts';
import { deepFreeze } from '../shared/deep-freeze.ts';

// Fakes for this controller's tests: an in-memory store, an API client that records every call and answers like the
// API server for EndpointSlices (names from generateName, uids, generations), and an event recorder.

/** A Store over a fixed set of (deep-frozen) objects, with optional indexes. */
export class MemoryStore<
  T extends { metadata?: { namespace?: string | undefined; name?: string | undefined } | undefined },
> implements Store<T> {
  readonly #items = new Map<string, Readonly<T>>();
  readonly #indexers: Map<string, IndexFunc<T>>;

  constructor(items: readonly T[] = [], indexers: Readonly<Record<string, IndexFunc<T>>> = {}) {
    this.#indexers = new Map(Object.entries(indexers));
    this.#indexers.set(NAMESPACE_INDEX, (o) => [o.metadata?.namespace ?? '']);
    for (const item of items) this.put(item);
  }

  put(item: T): void {
    this.#items.set(objectKey(item), deepFreeze(item));
  }

  remove(key: string): void {
    this.#items.delete(key);
  }

  get(key: string): Readonly<T> | undefined {
    return this.#items.get(key);
  }

  list(): readonly Readonly<T>[] {
    return [...this.#items.values()];
  }

  keys(): readonly string[] {
    return [...this.#items.keys()];
  }

  byIndex(indexName: string, value: string): readonly Readonly<T>[] {
    const fn = this.#indexers.get(indexName);
    if (fn === undefined) throw new Error(`index ${indexName} not registered`);
    return this.list().filter((o) => fn(o).includes(value));
  }

  get size(): number {
    return this.#items.size;
  }
}

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
export class RecordingApiClient implements ApiClient {
  readonly calls: ApiCall[] = [];
  readonly #objects = new Map<string, EndpointSlice>();
  #seq = 0;
  failOn: ((call: ApiCall) => Error | undefined) | undefined;

  /** Seeds the "server" with slices that already exist (so updates can keep their uid and generation). */
  seed(slices: readonly EndpointSlice[]): void {
    for (const s of slices) this.#objects.set(`${s.metadata.namespace}/${s.metadata.name}`, structuredClone(s));
  }

  #fail(call: ApiCall): void {
    this.calls.push(call);
    const err = this.failOn?.(call);
    if (err !== undefined) throw err;
  }

  async create(r: ResourceType, namespace: string, body: unknown): Promise<unknown> {
    const slice = structuredClone(body) as EndpointSlice;
    const name = slice.metadata.name ?? `${slice.metadata.generateName ?? ''}${(this.#seq++).toString(36).padStart(5, 'x')}`;
    this.#fail({ verb: 'create', resource: r.plural, namespace, name, body });
    slice.metadata = { ...slice.metadata, name, uid: `uid-${name}`, generation: 1, resourceVersion: String(++this.#seq) };
    this.#objects.set(`${namespace}/${name}`, slice);
    return structuredClone(slice);
  }

  async update(r: ResourceType, namespace: string, name: string, body: unknown): Promise<unknown> {
    this.#fail({ verb: 'update', resource: r.plural, namespace, name, body });
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

  async delete(r: ResourceType, namespace: string, name: string): Promise<void> {
    this.#fail({ verb: 'delete', resource: r.plural, namespace, name });
    this.#objects.delete(`${namespace}/${name}`);
  }

  /** The slices the fake server holds now. */
  slices(): EndpointSlice[] {
    return [...this.#objects.values()];
  }

  get(): Promise<unknown> {
    throw new Error('unexpected get');
  }
  list(): Promise<ListResult> {
    throw new Error('unexpected list');
  }
  watch(): AsyncIterable<WatchEvent> {
    throw new Error('unexpected watch');
  }
  patch(_r: ResourceType, _ns: string, _name: string, _body: unknown, _type: PatchType): Promise<unknown> {
    throw new Error('unexpected patch');
  }
  getPath(): Promise<unknown> {
    throw new Error('unexpected getPath');
  }
  forComponent(): ApiClient {
    return this;
  }
}

/** An Event as recorded by {@link RecordingEventRecorder}. */
export interface RecordedEvent {
  readonly object: Readonly<ObjectReference>;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/** Keeps every recorded Event, in order. */
export class RecordingEventRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];
  event(object: Readonly<ObjectReference>, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ object, type, reason, message });
  }
}

/** A reconcile context with a silent logger. */
export function testContext(): ReconcileContext {
  return { logger: pino({ level: 'silent' }), reconcileId: 'test', signal: new AbortController().signal };
}

/** An API error as the server would return it. */
export function apiError(code: number, reason: ApiError['reason'], causes: ApiError['causes'] = []): ApiError {
  return new ApiError({ code, reason, message: reason, causes, verb: 'test', path: '/test' });
}
