import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kubeControllerManagerArgs } from './kube-controller-manager.ts';

describe('kubeControllerManagerArgs', () => {
  it('runs only the listed controllers, without leader election, on loopback', () => {
    const args = kubeControllerManagerArgs({
      kubeconfigPath: '/w/admin.kubeconfig',
      controllers: ['endpoints-controller', 'endpointslice-controller'],
      securePort: 40257,
    });
    for (const flag of [
      '--controllers=endpoints-controller,endpointslice-controller',
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--secure-port=40257',
    ]) {
      assert.ok(args.includes(flag), flag);
    }
  });

  it('refuses an empty controller list', () => {
    assert.throws(() => kubeControllerManagerArgs({ kubeconfigPath: '/k', controllers: [], securePort: 1 }), /at least one controller/);
  });
});
