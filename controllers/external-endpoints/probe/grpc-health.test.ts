import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { realClock } from '../../runtime/clock.ts';
import { decodeHealthCheckRequest, decodeHealthCheckResponse, encodeHealthCheckRequest, encodeHealthCheckResponse } from './grpc-health.ts';
import { grpcProbe } from './grpc-probe.ts';

// The hand-encoded health messages against bytes protoc would produce, and the probe's paths that need no gRPC
// server. SERVING, NOT_SERVING and a killed server are tested against a real gRPC server in
// test/integration/external-endpoints.test.ts.

describe('grpc.health.v1 messages', () => {
  const requests: { service: string; hex: string }[] = [
    { service: '', hex: '' },
    { service: 'orders.v1.Orders', hex: `0a10${Buffer.from('orders.v1.Orders').toString('hex')}` },
    { service: 'x'.repeat(200), hex: `0ac801${Buffer.from('x'.repeat(200)).toString('hex')}` },
  ];
  for (const r of requests) {
    it(`request "${r.service.slice(0, 20)}" (${r.service.length} bytes) encodes and decodes`, () => {
      assert.equal(encodeHealthCheckRequest(r.service).toString('hex'), r.hex);
      assert.equal(decodeHealthCheckRequest(Buffer.from(r.hex, 'hex')), r.service);
    });
  }
  const responses: { name: string; hex: string; want: number }[] = [
    { name: 'empty is UNKNOWN (proto3 default)', hex: '', want: 0 },
    { name: 'SERVING', hex: '0801', want: 1 },
    { name: 'NOT_SERVING', hex: '0802', want: 2 },
    { name: 'SERVICE_UNKNOWN', hex: '0803', want: 3 },
    { name: 'unknown fields are skipped', hex: '12026869' + '0801' + '1d00000000', want: 1 },
  ];
  for (const r of responses) it(`response: ${r.name}`, () => assert.equal(decodeHealthCheckResponse(Buffer.from(r.hex, 'hex')), r.want));
  it('round-trips the response encoder', () => {
    for (const s of [0, 1, 2, 3]) assert.equal(decodeHealthCheckResponse(encodeHealthCheckResponse(s)), s);
  });
  it('refuses truncated messages', () => {
    assert.throws(() => decodeHealthCheckResponse(Buffer.from('08', 'hex')), /malformed/);
    assert.throws(() => decodeHealthCheckResponse(Buffer.from('0a05ab', 'hex')), /truncated/);
  });
});

describe('grpcProbe', () => {
  it('reports Refused when nothing listens', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const r = await grpcProbe(
      { address: '127.0.0.1', port },
      { type: 'GRPC', timeoutMs: 1000, service: '' },
      new AbortController().signal,
      realClock,
    );
    assert.equal(r.ok ? 'ok' : r.error.reason, 'Refused');
  });

  it('times out against a server that never speaks HTTP/2, within the timeout', async () => {
    // grpc-js closes a channel gracefully, so this connection stays until the server closes it (see README).
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      sockets.add(s);
      s.resume();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const started = Date.now();
      const r = await grpcProbe(
        { address: '127.0.0.1', port },
        { type: 'GRPC', timeoutMs: 300, service: '' },
        new AbortController().signal,
        realClock,
      );
      assert.equal(r.ok ? 'ok' : r.error.reason, 'Timeout');
      assert.ok(Date.now() - started < 2000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
