import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { newApiClient } from './api-client.ts';
import { realClock } from './clock.ts';
import { PODS } from './resource.ts';

describe('ApiClient connections', () => {
  it('reuses keep-alive connections for sequential requests instead of opening one per request', async () => {
    let connections = 0;
    const server = createServer((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }));
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const kc = new KubeConfig();
      // skipTLSVerify gives the kubeconfig TLS options, which makes it build a dispatcher per request (as with any real
      // cluster's CA and client certificate).
      kc.loadFromOptions({
        clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
        users: [{ name: 'u' }],
        contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
        currentContext: 'c',
      });
      const client = newApiClient(kc, { clock: realClock, qps: 1000, burst: 1000 });
      for (let i = 0; i < 20; i++) await client.get(PODS, 'default', 'p');
      // undici may open a second connection while the first is being returned to its pool; never one per request.
      assert.ok(connections <= 2, `${connections} connections for 20 requests`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
