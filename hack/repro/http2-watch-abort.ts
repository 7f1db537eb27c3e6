// Reproduction of the HTTP/2 runaway of docs/adr/0005-http1-to-the-api-server.md: an undici HTTP/2 client that opens
// watches (long streaming responses), lists and PUTs on one shared session, round after round, and aborts them at
// random times, as informers stopping and restarting and writers timing out do. Watches turned out not to matter: 20
// concurrent PUTs with a 4 KiB body, each given up after 3 s, are enough (every run within seconds): one whose body
// still waits for flow-control window when its timeout fires is torn down without RST_STREAM, and the client spins:
//
//   node hack/repro/http2-watch-abort.ts --streams 0 --requests 0 --puts 20 --put-kib 4 --abort-min-ms 3000 \
//        --abort-max-ms 3001 --rss-limit-mb 1200        # add --h1 for the HTTP/1.1 control: 300 rounds clean
//
//   node hack/repro/http2-watch-abort.ts [--rounds 200] [--streams 40] [--seconds 120] [--rss-limit-mb 1500]
//        [--server fast|slow|flood] [--client-read all|slow|none] [--abort-min-ms 0] [--abort-max-ms 300] [--requests 10] [--seed 1]
//        [--puts 0] [--put-kib 1] [--server-reads-body yes|no] [--h1] [--close-cancel]
//
// Three processes, so that a native busy loop in one cannot stop the watchdog: this one (the watchdog: no HTTP at all)
// starts a server and a client, samples both every 200 ms from /proc, and kills them when either exceeds the RSS limit,
// when the client stops reporting rounds for 10 s while burning CPU (a busy loop), or at the time limit. It prints one
// JSON result line and exits 1 when it reproduced a runaway, 0 otherwise. Loopback only; the temporary directory (the
// self-signed certificate) is removed on exit.
//
// Server modes (each stream a 200 with JSON lines until the client resets it):
//   fast   writes as fast as flow control lets it (waits for 'drain')
//   slow   one line every 5 ms
//   flood  ignores backpressure: keeps writing while write() returns false (the server buffers)
// Client read modes (undici fetch, body read with `for await`, like controllers/runtime/api-client.ts: watch):
//   all    reads everything
//   slow   waits 20 ms after every chunk (the consumer lags: the stream window fills)
//   none   never reads the body (flow-control stall from the first window)
// --puts N adds N PUT requests a round with a --put-kib body, each aborted at a random time; with
// --server-reads-body no the server never reads them (the client's DATA waits for window when aborted).

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, fetch } from 'undici';
import { sampleProcess } from '../bench/proc-stats.ts';
import { mulberry32 } from '../../test/parity/mulberry32.ts';

const SELF = fileURLToPath(import.meta.url);
const SAMPLE_MS = 200;
const STALL_MS = 10_000;
/** A request not settled this long after its abort time counts as hung. */
const HUNG_MS = 5000;

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'watchdog' },
    rounds: { type: 'string', default: '200' },
    streams: { type: 'string', default: '40' },
    seconds: { type: 'string', default: '120' },
    'rss-limit-mb': { type: 'string', default: '1500' },
    server: { type: 'string', default: 'fast' },
    'client-read': { type: 'string', default: 'all' },
    'abort-max-ms': { type: 'string', default: '300' },
    'abort-min-ms': { type: 'string', default: '0' },
    requests: { type: 'string', default: '10' },
    puts: { type: 'string', default: '0' },
    'put-kib': { type: 'string', default: '1' },
    'server-reads-body': { type: 'string', default: 'yes' },
    seed: { type: 'string', default: '1' },
    h1: { type: 'boolean', default: false },
    'close-cancel': { type: 'boolean', default: false },
    dir: { type: 'string' },
    port: { type: 'string' },
  },
});

