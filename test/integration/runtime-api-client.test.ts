import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { newApiClient } from '../../controllers/runtime/api-client.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import { SERVICES } from '../../controllers/runtime/resource.ts';
import { EXPECTED_KUBE_VERSION, startTestCluster } from '../envtest/test-cluster.ts';

// The API client's connections to a real kube-apiserver, which offers HTTP/2 to any client that asks for it. Requests
// without a body (gets, lists, watches) share one HTTP/2 session; requests with a body go over HTTP/1.1, because on
// HTTP/2 an aborted one can set off undici's native runaway (see api-dispatcher.ts).

const env = await startTestCluster({ name: 'runtime-api-client' });

/** Method and negotiated protocol (ALPN) of every request undici sends while subscribed. */
const sent: { method: string; protocol: string | false }[] = [];
const onSendHeaders = (message: unknown) => {
  const { request, socket } = message as { request?: { method?: string }; socket?: { alpnProtocol?: string | false | null } };
  sent.push({ method: request?.method ?? '?', protocol: socket?.alpnProtocol ?? false });
};
subscribe('undici:client:sendHeaders', onSendHeaders);
after(() => unsubscribe('undici:client:sendHeaders', onSendHeaders));

const versionSchema = z.looseObject({ gitVersion: z.string() });

describe('the API client against a real API server', () => {
  it('reads and watches over HTTP/2, writes over HTTP/1.1, and keeps working across aborted watches', async () => {
    const ns = await env.createNamespace('conn');
    const client = newApiClient(env.kubeConfig, { clock: realClock, qps: 1000, burst: 1000, userAgent: 'conn-test' });
    const from = sent.length;
    assert.equal(versionSchema.parse(await client.getPath('/version')).gitVersion, EXPECTED_KUBE_VERSION);
    const { resourceVersion } = await client.list(SERVICES, ns);

    // Watches opened and aborted while other requests run, the way informers stop on shutdown or loss of leadership:
    // most mid-stream, right after the event they wait for; some before the response has even started.
    for (let round = 0; round < 5; round++) {
      const watches = Array.from({ length: 10 }, async (_, i) => {
        const stop = new AbortController();
        const early = i < 2;
        const seen: string[] = [];
        const stream = client.watch(SERVICES, ns, { resourceVersion, allowWatchBookmarks: true }, stop.signal);
        const timer = setTimeout(() => stop.abort(new Error('stopped by the test')), early ? 1 : 10_000);
        try {
          for await (const ev of stream) {
            seen.push(ev.type);
            if (seen.filter((t) => t === 'ADDED').length === round + 1) stop.abort(new Error('stopped by the test'));
          }
        } catch (err) {
          // Aborted before the response started: the request rejects with the abort's reason, as any request would.
          if (!stop.signal.aborted) throw err;
        } finally {
          clearTimeout(timer);
        }
        return early ? undefined : seen;
      });
      await client.create(SERVICES, ns, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `s${round}` },
        spec: { selector: { app: 'x' }, ports: [{ port: 80 }] },
      });
      const seen = await Promise.all(watches);
      // Every watch started from the list's resourceVersion, before this round's create: each saw all creates so far.
      for (const types of seen) if (types !== undefined) assert.equal(types.filter((t) => t === 'ADDED').length, round + 1);
    }
    const list = await client.list(SERVICES, ns);
    assert.equal(list.items.length, 5);

    const seen = sent.slice(from);
    const byMethod = (method: string) => [...new Set(seen.filter((r) => r.method === method).map((r) => r.protocol))];
    assert.deepEqual(byMethod('GET'), ['h2'], 'gets, lists and watches');
    assert.deepEqual(byMethod('POST'), ['http/1.1'], 'creates');
  });
});
