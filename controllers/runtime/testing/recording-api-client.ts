import type {
  ApiClient,
  DeleteOptions,
  ListOptions,
  ListResult,
  PatchType,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from '../api-client.ts';
import type { ResourceType } from '../resource.ts';

// Test-only: the common part of the controllers' fake API clients. Each controller's fake overrides just the verbs it
// uses (answering as the API server would for its resources); every other verb throws, so a reconciler that starts
// calling something unexpected fails its tests instead of silently getting nothing.

/**
 * An ApiClient that records calls of type `C` through {@link record} and can fail them on demand: `failOn` for every
 * matching call, `failOnce` for the first matching call only (it is cleared once it fires). Unserved verbs reject
 * (watch throws), as a real client's would.
 */
export class RecordingApiClient<C> implements ApiClient {
  readonly calls: C[] = [];
  failOn: ((call: C) => Error | undefined) | undefined;
  failOnce: ((call: C) => Error | undefined) | undefined;

  /** Logs `call`, then throws the injected error for it, if any. Subclasses call it first in each verb they serve. */
  record(call: C): void {
    this.calls.push(call);
    const err = this.failOn?.(call);
    if (err !== undefined) throw err;
    const once = this.failOnce?.(call);
    if (once !== undefined) {
      this.failOnce = undefined;
      throw once;
    }
  }

  async get(_r: ResourceType, _namespace: string, _name: string, _signal?: AbortSignal): Promise<unknown> {
    throw new Error('unexpected get');
  }
  async list(_r: ResourceType, _namespace: string, _opts?: ListOptions, _signal?: AbortSignal): Promise<ListResult> {
    throw new Error('unexpected list');
  }
  watch(_r: ResourceType, _namespace: string, _opts: WatchOptions, _signal: AbortSignal): AsyncIterable<WatchEvent> {
    throw new Error('unexpected watch');
  }
  async create(
    _r: ResourceType,
    _namespace: string,
    _body: unknown,
    _opts?: WriteOptions & { subresource?: { name: string; subresource: string } },
  ): Promise<unknown> {
    throw new Error('unexpected create');
  }
  async update(
    _r: ResourceType,
    _namespace: string,
    _name: string,
    _body: unknown,
    _opts?: WriteOptions & { subresource?: string },
  ): Promise<unknown> {
    throw new Error('unexpected update');
  }
  async patch(
    _r: ResourceType,
    _namespace: string,
    _name: string,
    _body: unknown,
    _type: PatchType,
    _opts?: WriteOptions & { subresource?: string; force?: boolean },
  ): Promise<unknown> {
    throw new Error('unexpected patch');
  }
  async delete(_r: ResourceType, _namespace: string, _name: string, _opts?: DeleteOptions): Promise<void> {
    throw new Error('unexpected delete');
  }
  async getPath(_path: string, _signal?: AbortSignal): Promise<unknown> {
    throw new Error('unexpected getPath');
  }
  forComponent(): ApiClient {
    return this;
  }
}
