import { isIP } from 'node:net';
import type { ProbeError } from './prober.ts';

// Turning node's socket, TLS and HTTP parser errors into probe reasons, in one place, so every probe reports the
// same failure the same way.

/** `host:port`, with IPv6 in brackets. */
export function joinHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Where a connection was when it failed; decides between TLSError and the transport reasons. */
export type ConnectionPhase = 'connect' | 'tls' | 'headers' | 'body';

const PHASE_WORDS: Record<ConnectionPhase, string> = {
  connect: 'while connecting',
  tls: 'during the TLS handshake',
  headers: 'waiting for the response headers',
  body: 'reading the response body',
};

/** The words for a phase in a message ("while connecting"). */
export function phaseWords(phase: ConnectionPhase): string {
  return PHASE_WORDS[phase];
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// OpenSSL verification codes (DEPTH_ZERO_SELF_SIGNED_CERT, CERT_HAS_EXPIRED, UNABLE_TO_VERIFY_LEAF_SIGNATURE, ...)
// and node's own TLS codes, recognised whatever phase tracking saw.
function isTlsErrorCode(code: string): boolean {
  return code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code === 'EPROTO' || /CERT|SELF_SIGNED|^UNABLE_TO_/.test(code);
}

/** Maps a socket or TLS error to a reason and message. `where` is `host:port` for the message. */
export function classifySocketError(err: unknown, phase: ConnectionPhase, where: string): ProbeError {
  const code = errorCode(err) ?? '';
  const detail = code === '' ? errorMessage(err) : `${errorMessage(err)} (${code})`;
  switch (code) {
    case 'ECONNREFUSED':
      return { reason: 'Refused', message: `connection refused by ${where}` };
    case 'ETIMEDOUT':
      return { reason: 'Timeout', message: `connection to ${where} timed out ${phaseWords(phase)}` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
    case 'EADDRNOTAVAIL':
      return { reason: 'Unreachable', message: `${where} is unreachable: ${detail}` };
  }
  if (phase === 'tls' || isTlsErrorCode(code)) return { reason: 'TLSError', message: `TLS handshake with ${where} failed: ${detail}` };
  if (code.startsWith('HPE_')) return { reason: 'ProtocolError', message: `invalid HTTP answer from ${where}: ${detail}` };
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') {
    return { reason: 'Reset', message: `connection to ${where} was reset ${phaseWords(phase)}` };
  }
  return { reason: 'Error', message: `probe of ${where} failed ${phaseWords(phase)}: ${detail}` };
}

/** The reason for a probe whose signal aborted: a TimeoutError reason counts as Timeout, anything else as Aborted. */
export function abortedError(signal: AbortSignal, where: string): ProbeError {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') return { reason: 'Timeout', message: `probe of ${where} timed out` };
  return { reason: 'Aborted', message: `probe of ${where} was cancelled` };
}
