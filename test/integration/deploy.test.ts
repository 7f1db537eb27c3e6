import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { after, describe, it, mock } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { buildOperator, OPERATOR_BUNDLE, OPERATOR_ENTRY } from '../../hack/build-operator.ts';
import { dockerIgnored, parseDockerignore } from '../../hack/image/dockerfile.ts';
import packageJson from '../../package.json' with { type: 'json' };
import { type ApiClient, newApiClient } from '../../controllers/runtime/api-client.ts';
import { ApiError } from '../../controllers/runtime/api-errors.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import { ENDPOINT_SLICES, ENDPOINTS, LEASES, PODS, type ResourceType, SERVICES } from '../../controllers/runtime/resource.ts';
import { EXPECTED_KUBE_VERSION, startTestCluster } from '../envtest/test-cluster.ts';
import { waitForCrdsEstablished } from '../envtest/crds-established.ts';
import { waitFor } from '../envtest/wait-for.ts';
import {
  inClusterKubeConfig,
  kubectl,
  type ManifestObject,
  OPERATOR_NAMESPACE,
  REPO,
  renderKustomization,
  SERVICE_ACCOUNT,
  SERVICE_ACCOUNT_USER,
  serviceAccountToken,
  tokenKubeconfig,
  writeServiceAccountToken,
} from './shipped-config.ts';

// What a user installs, installed the way the README says, on a real kube-apiserver: the default kustomization applies
// cleanly and idempotently, its Deployment passes Pod Security `restricted`, the samples apply, the in-cluster
// configuration authenticates with a rotating token, and the operator started exactly as the Deployment starts it
// (same arguments, the ServiceAccount's identity, no writable filesystem) runs two replicas with leader election,
// publishes endpoints, hands over on SIGTERM within the grace period and stays under its memory limit. The image is
// checked statically (no Docker engine here): it ships every module the entry point imports, on the tested Node.

const DEFAULT = join(REPO, 'config/default');
const BOUND_MS = 15_000;

// ---- the rendered manifests --------------------------------------------------------------------------------------------

const rendered = await renderKustomization(DEFAULT);

const probeSchema = z.object({ httpGet: z.object({ path: z.string(), port: z.union([z.string(), z.number()]) }) }).loose();
const containerSchema = z.looseObject({
  name: z.string(),
  image: z.string(),
  args: z.array(z.string()),
  env: z.array(z.looseObject({ name: z.string(), value: z.string().optional(), valueFrom: z.unknown().optional() })),
  ports: z.array(z.looseObject({ name: z.string(), containerPort: z.number() })),
  livenessProbe: probeSchema,
  readinessProbe: probeSchema,
  resources: z.object({
    requests: z.object({ cpu: z.string(), memory: z.string() }),
    limits: z.object({ cpu: z.string(), memory: z.string() }),
  }),
  securityContext: z.looseObject({}),
});
const deploymentSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), namespace: z.string() }),
  spec: z.looseObject({
    replicas: z.number(),
    selector: z.object({ matchLabels: z.record(z.string(), z.string()) }),
    template: z.looseObject({
      metadata: z.looseObject({ labels: z.record(z.string(), z.string()) }),
      spec: z.looseObject({
        serviceAccountName: z.string(),
        terminationGracePeriodSeconds: z.number(),
        securityContext: z.looseObject({}),
        containers: z.tuple([containerSchema]),
      }),
    }),
  }),
});
type Deployment = z.infer<typeof deploymentSchema>;

function only(kind: string): ManifestObject {
  const found = rendered.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind} in config/default`);
  const [object] = found;
  assert.ok(object !== undefined);
  return object;
}

const deployment: Deployment = deploymentSchema.parse(only('Deployment'));
const podSpec = deployment.spec.template.spec;
const manager = podSpec.containers[0];

/** `512Mi` -> bytes (the binary suffixes the manifests use). */
function quantityBytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q);
  assert.ok(m !== null, `unsupported quantity ${q}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

