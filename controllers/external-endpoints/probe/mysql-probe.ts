import { type Connection, createConnection } from 'mysql2';
import type { Clock } from '../../runtime/clock.ts';
import { type MySQLProbeSpec, type ProbeResult, type ProbeTarget, probeFailure } from './prober.ts';
import { probeOutcome } from './probe-outcome.ts';
import { abortedError, classifySocketError, joinHostPort } from './socket-errors.ts';

// A role-aware MySQL/MariaDB check: one fresh connection (mysql2, no pool, no TLS), authenticate, SELECT
// @@global.read_only, close. A writable server (read_only = 0) is the primary, a read-only one (1) a replica, so a
// write Service follows a failover that flips read_only (as orchestrator, MHA and MaxScale do). Bounded by the
// timeout; the socket is destroyed in every outcome. The password is only handed to the client library.

/** The role a read_only value means (0 writable = Primary, 1 = Replica), or undefined for anything else. Pure. */
export function mysqlRoleOf(readOnly: unknown): 'Primary' | 'Replica' | undefined {
  const v = typeof readOnly === 'string' ? readOnly.trim().toUpperCase() : readOnly;
  if (v === 0 || v === '0' || v === 'OFF' || v === false) return 'Primary';
  if (v === 1 || v === '1' || v === 'ON' || v === true) return 'Replica';
  return undefined;
}

// Server errors meaning the credentials were refused: ER_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR,
// ER_NOT_SUPPORTED_AUTH_MODE, ER_ACCESS_DENIED_NO_PASSWORD_ERROR.
const AUTH_ERRORS = new Set([1045, 1044, 1251, 1698]);

export function mysqlProbe(target: ProbeTarget, spec: MySQLProbeSpec, signal: AbortSignal, clock: Clock): Promise<ProbeResult> {
  const where = joinHostPort(target.address, target.port);
  const started = clock.now();
  const elapsed = () => Math.max(0, clock.now() - started);
  if (signal.aborted) {
    const e = abortedError(signal, where);
    return Promise.resolve(probeFailure(e.reason, e.message, 0));
  }
  const credentials = spec.credentials;
  if (credentials === undefined) {
    return Promise.resolve(probeFailure('CredentialsUnavailable', spec.credentialsError ?? 'credentials not read yet', 0));
  }
  let connection: Connection | undefined;
  return probeOutcome(
    { clock, signal, timeoutMs: spec.timeoutMs, where, check: 'MySQL', elapsed, teardown: () => connection?.destroy() },
    (finish) => {
      const failed = (err: unknown) => {
        const e = err as { code?: unknown; errno?: unknown; message?: unknown; fatal?: unknown };
        const message = typeof e.message === 'string' ? e.message : String(err);
        if (typeof e.errno === 'number' && AUTH_ERRORS.has(e.errno)) {
          // The server's message names the user and host, never the password.
          finish(probeFailure('AuthFailed', `MySQL at ${where} refused the credentials: ${String(e.code)}`, elapsed()));
        } else if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
          const s = classifySocketError(err, 'connect', where);
          finish(probeFailure(s.reason, s.message, elapsed()));
        } else {
          finish(probeFailure(/timed? ?out/i.test(message) ? 'Timeout' : 'Error', `MySQL check of ${where} failed: ${message}`, elapsed()));
        }
      };
      try {
        connection = createConnection({
          host: target.address,
          port: target.port,
          user: credentials.username,
          password: credentials.password,
          connectTimeout: spec.timeoutMs,
          enableKeepAlive: false,
          multipleStatements: false,
        });
      } catch (err) {
        failed(err);
        return;
      }
      // Kept for the connection's lifetime: an error after the outcome must not become an uncaught exception.
      connection.on('error', failed);
      connection.query({ sql: 'SELECT @@global.read_only AS read_only', timeout: spec.timeoutMs, rowsAsArray: true }, (err, rows) => {
        if (err !== null) {
          failed(err);
          return;
        }
        const first: unknown = Array.isArray(rows) ? rows[0] : undefined;
        const role = mysqlRoleOf(Array.isArray(first) ? first[0] : undefined);
        if (role === undefined) {
          finish(probeFailure('ProtocolError', `${where} answered SELECT @@global.read_only with neither 0 nor 1`, elapsed()));
        } else if (spec.role === 'Any' || spec.role === role) {
          finish({ ok: true, latencyMs: elapsed() });
        } else {
          const word = role === 'Primary' ? 'primary (read_only = 0)' : 'replica (read_only = 1)';
          finish(probeFailure('WrongRole', `${where} is a ${word}, not a ${spec.role.toLowerCase()}`, elapsed()));
        }
      });
    },
  );
}
