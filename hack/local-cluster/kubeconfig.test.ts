import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { renderKubeconfig } from './kubeconfig.ts';

describe('renderKubeconfig', () => {
  it('renders a kubeconfig client-node loads as one cluster, user and context with embedded credentials', () => {
    const kc = new KubeConfig();
    kc.loadFromString(
      renderKubeconfig({
        name: 'parity-a',
        server: 'https://127.0.0.1:40001',
        caPem: 'CA PEM\n',
        clientCertPem: 'CERT PEM\n',
        clientKeyPem: 'KEY PEM\n',
      }),
    );
    assert.equal(kc.getCurrentContext(), 'parity-a');
    assert.equal(kc.getCurrentCluster()?.server, 'https://127.0.0.1:40001');
    assert.equal(Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64').toString(), 'CA PEM\n');
    assert.equal(Buffer.from(kc.getCurrentUser()?.certData ?? '', 'base64').toString(), 'CERT PEM\n');
    assert.equal(Buffer.from(kc.getCurrentUser()?.keyData ?? '', 'base64').toString(), 'KEY PEM\n');
  });
});
