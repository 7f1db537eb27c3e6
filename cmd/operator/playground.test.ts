import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DATA_PLANE_API_ADDRESS } from '../../hack/data-plane/data-plane.ts';
import {
  type PlaygroundConfig,
  playgroundBanner,
  playgroundClusterOptions,
  PLAYGROUND_API_ADDRESS,
  playgroundHelpText,
  splitPlaygroundFlags,
} from './playground.ts';

const DEFAULTS: PlaygroundConfig = {
  kubeControllerManager: true,
  simulator: true,
  nodes: 3,
  dualStack: false,
  readinessDelayMs: 1_000,
  dataPlane: 'nftables',
};

describe('splitPlaygroundFlags', () => {
  const cases: { name: string; given: string[]; want: unknown }[] = [
    {
      name: 'defaults, everything else passed on',
      given: ['--leader-elect=false', '-h'],
      want: { kind: 'ok', config: DEFAULTS, rest: ['--leader-elect=false', '-h'] },
    },
    {
      name: 'booleans bare or with a value, values with = or as the next argument',
      given: [
        '--playground-dual-stack',
        '--playground-kube-controller-manager=false',
        '--playground-nodes',
        '5',
        '--playground-readiness-delay=250ms',
        '--log-level=debug',
      ],
      want: {
        kind: 'ok',
        config: { ...DEFAULTS, dualStack: true, kubeControllerManager: false, nodes: 5, readinessDelayMs: 250 },
        rest: ['--log-level=debug'],
      },
    },
    {
      name: 'the last repeat wins',
      given: ['--playground-simulator=false', '--playground-simulator=true'],
      want: { kind: 'ok', config: DEFAULTS, rest: [] },
    },
    {
      name: 'nothing after -- is touched',
      given: ['--', '--playground-nodes=9'],
      want: { kind: 'ok', config: DEFAULTS, rest: ['--', '--playground-nodes=9'] },
    },
    {
      name: 'an unknown playground flag',
      given: ['--playground-nope'],
      want: { kind: 'error', message: 'error: unknown flag --playground-nope (see --help)' },
    },
    { name: 'a missing value', given: ['--playground-nodes'], want: { kind: 'error', message: 'error: --playground-nodes needs a value' } },
    {
      name: 'a node count out of range',
      given: ['--playground-nodes=251'],
      want: { kind: 'error', message: 'error: --playground-nodes must be an integer between 0 and 250 (got "251")' },
    },
    {
      name: 'a bad boolean',
      given: ['--playground-simulator=maybe'],
      want: { kind: 'error', message: 'error: --playground-simulator must be true or false (got "maybe")' },
    },
    {
      name: 'the data plane in iptables mode, or off',
      given: ['--playground-data-plane=iptables'],
      want: { kind: 'ok', config: { ...DEFAULTS, dataPlane: 'iptables' }, rest: [] },
    },
    {
      name: 'the data plane off',
      given: ['--playground-data-plane', 'off'],
      want: { kind: 'ok', config: { ...DEFAULTS, dataPlane: 'off' }, rest: [] },
    },
    {
      name: 'an unknown data plane mode',
      given: ['--playground-data-plane=ipvs'],
      want: { kind: 'error', message: 'error: --playground-data-plane must be nftables, iptables or off (got "ipvs")' },
    },
    {
      name: 'a bad duration',
      given: ['--playground-readiness-delay=soon'],
      want: { kind: 'error', message: 'error: --playground-readiness-delay must be a duration such as 0s, 500ms or 2s (got "soon")' },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(splitPlaygroundFlags(c.given), c.want));
});

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

describe('playgroundHelpText', () => {
  it('documents every playground flag with its default', () => {
    const text = playgroundHelpText();
    for (const flag of [
      'playground-kube-controller-manager',
      'playground-simulator',
      'playground-nodes value',
      'playground-dual-stack',
      'playground-readiness-delay value',
    ]) {
      assert.ok(text.includes(`--${flag}`), flag);
    }
    assert.match(text, /\(default "3"\)/);
  });
});
