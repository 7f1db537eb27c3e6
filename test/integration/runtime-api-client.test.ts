import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { newApiClient } from '../../controllers/runtime/api-client.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import { SERVICES } from '../../controllers/runtime/resource.ts';
import { EXPECTED_KUBE_VERSION, startTestCluster } from '../envtest/test-cluster.ts';

// The API client's connections to a real kube-apiserver, which offers HTTP/2 to any client that asks for it. The
// client must not ask: undici's shared HTTP/2 session can fall into a native runaway (see api-dispatcher.ts), so every
// connection is HTTP/1.1 and a watch owns its connection.

const env = await startTestCluster({ name: 'runtime-api-client' });

/** ALPN protocol of every connection undici opens while subscribed (false: none negotiated). */
const protocols: (string | false)[] = [];
const onConnected = (message: unknown) => {
  const socket = (message as { socket?: { alpnProtocol?: string | false | null } }).socket;
  protocols.push(socket?.alpnProtocol ?? false);
};
subscribe('undici:client:connected', onConnected);
after(() => unsubscribe('undici:client:connected', onConnected));

const versionSchema = z.looseObject({ gitVersion: z.string() });

describe('the API client against a real API server', () => {
  it('speaks HTTP/1.1 although the server offers HTTP/2, and keeps working across aborted watches', async () => {
    const ns = await env.createNamespace('conn');
    const client = newApiClient(env.kubeConfig, { clock: realClock, qps: 1000, burst: 1000, userAgent: 'conn-test' });
    const from = protocols.length;
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

    const opened = protocols.slice(from);
    assert.ok(opened.length > 0, 'no connection was observed');
    assert.deepEqual([...new Set(opened)], ['http/1.1'], `negotiated: ${opened.join(', ')}`);
  });
});
