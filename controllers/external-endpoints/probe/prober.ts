// The probing contract shared by the TCP and HTTP(S) probes and the scheduler. A probe never throws and never leaves a
// socket open: every outcome, including timeout and abort, is a result, and the socket is destroyed before the
// result is delivered.

import type { AnswerPattern } from './answer-pattern.ts';

/** What to connect to. `address` is always an IP literal: names are resolved (and policy-checked) beforehand. */
export interface ProbeTarget {
  readonly address: string;
  readonly port: number;
  /** The dnsName the address was resolved from: the default Host header and TLS server name. */
  readonly dnsName?: string | undefined;
}

/** An inclusive range of HTTP status codes. */
export interface StatusRange {
  readonly min: number;
  readonly max: number;
}

/**
 * Connect, then close: healthy when the TCP handshake completes within the timeout. With `exchange`, write its bytes
 * once connected and read until the answer matches, all within the timeout.
 */
export interface TcpProbeSpec {
  readonly type: 'TCP';
  readonly timeoutMs: number;
  readonly exchange?: TcpExchange | undefined;
}

/** A TCP send/expect exchange: `send` (possibly empty) is written, then `expect` is searched in the Latin-1 answer. */
export interface TcpExchange {
  readonly send: Uint8Array;
  readonly expect: AnswerPattern;
  /** Bytes read at most; past them without a match the probe fails. */
  readonly maxReadBytes: number;
}

/** TLS settings of an HTTPS probe. */
export interface ProbeTlsSpec {
  /** SNI sent and name verified. Default: the target's dnsName; else no SNI and the certificate must name the IP. */
  readonly serverName?: string | undefined;
  /** Accept any certificate; the handshake must still complete. */
  readonly insecureSkipVerify: boolean;
  /** PEM CA bundle trusted instead of the system roots. */
  readonly ca?: string | undefined;
}

/**
 * One GET request, never following redirects. Healthy when the status is in one of `expectedStatuses`. The timeout
 * covers connect, TLS handshake, response headers and reading the body up to `maxBodyBytes`.
 */
export interface HttpProbeSpec {
  readonly type: 'HTTP' | 'HTTPS';
  readonly timeoutMs: number;
  /** Request path and query, starting with "/". */
  readonly path: string;
  /** Host header. Default: the target's dnsName (else its address), with ":port" unless the scheme's default. */
  readonly host?: string | undefined;
  readonly expectedStatuses: readonly StatusRange[];
  readonly tls?: ProbeTlsSpec | undefined;
  /** Body bytes read before the connection is closed. Default {@link DEFAULT_MAX_BODY_BYTES}. */
  readonly maxBodyBytes?: number | undefined;
}

/** Credentials of a database check, read from a Secret. Never logged, never in a result. */
export interface ProbeCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * A role-aware PostgreSQL check: connect, authenticate, `SELECT pg_is_in_recovery()`, close, all within the timeout.
 * Without `credentials` the probe fails at once with CredentialsUnavailable and `credentialsError` as its message.
 */
export interface PostgreSQLProbeSpec {
  readonly type: 'PostgreSQL';
  readonly timeoutMs: number;
  readonly role: 'Primary' | 'Replica' | 'Any';
  readonly database: string;
  readonly credentials?: ProbeCredentials | undefined;
  readonly credentialsError?: string | undefined;
}

/**
 * A role-aware Redis check: connect, AUTH when `credentials` are given, ROLE, close, within the timeout. With
 * `credentialsError` (a credentials Secret is named but unusable) the probe fails at once with CredentialsUnavailable.
 */
export interface RedisProbeSpec {
  readonly type: 'Redis';
  readonly timeoutMs: number;
  readonly role: 'Primary' | 'Replica' | 'Any';
  readonly credentials?: ProbeCredentials | undefined;
  readonly credentialsError?: string | undefined;
}

/**
 * A role-aware MySQL/MariaDB check: connect, authenticate, `SELECT @@global.read_only`, close, within the timeout
 * (0 = Primary, 1 = Replica). Without `credentials` the probe fails at once with CredentialsUnavailable.
 */
export interface MySQLProbeSpec {
  readonly type: 'MySQL';
  readonly timeoutMs: number;
  readonly role: 'Primary' | 'Replica' | 'Any';
  readonly credentials?: ProbeCredentials | undefined;
  readonly credentialsError?: string | undefined;
}

/** grpc.health.v1.Health/Check for `service` ('' = the whole server), plaintext. Healthy when SERVING. */
export interface GrpcProbeSpec {
  readonly type: 'GRPC';
  readonly timeoutMs: number;
  readonly service: string;
}

/** How one backend is probed. */
export type ProbeSpec = TcpProbeSpec | HttpProbeSpec | PostgreSQLProbeSpec | RedisProbeSpec | MySQLProbeSpec | GrpcProbeSpec;

/** Body bytes an HTTP probe reads at most (kubelet reads 10 KiB; a health page larger than this is not our problem). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * Why a probe failed, for status and metrics labels.
 * - Refused: nothing listens (RST to the SYN). Reset: the peer reset an established connection.
 * - Timeout: no answer within the probe's timeout. Unreachable: no route, host or network unreachable.
 * - TLSError: the handshake failed or the certificate was refused. HTTPStatus: an unexpected status code.
 * - ProtocolError: not a valid HTTP answer. Aborted: the probe was cancelled (backend removed, leadership lost).
 * - InvalidTarget: the target is not an IP literal (a programming error upstream). Error: anything else.
 * - WrongRole: a database answered but has another role (a replica where a primary is wanted, or the reverse).
 * - NotServing: a gRPC health check answered other than SERVING (or the service is unknown).
 * - UnexpectedAnswer: a TCP send/expect check read an answer that did not match (closed, or too long).
 * - AuthFailed: a database refused the credentials. CredentialsUnavailable: the credentials Secret or key is missing.
 */
export type ProbeFailureReason =
  | 'Refused'
  | 'Reset'
  | 'Timeout'
  | 'Unreachable'
  | 'TLSError'
  | 'HTTPStatus'
  | 'ProtocolError'
  | 'Aborted'
  | 'InvalidTarget'
  | 'Error'
  | 'WrongRole'
  | 'AuthFailed'
  | 'CredentialsUnavailable'
  | 'NotServing'
  | 'UnexpectedAnswer';

/** A failed probe's reason and a one-line, human-readable message. */
export interface ProbeError {
  readonly reason: ProbeFailureReason;
  readonly message: string;
}

/** The outcome of one probe. `statusCode` is set when an HTTP answer was received. */
export type ProbeResult =
  | { readonly ok: true; readonly latencyMs: number; readonly statusCode?: number | undefined }
  | { readonly ok: false; readonly latencyMs: number; readonly error: ProbeError; readonly statusCode?: number | undefined };

/** Probes one target. Resolves (never rejects) once the socket is closed; honours `signal` at once. */
export interface Prober {
  probe(target: ProbeTarget, spec: ProbeSpec, signal: AbortSignal): Promise<ProbeResult>;
}

const MAX_MESSAGE = 512;
/** Builds a failed result; the message is trimmed to fit the status field. */
export function probeFailure(reason: ProbeFailureReason, message: string, latencyMs: number, statusCode?: number): ProbeResult {
  const trimmed = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;
  return statusCode === undefined
    ? { ok: false, latencyMs, error: { reason, message: trimmed } }
    : { ok: false, latencyMs, error: { reason, message: trimmed }, statusCode };
}
