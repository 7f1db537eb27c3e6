import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { realClock } from '../../runtime/clock.ts';
import { httpProbe, parseStatusRange, probeHostHeader, probeTlsName } from './http-probe.ts';
import type { HttpProbeSpec, ProbeResult, ProbeTarget } from './prober.ts';

// Real HTTP(S) servers on 127.0.0.1 and a self-signed certificate made with the openssl CLI.

interface Seen {
  path: string;
  host: string | undefined;
  sni: string | false | null | undefined;
}

function handler(seen: Seen[], openSockets: Set<Socket>) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as Socket & Partial<TLSSocket>;
    seen.push({ path: req.url ?? '', host: req.headers.host, sni: socket.servername });
    openSockets.add(req.socket);
    req.socket.once('close', () => openSockets.delete(req.socket));
    switch (req.url) {
      case '/ok':
        res.end('fine');
        return;
      case '/unavailable':
        res.writeHead(503).end('down');
        return;
      case '/redirect':
        res.writeHead(302, { Location: '/unavailable' }).end();
        return;
      case '/hang':
        return; // accepts, reads the request, never answers
      case '/slow-body':
        res.writeHead(200);
        res.write('partial');
        return; // the body never ends
      case '/endless': {
        // Streams until the client goes away (bounded at 64 MiB so a broken client cannot make this run forever).
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        const chunk = Buffer.alloc(16 * 1024, 0x61);
        let sent = 0;
        const pump = () => {
          while (sent < 64 * 1024 * 1024 && !res.destroyed) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      case '/reset':
        req.socket.resetAndDestroy();
        return;
      default:
        res.writeHead(404).end();
    }
  };
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function waitUntil(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting until ${what}`);
}

const base: HttpProbeSpec = Object.freeze({ type: 'HTTP', timeoutMs: 3000, path: '/ok', expectedStatuses: [{ min: 200, max: 399 }] });

function probe(target: ProbeTarget, spec: HttpProbeSpec, signal = new AbortController().signal): Promise<ProbeResult> {
  return httpProbe(target, spec, signal, realClock);
}

function reasonOf(r: ProbeResult): string {
  return r.ok ? 'ok' : r.error.reason;
}

describe('httpProbe over HTTP', () => {
  const seen: Seen[] = [];
  const open = new Set<Socket>();
  const server = createHttpServer(handler(seen, open));
  let target: ProbeTarget = { address: '127.0.0.1', port: 0 };
  before(async () => {
    target = { address: '127.0.0.1', port: await listen(server) };
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('succeeds on an expected status and sends GET with the default Host header', async () => {
    seen.length = 0;
    const r = await probe(target, base);
    assert.deepEqual({ ok: r.ok, statusCode: r.statusCode }, { ok: true, statusCode: 200 });
    assert.deepEqual(seen, [{ path: '/ok', host: `127.0.0.1:${target.port}`, sni: undefined }]);
    await waitUntil(() => open.size === 0, 'the probe connection is closed');
  });

  it('sends the Host header from the spec, else the dnsName the address came from', async () => {
    seen.length = 0;
    await probe(target, { ...base, host: 'api.example.com' });
    await probe({ ...target, dnsName: 'db.example.com' }, base);
    assert.deepEqual(
      seen.map((s) => s.host),
      ['api.example.com', `db.example.com:${target.port}`],
    );
  });

  it('fails with HTTPStatus on an unexpected status, naming it and the expectation', async () => {
    const r = await probe(target, { ...base, path: '/unavailable' });
    assert.equal(reasonOf(r), 'HTTPStatus');
    assert.equal(r.statusCode, 503);
    if (!r.ok) assert.match(r.error.message, /^HTTP 503 from 127\.0\.0\.1:\d+\/unavailable, expected 200-399$/);
  });

  it('accepts a status inside one of several ranges', async () => {
    const r = await probe(target, {
      ...base,
      path: '/unavailable',
      expectedStatuses: [
        { min: 200, max: 200 },
        { min: 500, max: 503 },
      ],
    });
    assert.equal(reasonOf(r), 'ok');
  });

  it('never follows a redirect: the 302 itself is judged', async () => {
    seen.length = 0;
    const ok = await probe(target, { ...base, path: '/redirect' });
    assert.deepEqual({ reason: reasonOf(ok), status: ok.statusCode }, { reason: 'ok', status: 302 });
    const strict = await probe(target, { ...base, path: '/redirect', expectedStatuses: [{ min: 200, max: 299 }] });
    assert.equal(reasonOf(strict), 'HTTPStatus');
    assert.deepEqual(
      seen.map((s) => s.path),
      ['/redirect', '/redirect'],
    );
  });

  it('times out on a server that accepts and never answers, and closes the connection', async () => {
    const started = Date.now();
    const r = await probe(target, { ...base, path: '/hang', timeoutMs: 300 });
    assert.equal(reasonOf(r), 'Timeout');
    if (!r.ok) assert.match(r.error.message, /timed out after 300ms waiting for the response headers/);
    assert.ok(Date.now() - started < 2000);
    await waitUntil(() => open.size === 0, 'the timed-out connection is closed');
  });

  it('times out when the body never ends: the timeout covers the body', async () => {
    const r = await probe(target, { ...base, path: '/slow-body', timeoutMs: 300 });
    assert.equal(reasonOf(r), 'Timeout');
    if (!r.ok) assert.match(r.error.message, /reading the response body/);
    await waitUntil(() => open.size === 0, 'the connection is closed');
  });

  it('stops reading an endless body at the cap and closes the connection', async () => {
    const r = await probe(target, { ...base, path: '/endless', timeoutMs: 2000, maxBodyBytes: 32 * 1024 });
    assert.equal(reasonOf(r), 'ok');
    await waitUntil(() => open.size === 0, 'the connection is closed');
  });

  it('reports Reset when the server resets the connection', async () => {
    const r = await probe(target, { ...base, path: '/reset' });
    assert.equal(reasonOf(r), 'Reset');
  });

  it('reports Refused when nothing listens', async () => {
    const s = createHttpServer();
    const port = await listen(s);
    await new Promise<void>((r) => s.close(() => r()));
    assert.equal(reasonOf(await probe({ address: '127.0.0.1', port }, base)), 'Refused');
  });

  it('reports Aborted and closes the connection when the signal aborts mid-request', async () => {
    const ac = new AbortController();
    const pending = probe(target, { ...base, path: '/hang' }, ac.signal);
    await waitUntil(() => open.size === 1, 'the request arrives');
    ac.abort();
    assert.equal(reasonOf(await pending), 'Aborted');
    await waitUntil(() => open.size === 0, 'the aborted connection is closed');
  });

  it('reports ProtocolError when the answer is not HTTP', async () => {
    const { createServer } = await import('node:net');
    const junk = createServer((s) => {
      s.on('error', () => {});
      s.end('SSH-2.0-OpenSSH_9.6\r\n');
    });
    const port = await listen(junk as unknown as Server);
    try {
      assert.equal(reasonOf(await probe({ address: '127.0.0.1', port }, base)), 'ProtocolError');
    } finally {
      junk.close();
    }
  });
});

describe('httpProbe over HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keo-probe-tls-'));
  const seen: Seen[] = [];
  const open = new Set<Socket>();
  let cert = '';
  let server: Server | undefined;
  let target: ProbeTarget = { address: '127.0.0.1', port: 0 };
  const https: HttpProbeSpec = Object.freeze({ ...base, type: 'HTTPS' });

  before(async () => {
    // A self-signed certificate naming backend.test and 127.0.0.1 (an EC key: quick to generate).
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=backend.test',
        '-addext',
        'subjectAltName=DNS:backend.test,IP:127.0.0.1',
      ],
      { stdio: 'ignore', timeout: 10_000 },
    );
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    server = createHttpsServer({ cert, key: readFileSync(join(dir, 'key.pem')) }, handler(seen, open));
    target = { address: '127.0.0.1', port: await listen(server) };
  });
  after(() => {
    server?.closeAllConnections();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a self-signed certificate by default', async () => {
    const r = await probe(target, https);
    assert.equal(reasonOf(r), 'TLSError');
    if (!r.ok) assert.match(r.error.message, /TLS handshake with 127\.0\.0\.1:\d+ failed: .*self[- ]signed/i);
  });

  it('accepts it with insecureSkipVerify, still sending the server name as SNI', async () => {
    seen.length = 0;
    const r = await probe(target, { ...https, tls: { insecureSkipVerify: true, serverName: 'anything.test' } });
    assert.equal(reasonOf(r), 'ok');
    assert.deepEqual(seen, [{ path: '/ok', host: `127.0.0.1:${target.port}`, sni: 'anything.test' }]);
  });

  it('verifies against the CA bundle and the server name, sent as SNI', async () => {
    seen.length = 0;
    const r = await probe(target, {
      ...https,
      host: 'www.backend.test',
      tls: { insecureSkipVerify: false, ca: cert, serverName: 'backend.test' },
    });
    assert.equal(reasonOf(r), 'ok');
    assert.deepEqual(seen, [{ path: '/ok', host: 'www.backend.test', sni: 'backend.test' }]);
  });

  it('fails on a server name the certificate does not cover', async () => {
    const r = await probe(target, { ...https, tls: { insecureSkipVerify: false, ca: cert, serverName: 'other.test' } });
    assert.equal(reasonOf(r), 'TLSError');
    if (!r.ok) assert.match(r.error.message, /other\.test/);
  });

  it('uses the dnsName as server name by default', async () => {
    seen.length = 0;
    const r = await probe({ ...target, dnsName: 'backend.test' }, { ...https, tls: { insecureSkipVerify: false, ca: cert } });
    assert.equal(reasonOf(r), 'ok');
    assert.deepEqual(seen, [{ path: '/ok', host: `backend.test:${target.port}`, sni: 'backend.test' }]);
  });

  it('sends no SNI for an IP backend and verifies the IP, not the Host header', async () => {
    seen.length = 0;
    const r = await probe(target, { ...https, host: 'not-in-the-cert.test', tls: { insecureSkipVerify: false, ca: cert } });
    assert.equal(reasonOf(r), 'ok');
    assert.deepEqual(seen, [{ path: '/ok', host: 'not-in-the-cert.test', sni: false }]);
  });

  it('reports TLSError when an HTTPS probe meets a plain HTTP server', async () => {
    const plain = createHttpServer((_req, res) => res.end());
    const port = await listen(plain);
    try {
      assert.equal(reasonOf(await probe({ address: '127.0.0.1', port }, https)), 'TLSError');
    } finally {
      plain.closeAllConnections();
      plain.close();
    }
  });

  it('times out in the handshake against a server that never speaks TLS, naming the phase', async () => {
    const { createServer } = await import('node:net');
    const held = new Set<Socket>();
    let connections = 0;
    const silent = createServer((s) => {
      connections++;
      s.on('error', () => {});
      s.resume(); // read (and discard) the ClientHello, so the client's close is seen
      held.add(s);
      s.once('close', () => held.delete(s));
    });
    const port = await listen(silent as unknown as Server);
    try {
      const r = await probe({ address: '127.0.0.1', port }, { ...https, timeoutMs: 300 });
      assert.equal(reasonOf(r), 'Timeout');
      if (!r.ok) assert.match(r.error.message, /during the TLS handshake/);
      assert.equal(connections, 1);
      await waitUntil(() => held.size === 0, 'the handshake connection is closed');
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });
});

describe('probe defaults', () => {
  const cases: {
    name: string;
    given: { target: ProbeTarget; spec: HttpProbeSpec };
    want: { host: string; verifyName: string; sni: string };
  }[] = [
    {
      name: 'IPv4 backend on a non-default port',
      given: { target: { address: '198.18.0.2', port: 8080 }, spec: base },
      want: { host: '198.18.0.2:8080', verifyName: '198.18.0.2', sni: '' },
    },
    {
      name: 'IPv6 backend on the default HTTPS port',
      given: { target: { address: '2001:db8::1', port: 443 }, spec: { ...base, type: 'HTTPS' } },
      want: { host: '[2001:db8::1]', verifyName: '2001:db8::1', sni: '' },
    },
    {
      name: 'DNS backend on the default HTTP port',
      given: { target: { address: '198.18.0.2', port: 80, dnsName: 'db.example.com' }, spec: base },
      want: { host: 'db.example.com', verifyName: 'db.example.com', sni: 'db.example.com' },
    },
    {
      name: 'explicit Host and server name win',
      given: {
        target: { address: '198.18.0.2', port: 443, dnsName: 'db.example.com' },
        spec: { ...base, type: 'HTTPS', host: 'h.example', tls: { insecureSkipVerify: false, serverName: 's.example' } },
      },
      want: { host: 'h.example', verifyName: 's.example', sni: 's.example' },
    },
  ];
  for (const { name, given, want } of cases) {
    it(name, () => {
      assert.deepEqual({ host: probeHostHeader(given.target, given.spec), ...probeTlsName(given.target, given.spec) }, want);
    });
  }

  it('parses status codes and ranges', () => {
    assert.deepEqual(parseStatusRange('204'), { min: 204, max: 204 });
    assert.deepEqual(parseStatusRange('200-399'), { min: 200, max: 399 });
    assert.throws(() => parseStatusRange('399-200'), RangeError);
    assert.throws(() => parseStatusRange('2xx'), RangeError);
  });
});
