import { Socket } from 'node:net';
import pg from 'pg';
import type { Clock } from '../../runtime/clock.ts';
import { type PostgreSQLProbeSpec, type ProbeResult, type ProbeTarget, probeFailure } from './prober.ts';
import { probeOutcome } from './probe-outcome.ts';
import { abortedError, classifySocketError, joinHostPort } from './socket-errors.ts';

// A role-aware PostgreSQL check: one fresh connection (no pool), one query, close. The role comes from the server
// itself: `SELECT pg_is_in_recovery()` is false on a primary and true on a (streaming) replica, so a Service of
// primaries follows a promotion without any record to update. The whole probe (connect, authentication, query) is
// bounded by the timeout, and the socket is destroyed in every outcome. The password is only handed to the client
// library; it is never part of a result or message.

/** Rows of the role query. */
interface RoleRow {
  readonly in_recovery: boolean;
}

/** The role a server reports. */
export type PostgreSQLRole = 'Primary' | 'Replica';

/** True when a server in `role` passes a check that wants `wanted`. Pure. */
export function roleMatches(wanted: PostgreSQLProbeSpec['role'], role: PostgreSQLRole): boolean {
  return wanted === 'Any' || wanted === role;
}

/** SQLSTATE classes of authentication and authorization failures (28: invalid authorization specification). */
function isAuthError(code: string | undefined): boolean {
  return code !== undefined && (code.startsWith('28') || code === '3D000');
}

export function postgresqlProbe(target: ProbeTarget, spec: PostgreSQLProbeSpec, signal: AbortSignal, clock: Clock): Promise<ProbeResult> {
  const where = joinHostPort(target.address, target.port);
  const started = clock.now();
  const elapsed = () => Math.max(0, clock.now() - started);
  if (signal.aborted) {
    const e = abortedError(signal, where);
    return Promise.resolve(probeFailure(e.reason, e.message, 0));
  }
  if (spec.credentials === undefined) {
    return Promise.resolve(probeFailure('CredentialsUnavailable', spec.credentialsError ?? 'no credentials for the PostgreSQL check', 0));
  }
  // Our own socket, handed to the client library, so that it is destroyed whatever state the library is in.
  const socket = new Socket();
  const client = new pg.Client({
    stream: () => socket,
    host: target.address,
    port: target.port,
    user: spec.credentials.username,
    password: spec.credentials.password,
    database: spec.database,
    ssl: false,
    application_name: 'kube-endpoints-operator-probe',
    query_timeout: spec.timeoutMs,
    statement_timeout: spec.timeoutMs,
    keepAlive: false,
  });
  socket.on('error', () => undefined);
  // Errors after the outcome (a late socket error, the server closing) must not become uncaught exceptions.
  client.on('error', () => undefined);
  return probeOutcome(
    {
      clock,
      signal,
      timeoutMs: spec.timeoutMs,
      where,
      check: 'PostgreSQL',
      elapsed,
      teardown: () => {
        // end() sends Terminate when it can; the socket is destroyed in any case, so nothing lingers on a wedged server.
        void client.end().catch(() => undefined);
        socket.destroy();
      },
    },
    (finish) => {
      (async () => {
        await client.connect();
        const res = await client.query<RoleRow>('SELECT pg_is_in_recovery() AS in_recovery');
        const role: PostgreSQLRole = res.rows[0]?.in_recovery === true ? 'Replica' : 'Primary';
        if (roleMatches(spec.role, role)) finish({ ok: true, latencyMs: elapsed() });
        else finish(probeFailure('WrongRole', `${where} is a ${role.toLowerCase()}, not a ${spec.role.toLowerCase()}`, elapsed()));
      })().catch((err: unknown) => {
        const e = err as { code?: string; message?: string; severity?: string };
        if (e.severity !== undefined) {
          // A server error: its SQLSTATE says whether it is about the credentials.
          const reason = isAuthError(e.code) ? 'AuthFailed' : 'ProtocolError';
          finish(
            probeFailure(
              reason,
              `PostgreSQL at ${where} refused the check: ${e.message ?? 'error'} (SQLSTATE ${e.code ?? '?'})`,
              elapsed(),
            ),
          );
          return;
        }
        if (typeof e.code === 'string') {
          const s = classifySocketError(err, 'connect', where);
          finish(probeFailure(s.reason, s.message, elapsed()));
          return;
        }
        const message = e.message ?? String(err);
        finish(probeFailure(/timeout/i.test(message) ? 'Timeout' : 'Error', `PostgreSQL check of ${where} failed: ${message}`, elapsed()));
      });
    },
  );
}
