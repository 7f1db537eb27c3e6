// The one place API failures are classified. Call sites ask `isNotFound(err)`, never match strings.

/** Reasons the API server puts in a Status object (metav1.StatusReason), plus our own for transport failures. */
export type ApiErrorReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'Forbidden'
  | 'Unauthorized'
  | 'Gone'
  | 'Expired'
  | 'TooManyRequests'
  | 'ServerTimeout'
  | 'Timeout'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'BadRequest'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'Unknown';

/** An HTTP error answer from the API server, parsed from its Status body. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: number;
  readonly reason: ApiErrorReason;
  /** Status.details.causes, e.g. the field errors of an Invalid answer. */
  readonly causes: readonly { reason?: string; message?: string; field?: string }[];
  /** Seconds the server asked us to wait (Retry-After), if any. */
  readonly retryAfterSeconds: number | undefined;
  readonly verb: string;
  readonly path: string;

  constructor(init: {
    code: number;
    reason: ApiErrorReason;
    message: string;
    causes?: readonly { reason?: string; message?: string; field?: string }[];
    retryAfterSeconds?: number | undefined;
    verb: string;
    path: string;
  }) {
    super(`${init.verb} ${init.path}: ${init.code} ${init.reason}: ${init.message}`);
    this.code = init.code;
    this.reason = init.reason;
    this.causes = init.causes ?? [];
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.verb = init.verb;
    this.path = init.path;
  }
}

/** The API server could not be reached or the connection broke (no HTTP answer). */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
}

const REASON_BY_CODE: Record<number, ApiErrorReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

const KNOWN_REASONS = new Set<string>(Object.values(REASON_BY_CODE).concat(['AlreadyExists', 'Expired', 'ServerTimeout', 'Timeout']));

/** Builds an ApiError from an HTTP status and the (possibly non-JSON) body. */
export function apiErrorFrom(code: number, body: string, verb: string, path: string, retryAfter: string | null): ApiError {
  let reason: ApiErrorReason = REASON_BY_CODE[code] ?? 'Unknown';
  let message = body.slice(0, 500);
  let causes: { reason?: string; message?: string; field?: string }[] = [];
  try {
    const status = JSON.parse(body) as { reason?: unknown; message?: unknown; details?: { causes?: unknown } };
    if (typeof status.reason === 'string' && KNOWN_REASONS.has(status.reason)) reason = status.reason as ApiErrorReason;
    if (typeof status.message === 'string') message = status.message;
    if (Array.isArray(status.details?.causes)) causes = status.details.causes as typeof causes;
  } catch {
    // Not a Status object (e.g. a proxy's HTML page): keep the HTTP-derived reason and the raw text.
  }
  const retry = retryAfter === null ? undefined : Number.parseInt(retryAfter, 10);
  return new ApiError({ code, reason, message, causes, retryAfterSeconds: Number.isFinite(retry) ? retry : undefined, verb, path });
}

const reasonIs = (err: unknown, ...reasons: ApiErrorReason[]): boolean => err instanceof ApiError && reasons.includes(err.reason);

export const isNotFound = (err: unknown): boolean => reasonIs(err, 'NotFound');
export const isAlreadyExists = (err: unknown): boolean => reasonIs(err, 'AlreadyExists');
export const isConflict = (err: unknown): boolean => reasonIs(err, 'Conflict');
export const isInvalid = (err: unknown): boolean => reasonIs(err, 'Invalid');
export const isForbidden = (err: unknown): boolean => reasonIs(err, 'Forbidden');
export const isGone = (err: unknown): boolean => reasonIs(err, 'Gone', 'Expired');
export const isThrottled = (err: unknown): boolean => reasonIs(err, 'TooManyRequests');
export const isNetworkError = (err: unknown): boolean => err instanceof NetworkError;
/** Worth retrying as-is: throttling, server-side timeouts and 5xx, or no answer at all. */
export const isTransient = (err: unknown): boolean =>
  isNetworkError(err) || reasonIs(err, 'TooManyRequests', 'ServerTimeout', 'Timeout', 'InternalError', 'ServiceUnavailable');

const TOO_LARGE_RV_MESSAGE = 'Too large resource version';

/**
 * The request named a resourceVersion newer than the API server has (a lagging API server in an HA control plane, or
 * one restored from an older etcd backup): 504 with the cause `ResourceVersionTooLarge`, or, from servers before
 * 1.17.0-1.18.5, a Timeout whose message says "Too large resource version". Like client-go's reflector, a watcher
 * must relist rather than resume from that resourceVersion: waiting does not help when etcd went back in time.
 */
export function isResourceVersionTooLarge(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  if (err.causes.some((c) => c.reason === 'ResourceVersionTooLarge')) return true;
  if (err.reason !== 'Timeout' && err.reason !== 'ServerTimeout') return false;
  return err.causes.some((c) => c.message === TOO_LARGE_RV_MESSAGE) || err.message.includes(TOO_LARGE_RV_MESSAGE);
}

/**
 * A create refused because the namespace is being deleted. Upstream controllers swallow this: the objects would be
 * deleted with the namespace anyway.
 */
export function isNamespaceTerminating(err: unknown): boolean {
  return err instanceof ApiError && err.reason === 'Forbidden' && err.causes.some((c) => c.reason === 'NamespaceTerminating');
}

/** A short, loggable description: never the whole body or headers. */
export function describeError(err: unknown): { message: string; code?: number; reason?: string } {
  if (err instanceof ApiError) return { message: err.message, code: err.code, reason: err.reason };
  if (err instanceof Error) return { message: err.message };
  return { message: String(err) };
}
