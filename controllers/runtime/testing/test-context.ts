import { type Logger, pino } from 'pino';
import type { ReconcileContext } from '../reconcile.ts';

// Test-only: the context a reconcile gets from the controller, without a controller.

/** A reconcile context with reconcileId `test`; silent unless a `logger` is given, never aborted unless a `signal` is. */
export function testContext(opts: { signal?: AbortSignal; logger?: Logger } = {}): ReconcileContext {
  return {
    logger: opts.logger ?? pino({ level: 'silent' }),
    reconcileId: 'test',
    signal: opts.signal ?? new AbortController().signal,
  };
}
