import type { Logger } from 'pino';

// The reconcile contract. A reconciler is called with a key, never with an event: it reads the current state from
// caches, so missed, duplicated or reordered events cannot make it wrong (level-triggered).

/** What to reconcile: the `namespace/name` (or `name`) of the primary object. The object may no longer exist. */
export interface Request {
  readonly key: string;
}

/**
 * The outcome of a successful reconcile.
 * - `done`: nothing more to do until the next event; the key's failure count is forgotten.
 * - `requeueAfter`: reconcile again after `ms` (e.g. a probe interval); failure count forgotten.
 * Failures are thrown, never returned: see {@link TerminalError}, {@link StaleCacheError}.
 */
export type Result = { readonly kind: 'done' } | { readonly kind: 'requeueAfter'; readonly ms: number };

const DONE: Result = Object.freeze({ kind: 'done' });
export const done = (): Result => DONE;
export const requeueAfter = (ms: number): Result => ({ kind: 'requeueAfter', ms });

/** Everything a reconcile may use besides its caches and clients. */
export interface ReconcileContext {
  /** Child logger carrying `controller`, `key` and `reconcileId`. */
  readonly logger: Logger;
  readonly reconcileId: string;
  /** Aborted when the manager stops or leadership is lost; in-flight API calls should pass it on. */
  readonly signal: AbortSignal;
}

/** Implemented by every controller's reconciler. Must be safe to call concurrently for different keys. */
export interface Reconciler {
  reconcile(request: Request, ctx: ReconcileContext): Promise<Result>;
}

/** A failure that retrying cannot fix (invalid input, forbidden). Logged and counted, never retried. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

/**
 * The cache is behind what this controller itself wrote (upstream's "stale informer cache" guard). Retried with the
 * rate limiter like any error, but logged at debug level: it is expected and resolves itself once the watch catches up.
 */
export class StaleCacheError extends Error {
  override readonly name = 'StaleCacheError';
}
