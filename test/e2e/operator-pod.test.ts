import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { z } from 'zod';
import packageJson from '../../package.json' with { type: 'json' };
import { PLAYGROUND_CONTROLLERS } from '../../cmd/operator/playground/playground.ts';
import { nodeNetworkOf, PLAYGROUND_CLUSTER_CIDR } from '../../cmd/operator/playground/data-plane.ts';
import { LABEL_SIMULATED_NODE } from '../../controllers/playground/pod-simulator/simulated-objects.ts';
import { setupPodSimulator } from '../../controllers/playground/pod-simulator/pod-simulator.ts';
import { podServiceAccountToken } from '../../controllers/playground/pod-simulator/service-account-token.ts';
import { ENDPOINT_SLICES, LEASES, NODES, PODS, SERVICES } from '../../controllers/runtime/resource.ts';
import { Manager } from '../../controllers/runtime/manager.ts';
import { locateDataPlaneBinaries } from '../../hack/data-plane/binaries.ts';
import { DATA_PLANE_API_ADDRESS, DataPlane, dataPlaneSupport } from '../../hack/data-plane/data-plane.ts';
import { inNamespace, listNamespacesSync, run } from '../../hack/data-plane/netns.ts';
import { DataPlaneSandboxNetwork } from '../../hack/container-runtime/data-plane-network.ts';
import { CGROUP_PARENT, memoryCgroupDir, RuncEngine, runtimeSupport } from '../../hack/container-runtime/runc-engine.ts';
import { startTestCluster } from '../envtest/test-cluster.ts';
import { waitFor } from '../envtest/wait-for.ts';
import { kubectl, OPERATOR_NAMESPACE, REPO } from '../integration/shipped-config.ts';

// The operator's image run as the Deployment of config/default, the way a cluster runs it: `kubectl apply -k` with the
// image set to the local OCI build, the pod simulator's kubelets running both replicas with runc (docs/playground.md,
// "Running images"): each in a Pod namespace of a data plane (real kube-proxy, docs/data-plane.md), reaching the API
// server as its ServiceAccount through the `kubernetes` Service (its ClusterIP, kube-proxy's rules, the endpoint the API
// server advertises on the node network), under the Deployment's memory and CPU limits, probed on its health port. One replica leads and publishes endpoints; deleting it
// hands the Lease over within the grace period; a churn of 2,000 Pods stays under the memory limit; nothing is left
// afterwards. Needs root, runc, umoci, socat, curl, nftables, and the image (`npm run image`; built here when missing).

const LAYOUT = process.env.KEO_IMAGE_LAYOUT ?? join(REPO, 'dist/image/oci');
const LOCAL_IMAGE = `kube-endpoints-operator-local:${packageJson.version}`;
const SELECTOR = 'app.kubernetes.io/name=kube-endpoints-operator';
const READY_MS = 120_000;
const CHURN_WAVES = 4;
const CHURN_PODS = 500;

const runtime = runtimeSupport();
const network = dataPlaneSupport('nftables');
const support = runtime.ok ? network : runtime;
const NODE_COUNT = 4;

