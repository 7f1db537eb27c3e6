import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FakeClock, realClock } from '../../runtime/clock.ts';
import { NetProber } from './net-prober.ts';
import type { TcpProbeSpec } from './prober.ts';
import { tcpProbe } from './tcp-probe.ts';

// Real sockets on 127.0.0.1: loopback is fine for testing the probe itself (endpoint addresses cannot be loopback,
// which is why the end-to-end tests use test hosts in network namespaces).

const spec: TcpProbeSpec = Object.freeze({ type: 'TCP', timeoutMs: 2000 });

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A port on which nothing listens (bound once, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('tcpProbe', () => {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  let port = 0;
  before(async () => {
    port = await listen(server);
  });
  after(() => server.close());

  it('succeeds when the handshake completes, and closes the connection', async () => {
    const result = await tcpProbe({ address: '127.0.0.1', port }, spec, new AbortController().signal, realClock);
    assert.equal(result.ok, true);
    assert.ok(result.latencyMs >= 0 && result.latencyMs < 2000);
    for (let i = 0; i < 100 && sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(sockets.size, 0, 'the server still holds the probe connection');
  });

  it('reports Refused when nothing listens', async () => {
    const result = await tcpProbe({ address: '127.0.0.1', port: await closedPort() }, spec, new AbortController().signal, realClock);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.error.reason, 'Refused');
    assert.match(result.error.message, /connection refused by 127\.0\.0\.1:\d+/);
  });

  it('reports Timeout when the timeout passes before the handshake, and destroys the socket', async () => {
    const clock = new FakeClock();
    const pending = tcpProbe({ address: '127.0.0.1', port }, { type: 'TCP', timeoutMs: 500 }, new AbortController().signal, clock);
    // The fake clock fires the timeout before the event loop can deliver the connect.
    await clock.advance(500);
    const result = await pending;
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.error.reason, 'Timeout');
    assert.equal(result.latencyMs, 500);
    assert.equal(clock.pendingTimers(), 0);
    for (let i = 0; i < 100 && sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(sockets.size, 0);
  });

  it('reports Aborted at once when the signal aborts, and Timeout when it aborts with a TimeoutError', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const pending = tcpProbe({ address: '127.0.0.1', port }, spec, ac.signal, clock);
    ac.abort();
    const result = await pending;
    assert.equal(result.ok ? 'ok' : result.error.reason, 'Aborted');
    assert.equal(clock.pendingTimers(), 0, 'the timeout timer is cancelled');

    const timedOut = await tcpProbe(
      { address: '127.0.0.1', port },
      spec,
      AbortSignal.abort(new DOMException('late', 'TimeoutError')),
      clock,
    );
    assert.equal(timedOut.ok ? 'ok' : timedOut.error.reason, 'Timeout');
  });
});

describe('NetProber', () => {
  it('refuses a target that is not an IP literal, without resolving it', async () => {
    const result = await new NetProber().probe({ address: 'localhost', port: 80 }, spec, new AbortController().signal);
    assert.equal(result.ok ? 'ok' : result.error.reason, 'InvalidTarget');
  });
});