/** A flag's value in the container args (`--name=value`). */
function flagValue(name: string): string | undefined {
  return manager.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

describe('the default kustomization', () => {
  it('renders CRDs, RBAC, the namespace, the Deployment and the metrics Service, all namespaced objects in the operator namespace', () => {
    const kinds = new Set(rendered.map((o) => o.kind));
    for (const kind of [
      'CustomResourceDefinition',
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
      'Deployment',
      'Service',
    ]) {
      assert.ok(kinds.has(kind), `no ${kind} rendered`);
    }
    const clusterScoped = new Set(['CustomResourceDefinition', 'Namespace', 'ClusterRole', 'ClusterRoleBinding']);
    for (const o of rendered.filter((x) => !clusterScoped.has(x.kind))) {
      assert.equal(o.metadata.namespace, OPERATOR_NAMESPACE, `${o.kind}/${o.metadata.name}`);
    }
    const namespace = z.looseObject({ metadata: z.looseObject({ labels: z.record(z.string(), z.string()) }) }).parse(only('Namespace'));
    assert.equal(namespace.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  it('runs two replicas with leader election in their own namespace, as the ServiceAccount, with graceful termination', () => {
    assert.equal(deployment.spec.replicas, 2);
    assert.equal(podSpec.serviceAccountName, SERVICE_ACCOUNT);
    assert.equal(flagValue('leader-elect'), 'true');
    assert.equal(flagValue('leader-elect-resource-namespace'), '$(POD_NAMESPACE)');
    const podNamespace = manager.env.find((e) => e.name === 'POD_NAMESPACE');
    assert.deepEqual(podNamespace?.valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } });
    // The manager drains in-flight reconciles for up to 30 s, then waits up to 5 s for the rest (manager.ts), then
    // releases the Lease: the kubelet must not SIGKILL it before.
    assert.ok(podSpec.terminationGracePeriodSeconds >= 35 + 5, `terminationGracePeriodSeconds ${podSpec.terminationGracePeriodSeconds}`);
  });

  it('probes /healthz and /readyz on the health port and exposes /metrics through the metrics Service', () => {
    const port = (name: string) => manager.ports.find((p) => p.name === name)?.containerPort;
    assert.equal(flagValue('health-probe-bind-address'), `:${port('health')}`);
    assert.equal(flagValue('metrics-bind-address'), `:${port('metrics')}`);
    assert.deepEqual(manager.livenessProbe.httpGet, { path: '/healthz', port: 'health' });
    assert.deepEqual(manager.readinessProbe.httpGet, { path: '/readyz', port: 'health' });
    const svc = z
      .looseObject({
        spec: z.looseObject({ selector: z.record(z.string(), z.string()), ports: z.array(z.looseObject({ targetPort: z.string() })) }),
      })
      .parse(rendered.find((o) => o.kind === 'Service' && o.metadata.name.endsWith('-metrics')));
    for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(deployment.spec.template.metadata.labels[k], v);
    assert.deepEqual(
      svc.spec.ports.map((p) => p.targetPort),
      ['metrics'],
    );
  });

  it('caps the V8 heap well under the memory limit and requests what a run measured', () => {
    const heap = manager.env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
    const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(heap)?.[1]);
    const limit = quantityBytes(manager.resources.limits.memory);
    assert.ok(heapMiB > 0 && heapMiB * 2 ** 20 <= limit * 0.6, `heap cap ${heapMiB} MiB vs limit ${manager.resources.limits.memory}`);
    assert.ok(quantityBytes(manager.resources.requests.memory) <= limit);
  });
});

/** The README's overlay for running beside kube-controller-manager with only the CRD controllers (`base` = config/default). */
const crdControllersOnlyOverlay = (base: string) => `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ${base}
patches:
  - target:
      kind: Deployment
      name: kube-endpoints-operator
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/args/-
        value: --controllers=external-endpoints-controller,session-affinity-controller
  - target:
      kind: (ClusterRole|ClusterRoleBinding)
      name: kube-endpoints-operator:(endpoints|endpointslice|endpointslice-mirroring)-controller
    patch: |-
      $patch: delete
      kind: Any
      metadata:
        name: any
`;

describe("the README's overlay for the CRD controllers only", () => {
  it('keeps the roles of those two controllers and drops the endpoint controllers and their rights', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'overlay-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'kustomization.yaml'), crdControllersOnlyOverlay(relative(dir, DEFAULT)));
    const objects = await renderKustomization(dir);
    const roles = objects.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name);
    assert.deepEqual(roles.sort(), [
      'kube-endpoints-operator:external-endpoints-controller',
      'kube-endpoints-operator:session-affinity-controller',
    ]);
    assert.equal(objects.filter((o) => o.kind === 'ClusterRoleBinding').length, 2);
    const patched = deploymentSchema.parse(objects.find((o) => o.kind === 'Deployment'));
    assert.ok(
      patched.spec.template.spec.containers[0].args.includes('--controllers=external-endpoints-controller,session-affinity-controller'),
    );
  });
});