function buildImageIfMissing(): string | undefined {
  if (existsSync(join(LAYOUT, 'index.json'))) return undefined;
  const script = join(REPO, 'hack/image/build-image.ts');
  if (!existsSync(script)) return `no image at ${LAYOUT} and no hack/image/build-image.ts to build it`;
  const built = spawnSync(process.execPath, [script], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  return built.status === 0 ? undefined : `npm run image failed (exit ${built.status})`;
}

const podSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), uid: z.string(), creationTimestamp: z.string(), deletionTimestamp: z.string().optional() }),
  status: z
    .looseObject({
      phase: z.string().optional(),
      podIP: z.string().optional(),
      conditions: z.array(z.looseObject({ type: z.string(), status: z.string(), lastTransitionTime: z.string().nullish() })).optional(),
      containerStatuses: z
        .array(
          z.looseObject({
            name: z.string(),
            ready: z.boolean(),
            started: z.boolean().optional(),
            restartCount: z.number(),
            containerID: z.string().optional(),
          }),
        )
        .optional(),
    })
    .default({}),
});
type ApiPod = z.infer<typeof podSchema>;
const endpointSliceSchema = z.looseObject({
  endpoints: z.array(z.looseObject({ addresses: z.array(z.string()) })).nullish(),
  ports: z.array(z.looseObject({ port: z.number().optional() })).nullish(),
});
const serviceSchema = z.looseObject({
  spec: z.looseObject({ clusterIP: z.string(), ports: z.array(z.looseObject({ port: z.number() })) }),
});
const runcStateSchema = z.looseObject({ pid: z.number() });
const leaseSchema = z.looseObject({ spec: z.looseObject({ holderIdentity: z.string().nullish() }) });
const sliceSchema = z.looseObject({
  endpoints: z
    .array(z.looseObject({ addresses: z.array(z.string()), conditions: z.looseObject({ ready: z.boolean().optional() }).optional() }))
    .nullish(),
});

const isReady = (p: ApiPod) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

