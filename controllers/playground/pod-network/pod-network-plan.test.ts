import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type NetworkPod, networkPodSchema } from './network-pod.ts';
import { desiredPodNetwork, samePodNetwork } from './pod-network-plan.ts';

function pod(overrides: {
  namespace?: string;
  labels?: Readonly<Record<string, string>>;
  nodeName?: string;
  phase?: string;
  ips?: readonly string[];
  ports?: readonly { containerPort: number; protocol?: string }[];
}): NetworkPod {
  return networkPodSchema.parse({
    metadata: { name: 'web-1', namespace: overrides.namespace ?? 'default', uid: 'u1', labels: overrides.labels },
    spec: { nodeName: overrides.nodeName, containers: [{ name: 'app', ports: overrides.ports }] },
    status: { phase: overrides.phase, podIPs: overrides.ips?.map((ip) => ({ ip })) },
  });
}

describe('desiredPodNetwork', () => {
  const bound = { nodeName: 'playground-node-1', phase: 'Running', ips: ['10.244.1.5'] };
  for (const [name, input, want] of [
    [
      'a running Pod serves HTTP on 80 and 8080',
      bound,
      { uid: 'u1', node: 'playground-node-1', ip: '10.244.1.5', program: 'server', httpPorts: [80, 8080] },
    ],
    [
      'declared TCP ports are served too, UDP ones are not',
      {
        ...bound,
        ports: [{ containerPort: 9000 }, { containerPort: 53, protocol: 'UDP' }, { containerPort: 80, protocol: 'TCP' }],
      },
      { uid: 'u1', node: 'playground-node-1', ip: '10.244.1.5', program: 'server', httpPorts: [80, 8080, 9000] },
    ],
    [
      'a pending Pod with an address (containers starting) already has its network',
      { ...bound, phase: 'Pending' },
      { uid: 'u1', node: 'playground-node-1', ip: '10.244.1.5', program: 'server', httpPorts: [80, 8080] },
    ],
    [
      'the IPv4 address of a dual-stack Pod',
      { ...bound, ips: ['fd00:10:244:1::5', '10.244.1.5'] },
      { uid: 'u1', node: 'playground-node-1', ip: '10.244.1.5', program: 'server', httpPorts: [80, 8080] },
    ],
    ['an unbound Pod has none', { phase: 'Pending', ips: [] }, undefined],
    ['a Pod without an address has none', { ...bound, ips: [] }, undefined],
    ['an IPv6-only Pod has none (the data plane is IPv4)', { ...bound, ips: ['fd00:10:244:1::5'] }, undefined],
    ['a Succeeded Pod has none', { ...bound, phase: 'Succeeded' }, undefined],
    ['a Failed Pod has none', { ...bound, phase: 'Failed' }, undefined],
    [
      'kube-system/k8s-app=kube-dns runs the cluster DNS',
      { ...bound, namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, ports: [{ containerPort: 53, protocol: 'UDP' }] },
      { uid: 'u1', node: 'playground-node-1', ip: '10.244.1.5', program: 'cluster-dns', httpPorts: [] },
    ],
    [
      'the same label elsewhere is an ordinary server',
      { ...bound, labels: { 'k8s-app': 'kube-dns' } },
      { uid: 'u1', node: 'playground-node-1', ip: '10.244.1.5', program: 'server', httpPorts: [80, 8080] },
    ],
  ] as const) {
    it(name, () => assert.deepEqual(desiredPodNetwork(pod(input)), want));
  }
});

describe('desiredPodNetwork with a container runtime', () => {
  const running = networkPodSchema.parse({
    metadata: { name: 'op-1', namespace: 'ops', uid: 'u2' },
    spec: { nodeName: 'playground-node-1', containers: [{ name: 'manager', image: 'kube-endpoints-operator:0.1.0' }] },
    status: { phase: 'Running', podIPs: [{ ip: '10.244.1.6' }] },
  });
  const runsImage = (image: string) => image.startsWith('kube-endpoints-operator:');

  it('leaves a Pod whose images the runtime runs to the runtime (its sandbox joins the network itself)', () => {
    assert.equal(desiredPodNetwork(running, runsImage), undefined);
    assert.equal(desiredPodNetwork(running)?.program, 'server', 'a simulated Pod without a runtime');
  });

  it('a Pod with another image, or with init containers, stays simulated and gets its network here', () => {
    const mixed = { ...running, spec: { ...running.spec, containers: [...running.spec.containers, { image: 'nginx' }] } };
    assert.equal(desiredPodNetwork(mixed, runsImage)?.program, 'server');
    const init = { ...running, spec: { ...running.spec, initContainers: [{ image: 'kube-endpoints-operator:0.1.0' }] } };
    assert.equal(desiredPodNetwork(init, runsImage)?.program, 'server');
  });
});

describe('samePodNetwork', () => {
  const a = { uid: 'u1', node: 'n1', ip: '10.244.1.5', program: 'server', httpPorts: [80, 8080] } as const;
  for (const [name, b, want] of [
    ['identical', { ...a }, true],
    ['another incarnation (uid)', { ...a, uid: 'u2' }, false],
    ['another address', { ...a, ip: '10.244.1.6' }, false],
    ['another node', { ...a, node: 'n2' }, false],
    ['other ports', { ...a, httpPorts: [80] }, false],
    ['nothing', undefined, false],
  ] as const) {
    it(name, () => assert.equal(samePodNetwork(a, b), want));
  }
  it('nothing equals nothing', () => assert.equal(samePodNetwork(undefined, undefined), true));
});
