import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderCorefile } from './corefile.ts';

describe('renderCorefile', () => {
  it('answers the cluster domain from the API and forwards nothing by default', () => {
    const corefile = renderCorefile({ clusterDomain: 'cluster.local', kubeconfigPath: '/w/dns.kubeconfig', healthPort: 8080 });
    assert.match(corefile, /^\.:53 \{$/m);
    assert.match(corefile, /^ {4}kubernetes cluster\.local in-addr\.arpa ip6\.arpa \{$/m);
    assert.match(corefile, /^ {8}kubeconfig \/w\/dns\.kubeconfig$/m);
    assert.match(corefile, /^ {4}health 127\.0\.0\.1:8080$/m);
    assert.match(corefile, /^ {4}ready 127\.0\.0\.1:8081$/m);
    assert.doesNotMatch(corefile, /forward/);
    assert.ok(
      corefile
        .split('\n')
        .slice(0, -1)
        .every((line) => line.trim() !== ''),
      'no blank lines',
    );
    assert.ok(corefile.endsWith('}\n'));
  });

  it('forwards other names to the given upstream only', () => {
    const corefile = renderCorefile({ clusterDomain: 'k.test', kubeconfigPath: '/k', healthPort: 9000, upstream: '198.18.0.2:53' });
    assert.match(corefile, /^ {4}forward \. 198\.18\.0\.2:53$/m);
    assert.match(corefile, /^ {4}kubernetes k\.test /m);
  });
});
