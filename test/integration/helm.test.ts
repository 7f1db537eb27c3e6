import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { z } from 'zod';
import { CONTROLLER_NAMES, parseConfig } from '../../cmd/operator/config.ts';
import { startTestCluster } from '../envtest/test-cluster.ts';
import { buildHelm, CHART, helmCli, parseManifests } from './helm-cli.ts';
import { kubectl, type ManifestObject, OPERATOR_NAMESPACE, REPO, renderKustomization } from './shipped-config.ts';

// The Helm chart (charts/kube-endpoints-operator, generated from config/ by `npm run generate:helm`) with the real helm
// (built from helm.sh/helm/v4 by hack/build-helm.sh): its default render is the kustomize install, its values change
// what they say and nothing else, the operator accepts every argument list it renders, the schema refuses bad values
// readably, and it installs, upgrades and uninstalls on a real kube-apiserver.

const RELEASE = 'kube-endpoints-operator';
const work = await mkdtemp(join(tmpdir(), 'helm-test-'));
after(() => rm(work, { recursive: true, force: true }));
const helmBinary = buildHelm();
const helm = await helmCli(helmBinary, join(work, 'helm'));

/** Labels Helm charts add by convention (helm create's): only these may be in the chart's objects and not in config/'s. */
const HELM_STANDARD_LABELS = new Set([
  'helm.sh/chart',
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/managed-by',
]);

/** `helm` object with every standard Helm label that `kustomize` does not have at the same place removed. */
function withoutAddedStandardLabels(helmValue: unknown, kustomizeValue: unknown): unknown {
  if (Array.isArray(helmValue) && Array.isArray(kustomizeValue))
    return helmValue.map((v: unknown, i) => withoutAddedStandardLabels(v, kustomizeValue[i]));
  if (typeof helmValue !== 'object' || helmValue === null || typeof kustomizeValue !== 'object' || kustomizeValue === null)
    return helmValue;
  const k = kustomizeValue as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(helmValue as Record<string, unknown>)
      .filter(([key]) => Object.hasOwn(k, key) || !HELM_STANDARD_LABELS.has(key))
      .map(([key, v]) => [key, withoutAddedStandardLabels(v, k[key])]),
  );
}