// ---- the container image (static: no Docker engine here) ----------------------------------------------------------------

/**
 * The one module the entry point imports lazily that the image leaves out (.dockerignore; hack/build-operator.ts
 * replaces the import): main.ts fails in one line without it.
 */
const PLAYGROUND_ENTRY = 'cmd/operator/playground/embedded-cluster.ts';

/**
 * Relative paths of every module the entry point loads (static and literal dynamic imports), and its bare imports.
 * A dynamic import of a module in `notFollowed` is recorded in `leftOut` instead of followed.
 */
function importClosure(
  entry: string,
  notFollowed: readonly string[] = [],
): { files: Set<string>; packages: Set<string>; leftOut: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const leftOut = new Set<string>();
  const importRe = /^\s*(?:import|export)\s+(type\s+)?(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  const visit = (abs: string) => {
    const rel = relative(REPO, abs);
    if (files.has(rel)) return;
    files.add(rel);
    if (!abs.endsWith('.ts')) return;
    for (const m of readFileSync(abs, 'utf8').matchAll(importRe)) {
      if (m[1] !== undefined) continue; // `import type` is erased
      const spec = m[2] ?? m[3] ?? '';
      const target = resolve(dirname(abs), spec);
      if (m[3] !== undefined && notFollowed.includes(relative(REPO, target))) leftOut.add(relative(REPO, target));
      else if (spec.startsWith('.')) visit(target);
      else if (!spec.startsWith('node:'))
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec));
    }
  };
  visit(join(REPO, entry));
  return { files, packages, leftOut };
}

describe('the Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  const instructions = dockerfile
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))
    .map((l) => l.trim());
  const entrypoint = z
    .array(z.string())
    .parse(JSON.parse(instructions.find((l) => l.startsWith('ENTRYPOINT '))?.slice('ENTRYPOINT '.length) ?? 'null'));

  it('bundles in a build stage on the Node the tests run on, ships only the bundle, and runs as a numeric non-root user', () => {
    const nodeImage = /^ARG NODE_IMAGE=node:(\S+)$/m.exec(dockerfile)?.[1] ?? '';
    assert.ok(nodeImage.startsWith(`${packageJson.devDependencies.node}-`), `base image node:${nodeImage}`);
    assert.equal(instructions.filter((l) => l.startsWith('FROM ')).length, 2, 'multi-stage');
    assert.ok(instructions.includes('RUN node hack/build-operator.ts'), 'the build stage bundles with the script the tests use');
    const finalStage = instructions.slice(instructions.findLastIndex((l) => l.startsWith('FROM ')));
    assert.deepEqual(
      finalStage.filter((l) => l.startsWith('COPY ')),
      ['COPY --from=build /app/dist/operator ./dist/operator'],
      'the final stage has the bundle and nothing else from the checkout (no node_modules, no sources)',
    );
    const user = /^USER (\d+)(?::(\d+))?$/m.exec(dockerfile);
    assert.ok(user !== null && Number(user[1]) !== 0, 'USER must be numeric (runAsNonRoot) and not root');
  });

  it('starts the bundle of the package entry point in exec form, so SIGTERM reaches Node (PID 1) and its handler drains', () => {
    assert.deepEqual(entrypoint, ['node', `dist/operator/${OPERATOR_BUNDLE}`]);
    assert.equal(OPERATOR_ENTRY, packageJson.bin['kube-endpoints-operator'], 'the bundle is of the entry point npm installs');
  });

  const ignore = parseDockerignore(readFileSync(join(REPO, '.dockerignore'), 'utf8'));
  const copied = instructions
    .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
    .flatMap((l) => l.slice('COPY '.length).split(/\s+/).slice(0, -1));
  const isCopied = (file: string) => copied.some((src) => file === src || file.startsWith(`${src.replace(/\/$/, '')}/`));

  it('gives the build stage every module the entry point imports (eagerly, or lazily outside the playground), and no test file', () => {
    const { files, packages, leftOut } = importClosure(OPERATOR_ENTRY, [PLAYGROUND_ENTRY]);
    assert.deepEqual([...leftOut], [PLAYGROUND_ENTRY], 'the playground is imported lazily, and is the only module left out');
    assert.ok(files.size > 50, `closure of ${files.size} files`);
    for (const file of files) {
      assert.ok(!file.endsWith('.test.ts'), `${file} is a test file`);
      assert.ok(isCopied(file), `${file} is imported by the entry point but not copied into the build stage`);
      assert.ok(!dockerIgnored(file, ignore), `${file} is imported by the entry point but excluded by .dockerignore`);
    }
    assert.ok(dockerIgnored('controllers/runtime/manager.test.ts', ignore), 'test files stay out of the build context');
    for (const pkg of packages)
      assert.ok(Object.hasOwn(packageJson.dependencies, pkg), `${pkg} is imported but not a production dependency`);
  });

  it('leaves out every module only the playground loads', () => {
    const production = importClosure(OPERATOR_ENTRY, [PLAYGROUND_ENTRY]).files;
    const playgroundOnly = [...importClosure(PLAYGROUND_ENTRY).files].filter((f) => !production.has(f));
    assert.ok(playgroundOnly.length > 20, `${playgroundOnly.length} playground-only modules`);
    for (const file of playgroundOnly)
      assert.ok(!isCopied(file) || dockerIgnored(file, ignore), `${file} serves only the playground but is in the build context`);
  });
});

