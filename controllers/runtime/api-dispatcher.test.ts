import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Agent, ProxyAgent } from 'undici';
import { newApiDispatchers } from './api-dispatcher.ts';

function kubeConfig(cluster: { server: string; skipTLSVerify?: boolean; proxyUrl?: string }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', ...cluster }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
    currentContext: 'c',
  });
  return kc;
}

describe('newApiDispatchers', () => {
  const cases: {
    name: string;
    cluster: Parameters<typeof kubeConfig>[0];
    want: 'Agent' | 'ProxyAgent' | 'kubeconfig';
    separatePools: boolean;
  }[] = [
    {
      name: 'HTTPS server: our own pools, one for requests with a body',
      cluster: { server: 'https://127.0.0.1:6443', skipTLSVerify: true },
      want: 'Agent',
      separatePools: true,
    },
    {
      name: 'plain HTTP server (skipTLSVerify): one pool of our own',
      cluster: { server: 'http://127.0.0.1:8080', skipTLSVerify: true },
      want: 'Agent',
      separatePools: false,
    },
    {
      name: 'HTTP proxy: one proxy pool',
      cluster: { server: 'https://127.0.0.1:6443', proxyUrl: 'http://127.0.0.1:3128' },
      want: 'ProxyAgent',
      separatePools: false,
    },
    {
      name: 'SOCKS proxy: the kubeconfig keeps its own',
      cluster: { server: 'https://127.0.0.1:6443', proxyUrl: 'socks5://127.0.0.1:1080' },
      want: 'kubeconfig',
      separatePools: false,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const d = await newApiDispatchers(kubeConfig(c.cluster));
      const kind = (x: unknown) => (x instanceof ProxyAgent ? 'ProxyAgent' : x instanceof Agent ? 'Agent' : String(x));
      assert.equal(d === undefined ? 'kubeconfig' : kind(d.withBody), c.want);
      if (d !== undefined) assert.equal(kind(d.withoutBody), c.want);
      assert.equal(d !== undefined && d.withBody !== d.withoutBody, c.separatePools);
      await d?.withBody.close();
      if (d?.withoutBody !== d?.withBody) await d?.withoutBody.close();
    });
  }

  it('keeps one HTTP/1.1 pool when HTTP/2 is turned off', async () => {
    const d = await newApiDispatchers(kubeConfig({ server: 'https://127.0.0.1:6443', skipTLSVerify: true }), false);
    assert.ok(d !== undefined && d.withBody === d.withoutBody);
    await d.withBody.close();
  });

  it('refuses a plain HTTP server without skipTLSVerify, as client-node does', async () => {
    await assert.rejects(newApiDispatchers(kubeConfig({ server: 'http://127.0.0.1:8080' })), /HTTP protocol is not allowed/);
  });
});
