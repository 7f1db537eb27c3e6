import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { realClock } from '../../runtime/clock.ts';
import { postgresqlProbe, roleMatches } from './postgresql-probe.ts';
import type { PostgreSQLProbeSpec } from './prober.ts';

// The role decision as a table; the I/O paths that need no PostgreSQL server (missing credentials, nothing listening,
// a server that never answers) on loopback. Primary, replica and promotion are tested against real servers in
// test/integration/external-endpoints.test.ts.

const spec: PostgreSQLProbeSpec = {
  type: 'PostgreSQL',
  timeoutMs: 300,
  role: 'Primary',
  database: 'postgres',
  credentials: { username: 'probe', password: 'secret-value' },
};

describe('roleMatches', () => {
  const cases = [
    { wanted: 'Primary', role: 'Primary', want: true },
    { wanted: 'Primary', role: 'Replica', want: false },
    { wanted: 'Replica', role: 'Replica', want: true },
    { wanted: 'Replica', role: 'Primary', want: false },
    { wanted: 'Any', role: 'Primary', want: true },
    { wanted: 'Any', role: 'Replica', want: true },
  ] as const;
  for (const c of cases) it(`${c.wanted} vs ${c.role}`, () => assert.equal(roleMatches(c.wanted, c.role), c.want));
});

describe('postgresqlProbe', () => {
  it('fails at once with CredentialsUnavailable, without connecting, when there are no credentials', async () => {
    const r = await postgresqlProbe(
      { address: '127.0.0.1', port: 1 },
      { ...spec, credentials: undefined, credentialsError: 'Secret db/pg not found' },
      new AbortController().signal,
      realClock,
    );
    assert.deepEqual(r, { ok: false, latencyMs: 0, error: { reason: 'CredentialsUnavailable', message: 'Secret db/pg not found' } });
  });

  it('reports Refused when nothing listens', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const r = await postgresqlProbe({ address: '127.0.0.1', port }, spec, new AbortController().signal, realClock);
    assert.equal(r.ok ? 'ok' : r.error.reason, 'Refused');
  });

  it('times out on a server that accepts and never answers, and closes the connection', async () => {
    let closed = 0;
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.resume(); // read (and drop) the startup message, so the client's FIN is seen
      socket.on('close', () => closed++);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const started = Date.now();
      const r = await postgresqlProbe({ address: '127.0.0.1', port }, spec, new AbortController().signal, realClock);
      assert.equal(r.ok ? 'ok' : r.error.reason, 'Timeout');
      assert.ok(Date.now() - started < 2000, 'bounded by the timeout');
      assert.ok(!JSON.stringify(r).includes('secret-value'), 'the password is not in the result');
      for (let i = 0; i < 50 && closed === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(closed, sockets.size, 'the connection was closed');
      assert.equal(sockets.size, 1);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
