import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiErrorFrom, isGone, isResourceVersionTooLarge, NetworkError } from './api-errors.ts';

// The Status bodies are the shapes kube-apiserver sends (the first one is what v1.36's watch cache answers for a watch
// from a resourceVersion it has not reached; the test in test/integration/runtime-informer.test.ts checks it live).

const status = (code: number, reason: string, message: string, causes?: unknown[]) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message, details: causes ? { causes } : {} });

describe('isResourceVersionTooLarge', () => {
  const cases: readonly { name: string; given: unknown; want: boolean }[] = Object.freeze([
    {
      name: 'a 504 with the ResourceVersionTooLarge cause',
      given: apiErrorFrom(
        504,
        status(504, 'Timeout', 'Too large resource version: 900, current: 12', [
          { reason: 'ResourceVersionTooLarge', message: 'Too large resource version' },
        ]),
        'watch',
        '/api/v1/pods',
        null,
      ),
      want: true,
    },
    {
      name: 'a Timeout whose cause message says so (servers 1.17.0 to 1.18.5, no cause reason)',
      given: apiErrorFrom(504, status(504, 'Timeout', 'Timeout: 900', [{ message: 'Too large resource version' }]), 'watch', '/p', null),
      want: true,
    },
    {
      name: 'a Timeout whose message says so (servers before 1.17)',
      given: apiErrorFrom(504, status(504, 'Timeout', 'Timeout: Too large resource version: 900, current: 12'), 'list', '/p', null),
      want: true,
    },
    {
      name: 'a plain 504 Timeout',
      given: apiErrorFrom(504, status(504, 'Timeout', 'request did not complete within 60s'), 'list', '/p', null),
      want: false,
    },
    {
      name: 'the message on a non-timeout error',
      given: apiErrorFrom(500, status(500, 'InternalError', 'Too large resource version'), 'list', '/p', null),
      want: false,
    },
    {
      name: 'a 410 Gone',
      given: apiErrorFrom(410, status(410, 'Expired', 'too old resource version: 1 (5)'), 'watch', '/p', null),
      want: false,
    },
    { name: 'a network error', given: new NetworkError('Too large resource version'), want: false },
    { name: 'not an error', given: 'Too large resource version', want: false },
  ]);
  for (const { name, given, want } of cases) {
    it(`${want ? 'recognises' : 'rejects'} ${name}`, () => {
      assert.equal(isResourceVersionTooLarge(given), want);
    });
  }

  it('is distinct from Gone, which has its own relist path', () => {
    const tooLarge = cases[0]?.given;
    assert.equal(isGone(tooLarge), false);
  });
});
