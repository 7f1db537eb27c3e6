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
import { ApiError } from '../api-errors.ts';
import type { ResourceType } from '../resource.ts';

// Test-only: the one fake API client of the controllers' tests, modelled on controller-runtime's fake client
// (pkg/client/fake/client.go: fakeClient over an object tracker). It keeps objects per resource, namespace and name and
// answers the verbs as kube-apiserver does for what the controllers use:
//
// - create: a name from generateName (prefix + 5 characters) when none is given; AlreadyExists for a taken name; sets
//   uid (`uid-<name>`), generation 1 and a new resourceVersion. A Pod's `binding` sets its spec.nodeName: NotFound for a
//   missing Pod, Conflict for another uid in the Binding's metadata, a Pod being deleted or one already assigned
//   (pkg/registry/core/pod/storage/storage.go: BindingREST.setPodNodeAndMetadata). Any other subresource create (a
//   TokenRequest) is recorded and answered with its body; it changes nothing stored.
// - update: NotFound for a missing object; Conflict when the body carries a resourceVersion other than the stored one
//   (no resourceVersion: unconditional, as the API server allows); keeps uid; bumps the generation when anything but
//   metadata changed, or the labels (as the EndpointSlice strategy does); the `status` subresource replaces status only.
// - patch: JSON merge patch (RFC 7386) for 'merge', 'strategic' and 'apply' (arrays are replaced, which is all the
//   controllers' patches need); 'apply' creates a missing object, the others are NotFound; `status` patches status.
// - delete: NotFound for a missing object; Conflict when a uid or resourceVersion precondition does not match
//   (staging/src/k8s.io/apiserver/pkg/storage/interfaces.go: Preconditions.Check).
// - get: NotFound for a missing object. list: label selectors (`k=v`, `k==v`, `k!=v`, `k`, `!k`) and the field
//   selectors `metadata.name` and `metadata.namespace`; namespace '' lists all namespaces.
// - getPath: what `seedPath` stored for the path (e.g. `/version`), NotFound for any other path.
// - Every stored object and answer is a copy; every write bumps one global resourceVersion counter.
//
// Every call is recorded in `calls` first; then an aborted signal rejects it, `hang` makes it wait for its signal, and
// `failOn` / `failOnce` may reject it (before anything is stored). watch is not served: it throws, so a reconciler
// that starts using it fails its tests instead of silently getting nothing.

/** An object as stored. */
export type FakeObject = Record<string, unknown> & { metadata: FakeMeta };
type FakeMeta = Record<string, unknown> & {
  name?: string;
  namespace?: string;
  generateName?: string;
  resourceVersion?: string;
  uid?: string;
  generation?: number;
  labels?: Record<string, string>;
  deletionTimestamp?: string;
};

/** One call the fake received. Optional fields are present only when the call had them. */
export interface FakeCall {
  readonly verb: 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete' | 'getPath';
  /** The resource's plural, e.g. `endpointslices`. */
  readonly resource: string;
  readonly namespace: string;
  /** As requested: '' for a list and getPath, and for a create that asks for a name from generateName. */
  readonly name: string;
  /** The path of a getPath call. */
  readonly path?: string;
  readonly body?: unknown;
  readonly subresource?: string;
  readonly patchType?: PatchType;
  readonly fieldManager?: string;
  readonly force?: boolean;
  readonly deleteOptions?: Omit<DeleteOptions, 'signal'>;
  readonly listOptions?: ListOptions;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386 JSON merge patch: objects merge recursively, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Whether the object's labels match a label selector string as the API server parses the simple forms. */
function labelsMatch(labels: Readonly<Record<string, string>>, selector: string | undefined): boolean {
  if (selector === undefined || selector.trim() === '') return true;
  return selector.split(',').every((raw) => {
    const term = raw.trim();
    const ne = term.split('!=');
    if (ne.length === 2) return labels[ne[0]?.trim() ?? ''] !== ne[1]?.trim();
    const eq = term.split(/==?/);
    if (eq.length === 2) return labels[eq[0]?.trim() ?? ''] === eq[1]?.trim();
    if (term.startsWith('!')) return !(term.slice(1) in labels);
    if (/[\s()]/.test(term)) throw new Error(`FakeApiClient: label selector term not supported: ${term}`);
    return term in labels;
  });
}

function fieldsMatch(obj: FakeObject, selector: string | undefined): boolean {
  if (selector === undefined || selector.trim() === '') return true;
  return selector.split(',').every((raw) => {
    const [field, value] = raw.trim().split(/==?/);
    if (field === 'metadata.name') return obj.metadata.name === value;
    if (field === 'metadata.namespace') return obj.metadata.namespace === value;
    throw new Error(`FakeApiClient: field selector not supported: ${raw}`);
  });
}

function withoutMetadata(o: FakeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}

/** The fake. See the file comment for what it answers and how. */
export class FakeApiClient implements ApiClient {
  readonly calls: FakeCall[] = [];
  /** Rejects every matching call with the returned error (undefined: no failure). */
  failOn: ((call: FakeCall) => unknown) | undefined;
  /** Like failOn, for the first matching call only; cleared once it fires. */
  failOnce: ((call: FakeCall) => unknown) | undefined;
  /** When true, calls never answer until their AbortSignal aborts. */
  hang = false;
  /** Runs after the call is recorded and before it is applied (e.g. to let another writer win a race). */
  beforeWrite: ((call: FakeCall) => void) | undefined;