// ---- on a real API server ----------------------------------------------------------------------------------------------

const env = await startTestCluster({ name: 'deploy-test' });
const admin = env.client;
const kubeconfig = env.cluster.kubeconfigPath;
const work = await mkdtemp(join(tmpdir(), 'deploy-test-'));
after(() => rm(work, { recursive: true, force: true }));
// What the image runs (the Dockerfile's build stage): the replicas below start this bundle, not the sources.
const operatorBundle = (await buildOperator(join(work, 'operator'))).file;

const CRD_NAMES = ['crd/externalendpoints.kube-endpoints-operator.io', 'crd/sessionaffinitypolicies.kube-endpoints-operator.io'];

// Installed once for the whole file, the README's way; the first test judges this very run.
const firstApply = await kubectl(kubeconfig, 'apply', '-k', DEFAULT);
await waitForCrdsEstablished(env.client, CRD_NAMES);

/** `kind/namespace/name` -> resourceVersion of every object of the default kustomization, as installed. */
async function installedVersions(): Promise<Record<string, string>> {
  const got = await kubectl(kubeconfig, 'get', '-k', DEFAULT, '-o', 'json');
  assert.equal(got.code, 0, got.stderr);
  const list = z
    .object({
      items: z.array(
        z.looseObject({
          kind: z.string(),
          metadata: z.looseObject({ name: z.string(), namespace: z.string().optional(), resourceVersion: z.string() }),
        }),
      ),
    })
    .parse(JSON.parse(got.stdout));
  assert.equal(list.items.length, rendered.length);
  return Object.fromEntries(
    list.items.map((o) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.resourceVersion]),
  );
}

describe('kubectl apply -k config/default', () => {
  it('succeeds without a single warning (Pod Security included), and a second apply changes nothing', async () => {
    assert.equal(firstApply.code, 0, firstApply.stderr);
    assert.equal(firstApply.stderr, '', 'kubectl printed warnings');
    assert.equal(firstApply.stdout.trim().split('\n').length, rendered.length);
    // kubectl reports a PodDisruptionBudget as "configured" on every apply (its selector's patch strategy is
    // `replace`), so idempotency is judged by the server: no object gets a new resourceVersion.
    const before = await installedVersions();
    const again = await kubectl(kubeconfig, 'apply', '-k', DEFAULT);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, '');
    assert.deepEqual(await installedVersions(), before);
  });

  it("admits the Deployment's Pod under Pod Security `restricted`, and the namespace label refuses a Pod that is not", async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'psa-check', labels: deployment.spec.template.metadata.labels },
      spec: podSpec,
    };
    await admin.create(PODS, OPERATOR_NAMESPACE, pod, { dryRun: true });

    const [container] = podSpec.containers;
    const loose = { ...pod, spec: { ...podSpec, securityContext: {}, containers: [{ ...container, securityContext: {} }] } };
    const refused = await admin.create(PODS, OPERATOR_NAMESPACE, loose, { dryRun: true }).then(
      () => assert.fail('a Pod without the restricted settings was admitted'),
      (e: unknown) => e,
    );
    assert.ok(refused instanceof ApiError && refused.code === 403, String(refused));
    assert.match(refused.message, /violates PodSecurity "restricted:latest"/);
  });

  it('is undone by kubectl delete -k (server-side dry run)', async () => {
    const deleted = await kubectl(kubeconfig, 'delete', '-k', DEFAULT, '--dry-run=server');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout.trim().split('\n').length, rendered.length);
  });

  it('lets the samples kustomization apply in any namespace (invalid samples are kept out of it)', async () => {
    const ns = await env.createNamespace('samples');
    const samples = await kubectl(kubeconfig, 'apply', '-n', ns, '-k', join(REPO, 'config/samples'));
    assert.equal(samples.code, 0, samples.stderr);
    assert.match(samples.stdout, /externalendpoints\.kube-endpoints-operator\.io\/legacy-api created/);
    assert.match(samples.stdout, /sessionaffinitypolicy\.kube-endpoints-operator\.io\/frontend-sticky created/);
    const listed = z
      .object({ resources: z.array(z.string()) })
      .parse(parseYaml(await readFile(join(REPO, 'config/samples/kustomization.yaml'), 'utf8')));
    assert.ok(!listed.resources.some((r) => r.startsWith('invalid')), 'config/samples/invalid holds objects the API server rejects');
  });
});

