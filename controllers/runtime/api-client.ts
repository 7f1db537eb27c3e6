import { type KubeConfig, RequestContext, HttpMethod } from '@kubernetes/client-node';
import { type Dispatcher, getGlobalDispatcher } from 'undici';
import { type ApiDispatchers, newApiDispatchers } from './api-dispatcher.ts';
import { apiErrorFrom, NetworkError } from './api-errors.ts';
import type { Clock } from './clock.ts';
import { type ResourceType, resourcePath } from './resource.ts';
import { TokenBucket } from './token-bucket.ts';

// The only module that does API I/O. Objects go out and come back in wire format (plain JSON), so what a list
// returns and what a watch streams have one shape, and nothing is lost by a typed serializer on the way.

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** One finished request, reported to the observer (metrics, benchmarks). */
export interface RequestRecord {
  readonly verb: string;
  readonly resource: string;
  /** HTTP status, or 0 when no answer arrived. */
  readonly code: number;
  readonly bytesSent: number;
  readonly durationMs: number;
}

export interface ApiClientOptions {
  /** Sustained client-side request rate. Default 20, as kube-controller-manager's --kube-api-qps. */
  readonly qps?: number;
  /** Burst above qps. Default 30, as --kube-api-burst. */
  readonly burst?: number;
  /** User-Agent header; one per controller, as upstream. Default `kube-endpoints-operator`. */
  readonly userAgent?: string;
  /** Timeout of one non-watch request. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /**
   * Let requests without a body (gets, lists, watches) use HTTP/2 when the server offers it. Default true. Requests
   * with a body always use HTTP/1.1 (api-dispatcher.ts).
   */
  readonly http2?: boolean;
  readonly clock: Clock;
  readonly observer?: (record: RequestRecord) => void;
}

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: 'NotOlderThan' | 'Exact';
}

export interface ListResult {
  readonly items: unknown[];
  readonly resourceVersion: string;
  readonly continue: string | undefined;
}

export interface WatchOptions {
  readonly resourceVersion: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly allowWatchBookmarks?: boolean;
  /** Server-side timeout; the server ends the stream cleanly after it. */
  readonly timeoutSeconds?: number;
  /** Abort the stream when no bytes arrive for this long (half-open connections). Default: no idle timeout. */
  readonly idleTimeoutMs?: number;
}

/** A raw watch event. `ERROR` carries a Status object (e.g. code 410 Gone). */
export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: Record<string, unknown>;
}

/** Options of a DELETE. `gracePeriodSeconds: 0` deletes a Pod at once (what `kubectl delete --force` does). */
export interface DeleteOptions {
  readonly preconditions?: { uid?: string; resourceVersion?: string };
  readonly gracePeriodSeconds?: number;
  readonly propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  readonly signal?: AbortSignal;
}

export interface WriteOptions {
  readonly fieldManager?: string;
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
}

/** Everything a controller needs to talk to the API server. */
export interface ApiClient {
  get(r: ResourceType, namespace: string, name: string, signal?: AbortSignal): Promise<unknown>;
  list(r: ResourceType, namespace: string, opts?: ListOptions, signal?: AbortSignal): Promise<ListResult>;
  watch(r: ResourceType, namespace: string, opts: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent>;
  /**
   * POST to the collection, or with `subresource` to `<collection>/<name>/<subresource>` (e.g. a Pod's `binding`).
   */
  create(
    r: ResourceType,
    namespace: string,
    body: unknown,
    opts?: WriteOptions & { subresource?: { name: string; subresource: string } },
  ): Promise<unknown>;
  update(r: ResourceType, namespace: string, name: string, body: unknown, opts?: WriteOptions & { subresource?: string }): Promise<unknown>;
  patch(
    r: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    type: PatchType,
    opts?: WriteOptions & { subresource?: string; force?: boolean },
  ): Promise<unknown>;
  delete(r: ResourceType, namespace: string, name: string, opts?: DeleteOptions): Promise<void>;
  /** A raw GET of any path (discovery, /version). */
  getPath(path: string, signal?: AbortSignal): Promise<unknown>;
  /** A client sharing the connection settings but with its own user agent and rate limiter, as upstream gives each controller. */
  forComponent(userAgent: string): ApiClient;
}

/** Creates a client from a loaded kubeconfig. Throws if the kubeconfig has no current cluster. */
export function newApiClient(kubeConfig: KubeConfig, options: ApiClientOptions): ApiClient {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error('kubeconfig has no current cluster');
  return new RestClient(kubeConfig, cluster.server.replace(/\/+$/, ''), options);
}

interface RawRequest {
  readonly verb: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly query?: Record<string, string | number | boolean | undefined>;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly signal?: AbortSignal | undefined;
  readonly resource: string;
}

class RestClient implements ApiClient {
  readonly #kc: KubeConfig;
  readonly #server: string;
  readonly #opts: ApiClientOptions;
  readonly #bucket: TokenBucket;
  readonly #timeoutMs: number;
  /**
   * The connection pools of this client, built once (see api-dispatcher.ts). The kubeconfig would build a new undici
   * Agent, and so a new TCP and TLS connection, for every request it authenticates; own pools let requests reuse
   * keep-alive connections (measured on a local API server: about 4x the request rate at a quarter of the client CPU).
   */
  #dispatchers: Promise<ApiDispatchers | undefined> | undefined;