const idOf = (o: { kind: string; metadata: { name: string; namespace?: string | undefined } }) =>
  `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** `helm template` with the given `--set`/`-f` arguments; fails the test when helm does. */
async function render(...args: string[]): Promise<ManifestObject[]> {
  const r = await helm('template', RELEASE, CHART, '--namespace', OPERATOR_NAMESPACE, ...args);
  assert.equal(r.code, 0, r.stderr);
  return parseManifests(r.stdout);
}

const containerSchema = z.looseObject({
  args: z.array(z.string()),
  image: z.string(),
  env: z.array(z.looseObject({ name: z.string(), value: z.string().optional() })),
});
const deploymentSchema = z.looseObject({
  kind: z.literal('Deployment'),
  metadata: z.looseObject({ name: z.string(), labels: z.record(z.string(), z.string()).optional() }),
  spec: z.looseObject({
    replicas: z.number(),
    selector: z.object({ matchLabels: z.record(z.string(), z.string()) }),
    template: z.looseObject({ spec: z.looseObject({ containers: z.tuple([containerSchema]) }) }),
  }),
});

function deploymentOf(objects: readonly ManifestObject[]): z.infer<typeof deploymentSchema> {
  return deploymentSchema.parse(objects.find((o) => o.kind === 'Deployment'));
}

/** The operator's own parse of a rendered argument list (as the kubelet expands `$(POD_NAMESPACE)`). */
function operatorConfig(args: readonly string[]) {
  const parsed = parseConfig(args.map((a) => a.replace('$(POD_NAMESPACE)', OPERATOR_NAMESPACE)));
  assert.equal(parsed.kind, 'run', parsed.kind === 'error' ? parsed.message : parsed.kind);
  return parsed.kind === 'run' ? parsed.config : assert.fail();
}

const clusterRoles = (objects: readonly ManifestObject[]) =>
  objects
    .filter((o) => o.kind === 'ClusterRole')
    .map((o) => o.metadata.name)
    .sort();

// ---- on a real API server ------------------------------------------------------------------------------------------------
// Started before the first describe, as everything awaited at the top level: node:test runs the file's `after` hooks
// (the work directory's removal) as soon as the describes declared so far are done.

const env = await startTestCluster({ name: 'helm-test' });
const kubeconfig = env.cluster.kubeconfigPath;
const helmOn = await helmCli(helmBinary, join(work, 'helm'), kubeconfig);
const NS = OPERATOR_NAMESPACE;

const liveSchema = z.looseObject({
  kind: z.string(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional(), deletionTimestamp: z.string().optional() }),
});

/** The objects of `objects` that exist on the API server now (kubectl get -f, not-found ones left out). */
async function live(objects: readonly ManifestObject[], file: string): Promise<z.infer<typeof liveSchema>[]> {
  await writeFile(join(work, file), objects.map((o) => stringify(o)).join('---\n'));
  const got = await kubectl(kubeconfig, 'get', '-f', join(work, file), '--ignore-not-found', '-o', 'json');
  assert.equal(got.code, 0, got.stderr);
  if (got.stdout.trim() === '') return [];
  const parsed = z.looseObject({ kind: z.string(), items: z.array(z.unknown()).optional() }).parse(JSON.parse(got.stdout));
  return (parsed.kind === 'List' ? (parsed.items ?? []) : [parsed]).map((o) => liveSchema.parse(o));
}

async function releaseManifest(): Promise<ManifestObject[]> {
  const r = await helmOn('get', 'manifest', RELEASE, '-n', NS);
  assert.equal(r.code, 0, r.stderr);
  return parseManifests(r.stdout);
}

/** Names of the releases in the namespace, in any state. */
async function releases(): Promise<string[]> {
  const states = ['--deployed', '--failed', '--pending', '--superseded', '--uninstalling', '--uninstalled'];
  const listed = await helmOn('list', '-n', NS, '-q', ...states);
  assert.equal(listed.code, 0, listed.stderr);
  return listed.stdout.split('\n').filter((l) => l !== '');
}

async function liveDeployment() {
  const got = await kubectl(kubeconfig, 'get', 'deployment', RELEASE, '-n', NS, '-o', 'json');
  assert.equal(got.code, 0, got.stderr);
  return deploymentSchema.parse(JSON.parse(got.stdout));
}

const crdNames = (await render('--include-crds')).filter((o) => o.kind === 'CustomResourceDefinition').map((o) => `crd/${o.metadata.name}`);

async function crdsEstablished(): Promise<void> {
  const established = await kubectl(kubeconfig, 'wait', '--for=condition=Established', '--timeout=60s', ...crdNames);
  assert.equal(established.code, 0, established.stderr);
}

describe('the chart, rendered by helm template', () => {
  it('with default values renders exactly the objects of kubectl kustomize config/default, plus Helm’s standard labels', async () => {
    const [charted, kustomized] = await Promise.all([render('--include-crds'), renderKustomization(join(REPO, 'config/default'))]);
    assert.deepEqual(charted.map(idOf).sort(), kustomized.map(idOf).sort());
    for (const k of kustomized) {
      const h = charted.find((o) => idOf(o) === idOf(k));
      assert.deepEqual(withoutAddedStandardLabels(h, k), k, idOf(k));
    }
    // The standard labels are there, and the selectors gained the release instance (two releases never overlap).
    const deployment = deploymentOf(charted);
    assert.equal(deployment.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm');
    assert.equal(deployment.spec.selector.matchLabels['app.kubernetes.io/instance'], RELEASE);
  });

  it('passes helm lint --strict, with default values and with every switch turned', async () => {
    const lint = await helm('lint', '--strict', CHART);
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);
    const turned = await helm(
      'lint',
      '--strict',
      CHART,
      ...['--set', 'metrics.enabled=false,podDisruptionBudget.enabled=false,namespace.create=false,replicaCount=1'],
      ...['--set', 'leaderElection.enabled=false,controllers.endpoints-controller=false,metrics.serviceMonitor.enabled=true'],
    );
    assert.equal(turned.code, 0, turned.stdout + turned.stderr);
  });

  it('derives the V8 heap cap in NODE_OPTIONS from the memory limit', async () => {
    const nodeOptions = async (...args: string[]) =>
      deploymentOf(await render(...args)).spec.template.spec.containers[0].env.find((e) => e.name === 'NODE_OPTIONS')?.value;
    assert.equal(await nodeOptions(), '--max-old-space-size=256 --max-semi-space-size=16');
    assert.equal(await nodeOptions('--set', 'resources.limits.memory=1Gi'), '--max-old-space-size=512 --max-semi-space-size=16');
    assert.equal(
      await nodeOptions('--set', 'resources.limits.memory=800Mi,nodeHeap.percentOfMemoryLimit=40,nodeHeap.maxSemiSpaceSizeMiB=8'),
      '--max-old-space-size=320 --max-semi-space-size=8',
    );
  });

  it('a disabled controller: --controllers names the others and its ClusterRole and binding are not rendered', async () => {
    const objects = await render('--set', 'controllers.endpoints-controller=false,controllers.session-affinity-controller=false');
    const { args } = deploymentOf(objects).spec.template.spec.containers[0];
    assert.ok(
      args.includes('--controllers=endpointslice-controller,endpointslice-mirroring-controller,external-endpoints-controller'),
      args.join(' '),
    );
    assert.deepEqual(operatorConfig(args).controllers, [
      'endpointslice-controller',
      'endpointslice-mirroring-controller',
      'external-endpoints-controller',
    ]);
    assert.deepEqual(clusterRoles(objects), [
      `${RELEASE}:endpointslice-controller`,
      `${RELEASE}:endpointslice-mirroring-controller`,
      `${RELEASE}:external-endpoints-controller`,
    ]);
    assert.equal(objects.filter((o) => o.kind === 'ClusterRoleBinding').length, 3);
    // All on (the default): no flag, the operator runs every controller.
    const defaults = deploymentOf(await render()).spec.template.spec.containers[0].args;
    assert.ok(!defaults.some((a) => a.startsWith('--controllers')));
    assert.deepEqual(operatorConfig(defaults).controllers, CONTROLLER_NAMES);
  });

  it('renders the probe policy, leader election timings, log level and extra flags, and the operator accepts them', async () => {
    const values = join(work, 'flags.yaml');
    await writeFile(
      values,
      JSON.stringify({
        externalEndpoints: { probeAllowedCIDRs: ['10.0.0.0/8', 'fd00::/8'], probeDeniedCIDRs: [], probeConcurrency: 25 },
        leaderElection: { leaseDuration: '30s', renewDeadline: '20s', retryPeriod: '4s' },
        logLevel: 'debug',
        extraArgs: ['--kube-api-qps=50'],
      }),
    );
    const config = operatorConfig(deploymentOf(await render('-f', values)).spec.template.spec.containers[0].args);
    assert.deepEqual(config.externalEndpoints, {
      probeAllowedCIDRs: ['10.0.0.0/8', 'fd00::/8'],
      probeDeniedCIDRs: [],
      probeConcurrency: 25,
    });
    assert.deepEqual(
      [config.leaderElection.leaseDurationMs, config.leaderElection.renewDeadlineMs, config.leaderElection.retryPeriodMs],
      [30_000, 20_000, 4_000],
    );
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.kubeApi.qps, 50);
  });

  it('leader election off: --leader-elect=false and no Lease Role; metrics off: no Service and no /metrics listener', async () => {
    const objects = await render('--set', 'leaderElection.enabled=false,replicaCount=1,metrics.enabled=false');
    const config = operatorConfig(deploymentOf(objects).spec.template.spec.containers[0].args);
    assert.equal(config.leaderElection.enabled, false);
    assert.equal(config.metricsBindAddress, '0');
    assert.deepEqual(
      objects.filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding' || o.kind === 'Service'),
      [],
    );
  });

  it('renders a ServiceMonitor for the metrics Service only when asked', async () => {
    assert.ok(!(await render()).some((o) => o.kind === 'ServiceMonitor'));
    const objects = await render('--set', 'metrics.serviceMonitor.enabled=true,metrics.serviceMonitor.interval=30s');
    const monitor = z
      .looseObject({
        spec: z.object({
          selector: z.object({ matchLabels: z.record(z.string(), z.string()) }),
          endpoints: z.array(z.looseObject({ port: z.string(), interval: z.string() })),
        }),
      })
      .parse(objects.find((o) => o.kind === 'ServiceMonitor'));
    const service = z
      .looseObject({
        metadata: z.looseObject({ labels: z.record(z.string(), z.string()) }),
        spec: z.looseObject({ ports: z.array(z.looseObject({ name: z.string() })) }),
      })
      .parse(objects.find((o) => o.kind === 'Service'));
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(service.metadata.labels[k], v, k);
    assert.deepEqual(
      monitor.spec.endpoints.map((e) => [e.port, e.interval]),
      [[service.spec.ports[0]?.name, '30s']],
    );
  });

  it('names every object after the release (or fullnameOverride) and namespaces them in the release namespace', async () => {
    const objects = await render('--set', 'fullnameOverride=keo', '--namespace', 'elsewhere');
    for (const o of objects) {
      assert.match(o.metadata.name, o.kind === 'Namespace' ? /^elsewhere$/ : /^keo($|-|:)/, idOf(o));
      if (o.kind !== 'Namespace' && !o.kind.startsWith('Cluster')) assert.equal(o.metadata.namespace, 'elsewhere', idOf(o));
    }
    const rendered = await helm('template', 'other', CHART);
    assert.equal(rendered.code, 0, rendered.stderr);
    assert.equal(deploymentOf(parseManifests(rendered.stdout)).metadata.name, `other-${RELEASE}`);
  });

  it('refuses bad values with the value’s path and what is wrong', async () => {
    const refused = async (args: readonly string[], message: RegExp) => {
      const r = await helm('template', RELEASE, CHART, ...args);
      assert.notEqual(r.code, 0, `${args.join(' ')} was accepted`);
      assert.match(r.stderr, message);
    };
    await refused(['--set', 'replicaCount=two'], /at '\/replicaCount': got string, want integer/);
    await refused(
      ['--set', 'controllers.endpoint-controller=false'],
      /at '\/controllers': additional properties 'endpoint-controller' not allowed/,
    );
    await refused(['--set', 'resources.limits.memory=512M'], /at '\/resources\/limits\/memory': '512M' does not match pattern/);
    await refused(
      ['--set', 'image.pullPolicy=Sometimes'],
      /at '\/image\/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'/,
    );
    await refused(['--set', 'leaderElection.leaseDuration=15'], /at '\/leaderElection\/leaseDuration'/);
    await refused(['--set', 'replicaCount=2,leaderElection.enabled=false'], /replicaCount is 2 but leaderElection.enabled is false/);
    await refused(
      ['--set', CONTROLLER_NAMES.map((n) => `controllers.${n}=false`).join(',')],
      /controllers: every controller is disabled; enable at least one/,
    );
  });
});

describe('helm install, upgrade and uninstall on a real API server', () => {
  it('helm install --create-namespace creates every object of the chart and the CRDs, without a warning', async () => {
    const installed = await helmOn('install', RELEASE, CHART, '-n', NS, '--create-namespace');
    assert.equal(installed.code, 0, installed.stderr);
    assert.equal(installed.stderr, '', 'helm printed warnings');
    await crdsEstablished();

    const manifest = await releaseManifest();
    assert.deepEqual((await live(manifest, 'installed.yaml')).map(idOf).sort(), manifest.map(idOf).sort());
    // The kustomize Deployment's spec, as the API server stored it from the chart.
    const deployment = await liveDeployment();
    const kustomized = deploymentOf(await renderKustomization(join(REPO, 'config/default')));
    assert.equal(deployment.spec.replicas, 2);
    assert.deepEqual(deployment.spec.template.spec.containers[0].args, kustomized.spec.template.spec.containers[0].args);
    assert.equal(deployment.spec.template.spec.containers[0].image, kustomized.spec.template.spec.containers[0].image);
    // The namespace Helm created was adopted by the chart and carries Pod Security `restricted`.
    const namespace = await kubectl(kubeconfig, 'get', 'namespace', NS, '-o', 'jsonpath={.metadata.labels}');
    assert.equal(z.record(z.string(), z.string()).parse(JSON.parse(namespace.stdout))['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  it('refuses bad values at install with the schema’s message, and installs nothing', async () => {
    const bad = await helmOn('install', 'bad', CHART, '-n', NS, '--set', 'namespace.create=false,replicaCount=-1');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /values don't meet the specifications of the schema/);
    assert.match(bad.stderr, /at '\/replicaCount'/);
    assert.deepEqual(await releases(), [RELEASE]);
  });

  it('helm upgrade to 3 replicas without the endpoints controller changes the Deployment and drops that controller’s RBAC', async () => {
    const values = join(work, 'upgrade.yaml');
    await writeFile(values, JSON.stringify({ replicaCount: 3, controllers: { 'endpoints-controller': false } }));
    const upgraded = await helmOn('upgrade', RELEASE, CHART, '-n', NS, '-f', values);
    assert.equal(upgraded.code, 0, upgraded.stderr);

    const deployment = await liveDeployment();
    assert.equal(deployment.spec.replicas, 3);
    const { args } = deployment.spec.template.spec.containers[0];
    assert.deepEqual(
      operatorConfig(args).controllers,
      CONTROLLER_NAMES.filter((n) => n !== 'endpoints-controller'),
    );
    const roles = await kubectl(kubeconfig, 'get', 'clusterroles', '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'name');
    assert.deepEqual(
      roles.stdout.trim().split('\n').sort(),
      CONTROLLER_NAMES.filter((n) => n !== 'endpoints-controller').map((n) => `clusterrole.rbac.authorization.k8s.io/${RELEASE}:${n}`),
    );
    const history = await helmOn('history', RELEASE, '-n', NS, '-o', 'json');
    assert.deepEqual(
      z
        .array(z.looseObject({ revision: z.number() }))
        .parse(JSON.parse(history.stdout))
        .map((h) => h.revision),
      [1, 2],
    );
  });

  it('helm uninstall deletes every object of the release but the CRDs', async () => {
    const manifest = await releaseManifest();
    const uninstalled = await helmOn('uninstall', RELEASE, '-n', NS);
    assert.equal(uninstalled.code, 0, uninstalled.stderr);
    // Only the Namespace is left, being deleted: finishing that is kube-controller-manager's namespace controller's job,
    // which this test cluster does not run.
    const left = await live(manifest, 'uninstalled.yaml');
    assert.deepEqual(left.map(idOf), [`Namespace//${NS}`]);
    assert.ok(left[0]?.metadata.deletionTimestamp !== undefined, 'the Namespace is not being deleted');
    // Helm never deletes CRDs (they hold every user's custom resources).
    await crdsEstablished();
    assert.deepEqual(await releases(), []);
  });

  it('with namespace.create=false installs into a namespace that exists, and uninstalling leaves that namespace', async () => {
    const ns = await env.createNamespace('existing');
    const installed = await helmOn('install', RELEASE, CHART, '-n', ns, '--set', 'namespace.create=false');
    assert.equal(installed.code, 0, installed.stderr);
    const manifest = parseManifests((await helmOn('get', 'manifest', RELEASE, '-n', ns)).stdout);
    assert.ok(!manifest.some((o) => o.kind === 'Namespace'));
    assert.equal((await live(manifest, 'existing.yaml')).length, manifest.length);
    const uninstalled = await helmOn('uninstall', RELEASE, '-n', ns);
    assert.equal(uninstalled.code, 0, uninstalled.stderr);
    assert.deepEqual(await live(manifest, 'existing-uninstalled.yaml'), []);
    const namespace = await kubectl(kubeconfig, 'get', 'namespace', ns, '-o', 'jsonpath={.status.phase}');
    assert.equal(namespace.stdout, 'Active');
  });
});
