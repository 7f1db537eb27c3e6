import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WhyPodReport } from '../../cmd/kubectl-endpoints/plugin/explain/explain-pod.ts';
import type { WhyReport } from '../../cmd/kubectl-endpoints/plugin/explain/explain-why.ts';
import { DEFAULT_EXPLAIN_SETTINGS } from '../../cmd/kubectl-endpoints/plugin/explain/snapshot.ts';
import { explainDiff } from '../../cmd/kubectl-endpoints/plugin/explain/explain-diff.ts';
import { fetchSnapshot } from '../../cmd/kubectl-endpoints/plugin/fetch-snapshot.ts';
import { setupEndpointsController } from '../../controllers/endpoints/controller.ts';
import { setupEndpointSliceController } from '../../controllers/endpointslice/controller.ts';
import { PODS, SERVICES } from '../../controllers/runtime/resource.ts';
import { type BuildResult, buildPlugin } from '../../hack/build-plugin.ts';
import packageJson from '../../package.json' with { type: 'json' };
import { startTestCluster } from '../envtest/test-cluster.ts';
import { waitFor } from '../envtest/wait-for.ts';
import { startOperator } from './operator-harness.ts';

// The released form of the plugin: `npm run build:plugin`'s single executable, taken out of its tar.gz as krew would,
// run by kubectl from a PATH that has kubectl and the plugin but no Node at all, against a real API server. Also the
// CI check of the krew manifest: the committed plugins/endpoints.yaml must be what this build writes, apart from the
// archive's sha256, which every change to a bundled source moves and which a release refreshes (npm run build:plugin,
// then npm run verify:plugin compares the whole file).

const root = join(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'kubectl-endpoints-binary-'));
const binDir = join(work, 'bin');
after(() => rmSync(work, { recursive: true, force: true }));

const env = await startTestCluster({ name: 'kubectl-endpoints-binary-test' });
const operator = startOperator(env, (r) => {
  setupEndpointsController(r, {});
  setupEndpointSliceController(r, {});
});
after(() => operator.stop());
const ns = await env.createNamespace('binary');
const kubeconfig = env.cluster.kubeconfigPath;

let built: BuildResult;
let buildSeconds = 0;
before(async () => {
  const started = performance.now();
  built = await buildPlugin(join(work, 'dist'));
  buildSeconds = (performance.now() - started) / 1000;
  // Installed as krew does it: the archive unpacked, its executable on the PATH; and kubectl beside it.
  rmSync(binDir, { recursive: true, force: true });
  const untar = spawnSync('tar', ['-xzf', built.archive, '-C', work, '--one-top-level=bin'], { encoding: 'utf8' });
  assert.equal(untar.status, 0, untar.stderr);
  const kubectl = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();
  assert.notEqual(kubectl, '', 'kubectl on the PATH');
  symlinkSync(kubectl, join(binDir, 'kubectl'));
});

/** Runs `kubectl args` with only binDir on the PATH. */
function kubectlNoNode(args: readonly string[], extraEnv: Record<string, string> = {}) {
  const started = performance.now();
  const r = spawnSync(join(binDir, 'kubectl'), args, {
    encoding: 'utf8',
    env: { PATH: binDir, HOME: work, NO_COLOR: '1', ...extraEnv },
    timeout: 60_000,
  });
  return { ...r, ms: performance.now() - started };
}

