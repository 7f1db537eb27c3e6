import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { type RequestOptions as HttpsRequestOptions, request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { Clock } from '../../runtime/clock.ts';
import {
  DEFAULT_MAX_BODY_BYTES,
  type HttpProbeSpec,
  type ProbeResult,
  type ProbeTarget,
  probeFailure,
  type StatusRange,
} from './prober.ts';
import { abortedError, type ConnectionPhase, classifySocketError, joinHostPort, phaseWords } from './socket-errors.ts';

// node:http(s) rather than fetch: a probe needs its own Host header, SNI server name, CA bundle and verification
// switch per request, no connection reuse, no redirects, and a hard cap on what it reads.

const USER_AGENT = 'kube-endpoints-operator-probe/1';

/** Parses "200" or "200-399" into a range. Throws RangeError for anything else (the CRD validates it first). */
export function parseStatusRange(text: string): StatusRange {
  const m = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/.exec(text);
  if (m === null) throw new RangeError(`"${text}" is not an HTTP status code or range`);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (max < min) throw new RangeError(`"${text}" is not a range low-high`);
  return { min, max };
}

function formatRanges(ranges: readonly StatusRange[]): string {
  return ranges.map((r) => (r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`)).join(', ');
}

function statusExpected(status: number, ranges: readonly StatusRange[]): boolean {
  return ranges.some((r) => status >= r.min && status <= r.max);
}

/** The Host header a probe sends: the spec's, else the target's dnsName or address with a non-default port. */
export function probeHostHeader(target: ProbeTarget, spec: HttpProbeSpec): string {
  if (spec.host !== undefined) return spec.host;
  const host = target.dnsName ?? target.address;
  const defaultPort = spec.type === 'HTTPS' ? 443 : 80;
  if (target.port === defaultPort) return isIP(host) === 6 ? `[${host}]` : host;
  return joinHostPort(host, target.port);
}

/** The name a probe's TLS certificate is verified against, and whether it goes out as SNI (never for IPs). */
export function probeTlsName(target: ProbeTarget, spec: HttpProbeSpec): { verifyName: string; sni: string } {
  const name = spec.tls?.serverName ?? target.dnsName ?? target.address;
  return { verifyName: name, sni: isIP(name) === 0 ? name : '' };
}

/**
 * Sends one GET to `target` and judges the status. Resolves on the first of: the body ended or reached the cap (ok or
 * HTTPStatus), an error, the timeout (connect + TLS + headers + body), or `signal` aborting. The request and its socket
 * are destroyed before resolving. Never rejects.
 */
export function httpProbe(target: ProbeTarget, spec: HttpProbeSpec, signal: AbortSignal, clock: Clock): Promise<ProbeResult> {
  const where = joinHostPort(target.address, target.port);
  const started = clock.now();
  const elapsed = () => Math.max(0, clock.now() - started);
  const maxBody = spec.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (signal.aborted) {
    const e = abortedError(signal, where);
    return Promise.resolve(probeFailure(e.reason, e.message, 0));
  }
  return new Promise((resolve) => {
    let phase: ConnectionPhase = 'connect';
    let settled = false;
    // Assigned once below, but finish() may run before that (abort, timeout), so it cannot be a const.
    // eslint-disable-next-line prefer-const
    let req: ClientRequest | undefined;
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      signal.removeEventListener('abort', onAbort);
      req?.destroy();
      resolve(result);
    };
    const onAbort = () => {
      const e = abortedError(signal, where);
      finish(probeFailure(e.reason, e.message, elapsed()));
    };
    const timer = clock.setTimer(spec.timeoutMs, () =>
      finish(probeFailure('Timeout', `HTTP probe of ${where} timed out after ${spec.timeoutMs}ms ${phaseWords(phase)}`, elapsed())),
    );
    signal.addEventListener('abort', onAbort, { once: true });

    const onResponse = (res: IncomingMessage) => {
      phase = 'body';
      const status = res.statusCode ?? 0;
      const judge = () => {
        if (statusExpected(status, spec.expectedStatuses)) return finish({ ok: true, latencyMs: elapsed(), statusCode: status });
        const msg = `HTTP ${status} from ${where}${spec.path}, expected ${formatRanges(spec.expectedStatuses)}`;
        finish(probeFailure('HTTPStatus', msg, elapsed(), status));
      };
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= maxBody) judge(); // enough: the status is what counts, and finish() closes the connection
      });
      res.once('end', judge);
      res.on('error', (err) => {
        const e = classifySocketError(err, 'body', where);
        finish(probeFailure(e.reason, e.message, elapsed(), status));
      });
    };

    const options: HttpsRequestOptions = {
      host: target.address,
      port: target.port,
      method: 'GET',
      path: spec.path,
      agent: false,
      headers: { Host: probeHostHeader(target, spec), 'User-Agent': USER_AGENT, Accept: '*/*', Connection: 'close' },
    };
    if (spec.type === 'HTTPS') {
      const { verifyName, sni } = probeTlsName(target, spec);
      // An explicit servername ('' = none) stops node from deriving SNI from the Host header.
      options.servername = sni;
      options.rejectUnauthorized = !(spec.tls?.insecureSkipVerify ?? false);
      options.checkServerIdentity = (_host: string, cert: PeerCertificate) => checkServerIdentity(verifyName, cert);
      if (spec.tls?.ca !== undefined) options.ca = spec.tls.ca;
    }
    req = spec.type === 'HTTPS' ? httpsRequest(options, onResponse) : httpRequest(options, onResponse);
    req.once('socket', (socket: Socket) => {
      const tls = spec.type === 'HTTPS';
      const afterConnect = () => {
        phase = tls ? 'tls' : 'headers';
      };
      if (socket.connecting) socket.once('connect', afterConnect);
      else afterConnect();
      if (tls) socket.once('secureConnect', () => (phase = 'headers'));
    });
    // Kept for the request's lifetime: destroy() after settling may still emit an error.
    req.on('error', (err) => {
      const e = classifySocketError(err, phase, where);
      finish(probeFailure(e.reason, e.message, elapsed()));
    });
    req.end();
  });
}