  readonly #objects = new Map<string, FakeObject>();
  readonly #paths = new Map<string, unknown>();
  #rv = 0;
  #names = 0;

  static #key(resource: string, namespace: string, name: string): string {
    return `${resource}/${namespace}/${name}`;
  }

  /**
   * Stores (or replaces) objects as another client's write would, as given: a fixture's resourceVersion is kept (so a
   * cache built from the same fixture agrees with the server), a new one assigned when it has none. No call is recorded.
   */
  seed(r: ResourceType, ...objects: readonly object[]): void {
    for (const o of objects) {
      const obj = structuredClone(o) as FakeObject;
      const name = obj.metadata.name ?? '';
      const namespace = obj.metadata.namespace ?? '';
      obj.metadata = { resourceVersion: this.#nextRV(), ...obj.metadata, name };
      if (r.namespaced) obj.metadata.namespace = namespace;
      this.#objects.set(FakeApiClient.#key(r.plural, namespace, name), obj);
    }
  }

  /** Stores the answer to getPath(path), e.g. `/version`. No call is recorded. */
  seedPath(path: string, body: unknown): void {
    this.#paths.set(path, structuredClone(body));
  }

  /** The stored object, or undefined. A copy. */
  object(r: ResourceType, namespace: string, name: string): FakeObject | undefined {
    const o = this.#objects.get(FakeApiClient.#key(r.plural, namespace, name));
    return o === undefined ? undefined : structuredClone(o);
  }

  /** Every stored object of a resource (all namespaces), in creation order. Copies. */
  objects(r: ResourceType): FakeObject[] {
    const prefix = `${r.plural}/`;
    return [...this.#objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, o]) => structuredClone(o));
  }

  /** Removes an object without a call, as another client's delete would. */
  remove(r: ResourceType, namespace: string, name: string): void {
    this.#objects.delete(FakeApiClient.#key(r.plural, namespace, name));
  }

  /** The calls of one verb. */
  callsOf(verb: FakeCall['verb']): FakeCall[] {
    return this.calls.filter((c) => c.verb === verb);
  }

  /** The calls that write (everything but get, list and getPath). */
  get writes(): FakeCall[] {
    return this.calls.filter(isWrite);
  }

  async get(r: ResourceType, namespace: string, name: string, signal?: AbortSignal): Promise<unknown> {
    await this.#receive({ verb: 'get', resource: r.plural, namespace, name }, signal);
    return structuredClone(this.#stored('get', r, namespace, name));
  }

  async list(r: ResourceType, namespace: string, opts: ListOptions = {}, signal?: AbortSignal): Promise<ListResult> {
    await this.#receive(
      { verb: 'list', resource: r.plural, namespace, name: '', ...(Object.keys(opts).length > 0 ? { listOptions: opts } : {}) },
      signal,
    );
    const items = this.objects(r).filter(
      (o) =>
        (namespace === '' || o.metadata.namespace === namespace) &&
        labelsMatch(o.metadata.labels ?? {}, opts.labelSelector) &&
        fieldsMatch(o, opts.fieldSelector),
    );
    return { items, resourceVersion: String(this.#rv), continue: undefined };
  }

  watch(_r: ResourceType, _namespace: string, _opts: WatchOptions, _signal: AbortSignal): AsyncIterable<WatchEvent> {
    throw new Error('FakeApiClient: watch is not served');
  }

  async create(
    r: ResourceType,
    namespace: string,
    body: unknown,
    opts: WriteOptions & { subresource?: { name: string; subresource: string } } = {},
  ): Promise<unknown> {
    const obj = structuredClone(body) as FakeObject;
    if (opts.subresource !== undefined) {
      const { name, subresource } = opts.subresource;
      await this.#receive(
        { verb: 'create', resource: r.plural, namespace, name, body: structuredClone(body), subresource, ...writeOpts(opts) },
        opts.signal,
      );
      if (r.plural === 'pods' && subresource === 'binding') this.#bind(r, namespace, name, obj);
      return obj;
    }
    await this.#receive(
      { verb: 'create', resource: r.plural, namespace, name: obj.metadata.name ?? '', body: structuredClone(body), ...writeOpts(opts) },
      opts.signal,
    );
    const name = obj.metadata.name ?? `${obj.metadata.generateName ?? ''}${(this.#names++).toString(36).padStart(5, 'x')}`;
    const key = FakeApiClient.#key(r.plural, namespace, name);
    if (this.#objects.has(key)) throw this.#error(409, 'AlreadyExists', 'create', key, `${r.plural} "${name}" already exists`);
    const { generateName: _g, ...meta } = obj.metadata;
    obj.metadata = {
      ...meta,
      name,
      ...(r.namespaced ? { namespace } : {}),
      uid: `uid-${name}`,
      generation: 1,
      resourceVersion: this.#nextRV(),
    };
    this.#objects.set(key, obj);
    return structuredClone(obj);
  }

  async update(
    r: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    opts: WriteOptions & { subresource?: string } = {},
  ): Promise<unknown> {
    const subresource = opts.subresource;
    await this.#receive(
      {
        verb: 'update',
        resource: r.plural,
        namespace,
        name,
        body: structuredClone(body),
        ...(subresource === undefined ? {} : { subresource }),
        ...writeOpts(opts),
      },
      opts.signal,
    );
    const current = this.#stored('update', r, namespace, name);
    const obj = structuredClone(body) as FakeObject;
    const sent = obj.metadata.resourceVersion;
    const key = FakeApiClient.#key(r.plural, namespace, name);
    if (sent !== undefined && sent !== '' && sent !== current.metadata.resourceVersion) {
      throw this.#error(
        409,
        'Conflict',
        'update',
        key,
        `Operation cannot be fulfilled on ${r.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const next: FakeObject =
      subresource === 'status'
        ? { ...current, status: obj.status, metadata: { ...current.metadata } }
        : {
            ...obj,
            metadata: {
              ...obj.metadata,
              name,
              ...(r.namespaced ? { namespace } : {}),
              uid: current.metadata.uid,
              generation: this.#generation(current, obj),
            },
          };
    if (subresource === undefined && current.status !== undefined && obj.status === undefined) next.status = current.status;
    return this.#store(key, next);
  }

  async patch(
    r: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    type: PatchType,
    opts: WriteOptions & { subresource?: string; force?: boolean } = {},
  ): Promise<unknown> {
    const subresource = opts.subresource;
    await this.#receive(
      {
        verb: 'patch',
        resource: r.plural,
        namespace,
        name,
        body: structuredClone(body),
        patchType: type,
        ...(subresource === undefined ? {} : { subresource }),
        ...writeOpts(opts),
        ...(opts.force === undefined ? {} : { force: opts.force }),
      },
      opts.signal,
    );
    if (type === 'json') throw new Error('FakeApiClient: JSON patch is not served');
    const key = FakeApiClient.#key(r.plural, namespace, name);
    const existing = this.#objects.get(key);
    if (existing === undefined && type !== 'apply') throw this.#error(404, 'NotFound', 'patch', key, `${r.plural} "${name}" not found`);
    const current: FakeObject = existing ?? {
      metadata: { name, ...(r.namespaced ? { namespace } : {}), uid: `uid-${name}`, generation: 1 },
    };
    const patched = mergePatch(current, body) as FakeObject;
    const next: FakeObject =
      subresource === 'status'
        ? { ...current, status: patched.status, metadata: { ...current.metadata } }
        : {
            ...patched,
            metadata: { ...patched.metadata, name, uid: current.metadata.uid, generation: this.#generation(current, patched) },
          };
    return this.#store(key, next);
  }

  async delete(r: ResourceType, namespace: string, name: string, opts: DeleteOptions = {}): Promise<void> {
    const { signal, ...deleteOptions } = opts;
    await this.#receive(
      { verb: 'delete', resource: r.plural, namespace, name, ...(Object.keys(deleteOptions).length > 0 ? { deleteOptions } : {}) },
      signal,
    );
    const current = this.#stored('delete', r, namespace, name);
    const key = FakeApiClient.#key(r.plural, namespace, name);
    const { uid, resourceVersion } = deleteOptions.preconditions ?? {};
    if (uid !== undefined && uid !== current.metadata.uid) throw this.#preconditionFailed('delete', key, 'UID', uid, current.metadata.uid);
    if (resourceVersion !== undefined && resourceVersion !== current.metadata.resourceVersion)
      throw this.#preconditionFailed('delete', key, 'ResourceVersion', resourceVersion, current.metadata.resourceVersion);
    this.#objects.delete(key);
  }

  /** A Pod's binding: sets spec.nodeName of the stored Pod, refusing as BindingREST does. */
  #bind(r: ResourceType, namespace: string, name: string, binding: FakeObject): void {
    const key = FakeApiClient.#key(r.plural, namespace, name);
    const current = this.#stored('create', r, namespace, name);
    const uid = binding.metadata.uid;
    if (uid !== undefined && uid !== '' && uid !== current.metadata.uid)
      throw this.#preconditionFailed('create', key, 'UID', uid, current.metadata.uid);
    if (current.metadata.deletionTimestamp !== undefined)
      throw this.#error(409, 'Conflict', 'create', key, `pod ${name} is being deleted, cannot be assigned to a host`);
    const spec = isRecord(current.spec) ? current.spec : {};
    const assigned = spec.nodeName;
    if (typeof assigned === 'string' && assigned !== '')
      throw this.#error(409, 'Conflict', 'create', key, `pod ${name} is already assigned to node "${assigned}"`);
    const target = isRecord(binding.target) ? binding.target.name : undefined;
    this.#store(key, { ...current, spec: { ...spec, nodeName: target }, metadata: { ...current.metadata } });
  }

  #preconditionFailed(verb: string, key: string, field: string, want: unknown, have: unknown): ApiError {
    return this.#error(
      409,
      'Conflict',
      verb,
      key,
      `Precondition failed: ${field} in precondition: ${String(want)}, ${field} in object meta: ${String(have)}`,
    );
  }

  async getPath(path: string, signal?: AbortSignal): Promise<unknown> {
    await this.#receive({ verb: 'getPath', resource: '', namespace: '', name: '', path }, signal);
    if (!this.#paths.has(path)) throw this.#error(404, 'NotFound', 'get', path, 'the server could not find the requested resource');
    return structuredClone(this.#paths.get(path));
  }

  forComponent(): ApiClient {
    return this;
  }

  #nextRV(): string {
    return String(++this.#rv);
  }

  #stored(verb: string, r: ResourceType, namespace: string, name: string): FakeObject {
    const key = FakeApiClient.#key(r.plural, namespace, name);
    const o = this.#objects.get(key);
    if (o === undefined) throw this.#error(404, 'NotFound', verb, key, `${r.plural} "${name}" not found`);
    return o;
  }

  /** The generation after a write: bumped when anything but metadata and status changed, or the labels. */
  #generation(current: FakeObject, next: FakeObject): number {
    const generation = current.metadata.generation ?? 1;
    const changed =
      JSON.stringify(withoutMetadata(current)) !== JSON.stringify(withoutMetadata(next)) ||
      JSON.stringify(current.metadata.labels ?? {}) !== JSON.stringify(next.metadata.labels ?? {});
    return changed ? generation + 1 : generation;
  }

  #store(key: string, obj: FakeObject): FakeObject {
    obj.metadata.resourceVersion = this.#nextRV();
    this.#objects.set(key, obj);
    return structuredClone(obj);
  }

  #error(code: number, reason: ApiError['reason'], verb: string, path: string, message: string): ApiError {
    return new ApiError({ code, reason, message, verb, path });
  }

  async #receive(call: FakeCall, signal: AbortSignal | undefined): Promise<void> {
    this.calls.push(call);
    if (signal?.aborted) throw signal.reason;
    if (this.hang) {
      await new Promise<never>((_resolve, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    const err = this.failOn?.(call);
    if (err !== undefined) throw err;
    const once = this.failOnce?.(call);
    if (once !== undefined) {
      this.failOnce = undefined;
      throw once;
    }
    if (isWrite(call)) this.beforeWrite?.(call);
  }
}

function isWrite(call: FakeCall): boolean {
  return call.verb !== 'get' && call.verb !== 'list' && call.verb !== 'getPath';
}

function writeOpts(opts: WriteOptions): Pick<FakeCall, 'fieldManager'> {
  return opts.fieldManager === undefined ? {} : { fieldManager: opts.fieldManager };
}
