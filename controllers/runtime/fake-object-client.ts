import type { PatchType } from './api-client.ts';
import { ApiError, NetworkError } from './api-errors.ts';
import type { ResourceType } from './resource.ts';
import { RecordingApiClient } from './testing/recording-api-client.ts';

// An in-memory ApiClient for runtime tests: objects keyed by resource/namespace/name with a global resourceVersion
// counter, optimistic concurrency on update, failure injection and a call log. get/create/update/patch/delete only;
// list and watch are not needed by the leader elector or the event recorder.

type Obj = Record<string, unknown> & { metadata?: Record<string, unknown> };

/** One call the fake received. */
export interface FakeCall {
  readonly verb: 'get' | 'create' | 'update' | 'patch' | 'delete';
  readonly resource: string;
  readonly namespace: string;
  readonly name: string;
  readonly body?: unknown;
  readonly patchType?: PatchType;
}

const notFound = (verb: string, path: string) => new ApiError({ code: 404, reason: 'NotFound', message: `${path} not found`, verb, path });

/** The fake. Set `failWith` to make every call reject; set `hang` to make calls wait for their signal. */
export class FakeObjectClient extends RecordingApiClient<FakeCall> {
  readonly #objects = new Map<string, Obj>();
  #rv = 0;
  /** When set, every call rejects with this (a NetworkError by default in tests). */
  failWith: unknown;
  /** When true, calls never answer until their AbortSignal aborts. */
  hang = false;
  /** Runs before an update is applied (e.g. to simulate another writer winning the race). */
  beforeUpdate: ((key: string) => void) | undefined;

  static path(r: ResourceType, namespace: string, name: string): string {
    return `${r.plural}/${namespace}/${name}`;
  }

  /** The stored object, or undefined. A copy: mutating it changes nothing. */
  object(r: ResourceType, namespace: string, name: string): Obj | undefined {
    const o = this.#objects.get(FakeObjectClient.path(r, namespace, name));
    return o === undefined ? undefined : structuredClone(o);
  }

  /** Stores an object directly (bumping the resourceVersion), as another client would. */
  put(r: ResourceType, namespace: string, name: string, obj: Obj): void {
    this.#objects.set(FakeObjectClient.path(r, namespace, name), this.#stamp(obj, namespace, name));
  }

  override async get(r: ResourceType, namespace: string, name: string, signal?: AbortSignal): Promise<unknown> {
    await this.#gate('get', r, namespace, name, undefined, signal);
    const o = this.#objects.get(FakeObjectClient.path(r, namespace, name));
    if (o === undefined) throw notFound('get', FakeObjectClient.path(r, namespace, name));
    return structuredClone(o);
  }

  override async create(r: ResourceType, namespace: string, body: unknown, opts?: { signal?: AbortSignal }): Promise<unknown> {
    const obj = structuredClone(body) as Obj;
    const name = String(obj.metadata?.name ?? '');
    await this.#gate('create', r, namespace, name, body, opts?.signal);
    const key = FakeObjectClient.path(r, namespace, name);
    if (this.#objects.has(key)) {
      throw new ApiError({ code: 409, reason: 'AlreadyExists', message: `${key} already exists`, verb: 'create', path: key });
    }
    const stored = this.#stamp(obj, namespace, name);
    this.#objects.set(key, stored);
    return structuredClone(stored);
  }

  override async update(
    r: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    opts?: { signal?: AbortSignal },
  ): Promise<unknown> {
    await this.#gate('update', r, namespace, name, body, opts?.signal);
    const key = FakeObjectClient.path(r, namespace, name);
    this.beforeUpdate?.(key);
    const current = this.#objects.get(key);
    if (current === undefined) throw notFound('update', key);
    const obj = structuredClone(body) as Obj;
    const want = obj.metadata?.resourceVersion;
    if (want !== undefined && want !== current.metadata?.resourceVersion) {
      throw new ApiError({ code: 409, reason: 'Conflict', message: 'the object has been modified', verb: 'update', path: key });
    }
    const stored = this.#stamp(obj, namespace, name);
    this.#objects.set(key, stored);
    return structuredClone(stored);
  }

  override async patch(
    r: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    type: PatchType,
    opts?: { signal?: AbortSignal },
  ): Promise<unknown> {
    await this.#gate('patch', r, namespace, name, body, opts?.signal, type);
    const key = FakeObjectClient.path(r, namespace, name);
    const current = this.#objects.get(key);
    if (current === undefined) throw notFound('patch', key);
    const stored = this.#stamp({ ...current, ...(body as Obj), metadata: current.metadata }, namespace, name);
    this.#objects.set(key, stored);
    return structuredClone(stored);
  }

  override async delete(r: ResourceType, namespace: string, name: string): Promise<void> {
    await this.#gate('delete', r, namespace, name, undefined, undefined);
    this.#objects.delete(FakeObjectClient.path(r, namespace, name));
  }

  /** Calls of one verb. */
  callsOf(verb: FakeCall['verb']): FakeCall[] {
    return this.calls.filter((c) => c.verb === verb);
  }

  #stamp(obj: Obj, namespace: string, name: string): Obj {
    return { ...obj, metadata: { ...(obj.metadata ?? {}), namespace, name, resourceVersion: String(++this.#rv) } };
  }

  async #gate(
    verb: FakeCall['verb'],
    r: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    signal: AbortSignal | undefined,
    patchType?: PatchType,
  ) {
    this.calls.push({ verb, resource: r.plural, namespace, name, body: structuredClone(body), patchType });
    if (signal?.aborted) throw signal.reason;
    if (this.hang) {
      await new Promise<never>((_resolve, reject) => {
        if (signal === undefined) return;
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    if (this.failWith !== undefined) throw this.failWith;
  }
}

/** A NetworkError, the usual injected failure. */
export const connectionRefused = () => new NetworkError('connect ECONNREFUSED 127.0.0.1:6443');
