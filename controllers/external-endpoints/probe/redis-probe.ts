import { Redis } from 'ioredis';
import type { Clock } from '../../runtime/clock.ts';
import { type ProbeResult, type ProbeTarget, probeFailure, type RedisProbeSpec } from './prober.ts';
import { probeOutcome } from './probe-outcome.ts';
import { abortedError, classifySocketError, joinHostPort } from './socket-errors.ts';

// A role-aware Redis check: one fresh connection (ioredis, no reconnects, no offline queue), AUTH when credentials are
// given, the ROLE command, close. ROLE answers "master" on a primary and "slave" on a replica, so a write Service
// follows `REPLICAOF NO ONE` (or a Sentinel failover) without a record to update. Bounded by the timeout; the socket
// is destroyed in every outcome. The password is only handed to the client library.

/** The role in a ROLE reply (its first element), or undefined for anything else (a sentinel, a malformed reply). Pure. */
export function redisRoleOf(reply: unknown): 'Primary' | 'Replica' | undefined {
  const first: unknown = Array.isArray(reply) ? reply[0] : undefined;
  if (first === 'master') return 'Primary';
  if (first === 'slave') return 'Replica';
  return undefined;
}

export function redisProbe(target: ProbeTarget, spec: RedisProbeSpec, signal: AbortSignal, clock: Clock): Promise<ProbeResult> {
  const where = joinHostPort(target.address, target.port);
  const started = clock.now();
  const elapsed = () => Math.max(0, clock.now() - started);
  if (signal.aborted) {
    const e = abortedError(signal, where);
    return Promise.resolve(probeFailure(e.reason, e.message, 0));
  }
  if (spec.credentialsError !== undefined) return Promise.resolve(probeFailure('CredentialsUnavailable', spec.credentialsError, 0));
  const client = new Redis({
    host: target.address,
    port: target.port,
    ...(spec.credentials === undefined ? {} : { username: spec.credentials.username, password: spec.credentials.password }),
    lazyConnect: true,
    connectTimeout: spec.timeoutMs,
    commandTimeout: spec.timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    autoResubscribe: false,
    autoResendUnfulfilledCommands: false,
    connectionName: 'kube-endpoints-operator-probe',
  });
  // The socket error itself arrives as an event (the rejected connect only says the connection is closed); errors
  // after the outcome must not become uncaught exceptions.
  let socketError: unknown;
  client.on('error', (err: unknown) => {
    socketError ??= err;
  });
  return probeOutcome(
    {
      clock,
      signal,
      timeoutMs: spec.timeoutMs,
      where,
      check: 'Redis',
      elapsed,
      teardown: () => {
        client.disconnect();
        (client.stream as typeof client.stream | undefined)?.destroy();
      },
    },
    (finish) => {
      (async () => {
        await client.connect();
        const role = redisRoleOf(await client.call('ROLE'));
        if (role === undefined) {
          finish(probeFailure('ProtocolError', `${where} answered ROLE with neither master nor slave`, elapsed()));
        } else if (spec.role === 'Any' || spec.role === role) {
          finish({ ok: true, latencyMs: elapsed() });
        } else {
          finish(probeFailure('WrongRole', `${where} is a ${role.toLowerCase()}, not a ${spec.role.toLowerCase()}`, elapsed()));
        }
      })().catch((rejection: unknown) => {
        const coded = (x: unknown) => typeof (x as { code?: unknown } | undefined)?.code === 'string';
        const err = coded(rejection) || !coded(socketError) ? rejection : socketError;
        const e = err as { code?: string; message?: string };
        const message = e.message ?? String(err);
        if (/^(WRONGPASS|NOAUTH|NOPERM)/.test(message)) {
          finish(probeFailure('AuthFailed', `Redis at ${where} refused the credentials: ${message.split(' ')[0] ?? ''}`, elapsed()));
        } else if (typeof e.code === 'string' && e.code.startsWith('E')) {
          const s = classifySocketError(err, 'connect', where);
          finish(probeFailure(s.reason, s.message, elapsed()));
        } else {
          finish(probeFailure(/timed? ?out/i.test(message) ? 'Timeout' : 'Error', `Redis check of ${where} failed: ${message}`, elapsed()));
        }
      });
    },
  );
}
