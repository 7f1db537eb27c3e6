import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

// The operator's HTTP surface: liveness and readiness probes for the kubelet and Prometheus metrics, on addresses
// chosen like controller-runtime's (`:8080` metrics, `:8081` probes, `0` disables). Plain node:http: three read-only
// routes do not justify a framework.

/** One named probe check. Returns undefined when healthy, or a short reason when not. Must be cheap and synchronous. */
export interface HealthCheck {
  readonly name: string;
  check(): string | undefined;
}

/** A parsed bind address. `host` undefined = every interface. */
export interface BindAddress {
  readonly host: string | undefined;
  readonly port: number;
}

/**
 * Parses `host:port`, `:port` or `[ipv6]:port` (Go's net.Listen syntax). Returns undefined for `0`, which disables
 * the server (controller-runtime's convention). Throws RangeError for anything else.
 */
export function parseBindAddress(text: string): BindAddress | undefined {
  if (text === '0') return undefined;
  const m = /^(?:\[([0-9A-Fa-f:.%\w]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m === null ? Number.NaN : Number.parseInt(m[3] ?? '', 10);
  if (m === null || !(port >= 0 && port <= 65_535)) throw new RangeError(`invalid bind address "${text}": want host:port, :port or 0`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? undefined : host, port };
}

export interface HealthServerOptions {
  /** Where to listen: see {@link parseBindAddress}. */
  readonly bindAddress: string;
  /** Serve `/healthz` with these checks (liveness). Omitted: no such route. */
  readonly healthz?: readonly HealthCheck[];
  /** Serve `/readyz` with these checks (readiness). Omitted: no such route. */
  readonly readyz?: readonly HealthCheck[];
  /** Serve `/metrics` from this registry. Omitted: no such route. */
  readonly metrics?: Registry;
  readonly logger?: Logger;
}

/**
 * An HTTP server for probes and/or metrics. `start()` binds (rejects on a bind error such as EADDRINUSE);
 * `close()` stops listening and drops idle keep-alive connections so shutdown never waits on a scraper.
 */
export class HealthServer {
  readonly #opts: HealthServerOptions;
  readonly #bind: BindAddress | undefined;
  #server: Server | undefined;

  constructor(options: HealthServerOptions) {
    this.#opts = options;
    this.#bind = parseBindAddress(options.bindAddress);
  }

  /** False when the bind address is `0`: start and close do nothing. */
  get enabled(): boolean {
    return this.#bind !== undefined;
  }

  /** Starts listening. Resolves once bound. */
  async start(): Promise<void> {
    const bind = this.#bind;
    if (bind === undefined || this.#server !== undefined) return;
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        this.#opts.logger?.error({ err }, 'Failed to serve HTTP request');
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('internal error\n');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bind.port, bind.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
  }

  /** The bound address (useful with port 0), or undefined when not listening. */
  address(): BindAddress | undefined {
    const a = this.#server?.address();
    if (a === null || a === undefined || typeof a === 'string') return undefined;
    return { host: (a as AddressInfo).address, port: (a as AddressInfo).port };
  }

  /** Stops listening and closes open connections. Idempotent. */
  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://probe');
    const route = url.pathname.replace(/\/+$/, '');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    if (route === '/metrics' && this.#opts.metrics !== undefined) {
      const body = await this.#opts.metrics.metrics();
      res.writeHead(200, { 'Content-Type': this.#opts.metrics.contentType }).end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const checks = route === '/healthz' ? this.#opts.healthz : route === '/readyz' ? this.#opts.readyz : undefined;
    if (checks === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    const { status, body } = runChecks(route.slice(1), checks, url.searchParams.has('verbose'));
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

// The body format follows the Kubernetes components' healthz handlers ("[+]name ok" / "[-]name failed: reason"),
// which people already know how to read from `kubectl get --raw /readyz?verbose`.
function runChecks(probe: string, checks: readonly HealthCheck[], verbose: boolean): { status: number; body: string } {
  const lines: string[] = [];
  let failed = false;
  for (const c of checks) {
    let reason: string | undefined;
    try {
      reason = c.check();
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
    if (reason === undefined) {
      lines.push(`[+]${c.name} ok`);
    } else {
      failed = true;
      lines.push(`[-]${c.name} failed: ${reason}`);
    }
  }
  if (failed) return { status: 500, body: `${lines.join('\n')}\n${probe} check failed\n` };
  return { status: 200, body: verbose ? `${lines.join('\n')}\n${probe} check passed\n` : 'ok' };
}
