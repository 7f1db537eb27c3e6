import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { SESSION_AFFINITY_POLICIES_RESOURCE } from '../../api/v1alpha1/group-version.ts';
import { parseConfig } from '../../cmd/operator/config.ts';
import { CONTROLLER_REGISTRATIONS } from '../../cmd/operator/controller-registrations.ts';
import { type ApiClient, newApiClient } from '../../controllers/runtime/api-client.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import { Manager } from '../../controllers/runtime/manager.ts';
import { NAMESPACES, SERVICES } from '../../controllers/runtime/resource.ts';
import { waitFor } from '../envtest/wait-for.ts';
import { kubectl, REPO, serviceAccountToken, SERVICE_ACCOUNT, tokenKubeconfig } from '../integration/shipped-config.ts';

// Optional backend: the shipped manifests and the operator against k3s (a real distribution: its own
// kube-controller-manager, kubelet and Pod Security admission) in a container, for machines with a Docker engine.
// Runs only when asked (E2E_BACKEND=k3s); elsewhere, and when no container runtime answers, the suite is reported as
// skipped with the reason. It exercises the first way to run the operator: beside kube-controller-manager with only
// the CRD controllers. Image: K3S_IMAGE (default rancher/k3s:v1.37.2-k3s1, the Kubernetes the rest of the tests use).

const requested = process.env.E2E_BACKEND === 'k3s';
const K3S_IMAGE = process.env.K3S_IMAGE ?? 'rancher/k3s:v1.37.2-k3s1';
const API_PORT = 6443;

/** Why the suite cannot run here, or undefined when it can. Imports testcontainers only when asked. */
async function unavailable(): Promise<string | undefined> {
  if (!requested) return 'k3s backend not requested (set E2E_BACKEND=k3s on a machine with a Docker engine)';
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return undefined;
  } catch (err) {
    return `k3s backend unavailable: no Docker engine (${(err as Error).message})`;
  }
}

const skip = await unavailable();

interface K3s {
  readonly kubeconfigPath: string;
  readonly server: string;
  readonly caPem: string;
  readonly admin: ApiClient;
  stop(): Promise<void>;
}

/** Starts k3s as testcontainers' k3s module does (privileged, host cgroup namespace), returns an admin kubeconfig. */
async function startK3s(dir: string): Promise<K3s> {
  const { GenericContainer, Wait } = await import('testcontainers');
  class K3sContainer extends GenericContainer {
    constructor(image: string) {
      super(image);
      // k3s runs its own containers and needs the host's cgroup namespace (no withCgroupnsMode in testcontainers yet).
      (this.hostConfig as { CgroupnsMode?: string }).CgroupnsMode = 'host';
    }
  }
  const container = await new K3sContainer(K3S_IMAGE)
    .withPrivilegedMode()
    .withBindMounts([{ source: '/sys/fs/cgroup', target: '/sys/fs/cgroup' }])
    .withTmpFs({ '/run': 'rw', '/var/run': 'rw' })
    .withCommand(['server', '--disable=traefik', '--disable=metrics-server'])
    .withExposedPorts(API_PORT)
    .withWaitStrategy(Wait.forLogMessage('Node controller sync successful'))
    .withStartupTimeout(180_000)
    .start();
  const read = await container.exec(['cat', '/etc/rancher/k3s/k3s.yaml']);
  assert.equal(read.exitCode, 0, read.output);
  const server = `https://${container.getHost()}:${container.getMappedPort(API_PORT)}`;
  const kubeconfigPath = join(dir, 'k3s.kubeconfig');
  await writeFile(kubeconfigPath, read.output.replace(/server:\s*\S+/, `server: ${server}`));
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const caData = kc.getCurrentCluster()?.caData;
  assert.ok(caData !== undefined, 'k3s kubeconfig without certificate-authority-data');
  return {
    kubeconfigPath,
    server,
    caPem: Buffer.from(caData, 'base64').toString('utf8'),
    admin: newApiClient(kc, { clock: realClock, qps: 100, burst: 200 }),
    stop: async () => {
      await container.stop();
    },
  };
}