// ---- in-cluster configuration --------------------------------------------------------------------------------------------

const SECRETS: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };
const SELF_SUBJECT_REVIEWS: ResourceType = {
  group: 'authentication.k8s.io',
  version: 'v1',
  plural: 'selfsubjectreviews',
  kind: 'SelfSubjectReview',
  namespaced: false,
};
const selfSubjectReviewSchema = z.object({ status: z.object({ userInfo: z.object({ username: z.string() }) }) });

/** The user the API server sees for this client, or the HTTP status it refused with. */
async function whoAmI(client: ApiClient): Promise<string | number> {
  try {
    const review = await client.create(SELF_SUBJECT_REVIEWS, '', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    return selfSubjectReviewSchema.parse(review).status.userInfo.username;
  } catch (err) {
    if (err instanceof ApiError) return err.code;
    throw err;
  }
}

/** A Secret to bind a token to: deleting it revokes the token, as deleting a Pod revokes the Pod's. */
async function tokenBoundToNewSecret(name: string): Promise<string> {
  const secret = z
    .object({ metadata: z.object({ uid: z.string() }) })
    .parse(await admin.create(SECRETS, OPERATOR_NAMESPACE, { apiVersion: 'v1', kind: 'Secret', metadata: { name } }));
  return serviceAccountToken(admin, { boundSecret: { name, uid: secret.metadata.uid } });
}

describe('in-cluster configuration (what cmd/operator/main.ts loads when KUBERNETES_SERVICE_HOST is set)', () => {
  it('authenticates as the ServiceAccount with the mounted token and CA, and picks up a rotated token within a minute', async (t) => {
    const root = join(work, 'pod');
    const kc = await inClusterKubeConfig(root, env.cluster.server, env.cluster.caPem, await tokenBoundToNewSecret('token-a'));
    assert.equal(kc.getCurrentCluster()?.caFile, join(root, 'var/run/secrets/kubernetes.io/serviceaccount/ca.crt'));
    const client = newApiClient(kc, { clock: realClock });
    assert.equal(await whoAmI(client), SERVICE_ACCOUNT_USER);

    // The kubelet rotates the projected token; the old one stops working when its binding goes away.
    await admin.delete(SECRETS, OPERATOR_NAMESPACE, 'token-a');
    await waitFor(async () => (await whoAmI(client)) === 401, { description: 'the revoked token to be refused', timeoutMs: BOUND_MS });
    await writeServiceAccountToken(root, await tokenBoundToNewSecret('token-b'));
    // The token is cached for a minute (as client-go does) ...
    assert.equal(await whoAmI(client), 401);
    // ... then read again from the file.
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    t.after(() => mock.timers.reset());
    mock.timers.tick(61_000);
    assert.equal(await whoAmI(client), SERVICE_ACCOUNT_USER);
  });
});

// ---- the operator, started as the Deployment starts it ------------------------------------------------------------------

interface Replica {
  readonly process: ChildProcess;
  readonly logs: Record<string, unknown>[];
  readonly stderr: string[];
  readonly exited: Promise<number | null>;
  health: number;
  metrics: number;
}

const startedSchema = z.looseObject({
  msg: z.literal('Started manager'),
  metrics: z.object({ port: z.number() }),
  health: z.object({ port: z.number() }),
});

/**
 * Spawns the image's entry point (`node dist/operator/main.mjs`, the bundle of cmd/operator/main.ts) with the container's
 * args and env (ports moved to free loopback ports, since two replicas share this host), authenticated by a
 * ServiceAccount token, and with Node's permission model allowing reads only: a write anywhere on disk would crash it,
 * which is what a read-only root filesystem does.
 */
function startReplica(kubeconfigPath: string): Replica {
  const podEnv: Record<string, string> = { POD_NAMESPACE: OPERATOR_NAMESPACE };
  for (const e of manager.env) if (e.value !== undefined) podEnv[e.name] = e.value;
  const args = manager.args
    .map((a) => a.replace(/\$\((\w+)\)/g, (_, name: string) => podEnv[name] ?? ''))
    .map((a) => (/^--(metrics-bind-address|health-probe-bind-address)=/.test(a) ? a.replace(/=.*/, '=127.0.0.1:0') : a));
  const child = spawn(process.execPath, ['--permission', '--allow-fs-read=*', operatorBundle, ...args, `--kubeconfig=${kubeconfigPath}`], {
    env: { PATH: process.env.PATH ?? '', ...podEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const replica: Replica = {
    process: child,
    logs: [],
    stderr: [],
    exited: new Promise((resolveExit) => child.on('exit', (code) => resolveExit(code))),
    health: 0,
    metrics: 0,
  };
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        replica.logs.push(entry);
        const started = startedSchema.safeParse(entry);
        if (started.success) {
          replica.health = started.data.health.port;
          replica.metrics = started.data.metrics.port;
        }
      } catch {
        replica.stderr.push(line);
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => replica.stderr.push(chunk.toString('utf8')));
  return replica;
}

async function httpStatus(port: number, path: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  await res.arrayBuffer();
  return res.status;
}

async function leads(r: Replica): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${r.metrics}/metrics`);
  return /^leader_election_master_status\{name="kube-endpoints-operator"\} 1$/m.test(await res.text());
}

/** Peak resident memory (VmHWM) of a process, in bytes. */
function peakRss(pid: number): number {
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) * 1024;
}

const endpointsSchema = z.looseObject({
  subsets: z.array(z.looseObject({ addresses: z.array(z.looseObject({ ip: z.string() })).optional() })).optional(),
});
const sliceListSchema = z.array(z.looseObject({ endpoints: z.array(z.looseObject({ addresses: z.array(z.string()) })).nullish() }));

async function publishedIPs(ns: string): Promise<{ endpoints: string; slices: string }> {
  const ep = endpointsSchema.parse(await admin.get(ENDPOINTS, ns, 'web'));
  const slices = sliceListSchema.parse((await admin.list(ENDPOINT_SLICES, ns, { labelSelector: 'kubernetes.io/service-name=web' })).items);
  return {
    endpoints: (ep.subsets ?? [])
      .flatMap((s) => (s.addresses ?? []).map((a) => a.ip))
      .sort()
      .join(),
    slices: slices
      .flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses))
      .sort()
      .join(),
  };
}

async function readyPod(ns: string, name: string, ip: string): Promise<void> {
  await admin.create(PODS, ns, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'web' } },
    spec: { nodeName: 'node-a', containers: [{ name: 'app', image: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
  });
  await env.setPodStatus({ metadata: { namespace: ns, name } }, { podIPs: [ip] });
}

describe('the operator as deployed: two replicas, the ServiceAccount, the shipped RBAC, a read-only filesystem', () => {
  const replicas: Replica[] = [];
  after(async () => {
    for (const r of replicas) if (r.process.exitCode === null) r.process.kill('SIGKILL');
  });

  it(
    'elects one leader, publishes endpoints, hands over on SIGTERM within the grace period, and stays under its memory limit',
    { timeout: 180_000 },
    async (t) => {
      const kubeconfigPath = join(work, 'operator.kubeconfig');
      await writeFile(kubeconfigPath, tokenKubeconfig(env.cluster.server, env.cluster.caPem, await serviceAccountToken(admin)));
      const problems = (r: Replica) =>
        `\nstderr: ${r.stderr.join('').slice(-2000)}\nlast log lines:\n${r.logs
          .slice(-12)
          .map((l) => JSON.stringify(l).slice(0, 400))
          .join('\n')}`;
      replicas.push(startReplica(kubeconfigPath), startReplica(kubeconfigPath));
      for (const r of replicas) {
        await waitFor(() => r.health > 0 && r.metrics > 0, {
          description: `replica ${r.process.pid} to serve probes${problems(r)}`,
          timeoutMs: BOUND_MS,
        });
        // Both are ready: the leader once its caches synced, the standby at once (a rollout must not wait on it).
        await waitFor(async () => (await httpStatus(r.health, '/readyz')) === 200, {
          description: `replica ${r.process.pid} /readyz`,
          timeoutMs: BOUND_MS,
        });
        assert.equal(await httpStatus(r.health, '/healthz'), 200);
      }
      const leader = await waitFor(
        async () => {
          const leading = [];
          for (const r of replicas) if (await leads(r)) leading.push(r);
          return leading.length === 1 ? leading[0] : undefined;
        },
        { description: 'exactly one leader', timeoutMs: BOUND_MS },
      );
      const standby = replicas.find((r) => r !== leader);
      assert.ok(standby !== undefined);
      for (const r of replicas) {
        // Read as the ServiceAccount: /version is public, so the shipped RBAC needs nothing for it.
        const connected = r.logs.find((l) => l.msg === 'Connected to API server');
        assert.equal(connected?.serverVersion, EXPECTED_KUBE_VERSION, `the version line of replica ${r.process.pid}${problems(r)}`);
      }
      const lease = z
        .looseObject({ spec: z.looseObject({ holderIdentity: z.string() }) })
        .parse(await admin.get(LEASES, OPERATOR_NAMESPACE, 'kube-endpoints-operator'));
      assert.ok(lease.spec.holderIdentity !== '', 'the Lease lives in the operator namespace and names its holder');

      const ns = await env.createNamespace('deployed');
      await env.createNode('node-a', 'zone-a');
      await readyPod(ns, 'web-1', '10.5.0.1');
      await admin.create(SERVICES, ns, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web' },
        spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
      });
      await waitFor(async () => JSON.stringify(await publishedIPs(ns)) === JSON.stringify({ endpoints: '10.5.0.1', slices: '10.5.0.1' }), {
        description: `Endpoints and EndpointSlice of web${problems(leader)}\nSTANDBY${problems(standby)}`,
        timeoutMs: BOUND_MS,
      });

      const leaderPeak = peakRss(leader.process.pid ?? 0);
      const sigterm = performance.now();
      leader.process.kill('SIGTERM');
      assert.equal(await leader.exited, 0, `leader exit${problems(leader)}`);
      const stopMs = performance.now() - sigterm;
      assert.ok(stopMs < podSpec.terminationGracePeriodSeconds * 1000, `stopped in ${stopMs} ms`);
      const handover = performance.now();
      await waitFor(() => leads(standby), { description: 'the standby to take the Lease over', timeoutMs: BOUND_MS });
      const handoverMs = performance.now() - handover;
      await readyPod(ns, 'web-2', '10.5.0.2');
      await waitFor(
        async () =>
          JSON.stringify(await publishedIPs(ns)) === JSON.stringify({ endpoints: '10.5.0.1,10.5.0.2', slices: '10.5.0.1,10.5.0.2' }),
        { description: `the new leader to publish web-2${problems(standby)}`, timeoutMs: BOUND_MS },
      );

      const standbyPeak = peakRss(standby.process.pid ?? 0);
      standby.process.kill('SIGTERM');
      assert.equal(await standby.exited, 0, `standby exit${problems(standby)}`);
      const limit = quantityBytes(manager.resources.limits.memory);
      for (const peak of [leaderPeak, standbyPeak]) assert.ok(peak < limit, `peak RSS ${peak} >= limit ${limit}`);
      for (const r of replicas) assert.ok(!r.stderr.join('').includes('ERR_ACCESS_DENIED'), 'the operator tried to write to disk');
      t.diagnostic(`SIGTERM to exit: ${Math.round(stopMs)} ms; handover: ${Math.round(handoverMs)} ms`);
      t.diagnostic(
        `peak RSS: leader ${(leaderPeak / 2 ** 20).toFixed(1)} MiB, standby ${(standbyPeak / 2 ** 20).toFixed(1)} MiB (limit ${manager.resources.limits.memory})`,
      );
    },
  );
});
