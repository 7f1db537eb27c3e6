import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  containerEnv,
  expandVars,
  type ImageConfig,
  milliCpuToQuota,
  milliCpuToShares,
  processArgs,
  quantityMilli,
  quantityValue,
  resolveUser,
  runcSpec,
  type RuncSpecInput,
  SERVICE_ACCOUNT_MOUNT,
} from './runc-spec.ts';
import { type SimContainer, simPodSchema } from './simulated-objects.ts';

const IMAGE: ImageConfig = {
  user: '1000:1000',
  env: ['PATH=/usr/bin:/bin', 'NODE_ENV=production'],
  entrypoint: ['node', 'cmd/operator/main.ts'],
  cmd: [],
  workingDir: '/app',
};

// The container of config/manager/deployment.yaml, as far as the runtime reads it.
const MANAGER = {
  name: 'manager',
  image: 'kube-endpoints-operator:0.1.0',
  args: ['--leader-elect=true', '--leader-elect-resource-namespace=$(POD_NAMESPACE)', '--health-probe-bind-address=:8081'],
  env: [
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'NODE_OPTIONS', value: '--max-old-space-size=256' },
  ],
  resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
};

function input(container: object = MANAGER, podSpec: object = {}, image: ImageConfig = IMAGE): RuncSpecInput {
  const pod = simPodSchema.parse({
    metadata: { name: 'op-1', namespace: 'kube-endpoints-operator-system', uid: 'u1' },
    spec: { nodeName: 'playground-node-1', serviceAccountName: 'kube-endpoints-operator', containers: [container], ...podSpec },
  });
  return {
    pod,
    container: pod.spec.containers[0] as SimContainer,
    image,
    rootfs: '/cache/rootfs',
    netnsPath: '/run/netns/keo-rt-1',
    podIP: '10.244.1.7',
    serviceAccountDir: '/state/sa',
    hostsFile: '/state/hosts',
    apiServer: { host: '127.0.0.1', port: 6443 },
    cgroupsPath: '/keo-runtime/c1',
  };
}

function spec(i: RuncSpecInput) {
  const r = runcSpec(i);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.spec;
}

describe('runcSpec (the Deployment of config/manager)', () => {
  const s = spec(input());

  it("runs the image's entrypoint with the container's args, $(POD_NAMESPACE) expanded", () => {
    assert.deepEqual(s.process.args, [
      'node',
      'cmd/operator/main.ts',
      '--leader-elect=true',
      '--leader-elect-resource-namespace=kube-endpoints-operator-system',
      '--health-probe-bind-address=:8081',
    ]);
    assert.equal(s.process.cwd, '/app');
  });

  it('sets the image env, the kubernetes Service variables and the container env (fieldRef resolved)', () => {
    for (const kv of [
      'PATH=/usr/bin:/bin',
      'NODE_ENV=production',
      'KUBERNETES_SERVICE_HOST=127.0.0.1',
      'KUBERNETES_SERVICE_PORT=6443',
      'POD_NAMESPACE=kube-endpoints-operator-system',
      'NODE_OPTIONS=--max-old-space-size=256',
      'HOSTNAME=op-1',
    ])
      assert.ok(s.process.env.includes(kv), `${kv} in ${s.process.env.join(' ')}`);
  });

  it("joins the Pod's network namespace and mounts the ServiceAccount volume read-only", () => {
    assert.deepEqual(
      s.linux.namespaces.find((n) => n.type === 'network'),
      { type: 'network', path: '/run/netns/keo-rt-1' },
    );
    assert.deepEqual(
      s.mounts.find((m) => m.destination === SERVICE_ACCOUNT_MOUNT),
      { destination: SERVICE_ACCOUNT_MOUNT, type: 'bind', source: '/state/sa', options: ['rbind', 'ro'] },
    );
    assert.equal(s.hostname, 'op-1');
  });

  it('on a Pod network: the kubernetes Service address in the env and the cluster DNS as /etc/resolv.conf', () => {
    const onNetwork = spec({
      ...input(),
      apiServer: { host: '10.0.0.1', port: 443 },
      resolvConfFile: '/etc/netns/keo-dp-1-p3/resolv.conf',
    });
    for (const kv of ['KUBERNETES_SERVICE_HOST=10.0.0.1', 'KUBERNETES_SERVICE_PORT=443', 'KUBERNETES_PORT=tcp://10.0.0.1:443'])
      assert.ok(onNetwork.process.env.includes(kv), `${kv} in ${onNetwork.process.env.join(' ')}`);
    assert.deepEqual(
      onNetwork.mounts.find((m) => m.destination === '/etc/resolv.conf'),
      { destination: '/etc/resolv.conf', type: 'bind', source: '/etc/netns/keo-dp-1-p3/resolv.conf', options: ['rbind', 'ro'] },
    );
    assert.equal(
      s.mounts.find((m) => m.destination === '/etc/resolv.conf'),
      undefined,
      "the image's own without one",
    );
  });

  it('applies the limits as cgroup settings: 512Mi, 1 CPU quota per 100 ms period, shares from the 100m request', () => {
    assert.deepEqual(s.linux.resources.memory, { limit: 512 * 2 ** 20 });
    assert.deepEqual(s.linux.resources.cpu, { shares: 102, quota: 100_000, period: 100_000 });
    assert.equal(s.linux.cgroupsPath, '/keo-runtime/c1');
  });

  it("runs as the image's numeric user with a read-only root, no capabilities and no privilege escalation", () => {
    assert.deepEqual(s.process.user, { uid: 1000, gid: 1000 });
    assert.equal(s.root.readonly, true);
    assert.deepEqual(s.process.capabilities.bounding, []);
    assert.equal(s.process.noNewPrivileges, true);
  });
});

