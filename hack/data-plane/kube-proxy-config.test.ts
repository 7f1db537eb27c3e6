import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { renderKubeProxyConfig } from './kube-proxy-config.ts';

describe('renderKubeProxyConfig', () => {
  for (const mode of ['nftables', 'iptables'] as const) {
    it(`renders a ${mode} configuration a kube-proxy in a network namespace can run with`, () => {
      const config = parse(
        renderKubeProxyConfig({ mode, nodeName: 'node-2', kubeconfigPath: '/w/node-2.kubeconfig', clusterCidr: '198.18.0.0/16' }),
      ) as Record<string, unknown>;
      assert.equal(config.kind, 'KubeProxyConfiguration');
      assert.equal(config.apiVersion, 'kubeproxy.config.k8s.io/v1alpha1');
      assert.equal(config.mode, mode);
      assert.equal(config.hostnameOverride, 'node-2');
      assert.equal(config.clusterCIDR, '198.18.0.0/16');
      assert.deepEqual(config.clientConnection, { kubeconfig: '/w/node-2.kubeconfig' });
      // nf_conntrack_max cannot be set from a namespace: 0 leaves it alone.
      assert.deepEqual(config.conntrack, { maxPerCore: 0, min: 0 });
      assert.deepEqual(config.nodePortAddresses, ['primary']);
      assert.equal((config[mode] as { minSyncPeriod: string }).minSyncPeriod, '1s');
    });
  }
});
