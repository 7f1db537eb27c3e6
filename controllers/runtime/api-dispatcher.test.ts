import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Agent, ProxyAgent } from 'undici';
import { newApiDispatcher } from './api-dispatcher.ts';

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

describe('newApiDispatcher', () => {
  const cases: { name: string; cluster: Parameters<typeof kubeConfig>[0]; want: 'Agent' | 'ProxyAgent' | 'kubeconfig' }[] = [
    { name: 'HTTPS server: our own pool', cluster: { server: 'https://127.0.0.1:6443', skipTLSVerify: true }, want: 'Agent' },
    {
      name: 'plain HTTP server (skipTLSVerify): our own pool',
      cluster: { server: 'http://127.0.0.1:8080', skipTLSVerify: true },
      want: 'Agent',
    },
    {
      name: 'HTTP proxy: a proxy pool',
      cluster: { server: 'https://127.0.0.1:6443', proxyUrl: 'http://127.0.0.1:3128' },
      want: 'ProxyAgent',
    },
    {
      name: 'SOCKS proxy: the kubeconfig keeps its own',
      cluster: { server: 'https://127.0.0.1:6443', proxyUrl: 'socks5://127.0.0.1:1080' },
      want: 'kubeconfig',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const d = await newApiDispatcher(kubeConfig(c.cluster));
      const got =
        d === undefined ? 'kubeconfig' : d instanceof ProxyAgent ? 'ProxyAgent' : d instanceof Agent ? 'Agent' : d.constructor.name;
      assert.equal(got, c.want);
      await d?.close();
    });
  }

  it('refuses a plain HTTP server without skipTLSVerify, as client-node does', async () => {
    await assert.rejects(newApiDispatcher(kubeConfig({ server: 'http://127.0.0.1:8080' })), /HTTP protocol is not allowed/);
  });
});