  constructor(kc: KubeConfig, server: string, opts: ApiClientOptions) {
    this.#kc = kc;
    this.#server = server;
    this.#opts = opts;
    this.#bucket = new TokenBucket(opts.qps ?? 20, opts.burst ?? 30, opts.clock);
    this.#timeoutMs = opts.requestTimeoutMs ?? 30_000;
  }

  forComponent(userAgent: string): ApiClient {
    return new RestClient(this.#kc, this.#server, { ...this.#opts, userAgent });
  }

  async get(r: ResourceType, namespace: string, name: string, signal?: AbortSignal): Promise<unknown> {
    return this.#json({ verb: 'get', method: HttpMethod.GET, path: resourcePath(r, namespace, name), signal, resource: r.plural });
  }

  async getPath(path: string, signal?: AbortSignal): Promise<unknown> {
    return this.#json({ verb: 'get', method: HttpMethod.GET, path, signal, resource: path });
  }

  async list(r: ResourceType, namespace: string, opts: ListOptions = {}, signal?: AbortSignal): Promise<ListResult> {
    const body = (await this.#json({
      verb: 'list',
      method: HttpMethod.GET,
      path: resourcePath(r, namespace),
      query: { ...opts },
      signal,
      resource: r.plural,
    })) as { items?: unknown[] | null; metadata?: { resourceVersion?: string; continue?: string } };
    return {
      items: body.items ?? [],
      resourceVersion: body.metadata?.resourceVersion ?? '',
      continue: body.metadata?.continue === '' ? undefined : body.metadata?.continue,
    };
  }

