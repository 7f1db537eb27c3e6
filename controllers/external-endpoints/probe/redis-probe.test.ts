import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { realClock } from '../../runtime/clock.ts';
import type { RedisProbeSpec } from './prober.ts';
import { redisProbe, redisRoleOf } from './redis-probe.ts';

// The ROLE reply as a table; the I/O paths that need no Redis server on loopback. Master, replica and promotion are
// tested against real servers in test/integration/external-endpoints.test.ts.

const spec: RedisProbeSpec = {
  type: 'Redis',
  timeoutMs: 300,
  role: 'Primary',
  credentials: { username: 'default', password: 'secret-value' },
};

describe('redisRoleOf', () => {
  const cases: { name: string; reply: unknown; want: string | undefined }[] = [
    { name: 'master', reply: ['master', 3129659, [['10.0.0.2', '6379', '3129242']]], want: 'Primary' },
    { name: 'replica', reply: ['slave', '10.0.0.1', 6379, 'connected', 3167038], want: 'Replica' },
    { name: 'sentinel is neither', reply: ['sentinel', ['mymaster']], want: undefined },
    { name: 'not an array', reply: 'master', want: undefined },
    { name: 'empty', reply: [], want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.equal(redisRoleOf(c.reply), c.want));
});

describe('redisProbe', () => {
  it('fails at once with CredentialsUnavailable when the named Secret is unusable', async () => {
    const r = await redisProbe(
      { address: '127.0.0.1', port: 1 },
      { ...spec, credentials: undefined, credentialsError: 'Secret db/redis not found' },
      new AbortController().signal,
      realClock,
    );
    assert.deepEqual(r, { ok: false, latencyMs: 0, error: { reason: 'CredentialsUnavailable', message: 'Secret db/redis not found' } });
  });

  it('reports Refused when nothing listens', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const r = await redisProbe({ address: '127.0.0.1', port }, spec, new AbortController().signal, realClock);
    assert.equal(r.ok ? 'ok' : r.error.reason, 'Refused');
  });

  it('times out on a server that accepts and never answers, and closes the connection', async () => {
    let closed = 0;
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.resume();
      socket.on('close', () => closed++);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const started = Date.now();
      const r = await redisProbe({ address: '127.0.0.1', port }, spec, new AbortController().signal, realClock);
      assert.equal(r.ok ? 'ok' : r.error.reason, 'Timeout');
      assert.ok(Date.now() - started < 2000, 'bounded by the timeout');
      assert.ok(!JSON.stringify(r).includes('secret-value'), 'the password is not in the result');
      for (let i = 0; i < 50 && closed === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(sockets.size, 1);
      assert.equal(closed, 1, 'the connection was closed');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
