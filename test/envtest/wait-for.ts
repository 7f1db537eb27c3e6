import { type Clock, realClock } from '../../controllers/runtime/clock.ts';

// Integration tests assert converged cluster state, and controllers converge asynchronously (informers, queues,
// batching), so assertions poll. The timeout error says what was awaited and what was last seen, which is usually
// the whole diagnosis.

/** Settings of {@link waitFor}. */
export interface WaitForOptions {
  /** What is awaited, for the timeout message ("EndpointSlice of web to list 3 endpoints"). */
  readonly description?: string;
  /** Default 10 s. */
  readonly timeoutMs?: number;
  /** Pause between attempts. Default 100 ms. */
  readonly intervalMs?: number;
  /** Default the real clock; tests of this helper use a FakeClock. */
  readonly clock?: Clock;
}

/** The condition never held. `lastValue` / `cause` are what the final attempt returned or threw. */
export class WaitForTimeoutError extends Error {
  override readonly name = 'WaitForTimeoutError';
  readonly lastValue: unknown;

  constructor(message: string, lastValue: unknown, cause: unknown) {
    super(message, { cause });
    this.lastValue = lastValue;
  }
}

/**
 * Calls `fn` until it returns a value other than `undefined`, `null` or `false`, and resolves with that value. A throw
 * counts as "not yet" (e.g. an assertion inside `fn`, or a 404 before the object exists). At least one attempt is made
 * even with a zero timeout. Throws {@link WaitForTimeoutError} naming the description, the elapsed time and the last
 * value or error.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitForOptions = {}): Promise<Exclude<T, undefined | null | false>> {
  const clock = opts.clock ?? realClock;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const started = clock.now();
  let attempts = 0;
  let lastValue: unknown;
  let lastError: unknown;
  for (;;) {
    attempts++;
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value as Exclude<T, undefined | null | false>;
      lastValue = value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    const elapsed = clock.now() - started;
    if (elapsed >= timeoutMs) {
      const what = opts.description ?? 'condition';
      const last =
        lastError === undefined
          ? `last value: ${describe(lastValue)}`
          : `last error: ${lastError instanceof Error ? lastError.message : describe(lastError)}`;
      throw new WaitForTimeoutError(
        `timed out after ${elapsed} ms (${attempts} attempts) waiting for ${what}; ${last}`,
        lastValue,
        lastError,
      );
    }
    await clock.sleep(Math.min(opts.intervalMs ?? 100, timeoutMs - elapsed));
  }
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}