  async create(
    r: ResourceType,
    namespace: string,
    body: unknown,
    opts: WriteOptions & { subresource?: { name: string; subresource: string } } = {},
  ): Promise<unknown> {
    const sub = opts.subresource;
    return this.#json({
      verb: 'create',
      method: HttpMethod.POST,
      path: sub === undefined ? resourcePath(r, namespace) : resourcePath(r, namespace, sub.name, sub.subresource),
      query: { fieldManager: opts.fieldManager, dryRun: opts.dryRun ? 'All' : undefined },
      body,
      signal: opts.signal,
      resource: sub === undefined ? r.plural : `${r.plural}/${sub.subresource}`,
    });
  }

  async update(
    r: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    opts: WriteOptions & { subresource?: string } = {},
  ): Promise<unknown> {
    return this.#json({
      verb: 'update',
      method: HttpMethod.PUT,
      path: resourcePath(r, namespace, name, opts.subresource),
      query: { fieldManager: opts.fieldManager, dryRun: opts.dryRun ? 'All' : undefined },
      body,
      signal: opts.signal,
      resource: r.plural,
    });
  }

  async patch(
    r: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    type: PatchType,
    opts: WriteOptions & { subresource?: string; force?: boolean } = {},
  ): Promise<unknown> {
    return this.#json({
      verb: 'patch',
      method: HttpMethod.PATCH,
      path: resourcePath(r, namespace, name, opts.subresource),
      query: { fieldManager: opts.fieldManager, force: opts.force, dryRun: opts.dryRun ? 'All' : undefined },
      body,
      contentType: PATCH_CONTENT_TYPE[type],
      signal: opts.signal,
      resource: r.plural,
    });
  }

  async delete(r: ResourceType, namespace: string, name: string, opts: DeleteOptions = {}): Promise<void> {
    const { preconditions, gracePeriodSeconds, propagationPolicy } = opts;
    const hasOptions = preconditions !== undefined || gracePeriodSeconds !== undefined || propagationPolicy !== undefined;
    await this.#json({
      verb: 'delete',
      method: HttpMethod.DELETE,
      path: resourcePath(r, namespace, name),
      body: hasOptions ? { apiVersion: 'v1', kind: 'DeleteOptions', preconditions, gracePeriodSeconds, propagationPolicy } : undefined,
      signal: opts.signal,
      resource: r.plural,
    });
  }

  async *watch(r: ResourceType, namespace: string, opts: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent> {
    const idle = new AbortController();
    const combined = AbortSignal.any([signal, idle.signal]);
    let idleTimer: { cancel(): void } | undefined;
    const armIdle = () => {
      idleTimer?.cancel();
      if (opts.idleTimeoutMs !== undefined) {
        idleTimer = this.#opts.clock.setTimer(opts.idleTimeoutMs, () =>
          idle.abort(new NetworkError(`watch ${r.plural} idle for ${opts.idleTimeoutMs} ms`)),
        );
      }
    };
    armIdle();
    try {
      const res = await this.#send(
        {
          verb: 'watch',
          method: HttpMethod.GET,
          path: resourcePath(r, namespace),
          query: {
            watch: 'true',
            resourceVersion: opts.resourceVersion,
            labelSelector: opts.labelSelector,
            fieldSelector: opts.fieldSelector,
            allowWatchBookmarks: opts.allowWatchBookmarks,
            timeoutSeconds: opts.timeoutSeconds,
          },
          signal: combined,
          resource: r.plural,
        },
        false,
      );
      const decoder = new TextDecoder();
      let buffered = '';
      try {
        for await (const chunk of res.body) {
          armIdle();
          buffered += decoder.decode(chunk as Uint8Array, { stream: true });
          let nl = buffered.indexOf('\n');
          while (nl >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line !== '') yield JSON.parse(line) as WatchEvent;
            nl = buffered.indexOf('\n');
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        if (idle.signal.aborted) throw idle.signal.reason;
        throw new NetworkError(`watch ${r.plural} stream broke: ${(err as Error).message}`, { cause: err });
      }
    } finally {
      idleTimer?.cancel();
    }
  }

  async #json(req: RawRequest): Promise<unknown> {
    const res = await this.#send(req, true);
    const text = await res.body.text();
    return text === '' ? undefined : JSON.parse(text);
  }

  async #send(req: RawRequest, withTimeout: boolean) {
    const wait = this.#bucket.reserve();
    if (wait > 0) await this.#opts.clock.sleep(wait, req.signal);
    const url = new URL(this.#server + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), req.method);
    await this.#kc.applySecurityAuthentication(ctx);
    this.#dispatchers ??= newApiDispatchers(this.#kc, this.#opts.http2 ?? true).then(
      (own) => {
        const fallback = ctx.getDispatcher() as Dispatcher | undefined;
        return own ?? (fallback === undefined ? undefined : { withoutBody: fallback, withBody: fallback });
      },
      (err: unknown) => {
        // An exec credential plugin can fail for a moment; the next request tries again.
        this.#dispatchers = undefined;
        throw err;
      },
    );
    const pools = await this.#dispatchers;
    const headers: Record<string, string> = {
      ...ctx.getHeaders(),
      Accept: 'application/json',
      'User-Agent': this.#opts.userAgent ?? 'kube-endpoints-operator',
    };
    let payload: Buffer | undefined;
    if (req.body !== undefined) {
      payload = Buffer.from(JSON.stringify(req.body));
      headers['Content-Type'] = req.contentType ?? 'application/json';
    }
    const signals = [req.signal, withTimeout ? AbortSignal.timeout(this.#timeoutMs) : undefined].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    const started = performance.now();
    const bytesSent = payload?.byteLength ?? 0;
    // undici's request() rather than fetch(): the body goes out as one Buffer. fetch streams every request body,
    // and on HTTP/1.1 undici closes the connection when the response completes before it has seen its own write of
    // that stream finish (client-h1.js: onMessageComplete, "Response completed before request"), which on a busy
    // process happened to about 1 in 7 writes of 60 KiB, each then paying a new TCP and TLS connection.
    // hack/repro/api-write-latency.ts --writer shows it; docs/adr/0005-http1-to-the-api-server.md has the numbers.
    // Only requests without a body may go over HTTP/2 (api-dispatcher.ts).
    const dispatcher = (payload === undefined ? pools?.withoutBody : pools?.withBody) ?? getGlobalDispatcher();
    let res: Dispatcher.ResponseData;
    try {
      res = await dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: req.method,
        headers,
        body: payload ?? null,
        signal: signals.length === 0 ? null : AbortSignal.any(signals),
      });
    } catch (err) {
      this.#opts.observer?.({ verb: req.verb, resource: req.resource, code: 0, bytesSent, durationMs: performance.now() - started });
      if (req.signal?.aborted) throw req.signal.reason;
      const cause = (err as { cause?: { message?: string } }).cause;
      throw new NetworkError(`${req.verb} ${req.path}: ${cause?.message ?? (err as Error).message}`, { cause: err });
    }
    this.#opts.observer?.({
      verb: req.verb,
      resource: req.resource,
      code: res.statusCode,
      bytesSent,
      durationMs: performance.now() - started,
    });
    if (res.statusCode >= 400) {
      const text = await res.body.text().catch(() => '');
      const retryAfter = res.headers['retry-after'];
      throw apiErrorFrom(res.statusCode, text, req.verb, req.path, (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null);
    }
    return res;
  }
}
