import type { Clock } from '../../runtime/clock.ts';
import { type ProbeResult, probeFailure } from './prober.ts';
import { abortedError } from './socket-errors.ts';

// The one-outcome rule every client-library probe (PostgreSQL, Redis, MySQL) shares: the first of its own result, its
// timeout and the abort wins; the timer and the abort listener are released and the connection is torn down once,
// before the result is delivered; later outcomes are ignored.

export interface ProbeOutcomeOptions {
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /** `host:port`, for messages. */
  readonly where: string;
  /** The check's name in the timeout message, e.g. "Redis". */
  readonly check: string;
  readonly elapsed: () => number;
  /** Destroys the connection; called exactly once. */
  readonly teardown: () => void;
}

/** Runs `start(finish)` and resolves with the first outcome. `finish` may be called any number of times. */
export function probeOutcome(opts: ProbeOutcomeOptions, start: (finish: (result: ProbeResult) => void) => void): Promise<ProbeResult> {
  const { clock, signal, timeoutMs, where, check, elapsed, teardown } = opts;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      signal.removeEventListener('abort', onAbort);
      teardown();
      resolve(result);
    };
    const onAbort = () => {
      const e = abortedError(signal, where);
      finish(probeFailure(e.reason, e.message, elapsed()));
    };
    const timer = clock.setTimer(timeoutMs, () =>
      finish(probeFailure('Timeout', `${check} check of ${where} timed out after ${timeoutMs}ms`, elapsed())),
    );
    signal.addEventListener('abort', onAbort, { once: true });
    start(finish);
  });
}