// Unavailable: one skipped test carrying the reason (counted as skipped in every reporter's summary).
if (skip !== undefined) it(`the operator on k3s (${K3S_IMAGE})`, { skip }, () => {});
else describeOnK3s();

function describeOnK3s(): void {
  describe(`on k3s (${K3S_IMAGE})`, () => {
    let k3s: K3s;
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'k3s-backend-'));
      k3s = await startK3s(dir);
    });
    after(async () => {
      await k3s?.stop();
      if (dir !== '') await rm(dir, { recursive: true, force: true });
    });

    it('installs with kubectl apply -k config/default without warnings (Pod Security included)', { timeout: 180_000 }, async () => {
      const applied = await kubectl(k3s.kubeconfigPath, 'apply', '-k', join(REPO, 'config/default'));
      assert.equal(applied.code, 0, applied.stderr);
      assert.equal(applied.stderr, '');
      // No image of the operator is published; the shipped Deployment is scaled away and the operator runs in-process.
      const scaled = await kubectl(
        k3s.kubeconfigPath,
        'scale',
        '-n',
        'kube-endpoints-operator-system',
        'deployment/kube-endpoints-operator',
        '--replicas=0',
      );
      assert.equal(scaled.code, 0, scaled.stderr);
      const established = await kubectl(
        k3s.kubeconfigPath,
        'wait',
        '--for=condition=Established',
        '--timeout=60s',
        'crd/sessionaffinitypolicies.kube-endpoints-operator.io',
      );
      assert.equal(established.code, 0, established.stderr);
    });

    it(
      'runs the session-affinity controller beside k3s own controllers, as its ServiceAccount with the shipped RBAC',
      { timeout: 120_000 },
      async () => {
        const kubeconfigPath = join(dir, 'operator.kubeconfig');
        await writeFile(kubeconfigPath, tokenKubeconfig(k3s.server, k3s.caPem, await serviceAccountToken(k3s.admin)));
        const kc = new KubeConfig();
        kc.loadFromFile(kubeconfigPath);
        assert.equal(kc.getCurrentUser()?.name, SERVICE_ACCOUNT);
        const manager = new Manager({
          logger: pino({ level: 'warn' }),
          kubeConfig: kc,
          registry: new Registry(),
          gracefulShutdownTimeoutMs: 2_000,
        });
        const parsed = parseConfig(['--controllers=session-affinity-controller']);
        assert.equal(parsed.kind, 'run');
        CONTROLLER_REGISTRATIONS['session-affinity-controller']?.(manager, parsed.config);
        const stop = new AbortController();
        const outcome = manager.start(stop.signal);
        try {
          const ns = 'k3s-affinity';
          await k3s.admin.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
          await k3s.admin.create(SERVICES, ns, {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: 'web', labels: { tier: 'frontend' } },
            spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
          });
          await k3s.admin.create(SESSION_AFFINITY_POLICIES_RESOURCE, ns, {
            apiVersion: 'kube-endpoints-operator.io/v1alpha1',
            kind: 'SessionAffinityPolicy',
            metadata: { name: 'sticky' },
            spec: { serviceSelector: { matchLabels: { tier: 'frontend' } }, sessionAffinity: 'ClientIP', mode: 'Enforce' },
          });
          const affinity = z.looseObject({ spec: z.looseObject({ sessionAffinity: z.string().optional() }) });
          await waitFor(async () => affinity.parse(await k3s.admin.get(SERVICES, ns, 'web')).spec.sessionAffinity === 'ClientIP', {
            description: 'the Service to take the policy affinity on k3s',
            timeoutMs: 30_000,
          });
        } finally {
          stop.abort();
          assert.equal((await outcome).kind, 'stopped');
        }
      },
    );
  });
}
