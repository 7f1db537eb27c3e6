import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { type ApiClient, type ApiClientOptions, newApiClient } from '../../controllers/runtime/api-client.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import { apiVersionOf, PODS, type ResourceType, resourcePath } from '../../controllers/runtime/resource.ts';

// A fault-injecting, in-process stand-in for the API server, for unit tests of list+watch machinery only. It serves one
// resource collection (all-namespaces and namespaced paths): list with limit/continue over a consistent snapshot,
// watch with resourceVersion replay, bookmarks and 410 after compaction. Test controls change objects (each write
// bumps one global resourceVersion), break things (status codes, silent watches, reset sockets) and count requests.
// It binds 127.0.0.1 only.

/** A stored object: any JSON object with metadata. */
export type FakeObject = Record<string, unknown> & { metadata: Record<string, unknown> };

/** One request the server received. */
export interface FakeRequest {
  readonly verb: 'list' | 'watch' | 'other';
  readonly path: string;
  readonly namespace: string;
  readonly query: Readonly<Record<string, string>>;
  /** The status it was answered with (200 for a watch that started streaming, 0 for a reset connection). */
  readonly status: number;
}

export interface FakeApiServerOptions {
  /** The one collection served. Default Pods. */
  readonly resource?: ResourceType;
  /**
   * How a watch from a compacted resourceVersion is refused: 'event' (200 then an ERROR event with code 410, as the
   * watch cache does) or 'status' (an HTTP 410 answer). Default 'event'.
   */
  readonly expiredWatch?: 'event' | 'status';
}

interface Fault {
  readonly verb: 'list' | 'watch' | undefined;
  readonly code: number | 'reset';
  readonly retryAfterSeconds: number | undefined;
}

interface LogEntry {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly obj: FakeObject;
  /** The previous state, for selector transitions on MODIFIED. */
  readonly old: FakeObject | undefined;
}

interface OpenWatch {
  readonly res: ServerResponse;
  readonly namespace: string;
  readonly selector: LabelSelector;
  readonly bookmarks: boolean;
  readonly silent: boolean;
}

interface Snapshot {
  readonly rv: number;
  readonly items: readonly FakeObject[];
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  410: 'Expired',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

/** The fake server. Create with {@link FakeApiServer.start}; always {@link FakeApiServer.close} it. */
export class FakeApiServer {
  readonly resource: ResourceType;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #objects = new Map<string, FakeObject>();
  readonly #watches = new Set<OpenWatch>();
  readonly #snapshots = new Map<string, Snapshot>();
  readonly #requests: FakeRequest[] = [];
  readonly #expiredWatch: 'event' | 'status';
  #log: LogEntry[] = [];
  #rv = 1;
  #compactedRv = 0;
  #faults: Fault[] = [];
  #silentWatches = 0;
  #snapshotSeq = 0;
  #port = 0;

  private constructor(options: FakeApiServerOptions) {
    this.resource = options.resource ?? PODS;
    this.#expiredWatch = options.expiredWatch ?? 'event';
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  /** Starts a server on 127.0.0.1 with an ephemeral port. */
  static async start(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const server = new FakeApiServer(options);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.#server.address();
    if (addr === null || typeof addr === 'string') throw new Error('fake apiserver has no TCP address');
    server.#port = addr.port;
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** A kubeconfig pointing at this server (no credentials). */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
      currentContext: 'c',
    });
    return kc;
  }

  /** A real ApiClient against this server; no client-side throttling unless asked. */
  client(options: Partial<ApiClientOptions> = {}): ApiClient {
    return newApiClient(this.kubeConfig(), { clock: realClock, qps: 1000, burst: 1000, ...options });
  }

  // ---- state -------------------------------------------------------------------------------------------------------

  /** The current (global) resourceVersion. */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** A copy of the stored object with this key. */
  get(key: string): FakeObject | undefined {
    const obj = this.#objects.get(key);
    return obj === undefined ? undefined : structuredClone(obj);
  }

  /** Number of stored objects. */
  get size(): number {
    return this.#objects.size;
  }

