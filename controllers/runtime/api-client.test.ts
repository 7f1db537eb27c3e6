import assert from 'node:assert/strict';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { type ApiClient, newApiClient } from './api-client.ts';
import { realClock } from './clock.ts';
import { ENDPOINTS, PODS } from './resource.ts';

/**
 * Runs `test` with a client of a local plain-HTTP server answering with `handler`, and the number of connections the
 * server has accepted so far. skipTLSVerify gives the kubeconfig TLS options, which makes it build a dispatcher per
 * request (as with any real cluster's CA and client certificate).
 */
async function withServer(handler: RequestListener, test: (client: ApiClient, connections: () => number) => Promise<void>): Promise<void> {
  let connections = 0;
  const server = createServer(handler);
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
    await test(newApiClient(kc, { clock: realClock, qps: 1000, burst: 1000 }), () => connections);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('ApiClient connections', () => {
  it('reuses keep-alive connections for sequential requests instead of opening one per request', async () => {
    const handler: RequestListener = (_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }));
    };
    await withServer(handler, async (client, connections) => {
      for (let i = 0; i < 20; i++) await client.get(PODS, 'default', 'p');
      // undici may open a second connection while the first is being returned to its pool; never one per request.
      assert.ok(connections() <= 2, `${connections()} connections for 20 requests`);
    });
  });

  it('keeps the connection when the answer to a large write completes before the client has finished sending it', async () => {
    // kube-apiserver reads a body before it answers, but on a busy client the answer can still be parsed before the
    // client's own write of the body has been reported done. Answering at once, before reading the body, makes that
    // order certain here. A streamed body (fetch) loses its connection each time (client-h1.js: onMessageComplete).
    const encodings = new Set<string>();
    const handler: RequestListener = (req, res) => {
      encodings.add(req.headers['accept-encoding'] ?? 'none');
      req.resume();
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'c' } }));
    };
    await withServer(handler, async (client, connections) => {
      const pad = 'x'.repeat(8 << 20);
      const writes = 5;
      for (let i = 0; i < writes; i++) {
        await client.update(ENDPOINTS, 'default', 'c', {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { name: 'c', annotations: { pad } },
        });
      }
      await client.get(ENDPOINTS, 'default', 'c');
      assert.ok(connections() <= 2, `${connections()} connections for ${writes} writes and a read`);
      // Uncompressed, as kube-controller-manager asks (client-go's DisableCompression): docs/adr/0005-*.md.
      assert.deepEqual([...encodings], ['none']);
    });
  });
});