function num(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a number: ${v}`);
  return n;
}

/** An error and its chain of causes on one line. */
function describe(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) parts.push(`${e.name}: ${e.message}`);
  return parts.join(' <- ');
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- server ---------------------------------------------------------------------------------------------------------

async function server(dir: string, mode: string): Promise<void> {
  const srv = http2.createSecureServer({
    key: readFileSync(join(dir, 'key.pem')),
    cert: readFileSync(join(dir, 'cert.pem')),
    allowHTTP1: true,
  });
  let n = 0;
  // The compatibility API, so that the same handler serves HTTP/2 streams and (with --h1) HTTP/1.1 requests.
  srv.on('request', (req, res) => {
    let closed = false;
    res.on('close', () => (closed = true));
    res.on('error', () => {});
    req.on('error', () => {});
    const path = req.url;
    if (path.startsWith('/put')) {
      // A write (a Lease renewal, an EndpointSlice update): answer once the body is in, or never read it at all.
      if (values['server-reads-body'] === 'no') return;
      req.resume();
      req.on('end', () => {
        if (closed) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
      return;
    }
    if (!path.startsWith('/watch')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'List', items: [] }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    const line = (i: number) =>
      JSON.stringify({
        type: 'MODIFIED',
        object: { kind: 'Pod', metadata: { name: `p-${i}`, resourceVersion: `${++n}` }, pad: 'x'.repeat(400) },
      }) + '\n';
    let i = 0;
    const live = () => !closed;
    if (mode === 'slow') {
      const t = setInterval(() => (live() ? res.write(line(i++)) : clearInterval(t)), 5);
      res.on('close', () => clearInterval(t));
    } else if (mode === 'flood') {
      const pump = () => {
        // Ignore backpressure, but yield to the loop so resets are seen; bounded per turn.
        for (let k = 0; k < 50 && live(); k++) res.write(line(i++));
        if (live()) setImmediate(pump);
      };
      pump();
    } else {
      const pump = () => {
        while (live()) {
          if (!res.write(line(i++))) {
            res.once('drain', pump);
            return;
          }
        }
      };
      pump();
    }
  });
  srv.on('sessionError', () => {});
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const addr = srv.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  process.stdout.write(`port ${addr.port}\n`);
}

// ---- client ---------------------------------------------------------------------------------------------------------

async function client(port: number): Promise<void> {
  const rounds = num('rounds', values.rounds);
  const streams = num('streams', values.streams);
  const requests = num('requests', values.requests);
  const puts = num('puts', values.puts);
  const abortMax = num('abort-max-ms', values['abort-max-ms']);
  const abortMin = Math.min(num('abort-min-ms', values['abort-min-ms']), abortMax);
  const abortAt = () => abortMin + Math.floor(rnd() * (abortMax - abortMin));
  const read = values['client-read'];
  const rnd = mulberry32(num('seed', values.seed));
  if (values['close-cancel']) {
    // Candidate fix, outside undici: its abort calls stream.close() with no code (NO_ERROR), which for a stream whose
    // body is still queued only schedules the RST_STREAM for 'finish'. With CANCEL the reset goes out at once.
    subscribe('http2.client.stream.created', (message) => {
      const stream = (message as { stream: http2.ClientHttp2Stream }).stream;
      const close = stream.close.bind(stream);
      stream.close = (code?: number, callback?: () => void) => close(code ?? http2.constants.NGHTTP2_CANCEL, callback);
    });
  }
  const agent = new Agent({ allowH2: !values.h1, connect: { rejectUnauthorized: false } });
  const base = `https://127.0.0.1:${port}`;
  let bytes = 0;
  let aborted = 0;

  const watch = async (id: string, abortAfter: number) => {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(new Error('informer stopped')), abortAfter);
    try {
      const res = await fetch(`${base}/watch/${id}`, { dispatcher: agent, signal: ac.signal });
      if (res.body === null) return;
      if (read === 'none') {
        await once(ac.signal, 'abort');
        return;
      }
      for await (const chunk of res.body) {
        bytes += (chunk as Uint8Array).byteLength;
        if (read === 'slow') await sleep(20);
      }
    } catch {
      if (ac.signal.aborted) aborted++;
    } finally {
      clearTimeout(t);
    }
  };
  const putBody = 'x'.repeat(num('put-kib', values['put-kib']) * 1024);
  const put = async (id: string, abortAfter: number) => {
    try {
      const res = await fetch(`${base}/put/${id}`, {
        method: 'PUT',
        body: putBody,
        dispatcher: agent,
        signal: AbortSignal.timeout(Math.max(1, abortAfter)),
      });
      await res.text();
    } catch (err) {
      aborted++;
      // The first few failures, with their causes, on stderr: which undici path gave up on the request.
      if (aborted <= 3) process.stderr.write(`PUT ${id} failed: ${describe(err)}\n`);
    }
  };
  const get = async (id: string) => {
    try {
      const res = await fetch(`${base}/list/${id}`, { dispatcher: agent, signal: AbortSignal.timeout(5000) });
      await res.text();
    } catch {
      // A list timing out counts in the stall detection (no round report), not here.
    }
  };

  // A fetch or body read that never settles after its abort would let the event loop run empty (the idle session is
  // unref'd) and exit with "unsettled top-level await": keep the loop alive and count such requests as hung instead.
  const keepAlive = setInterval(() => {}, 1000);
  let hung = 0;
  for (let r = 1; r <= rounds; r++) {
    let settled = 0;
    const work: Promise<void>[] = [];
    for (let s = 0; s < streams; s++) work.push(watch(`${r}-${s}`, abortAt()));
    for (let q = 0; q < requests; q++) work.push(get(`${r}-${q}`));
    for (let q = 0; q < puts; q++) work.push(put(`${r}-${q}`, abortAt()));
    for (const w of work) void w.then(() => settled++);
    await Promise.race([Promise.all(work), sleep(abortMax + HUNG_MS)]);
    hung += work.length - settled;
    process.stdout.write(`round ${r} aborted ${aborted} hung ${hung} bytes ${bytes}\n`);
  }
  clearInterval(keepAlive);
  await agent.close();
  process.stdout.write('done\n');
}

// ---- watchdog -------------------------------------------------------------------------------------------------------

interface Peak {
  rss: number;
  cpu: number;
}