describe('kubectl-endpoints as a single executable, without Node', () => {
  it('the archive holds the executable and the LICENSE; the krew manifest has its sha256', (t) => {
    t.diagnostic(
      `build ${buildSeconds.toFixed(1)} s; executable ${(readFileSync(built.binary).length / 1e6).toFixed(1)} MB; archive ${(readFileSync(built.archive).length / 1e6).toFixed(1)} MB`,
    );
    const list = spawnSync('tar', ['-tzf', built.archive], { encoding: 'utf8' });
    assert.deepEqual(list.stdout.trim().split('\n'), ['kubectl-endpoints', 'LICENSE']);
    assert.equal(readFileSync(join(binDir, 'LICENSE'), 'utf8'), readFileSync(join(root, 'LICENSE'), 'utf8'));
    assert.match(built.manifest, new RegExp(`sha256: ${built.sha256}\n`));
    const withoutSha = (manifest: string) => manifest.replace(/sha256: [0-9a-f]{64}\n/g, 'sha256: <archive>\n');
    assert.equal(
      withoutSha(readFileSync(join(root, 'plugins/endpoints.yaml'), 'utf8')),
      withoutSha(built.manifest),
      'plugins/endpoints.yaml is stale: run npm run build:plugin and commit it',
    );
  });

  it('kubectl endpoints --version runs with no node on the PATH', (t) => {
    const node = spawnSync('/bin/sh', ['-c', 'command -v node'], { env: { PATH: binDir }, encoding: 'utf8' });
    assert.notEqual(node.status, 0, `node must not be on the PATH: ${node.stdout}`);
    const r = kubectlNoNode(['endpoints', '--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `kubectl-endpoints ${packageJson.version}\n`);
    t.diagnostic(`kubectl endpoints --version: ${r.ms.toFixed(0)} ms`);
  });

  describe('against the API server', () => {
    before(async () => {
      await env.createNode('node-1');
      await env.client.create(SERVICES, ns, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web' },
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
      });
      await env.client.create(PODS, ns, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web-1', labels: { app: 'web' } },
        spec: {
          nodeName: 'node-1',
          containers: [{ name: 'app', image: 'example.invalid/app:1', ports: [{ name: 'http', containerPort: 8080 }] }],
        },
      });
      const now = new Date().toISOString();
      await env.client.patch(
        PODS,
        ns,
        'web-1',
        {
          status: {
            phase: 'Running',
            podIP: '10.247.0.1',
            podIPs: [{ ip: '10.247.0.1' }],
            conditions: [
              { type: 'Ready', status: 'True', lastTransitionTime: now },
              { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
            ],
          },
        },
        'merge',
        { subresource: 'status' },
      );
      await waitFor(
        async () => explainDiff(await fetchSnapshot(env.client, ns, 'web', AbortSignal.timeout(10_000)), DEFAULT_EXPLAIN_SETTINGS).inSync,
        { description: 'the endpoints of web written', timeoutMs: 30_000, intervalMs: 200 },
      );
    });

    it('kubectl endpoints why SERVICE and why SERVICE POD', (t) => {
      const why = kubectlNoNode(['endpoints', 'why', 'web', '-n', ns, '-o', 'json'], { KUBECONFIG: kubeconfig });
      assert.equal(why.status, 0, why.stderr);
      const report = JSON.parse(why.stdout) as WhyReport;
      assert.deepEqual([report.service.name, report.published.ready, report.pods.map((p) => p.pod)], ['web', 1, ['web-1']]);
      t.diagnostic(`kubectl endpoints why web: ${why.ms.toFixed(0)} ms`);

      const pod = kubectlNoNode(['endpoints', 'why', 'web', 'web-1', '-n', ns, '-o', 'json'], { KUBECONFIG: kubeconfig });
      assert.equal(pod.status, 0, pod.stderr);
      const podReport = JSON.parse(pod.stdout) as WhyPodReport;
      assert.deepEqual(
        [podReport.verdict?.state, podReport.storedEndpoints],
        ['ready', [{ ip: '10.247.0.1', ready: true, ports: ['http:8080/TCP'] }]],
      );

      const text = kubectlNoNode(['endpoints', 'why', 'svc/web', 'pod/web-1', '-n', ns], { KUBECONFIG: kubeconfig });
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, /^Pod \S+\/web-1 behind Service web \(ClusterIP [\d.]+\)\n {2}selector {5}✓ app=web\n/);
    });
  });
});