describe('the operator image as two Pods run by runc (kubectl apply -k config/default)', { timeout: 900_000 }, async () => {
  const missing = support.ok ? buildImageIfMissing() : support.reason;
  if (missing !== undefined) {
    it('runs, leads, hands over and stays under its memory limit', { skip: missing }, () => {});
    return;
  }
  const env = await startTestCluster({
    name: 'operator-pod',
    controllers: PLAYGROUND_CONTROLLERS,
    inClusterApi: { advertiseAddress: DATA_PLANE_API_ADDRESS },
  });
  const admin = env.client;
  const kubeconfig = env.cluster.kubeconfigPath;
  const kubernetesService = env.cluster.kubernetesService;
  assert.ok(kubernetesService !== undefined, 'inClusterApi describes the kubernetes Service');
  const work = await mkdtemp(join(tmpdir(), 'operator-pod-'));
  const runtimeErrors: string[] = [];
  const podNetwork = new DataPlaneSandboxNetwork({ host: kubernetesService.clusterIP, port: kubernetesService.port });
  const engine = await RuncEngine.start({
    network: podNetwork,
    images: { [LOCAL_IMAGE]: { layout: LAYOUT, ref: packageJson.version } },
    apiServer: { server: env.cluster.server, caPem: env.cluster.caPem },
    token: (pod, signal) => podServiceAccountToken(admin, pod, signal),
    logDir: join(work, 'logs'),
  });
  const manager = new Manager({
    logger: pino({ level: 'silent' }),
    kubeConfig: env.kubeConfig,
    qps: 200,
    burst: 400,
    userAgent: 'operator-pod-test-simulator',
    metricsBindAddress: '0',
    healthProbeBindAddress: '0',
    gracefulShutdownTimeoutMs: 5_000,
  });
  const simulator = setupPodSimulator(manager, {
    nodes: NODE_COUNT,
    maxPodsPerNode: 300,
    defaultReadinessDelayMs: 0,
    containerEngine: engine,
    onRuntimeError: (key, message) => runtimeErrors.push(`${key}: ${message}`),
  });
  const stopper = new AbortController();
  const managerStopped = manager.start(stopper.signal);
  const started: { plane?: DataPlane } = {};
  let cleanedUp = false;
  const cleanUp = async () => {
    if (cleanedUp) return;
    cleanedUp = true;
    stopper.abort();
    await managerStopped;
    await simulator.workers?.stopAll(10_000);
    await engine.close();
    await started.plane?.stop();
  };
  after(async () => {
    await cleanUp();
    await rm(work, { recursive: true, force: true });
  });
  // The data plane on the simulated Nodes (their InternalIPs and Pod CIDRs), relaying the advertised address.
  const nodes = await waitFor(
    async () => {
      const list = await admin.list(NODES, '', { labelSelector: `${LABEL_SIMULATED_NODE}=true` });
      const found = list.items.map(nodeNetworkOf).filter((n) => n !== undefined);
      return found.length === NODE_COUNT ? found : undefined;
    },
    { description: `${NODE_COUNT} simulated Nodes`, timeoutMs: 60_000 },
  );
  const dataPlane = await DataPlane.start({
    binaries: await locateDataPlaneBinaries({
      kubebuilderAssets: process.env.KUBEBUILDER_ASSETS,
      env: process.env,
      onBuildOutput: (line) => process.stderr.write(`${line}\n`),
    }),
    mode: 'nftables',
    nodes,
    clusterCidr: PLAYGROUND_CLUSTER_CIDR,
    apiServer: {
      server: env.cluster.server,
      caPem: env.cluster.caPem,
      clientCertPem: env.cluster.admin.certPem,
      clientKeyPem: env.cluster.admin.keyPem,
    },
    apiServerAddress: DATA_PLANE_API_ADDRESS,
  });
  started.plane = dataPlane;
  podNetwork.use(dataPlane);

  const operatorPods = async (): Promise<ApiPod[]> =>
    (await admin.list(PODS, OPERATOR_NAMESPACE, { labelSelector: SELECTOR })).items.map((p) => podSchema.parse(p));
  const holder = async (): Promise<string> =>
    leaseSchema.parse(await admin.get(LEASES, OPERATOR_NAMESPACE, 'kube-endpoints-operator')).spec.holderIdentity ?? '';
  const logOf = async (pod: string): Promise<string> => {
    const root = join(work, 'logs');
    const dir = (await readdir(root).catch(() => [])).find((d) => d.startsWith(`${OPERATOR_NAMESPACE}_${pod}_`));
    if (dir === undefined) return '';
    const runs = await readdir(join(root, dir, 'manager')).catch(() => []);
    return (await Promise.all(runs.sort().map((r) => readFile(join(root, dir, 'manager', r), 'utf8')))).join('');
  };
  const diagnose = async () => {
    const pods = await operatorPods().catch(() => []);
    const logs = await Promise.all(pods.map(async (p) => `--- ${p.metadata.name}\n${(await logOf(p.metadata.name)).slice(-3000)}`));
    return `\npods: ${JSON.stringify(pods.map((p) => [p.metadata.name, p.status.phase, p.status.containerStatuses]))}\nruntime: ${runtimeErrors.slice(-10).join('\n')}\n${logs.join('\n')}`;
  };

  let leaderPod = '';
  let standbyPod = '';
  // Who holds the Lease after the leader's deletion: the standby, or the leader's replacement when it starts first.
  let nextLeaderPod = '';

  it('publishes the kubernetes Service endpoint: the advertised node-network address and the secure port', async () => {
    const svc = serviceSchema.parse(await admin.get(SERVICES, 'default', 'kubernetes'));
    assert.equal(svc.spec.clusterIP, kubernetesService.clusterIP);
    assert.equal(svc.spec.ports[0]?.port, 443);
    const slice = await waitFor(
      async () => {
        const s = endpointSliceSchema.parse(await admin.get(ENDPOINT_SLICES, 'default', 'kubernetes').catch(() => ({})));
        return (s.endpoints ?? []).length > 0 ? s : undefined;
      },
      { description: 'the kubernetes EndpointSlice', timeoutMs: 30_000 },
    );
    assert.deepEqual(
      (slice.endpoints ?? []).flatMap((e) => e.addresses),
      [DATA_PLANE_API_ADDRESS],
    );
    assert.equal(slice.ports?.[0]?.port, kubernetesService.endpoint.port);
  });

  it('applies config/default with the local image: two replicas Running and Ready, one holding the Lease', async (t) => {
    const overlay = join(work, 'overlay');
    await mkdir(overlay, { recursive: true });
    const [name, tag] = LOCAL_IMAGE.split(':');
    await writeFile(
      join(overlay, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${relative(overlay, join(REPO, 'config/default'))}\nimages:\n  - name: kube-endpoints-operator\n    newName: ${name}\n    newTag: "${tag}"\n`,
    );
    const applied = performance.now();
    const result = await kubectl(kubeconfig, 'apply', '-k', overlay);
    assert.equal(result.code, 0, result.stderr);
    const pods = await waitFor(
      async () => {
        const all = (await operatorPods()).filter((p) => p.metadata.deletionTimestamp === undefined);
        return all.length === 2 && all.every((p) => p.status.phase === 'Running' && isReady(p)) ? all : undefined;
      },
      { description: 'two Running and Ready operator Pods', timeoutMs: READY_MS, intervalMs: 250 },
    ).catch(async (err: unknown) => assert.fail(`${String(err)}${await diagnose()}`));
    const wallMs = performance.now() - applied;
    for (const p of pods) {
      const [status] = p.status.containerStatuses ?? [];
      assert.ok(status?.containerID?.startsWith('runc://'), `container of ${p.metadata.name} runs in runc: ${status?.containerID}`);
      assert.equal(status?.restartCount, 0);
    }
    const holderIdentity = await waitFor(async () => (await holder()) || undefined, { description: 'a Lease holder', timeoutMs: 30_000 });
    const leader = pods.find((p) => holderIdentity.startsWith(`${p.metadata.name}_`));
    assert.ok(leader !== undefined, `the Lease holder ${holderIdentity} is one of the Pods (its hostname is the Pod name)`);
    leaderPod = leader.metadata.name;
    standbyPod = pods.find((p) => p !== leader)?.metadata.name ?? '';
    const readyTimes = pods.map((p) => {
      const ready = p.status.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? '';
      return Date.parse(ready) - Date.parse(p.metadata.creationTimestamp);
    });
    t.diagnostic(
      `apply to both Ready: ${Math.round(wallMs)} ms; Pod created to Ready: ${readyTimes.map((ms) => `${ms / 1000} s`).join(', ')}`,
    );
    // The container's own output, where the simulator keeps it: connected as the ServiceAccount, then leading.
    const leaderLog = await logOf(leaderPod);
    assert.match(leaderLog, /"msg":"Connected to API server"/);

    // Through the Service: each container runs in its Pod's data-plane namespace, its environment names the ClusterIP,
    // and its connections to the API server go to ClusterIP:443 (kube-proxy translates them; no relay listens there).
    const clusterApi = `${kubernetesService.clusterIP}:${kubernetesService.port}`;
    for (const p of pods) {
      const id = p.status.containerStatuses?.[0]?.containerID?.replace('runc://', '') ?? '';
      const { pid } = runcStateSchema.parse(JSON.parse(await run('runc', ['--root', engine.runcRoot, 'state', id])));
      const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
      assert.ok(environ.includes(`KUBERNETES_SERVICE_HOST=${kubernetesService.clusterIP}`), `${p.metadata.name}: ${environ.join(' ')}`);
      assert.ok(environ.includes(`KUBERNETES_SERVICE_PORT=${kubernetesService.port}`));
      const podNs = dataPlane.pods.find((n) => n.name === p.metadata.name && n.ip === p.status.podIP);
      assert.ok(podNs !== undefined, `${p.metadata.name} has a data-plane Pod namespace at ${p.status.podIP}`);
      assert.equal(
        (await stat(`/proc/${pid}/ns/net`)).ino,
        (await stat(`/run/netns/${podNs.namespace}`)).ino,
        'the container runs in the data-plane namespace',
      );
      const sockets = await waitFor(
        async () => {
          const out = await inNamespace(podNs.namespace, 'ss', ['-Htn', 'state', 'established']);
          return out.includes(clusterApi) ? out : undefined;
        },
        { description: `${p.metadata.name} connected to ${clusterApi}`, timeoutMs: 30_000 },
      );
      assert.doesNotMatch(sockets, /127\.0\.0\.1:6443/);
      const listening = await inNamespace(podNs.namespace, 'ss', ['-Htln']);
      assert.doesNotMatch(listening, /:6443\b/, 'no API relay inside the Pod');
    }
    const rules = await dataPlane.rules(nodes[0]?.name ?? '');
    assert.match(
      rules,
      new RegExp(`${kubernetesService.clusterIP.replaceAll('.', '\\.')} \\. tcp \\. 443`),
      'kube-proxy has a rule for it',
    );
  });

  it('publishes the endpoints of a Service from inside the Pod', async () => {
    assert.ok(leaderPod !== '', 'needs the first test');
    const ns = await env.createNamespace('web');
    await admin.create(SERVICES, ns, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    await admin.create(PODS, ns, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', labels: { app: 'web' } },
      spec: { containers: [{ name: 'app', image: 'nginx' }] },
    });
    const ip = await waitFor(async () => podSchema.parse(await admin.get(PODS, ns, 'web-1')).status.podIP, {
      description: 'web-1 to get an address',
      timeoutMs: 30_000,
    });
    await waitFor(
      async () => {
        const slices = (await admin.list(ENDPOINT_SLICES, ns, { labelSelector: 'kubernetes.io/service-name=web' })).items.map((s) =>
          sliceSchema.parse(s),
        );
        return slices.some((s) => (s.endpoints ?? []).some((e) => e.addresses.includes(ip) && e.conditions?.ready === true));
      },
      { description: `the EndpointSlice of web to list ${ip} ready`, timeoutMs: 30_000 },
    ).catch(async (err: unknown) => assert.fail(`${String(err)}${await diagnose()}`));
  });

  it('hands the Lease over within the grace period when the leader Pod is deleted', async (t) => {
    assert.ok(leaderPod !== '' && standbyPod !== '', 'needs the first test');
    const grace = 45_000;
    const deleted = performance.now();
    const result = await kubectl(kubeconfig, 'delete', 'pod', '-n', OPERATOR_NAMESPACE, leaderPod, '--wait=false');
    assert.equal(result.code, 0, result.stderr);
    nextLeaderPod = await waitFor(
      async () => {
        const identity = await holder();
        const pod = identity.split('_')[0] ?? '';
        return pod !== '' && pod !== leaderPod ? pod : undefined;
      },
      {
        description: `another replica than ${leaderPod} (standby ${standbyPod}) to take the Lease over`,
        timeoutMs: grace,
        intervalMs: 100,
      },
    ).catch(async (err: unknown) => assert.fail(`${String(err)}${await diagnose()}`));
    assert.ok(
      (await operatorPods()).some((p) => p.metadata.name === nextLeaderPod && p.metadata.deletionTimestamp === undefined),
      `the new holder ${nextLeaderPod} is a live replica`,
    );
    const takeoverMs = performance.now() - deleted;
    // The old leader stopped on SIGTERM, released the Lease, exited 0 and its Pod is gone, all within the grace period.
    await waitFor(async () => !(await operatorPods()).some((p) => p.metadata.name === leaderPod), {
      description: `${leaderPod} to be deleted after its container exited`,
      timeoutMs: grace,
    });
    const goneMs = performance.now() - deleted;
    const leaderLog = await logOf(leaderPod);
    assert.match(leaderLog, /"msg":"Released lease"/, `leader log:\n${leaderLog.slice(-2000)}`);
    t.diagnostic(
      `delete to takeover by ${nextLeaderPod === standbyPod ? 'the standby' : 'the replacement'}: ${Math.round(takeoverMs)} ms; delete to Pod gone: ${Math.round(goneMs)} ms (grace ${grace / 1000} s)`,
    );
    // The ReplicaSet replaces it: two Ready replicas again.
    await waitFor(
      async () => {
        const all = (await operatorPods()).filter((p) => p.metadata.deletionTimestamp === undefined);
        return all.length === 2 && all.every(isReady);
      },
      { description: 'two Ready replicas again', timeoutMs: READY_MS },
    ).catch(async (err: unknown) => assert.fail(`${String(err)}${await diagnose()}`));
  });

  it(`stays under its memory limit while ${CHURN_WAVES * CHURN_PODS} Pods come and go`, async (t) => {
    assert.ok(nextLeaderPod !== '', 'needs the earlier tests');
    const leader = (await operatorPods()).find((p) => p.metadata.name === nextLeaderPod);
    const containerID = leader?.status.containerStatuses?.[0]?.containerID?.replace('runc://', '') ?? '';
    const cgroup = memoryCgroupDir(containerID);
    const limit = Number(readFileSync(join(cgroup, 'memory.limit_in_bytes'), 'utf8'));
    assert.equal(limit, 512 * 2 ** 20, 'the Deployment memory limit is the cgroup limit');
    const ns = await env.createNamespace('churn');
    await admin.create(SERVICES, ns, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'churn' },
      spec: { selector: { app: 'churn' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    const readyEndpoints = async () =>
      (await admin.list(ENDPOINT_SLICES, ns, { labelSelector: 'kubernetes.io/service-name=churn' })).items
        .map((s) => sliceSchema.parse(s))
        .flatMap((s) => s.endpoints ?? [])
        .filter((e) => e.conditions?.ready === true).length;
    const started = performance.now();
    for (let wave = 0; wave < CHURN_WAVES; wave++) {
      for (let i = 0; i < CHURN_PODS; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, CHURN_PODS - i) }, (_, j) =>
            admin.create(PODS, ns, {
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: { name: `churn-${wave}-${i + j}`, labels: { app: 'churn' } },
              // Bound already (as a DaemonSet's Pods are): the churn is about the operator, not the simulated scheduler.
              spec: {
                nodeName: simulator.nodeNames[(i + j) % simulator.nodeNames.length],
                terminationGracePeriodSeconds: 0,
                containers: [{ name: 'app', image: 'nginx' }],
              },
            }),
          ),
        );
      }
      await waitFor(async () => (await readyEndpoints()) === CHURN_PODS, {
        description: `wave ${wave}: ${CHURN_PODS} ready endpoints`,
        timeoutMs: 180_000,
        intervalMs: 500,
      });
      for (let i = 0; i < CHURN_PODS; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, CHURN_PODS - i) }, (_, j) =>
            admin.delete(PODS, ns, `churn-${wave}-${i + j}`, { gracePeriodSeconds: 0 }),
          ),
        );
      }
      await waitFor(async () => (await readyEndpoints()) === 0, {
        description: `wave ${wave}: no endpoints`,
        timeoutMs: 180_000,
        intervalMs: 500,
      });
    }
    const churnMs = performance.now() - started;
    const peak = Number(readFileSync(join(cgroup, 'memory.max_usage_in_bytes'), 'utf8'));
    const failcnt = Number(readFileSync(join(cgroup, 'memory.failcnt'), 'utf8'));
    t.diagnostic(
      `churn of ${CHURN_WAVES * CHURN_PODS} Pods in ${Math.round(churnMs / 1000)} s; leader container peak memory ${(peak / 2 ** 20).toFixed(1)} MiB of ${limit / 2 ** 20} MiB (failcnt ${failcnt})`,
    );
    assert.ok(peak < limit, `peak ${peak} >= limit ${limit}`);
    assert.equal(failcnt, 0, 'the container never hit its memory limit');
    const restarts = (await operatorPods()).map((p) => p.status.containerStatuses?.[0]?.restartCount ?? -1);
    assert.deepEqual(restarts, [0, 0], 'no replica restarted');
  });

  it('leaves nothing behind: no runc container, no network namespace, no state', async () => {
    await cleanUp();
    assert.deepEqual(dataPlane.leftovers(), { namespaces: [], processes: [], resolvConfDirs: [], socket: false });
    assert.deepEqual(await engine.listContainers(), []);
    assert.deepEqual(
      listNamespacesSync().filter((n) => n.startsWith(engine.namespacePrefix)),
      [],
    );
    assert.equal(existsSync(engine.stateDir), false);
    const cgroups = await readdir(join('/sys/fs/cgroup/memory', CGROUP_PARENT)).catch(() => []);
    assert.deepEqual(
      cgroups.filter((d) => d.startsWith(engine.namespacePrefix)),
      [],
    );
  });
});
