import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { describe, it } from 'node:test';
import { FakeClock, realClock } from '../../runtime/clock.ts';
import { mysqlProbe, mysqlRoleOf } from './mysql-probe.ts';
import type { MySQLProbeSpec } from './prober.ts';

describe('mysqlRoleOf', () => {
  const cases: readonly (readonly [unknown, string | undefined])[] = [
    [0, 'Primary'],
    [1, 'Replica'],
    ['0', 'Primary'],
    ['1', 'Replica'],
    ['OFF', 'Primary'],
    ['on', 'Replica'],
    [2, undefined],
    [null, undefined],
    [undefined, undefined],
    ['yes', undefined],
  ];
  for (const [value, role] of cases) {
    it(`${JSON.stringify(value) ?? 'undefined'} -> ${role ?? 'unknown'}`, () => {
      assert.equal(mysqlRoleOf(value), role);
    });
  }
});

describe('mysqlProbe', () => {
  const spec: MySQLProbeSpec = { type: 'MySQL', timeoutMs: 2000, role: 'Primary', credentials: { username: 'u', password: 'secret-pw' } };

  it('fails at once with CredentialsUnavailable when no credentials were read, without connecting', async () => {
    const result = await mysqlProbe(
      { address: '127.0.0.1', port: 1 },
      { type: 'MySQL', timeoutMs: 1000, role: 'Primary', credentialsError: 'Secret db/my not found' },
      new AbortController().signal,
      realClock,
    );
    assert.deepEqual(result.ok ? 'ok' : [result.error.reason, result.error.message, result.latencyMs], [
      'CredentialsUnavailable',
      'Secret db/my not found',
      0,
    ]);
  });

  it('reports Refused when nothing listens', async () => {
    const s = createServer();
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const result = await mysqlProbe({ address: '127.0.0.1', port }, spec, new AbortController().signal, realClock);
    assert.equal(result.ok ? 'ok' : result.error.reason, 'Refused');
  });

  it('reports Timeout when the server never greets, and closes the connection', async () => {
    const open = new Set<unknown>();
    const server = createServer((sock) => {
      open.add(sock);
      sock.on('close', () => open.delete(sock));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const clock = new FakeClock();
      const pending = mysqlProbe(
        { address: '127.0.0.1', port: (server.address() as AddressInfo).port },
        { ...spec, timeoutMs: 500 },
        new AbortController().signal,
        clock,
      );
      for (let i = 0; i < 100 && open.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
      await clock.advance(500);
      const result = await pending;
      assert.equal(result.ok ? 'ok' : result.error.reason, 'Timeout');
      assert.ok(!JSON.stringify(result).includes('secret-pw'));
      for (let i = 0; i < 100 && open.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(open.size, 0, 'the probe connection is closed');
    } finally {
      server.close();
    }
  });
});
