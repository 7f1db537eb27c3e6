// Write latency and connections of HTTP/1.1 against HTTP/2 on a real kube-apiserver (docs/adr/0005-*.md): a throwaway
// local cluster; per protocol a fresh undici Agent with the kubeconfig's TLS; 3 watches open on ConfigMaps while 5
// workers update them at 20 writes/s in total (the operator's default QPS). Prints, per phase, write latency p50/p99,
// connections opened and the client's CPU. Phases alternate (h1, h2, h1, h2) to spread out a busy machine's noise.
//
//   node hack/repro/api-write-latency.ts [--writes 400] [--qps 20] [--workers 5] [--value-kib 0]
//        [--keep-alive-ms N]  (undici's idle keep-alive timeout; its default is 4 s)
//        [--writer fetch|request]  (fetch streams every body; undici's request() writes a Buffer in one go)
//
// Each phase also prints why undici closed connections (the Agent's 'disconnect' reasons): 'reset' there means the
// response completed while undici still thought it was writing the request body (client-h1.js: onMessageComplete).

import { subscribe } from 'node:diagnostics_channel';
import type { AgentOptions, RequestOptions } from 'node:https';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { Agent, fetch } from 'undici';
import { locateControlPlaneBinaries } from '../local-cluster/binaries.ts';
import { LocalCluster } from '../local-cluster/local-cluster.ts';

const { values } = parseArgs({
  options: {
    writes: { type: 'string', default: '400' },
    qps: { type: 'string', default: '20' },
    workers: { type: 'string', default: '5' },
    'value-kib': { type: 'string', default: '0' },
    'keep-alive-ms': { type: 'string' },
    writer: { type: 'string', default: 'fetch' },
  },
});
const WRITES = Number(values.writes);
const QPS = Number(values.qps);
const WORKERS = Number(values.workers);
/** Padding per write, e.g. 60 KiB: the size of an EndpointSlice of 100 endpoints in the benchmark. */
const PAD = 'x'.repeat(Number(values['value-kib']) * 1024);
const CONFIGMAPS = 50;
const WATCHES = 3;
const WRITER = values.writer;
if (WRITER !== 'fetch' && WRITER !== 'request') throw new Error(`--writer must be fetch or request, not ${WRITER}`);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let connections = 0;
subscribe('undici:client:connected', () => connections++);

const binaries = await locateControlPlaneBinaries({ kubebuilderAssets: undefined, env: process.env });
const cluster = await LocalCluster.start({ binaries, name: 'write-latency', progress: (m) => process.stderr.write(`${m}\n`) });
try {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const https: RequestOptions = {};
  await kc.applyToHTTPSOptions(https);
  const tls: AgentOptions = { ca: https.ca, cert: https.cert, key: https.key };
  const plan = kc.createDispatcherOptions(kc.getCurrentCluster(), tls);
  if (plan.type !== 'agent') throw new Error(`unexpected dispatcher plan ${plan.type}`);
  const server = kc.getCurrentCluster()?.server ?? '';
  const authHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(https.headers ?? {})) if (typeof v === 'string') authHeaders[k] = v;

  for (const [phase, allowH2] of [
    [1, false],
    [2, true],
    [3, false],
    [4, true],
  ] as const) {
    const keepAlive = values['keep-alive-ms'] === undefined ? {} : { keepAliveTimeout: Number(values['keep-alive-ms']) };
    const agent = new Agent({ allowH2, connect: plan.connect, ...keepAlive });
    const disconnects = new Map<string, number>();
    agent.on('disconnect', (_origin, _targets, err) => disconnects.set(err.message, (disconnects.get(err.message) ?? 0) + 1));
    /** A write as `--writer` says: through fetch (a streamed body) or undici's request() (one Buffer). */
    const write = async (path: string, body: unknown) => {
      if (WRITER === 'fetch') return (await call('PATCH', path, body)).text();
      const res = await agent.request({
        origin: server,
        path,
        method: 'PATCH',
        headers: { ...authHeaders, 'content-type': 'application/merge-patch+json' },
        body: Buffer.from(JSON.stringify(body)),
      });
      const text = await res.body.text();
      if (res.statusCode >= 400) throw new Error(`PATCH ${path}: ${res.statusCode} ${text}`);
      return text;
    };
    const call = async (method: string, path: string, body?: unknown, signal?: AbortSignal) => {
      const res = await fetch(server + path, {
        method,
        dispatcher: agent,
        signal: signal ?? null,
        headers: { ...authHeaders, 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
      });
      if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res;
    };
    const ns = `wl-${phase}`;
    await (await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).text();
    for (let i = 0; i < CONFIGMAPS; i++) {
      await (await call('POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: `c${i}` }, data: { v: '0' } })).text();
    }
    const stop = new AbortController();
    let events = 0;
    const watches = Array.from({ length: WATCHES }, async () => {
      try {
        const res = await call('GET', `/api/v1/namespaces/${ns}/configmaps?watch=true`, undefined, stop.signal);
        if (res.body === null) return;
        for await (const chunk of res.body) events += (chunk as Uint8Array).byteLength > 0 ? 1 : 0;
      } catch {
        // Aborted at the end of the phase.
      }
    });
    await sleep(500);
    const conn0 = connections;
    const cpu0 = process.cpuUsage();
    const latencies: number[] = [];
    let next = performance.now();
    let issued = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (issued < WRITES) {
          const n = issued++;
          // One shared rate: each write takes the next 1/QPS slot.
          const slot = next;
          next += 1000 / QPS;
          const wait = slot - performance.now();
          if (wait > 0) await sleep(wait);
          const started = performance.now();
          await write(`/api/v1/namespaces/${ns}/configmaps/c${n % CONFIGMAPS}`, { data: { v: String(n), pad: PAD } });
          latencies.push(performance.now() - started);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    stop.abort();
    await Promise.all(watches);
    await agent.close();
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
    console.log(
      JSON.stringify({
        phase,
        protocol: allowH2 ? 'h2' : 'http/1.1',
        writer: WRITER,
        writes: latencies.length,
        seconds: Math.round(seconds * 10) / 10,
        p50Ms: Math.round(q(0.5) * 10) / 10,
        p99Ms: Math.round(q(0.99) * 10) / 10,
        maxMs: Math.round(q(1) * 10) / 10,
        connectionsOpened: connections - conn0,
        clientCpuS: Math.round(((cpu.user + cpu.system) / 1e6) * 100) / 100,
        watchChunks: events,
        disconnects: Object.fromEntries(disconnects),
      }),
    );
  }
} finally {
  await cluster.stop();
}
