import http from 'node:http';
import https from 'node:https';

// Readiness checks of the control-plane components. A plain node:http(s) request rather than fetch: it takes a CA and a
// client certificate per request without a dispatcher, and it can skip verification for self-signed health endpoints.

/** TLS settings of one probe. Omit for plain HTTP. */
export interface ProbeTls {
  /** PEM of the CA that must have signed the server certificate. */
  readonly caPem?: string;
  /** Client certificate and key (PEM), for endpoints that need an authenticated user. */
  readonly certPem?: string;
  readonly keyPem?: string;
  /** Accept any server certificate; only for components that serve an in-memory self-signed certificate. */
  readonly insecure?: boolean;
}

/** What a probe saw. */
export interface ProbeResponse {
  readonly status: number;
  readonly body: string;
}

/**
 * GETs `url` once. Resolves with the status and body (first 4 KiB) of any HTTP answer; rejects on connection errors
 * and after `timeoutMs` (default 2 s) without an answer, so a hung component cannot stall a readiness loop.
 */
export function probeHttp(url: string, tls?: ProbeTls, timeoutMs = 2_000): Promise<ProbeResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const onResponse = (res: http.IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.slice(0, 4096) }));
      res.on('error', reject);
    };
    const req =
      target.protocol === 'https:'
        ? https.get(
            target,
            {
              ca: tls?.caPem,
              cert: tls?.certPem,
              key: tls?.keyPem,
              rejectUnauthorized: tls?.insecure !== true,
              agent: false,
              timeout: timeoutMs,
            },
            onResponse,
          )
        : http.get(target, { agent: false, timeout: timeoutMs }, onResponse);
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
