import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PlaygroundConfig, splitPlaygroundFlags } from '../playground-flags.ts';
import { DATA_PLANE_API_ADDRESS } from '../../../hack/data-plane/data-plane.ts';
import { PLAYGROUND_API_ADDRESS, playgroundBanner, playgroundClusterOptions } from './playground.ts';

// The defaults, as the flags give them.
const flags = splitPlaygroundFlags([]);
if (flags.kind !== 'ok') throw new Error(flags.message);
const DEFAULTS: PlaygroundConfig = flags.config;

describe('playgroundClusterOptions', () => {
  it('runs kube-controller-manager without the endpoint controllers, as admin', () => {
    assert.deepEqual(playgroundClusterOptions(DEFAULTS), {
      controllers: [
        '*',
        '-endpoints-controller',
        '-endpointslice-controller',
        '-endpointslice-mirroring-controller',
        '-serviceaccount-token-controller',
      ],
      controllerManagerFlags: { 'use-service-account-credentials': 'false' },
      inClusterApi: { advertiseAddress: '198.19.255.2' },
    });
  });

  it('advertises the data plane address for the kubernetes Service only when a data plane runs', () => {
    assert.equal(playgroundClusterOptions({ ...DEFAULTS, dataPlane: 'off' }).inClusterApi, undefined);
    assert.equal(playgroundClusterOptions({ ...DEFAULTS, simulator: false }).inClusterApi, undefined);
    assert.equal(playgroundClusterOptions({ ...DEFAULTS, nodes: 0 }).inClusterApi, undefined);
    assert.equal(PLAYGROUND_API_ADDRESS, DATA_PLANE_API_ADDRESS, 'the address the data plane relays');
  });

  it('runs no kube-controller-manager when turned off, and gives the API server dual-stack Service CIDRs when asked', () => {
    assert.deepEqual(playgroundClusterOptions({ ...DEFAULTS, kubeControllerManager: false, dualStack: true }), {
      apiServerFlags: { 'service-cluster-ip-range': '10.0.0.0/24,fd00:10:96::/112' },
      inClusterApi: { advertiseAddress: '198.19.255.2' },
    });
  });
});

describe('playgroundBanner', () => {
  const cluster = { server: 'https://127.0.0.1:6443', kubeconfigPath: '/dev/shm/x/admin.kubeconfig' };

  it('names the kubeconfig and scripts the Deployment walk-through', () => {
    const text = playgroundBanner(cluster, DEFAULTS);
    for (const line of [
      'kubeconfig: /dev/shm/x/admin.kubeconfig',
      'export KUBECONFIG=/dev/shm/x/admin.kubeconfig',
      'kubectl create deployment web --image=nginx --replicas=3',
      'kubectl expose deployment web --port=80 --target-port=8080',
      'kubectl get endpointslices -l kubernetes.io/service-name=web -w',
      'kubectl scale deployment web --replicas=0',
    ]) {
      assert.ok(text.includes(line), `missing "${line}" in:\n${text}`);
    }
    assert.match(text, /with kube-controller-manager \(without its endpoint controllers\) and 3 simulated nodes/);
  });

  it('falls back to a bare Pod without kube-controller-manager, and warns without the simulator', () => {
    const text = playgroundBanner(cluster, { ...DEFAULTS, kubeControllerManager: false, simulator: false });
    assert.ok(text.includes('kubectl run web --image=nginx --labels=app=web'));
    assert.ok(!text.includes('kubectl create deployment'));
    assert.ok(text.includes('no simulator: no Nodes'));
  });
});

describe('playgroundBanner with a data plane note', () => {
  const cluster = { server: 'https://127.0.0.1:1', kubeconfigPath: '/k' };
  it('shows the way in when the data plane runs', () => {
    const text = playgroundBanner(cluster, { ...DEFAULTS, dataPlane: 'iptables' }, 'data plane: kube-proxy (iptables) on 3 Nodes');
    assert.match(text, /^Data plane: kube-proxy \(iptables\) on 3 Nodes$/m);
    assert.match(text, /npm run playground -- exec .* -- curl -s http:\/\/web$/m);
    assert.match(text, /exec --node playground-node-1 -- iptables-save -t nat$/m);
  });
  it('says in one line why there is none, and offers no exec lines', () => {
    const text = playgroundBanner(cluster, DEFAULTS, 'no data plane: running as uid 1000; network namespaces and nftables rules need root');
    assert.match(text, /^No data plane: running as uid 1000; network namespaces and nftables rules need root$/m);
    assert.doesNotMatch(text, /npm run playground/);
  });
});
