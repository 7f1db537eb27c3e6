import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { type HealthCheck, HealthServer, parseBindAddress } from './health-server.ts';

describe('parseBindAddress', () => {
  const cases = [
    { name: '0 disables', given: '0', want: undefined },
    { name: ':port listens on every interface', given: ':8080', want: { host: undefined, port: 8080 } },
    { name: 'host:port', given: '127.0.0.1:0', want: { host: '127.0.0.1', port: 0 } },
    { name: 'a hostname', given: 'localhost:9443', want: { host: 'localhost', port: 9443 } },
    { name: 'bracketed IPv6', given: '[::1]:8081', want: { host: '::1', port: 8081 } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(parseBindAddress(c.given), c.want));

  for (const bad of ['8080', '', ':', ':70000', '::1:8080', 'host:port', '127.0.0.1']) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => parseBindAddress(bad), RangeError));
  }
});

const check = (name: string, reason: () => string | undefined): HealthCheck => ({ name, check: reason });

async function withServer(
  opts: { healthz?: HealthCheck[]; readyz?: HealthCheck[]; metrics?: Registry },
  fn: (get: (path: string, method?: string) => Promise<{ status: number; body: string; type: string | null }>) => Promise<void>,
) {
  const server = new HealthServer({ bindAddress: '127.0.0.1:0', ...opts });
  await server.start();
  const port = server.address()?.port;
  assert.ok(port !== undefined && port > 0);
  try {
    await fn(async (path, method = 'GET') => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
      return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
    });
  } finally {
    await server.close();
  }
}

describe('HealthServer', () => {
  it('answers /healthz with 200 ok while every check passes, 500 naming the failing one otherwise', async () => {
    let broken: string | undefined;
    await withServer({ healthz: [check('ping', () => undefined), check('informers', () => broken)] }, async (get) => {
      assert.deepEqual(await get('/healthz'), { status: 200, body: 'ok', type: 'text/plain; charset=utf-8' });
      broken = 'informer pods stopped';
      const res = await get('/healthz');
      assert.equal(res.status, 500);
      assert.equal(res.body, '[+]ping ok\n[-]informers failed: informer pods stopped\nhealthz check failed\n');
    });
  });

  it('lists every check with ?verbose and treats a throwing check as failed', async () => {
    await withServer(
      {
        readyz: [
          check('caches-synced', () => undefined),
          check('leader', () => {
            throw new Error('boom');
          }),
        ],
      },
      async (get) => {
        const res = await get('/readyz?verbose');
        assert.equal(res.status, 500);
        assert.match(res.body, /\[\+\]caches-synced ok\n\[-\]leader failed: boom/);
      },
    );
    await withServer({ readyz: [check('caches-synced', () => undefined)] }, async (get) => {
      assert.equal((await get('/readyz?verbose')).body, '[+]caches-synced ok\nreadyz check passed\n');
    });
  });

  it('serves Prometheus text from the registry with its content type', async () => {
    const registry = new Registry();
    new Counter({ name: 'probe_test_total', help: 'test', registers: [registry] }).inc(3);
    await withServer({ metrics: registry }, async (get) => {
      const res = await get('/metrics');
      assert.equal(res.status, 200);
      assert.equal(res.type, registry.contentType);
      assert.match(res.body, /^probe_test_total 3$/m);
      assert.equal((await get('/healthz')).status, 404, 'no probe routes on a metrics-only server');
    });
  });

  it('answers 404 for unknown paths and 405 for writes', async () => {
    await withServer({ healthz: [] }, async (get) => {
      assert.equal((await get('/nope')).status, 404);
      assert.equal((await get('/metrics')).status, 404);
      assert.equal((await get('/healthz', 'POST')).status, 405);
      assert.equal((await get('/healthz', 'HEAD')).status, 200);
    });
  });

  it('does nothing when disabled with 0', async () => {
    const server = new HealthServer({ bindAddress: '0', healthz: [] });
    assert.equal(server.enabled, false);
    await server.start();
    assert.equal(server.address(), undefined);
    await server.close();
  });

  it('rejects start when the port is taken, and frees it on close', async () => {
    const a = new HealthServer({ bindAddress: '127.0.0.1:0', healthz: [] });
    await a.start();
    const port = a.address()?.port;
    const b = new HealthServer({ bindAddress: `127.0.0.1:${port}`, healthz: [] });
    await assert.rejects(b.start(), /EADDRINUSE/);
    await a.close();
    await b.start();
    assert.equal(b.address()?.port, port);
    await b.close();
  });
});