  /** Creates or replaces an object (a copy is stored), stamping a new resourceVersion; returns the stored copy. */
  set(obj: Record<string, unknown>): FakeObject {
    const copy = structuredClone(obj) as FakeObject;
    copy.metadata = { ...(copy.metadata ?? {}) };
    const meta = copy.metadata;
    if (this.resource.namespaced && (meta.namespace === undefined || meta.namespace === '')) meta.namespace = 'default';
    if (typeof meta.name !== 'string' || meta.name === '') throw new Error('fake apiserver: object needs metadata.name');
    const key = keyOf(copy);
    meta.uid ??= `uid-${key}`;
    const old = this.#objects.get(key);
    meta.resourceVersion = String(++this.#rv);
    this.#objects.set(key, copy);
    this.#record({ rv: this.#rv, type: old === undefined ? 'ADDED' : 'MODIFIED', obj: copy, old });
    return copy;
  }

  /**
   * Stores many objects quickly, one resourceVersion each, taking ownership of them (no copy) and without notifying
   * watches: set-up before any watch. Older resourceVersions count as compacted afterwards.
   */
  seed(objects: Iterable<Record<string, unknown>>): void {
    for (const obj of objects) {
      const copy = obj as FakeObject;
      const meta = copy.metadata;
      if (this.resource.namespaced) meta.namespace ??= 'default';
      meta.resourceVersion = String(++this.#rv);
      this.#objects.set(keyOf(copy), copy);
    }
    // Watches from before the seed could not be replayed correctly: treat it as compacted.
    this.#compactedRv = this.#rv;
    this.#log = [];
  }

  /** Changes a stored object through `mutate` (on a copy) and stores it with a new resourceVersion. Throws if absent. */
  patch(key: string, mutate: (obj: FakeObject) => void): FakeObject {
    const obj = this.get(key);
    if (obj === undefined) throw new Error(`fake apiserver: no object ${key}`);
    mutate(obj);
    return this.set(obj);
  }

  /** Deletes an object, stamping a new resourceVersion on its final state. Returns false if absent. */
  delete(key: string): boolean {
    const old = this.#objects.get(key);
    if (old === undefined) return false;
    this.#objects.delete(key);
    const final = { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.#rv) } };
    this.#record({ rv: this.#rv, type: 'DELETED', obj: final, old });
    return true;
  }

  /** Forgets history: watches from any resourceVersion older than the current one get 410, as do old continue tokens. */
  compact(): void {
    this.#compactedRv = this.#rv;
    this.#log = [];
  }

  // ---- faults ------------------------------------------------------------------------------------------------------

  /**
   * Answers the next `count` list and/or watch requests with `code` (a Status body), or with 'reset' closes the
   * connection without an answer (a network error).
   */
  failNext(count: number, code: number | 'reset', opts: { verb?: 'list' | 'watch'; retryAfterSeconds?: number } = {}): void {
    for (let i = 0; i < count; i++) this.#faults.push({ verb: opts.verb, code, retryAfterSeconds: opts.retryAfterSeconds });
  }

  /** The next `count` watches are accepted (200, headers sent) and then never get a byte: a half-open stream. */
  silenceNextWatches(count = 1): void {
    this.#silentWatches += count;
  }

  /** Sends a BOOKMARK at the current resourceVersion to every open watch that asked for bookmarks. */
  bookmark(): void {
    const event = {
      type: 'BOOKMARK',
      object: { kind: this.resource.kind, apiVersion: apiVersionOf(this.resource), metadata: { resourceVersion: this.resourceVersion } },
    };
    for (const w of this.#watches) if (w.bookmarks && !w.silent) w.res.write(`${JSON.stringify(event)}\n`);
  }

  /** Sends an ERROR event carrying `status` (e.g. {code: 410}) to every open watch and ends them. */
  sendWatchError(status: { code: number; reason?: string; message?: string }): void {
    const event = { type: 'ERROR', object: statusBody(status.code, status.message ?? 'injected', status.reason) };
    for (const w of [...this.#watches]) {
      if (w.silent) continue;
      w.res.end(`${JSON.stringify(event)}\n`);
      this.#watches.delete(w);
    }
  }

  /** Writes one raw line (e.g. malformed JSON) to every open, non-silent watch. */
  sendRawLine(line: string): void {
    for (const w of this.#watches) if (!w.silent) w.res.write(`${line}\n`);
  }

  /** Ends every open watch cleanly, as the server-side timeout does. */
  closeWatches(): void {
    for (const w of this.#watches) w.res.end();
    this.#watches.clear();
  }

  /** Destroys every TCP connection (open watches and idle keep-alive sockets): a network failure. */
  resetConnections(): void {
    for (const s of this.#sockets) s.destroy();
    this.#watches.clear();
  }

  // ---- observation -------------------------------------------------------------------------------------------------

  /** Every request so far, oldest first. */
  get requests(): readonly FakeRequest[] {
    return this.#requests;
  }

  /** How many requests of this verb arrived. */
  count(verb: 'list' | 'watch'): number {
    return this.#requests.filter((r) => r.verb === verb).length;
  }

  /** Watch streams currently open (silent ones included). */
  get openWatches(): number {
    return this.#watches.size;
  }

  /** Stops the server and drops every connection. */
  async close(): Promise<void> {
    for (const w of this.#watches) w.res.destroy();
    this.#watches.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ---- HTTP --------------------------------------------------------------------------------------------------------

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const namespace = this.#namespaceOf(url.pathname);
    const isWatch = query.watch === 'true' || query.watch === '1';
    const verb = req.method !== 'GET' || namespace === undefined ? 'other' : isWatch ? 'watch' : 'list';
    const record = (status: number) => this.#requests.push({ verb, path: url.pathname, namespace: namespace ?? '', query, status });
    if (verb === 'other' || namespace === undefined) {
      record(404);
      sendStatus(res, 404, `${req.method} ${url.pathname} is not served by the fake apiserver`);
      return;
    }
    const fault = this.#takeFault(verb);
    if (fault !== undefined) {
      record(fault.code === 'reset' ? 0 : fault.code);
      if (fault.code === 'reset') {
        req.socket.destroy();
        return;
      }
      sendStatus(res, fault.code, 'injected fault', fault.retryAfterSeconds);
      return;
    }
    let selector: LabelSelector;
    try {
      selector = parseLabelSelector(query.labelSelector ?? '');
    } catch (err) {
      record(400);
      sendStatus(res, 400, (err as Error).message);
      return;
    }
    if (verb === 'list') this.#list(res, namespace, selector, query, record);
    else this.#watch(req, res, namespace, selector, query, record);
  }

  #list(res: ServerResponse, namespace: string, selector: LabelSelector, query: Record<string, string>, record: (s: number) => void): void {
    const limit = query.limit === undefined ? 0 : Number(query.limit);
    let snapshot: Snapshot;
    let id: string;
    let offset: number;
    if (query.continue !== undefined && query.continue !== '') {
      const [sid = '', off = ''] = query.continue.split(':');
      const found = this.#snapshots.get(sid);
      if (found === undefined || found.rv < this.#compactedRv) {
        record(410);
        sendStatus(res, 410, 'The provided continue parameter is too old to display a consistent list result.');
        return;
      }
      snapshot = found;
      id = sid;
      offset = Number(off);
    } else {
      const items = [...this.#objects.values()]
        .filter((o) => inNamespace(o, namespace) && selector(labelsOf(o)))
        .sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
      snapshot = { rv: this.#rv, items };
      id = String(++this.#snapshotSeq);
      offset = 0;
    }
    const end = limit > 0 ? Math.min(snapshot.items.length, offset + limit) : snapshot.items.length;
    const page = snapshot.items.slice(offset, end);
    const more = end < snapshot.items.length;
    if (more) this.#snapshots.set(id, snapshot);
    else this.#snapshots.delete(id);
    const metadata: Record<string, unknown> = { resourceVersion: String(snapshot.rv) };
    if (more) {
      metadata.continue = `${id}:${end}`;
      metadata.remainingItemCount = snapshot.items.length - end;
    }
    record(200);
    const body = JSON.stringify({ kind: `${this.resource.kind}List`, apiVersion: apiVersionOf(this.resource), metadata, items: page });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(body);
  }

  #watch(
    req: IncomingMessage,
    res: ServerResponse,
    namespace: string,
    selector: LabelSelector,
    query: Record<string, string>,
    record: (s: number) => void,
  ): void {
    const rvParam = query.resourceVersion ?? '';
    const fromRv = rvParam === '' || rvParam === '0' ? undefined : Number(rvParam);
    if (fromRv !== undefined && !Number.isFinite(fromRv)) {
      record(400);
      sendStatus(res, 400, `invalid resourceVersion ${rvParam}`);
      return;
    }
    const expired = fromRv !== undefined && fromRv < this.#compactedRv;
    if (expired && this.#expiredWatch === 'status') {
      record(410);
      sendStatus(res, 410, `too old resource version: ${fromRv} (${this.#compactedRv})`);
      return;
    }
    record(200);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const silent = this.#silentWatches > 0;
    if (silent) this.#silentWatches--;
    const watch: OpenWatch = { res, namespace, selector, bookmarks: query.allowWatchBookmarks === 'true', silent };
    if (!silent) {
      if (expired) {
        const status = statusBody(410, `too old resource version: ${fromRv} (${this.#compactedRv})`);
        res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
        return;
      }
      if (fromRv === undefined) {
        // Not resuming: the current state as synthetic ADDED events, then live changes.
        for (const obj of this.#objects.values()) this.#send(watch, { rv: this.#rv, type: 'ADDED', obj, old: undefined });
      } else {
        for (const entry of this.#log) if (entry.rv > fromRv) this.#send(watch, entry);
      }
    }
    this.#watches.add(watch);
    const timeout = Number(query.timeoutSeconds ?? '0');
    const timer = timeout > 0 ? setTimeout(() => this.#endWatch(watch), timeout * 1000) : undefined;
    timer?.unref();
    req.on('close', () => {
      if (timer !== undefined) clearTimeout(timer);
      this.#watches.delete(watch);
    });
  }

  #endWatch(watch: OpenWatch): void {
    if (!this.#watches.delete(watch)) return;
    watch.res.end();
  }

  #record(entry: LogEntry): void {
    this.#log.push(entry);
    for (const w of this.#watches) if (!w.silent) this.#send(w, entry);
  }

  /** Writes one log entry to a watch, translated for its namespace and selector (a label change can add or delete). */
  #send(w: OpenWatch, entry: LogEntry): void {
    if (!inNamespace(entry.obj, w.namespace)) return;
    const now = w.selector(labelsOf(entry.obj));
    let type: 'ADDED' | 'MODIFIED' | 'DELETED' | undefined;
    if (entry.type === 'MODIFIED') {
      const before = entry.old !== undefined && w.selector(labelsOf(entry.old));
      type = before && now ? 'MODIFIED' : now ? 'ADDED' : before ? 'DELETED' : undefined;
    } else {
      type = now ? entry.type : undefined;
    }
    if (type === undefined) return;
    const object = { kind: this.resource.kind, apiVersion: apiVersionOf(this.resource), ...entry.obj };
    w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  #takeFault(verb: 'list' | 'watch'): Fault | undefined {
    const i = this.#faults.findIndex((f) => f.verb === undefined || f.verb === verb);
    if (i < 0) return undefined;
    const [fault] = this.#faults.splice(i, 1);
    return fault;
  }

  /** The namespace a collection path addresses ('' for all), or undefined when the path is not the collection. */
  #namespaceOf(pathname: string): string | undefined {
    if (pathname === resourcePath(this.resource, '')) return '';
    if (!this.resource.namespaced) return undefined;
    const prefix = resourcePath({ ...this.resource, namespaced: false }, '').replace(/\/[^/]+$/, '/namespaces/');
    if (!pathname.startsWith(prefix)) return undefined;
    const rest = pathname.slice(prefix.length).split('/');
    if (rest.length !== 2 || rest[1] !== this.resource.plural || rest[0] === undefined) return undefined;
    return decodeURIComponent(rest[0]);
  }
}

type LabelSelector = (labels: Readonly<Record<string, string>>) => boolean;

/** Equality-based selectors only (`a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated): enough for informer tests. */
export function parseLabelSelector(text: string): LabelSelector {
  const terms = text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t): LabelSelector => {
      const ne = t.indexOf('!=');
      if (ne > 0) {
        const [k, v] = [t.slice(0, ne), t.slice(ne + 2)];
        return (l) => l[k] !== v;
      }
      const eq = t.indexOf('=');
      if (eq > 0) {
        const k = t.slice(0, eq);
        const v = t.slice(t[eq + 1] === '=' ? eq + 2 : eq + 1);
        return (l) => l[k] === v;
      }
      if (t.startsWith('!')) return (l) => !(t.slice(1) in l);
      if (/[\s()]/.test(t)) throw new Error(`unsupported label selector term ${t}`);
      return (l) => t in l;
    });
  return (labels) => terms.every((term) => term(labels));
}

function keyOf(obj: FakeObject): string {
  const ns = typeof obj.metadata.namespace === 'string' ? obj.metadata.namespace : '';
  const name = String(obj.metadata.name);
  return ns === '' ? name : `${ns}/${name}`;
}

function labelsOf(obj: FakeObject): Record<string, string> {
  const labels = obj.metadata.labels;
  return typeof labels === 'object' && labels !== null ? (labels as Record<string, string>) : {};
}

function inNamespace(obj: FakeObject, namespace: string): boolean {
  return namespace === '' || obj.metadata.namespace === namespace;
}

function statusBody(code: number, message: string, reason?: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: reason ?? REASONS[code] ?? 'Unknown', code };
}

function sendStatus(res: ServerResponse, code: number, message: string, retryAfterSeconds?: number): void {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (retryAfterSeconds !== undefined) headers['Retry-After'] = String(retryAfterSeconds);
  res.writeHead(code, headers);
  res.end(JSON.stringify(statusBody(code, message)));
}