async function watchdog(): Promise<number> {
  const seconds = num('seconds', values.seconds);
  const limit = num('rss-limit-mb', values['rss-limit-mb']) * 1024 * 1024;
  const dir = mkdtempSync(join(tmpdir(), 'keo-h2-repro-'));
  const children: ChildProcess[] = [];
  const kill = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.on('exit', () => {
    kill();
    rmSync(dir, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(2));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem')].concat([
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]),
    { stdio: 'ignore', timeout: 10_000 },
  );
  const pass = [
    'rounds',
    'streams',
    'server',
    'client-read',
    'abort-max-ms',
    'requests',
    'puts',
    'put-kib',
    'server-reads-body',
    'seed',
  ] as const;
  const args = pass
    .flatMap((k) => [`--${k}`, String(values[k])])
    .concat(values.h1 ? ['--h1'] : [], values['close-cancel'] ? ['--close-cancel'] : []);
  const srv = spawn(process.execPath, [SELF, '--role', 'server', '--dir', dir, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(srv);
  let port = 0;
  let srvOut = '';
  srv.stdout.on('data', (d: Buffer) => {
    srvOut += d.toString();
    const m = /port (\d+)/.exec(srvOut);
    if (m?.[1] !== undefined) port = Number(m[1]);
  });
  const started = Date.now();
  while (port === 0 && Date.now() - started < 10_000 && srv.exitCode === null) await sleep(50);
  if (port === 0) throw new Error('server did not start');

  const cli = spawn(process.execPath, [SELF, '--role', 'client', '--port', String(port), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(cli);
  let round = 0;
  let hung = 0;
  let lastRoundAt = Date.now();
  let done = false;
  let last = '';
  cli.stdout.on('data', (d: Buffer) => {
    for (const l of d.toString().split('\n')) {
      const m = /^round (\d+)/.exec(l);
      if (m?.[1] !== undefined) {
        round = Number(m[1]);
        hung = Number(/hung (\d+)/.exec(l)?.[1] ?? 0);
        lastRoundAt = Date.now();
        last = l;
      }
      if (l === 'done') done = true;
    }
  });

  const peak = { client: { rss: 0, cpu: 0 } as Peak, server: { rss: 0, cpu: 0 } as Peak };
  let verdict = 'not reproduced';
  let reproduced = false;
  const deadline = started + seconds * 1000;
  let cpuAtLastRound = 0;
  let rssAtLastRound = 0;
  let clientRss = 0;
  let seenRound = -1;
  while (Date.now() < deadline) {
    await sleep(SAMPLE_MS);
    if (done || cli.exitCode !== null || cli.signalCode !== null) {
      if (!done) verdict = `client exited ${cli.exitCode ?? cli.signalCode}`;
      break;
    }
    for (const [name, p] of [
      ['client', cli],
      ['server', srv],
    ] as const) {
      if (p.pid === undefined) continue;
      const s = await sampleProcess(p.pid).catch(() => undefined);
      if (s === undefined) continue;
      const pk = peak[name];
      pk.rss = Math.max(pk.rss, s.rssBytes);
      pk.cpu = s.cpuSeconds;
      if (name === 'client') clientRss = s.rssBytes;
      if (s.rssBytes > limit) {
        verdict = `${name} RSS ${Math.round(s.rssBytes / 1048576)} MiB over the limit`;
        reproduced = true;
      }
    }
    if (reproduced) break;
    if (Date.now() - lastRoundAt > STALL_MS) {
      const burnt = peak.client.cpu - cpuAtLastRound;
      const grown = (clientRss - rssAtLastRound) / 1048576;
      verdict = `client stalled ${STALL_MS / 1000} s after round ${round}: CPU ${burnt.toFixed(1)} s, RSS +${Math.round(grown)} MiB`;
      // A busy loop: the client burnt CPU (a quarter of a core at least, on a shared machine) or grew meanwhile.
      reproduced = burnt > STALL_MS / 1000 / 4 || grown > 256;
      break;
    }
    if (round !== seenRound) {
      seenRound = round;
      cpuAtLastRound = peak.client.cpu;
      rssAtLastRound = clientRss;
    }
  }
  if (!reproduced && !done && verdict === 'not reproduced') verdict = `time limit ${seconds} s`;
  kill();
  const mib = (b: number) => Math.round(b / 1048576);
  console.log(
    JSON.stringify({
      result: reproduced ? 'REPRODUCED' : 'not reproduced',
      verdict,
      protocol: values.h1 ? 'http/1.1' : 'h2',
      server: values.server,
      clientRead: values['client-read'],
      streams: Number(values.streams),
      abortMaxMs: Number(values['abort-max-ms']),
      rounds: round,
      hungRequests: hung,
      last,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      clientPeakRssMiB: mib(peak.client.rss),
      clientCpuS: Math.round(peak.client.cpu * 10) / 10,
      serverPeakRssMiB: mib(peak.server.rss),
      serverCpuS: Math.round(peak.server.cpu * 10) / 10,
    }),
  );
  return reproduced ? 1 : 0;
}

switch (values.role) {
  case 'server':
    await server(values.dir ?? '', values.server);
    break;
  case 'client':
    await client(num('port', values.port));
    break;
  default:
    process.exitCode = await watchdog();
}
