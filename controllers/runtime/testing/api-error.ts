import { ApiError, NetworkError } from '../api-errors.ts';

// Test-only: API errors for fakes to throw, so the code under test classifies them exactly as it would a real answer.

/** An API error as the server would return it. */
export function apiError(code: number, reason: ApiError['reason'], causes: ApiError['causes'] = []): ApiError {
  return new ApiError({ code, reason, message: reason, causes, verb: 'test', path: '/test' });
}

/** A NetworkError, the usual injected failure of a connection. */
export const connectionRefused = () => new NetworkError('connect ECONNREFUSED 127.0.0.1:6443');
