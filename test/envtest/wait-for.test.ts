import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../controllers/runtime/clock.ts';
import { WaitForTimeoutError, waitFor } from './wait-for.ts';

describe('waitFor', () => {
  it('resolves with the first value that is not undefined, null or false', async () => {
    const clock = new FakeClock();
    const answers: unknown[] = [undefined, null, false, 0];
    const waiting = waitFor(() => answers.shift(), { clock, intervalMs: 100 });
    await clock.advance(300);
    assert.equal(await waiting, 0);
  });

  it('treats a throw as not yet, and polls at the interval', async () => {
    const clock = new FakeClock();
    const calls: number[] = [];
    const waiting = waitFor(
      () => {
        calls.push(clock.now());
        if (calls.length < 3) throw new Error('404');
        return 'found';
      },
      { clock, intervalMs: 250 },
    );
    await clock.advance(500);
    assert.equal(await waiting, 'found');
    assert.deepEqual(
      calls.map((t) => t - (calls[0] ?? 0)),
      [0, 250, 500],
    );
  });

  it('times out naming the description, the attempts and the last error', async () => {
    const clock = new FakeClock();
    const waiting = waitFor(
      () => {
        throw new Error('endpointslices "web-abc" not found');
      },
      { clock, timeoutMs: 1_000, intervalMs: 400, description: 'the EndpointSlice of web' },
    );
    const rejected = assert.rejects(waiting, (err: unknown) => {
      assert.ok(err instanceof WaitForTimeoutError);
      assert.equal(
        err.message,
        'timed out after 1000 ms (4 attempts) waiting for the EndpointSlice of web; last error: endpointslices "web-abc" not found',
      );
      assert.ok(err.cause instanceof Error);
      return true;
    });
    await clock.advance(1_000);
    await rejected;
  });

  it('times out showing the last value when nothing threw', async () => {
    const clock = new FakeClock();
    const waiting = waitFor(() => (clock.now() < 0 ? { ready: true } : false), { clock, timeoutMs: 200, intervalMs: 100 });
    const rejected = assert.rejects(waiting, /waiting for condition; last value: false$/);
    await clock.advance(200);
    await rejected;
  });

  it('tries once even with a zero timeout', async () => {
    assert.equal(await waitFor(() => 'now', { clock: new FakeClock(), timeoutMs: 0 }), 'now');
  });
});