describe('runcSpec variations', () => {
  it('a writable root, default capabilities, no limits, no ServiceAccount volume', () => {
    const i = input({ name: 'c', image: 'x' });
    const s = spec({ ...i, serviceAccountDir: undefined } as RuncSpecInput);
    assert.equal(s.root.readonly, false);
    assert.ok(s.process.capabilities.bounding.includes('CAP_NET_BIND_SERVICE'));
    assert.equal(s.linux.resources.memory, undefined);
    assert.equal(s.linux.resources.cpu, undefined);
    assert.ok(!s.mounts.some((m) => m.destination === SERVICE_ACCOUNT_MOUNT));
  });

  it('adds and drops capabilities by their short names', () => {
    const s = spec(input({ name: 'c', image: 'x', securityContext: { capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } } }));
    assert.deepEqual(s.process.capabilities.effective, ['CAP_NET_ADMIN']);
  });

  it("refuses runAsNonRoot with a root image user, as the kubelet's CreateContainerConfigError", () => {
    const r = runcSpec(input({ name: 'c', image: 'x', securityContext: { runAsNonRoot: true } }, {}, { ...IMAGE, user: '0' }));
    assert.deepEqual(r, { ok: false, message: 'container has runAsNonRoot and image will run as root' });
  });

  it('refuses a container with no command anywhere', () => {
    const r = runcSpec(input({ name: 'c', image: 'x' }, {}, { ...IMAGE, entrypoint: [], cmd: [] }));
    assert.equal(r.ok, false);
  });

  it('pod-level runAsUser applies unless the container sets its own', () => {
    assert.deepEqual(spec(input({ name: 'c', image: 'x' }, { securityContext: { runAsUser: 2000 } })).process.user, { uid: 2000, gid: 0 });
    assert.deepEqual(
      spec(input({ name: 'c', image: 'x', securityContext: { runAsUser: 3000, runAsGroup: 3 } }, { securityContext: { runAsUser: 2000 } }))
        .process.user,
      { uid: 3000, gid: 3 },
    );
  });
});

describe('processArgs (command/args over Entrypoint/Cmd)', () => {
  const image = { ...IMAGE, entrypoint: ['/ep'], cmd: ['default'] };
  for (const [name, container, want] of [
    ['neither: Entrypoint + Cmd', {}, ['/ep', 'default']],
    ['args only: Entrypoint + args', { args: ['a'] }, ['/ep', 'a']],
    ['command only: command, no Cmd', { command: ['/bin/x'] }, ['/bin/x']],
    ['both: command + args', { command: ['/bin/x'], args: ['a'] }, ['/bin/x', 'a']],
  ] as const) {
    it(name, () => assert.deepEqual(processArgs({ name: 'c', ...container } as SimContainer, image), want));
  }
});

describe('expandVars', () => {
  const vars = new Map([
    ['A', 'x'],
    ['B', 'y'],
  ]);
  for (const [s, want] of [
    ['$(A)-$(B)', 'x-y'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(A)', '$(A)'],
    ['plain', 'plain'],
  ] as const) {
    it(`${s} -> ${want}`, () => assert.equal(expandVars(s, vars), want));
  }
});

describe('containerEnv', () => {
  it('a later value overrides and may reference an earlier one', () => {
    const i = input({
      name: 'c',
      image: 'x',
      env: [
        { name: 'NODE_ENV', value: 'test' },
        { name: 'X', value: '$(NODE_ENV)-$(KUBERNETES_SERVICE_PORT)' },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      ],
    });
    const env = new Map(containerEnv(i));
    assert.equal(env.get('NODE_ENV'), 'test');
    assert.equal(env.get('X'), 'test-6443');
    assert.equal(env.get('IP'), '10.244.1.7');
  });
});

describe('resolveUser', () => {
  for (const [name, security, imageUser, want] of [
    ['image uid:gid', {}, '1000:1000', { ok: true, uid: 1000, gid: 1000 }],
    ['no user: root', {}, undefined, { ok: true, uid: 0, gid: 0 }],
    ['runAsUser wins, group 0', { runAsUser: 5 }, '1000:1000', { ok: true, uid: 5, gid: 0 }],
    [
      'a named user cannot be checked against runAsNonRoot',
      { runAsNonRoot: true },
      'node',
      { ok: false, message: 'container has runAsNonRoot and image has non-numeric user (node), cannot verify user is non-root' },
    ],
  ] as const) {
    it(name, () => assert.deepEqual(resolveUser(security, imageUser), want));
  }
});

describe('quantities', () => {
  for (const [q, want] of [
    ['512Mi', 536_870_912],
    ['1Gi', 2 ** 30],
    ['1000', 1000],
    ['1.5Ki', 1536],
    ['128M', 128_000_000],
    ['x', undefined],
  ] as const) {
    it(`${q} bytes`, () => assert.equal(quantityValue(q), want));
  }
  for (const [q, want] of [
    ['1', 1000],
    ['100m', 100],
    ['0.5', 500],
    ['2x', undefined],
  ] as const) {
    it(`${q} millicores`, () => assert.equal(quantityMilli(q), want));
  }
  it('quota and shares as the kubelet computes them (with their minimums)', () => {
    assert.equal(milliCpuToQuota(1000), 100_000);
    assert.equal(milliCpuToQuota(5), 1000);
    assert.equal(milliCpuToShares(100), 102);
    assert.equal(milliCpuToShares(1), 2);
  });
});
