import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CONTROLLER_NAMES, LOG_LEVELS } from '../cmd/operator/config.ts';
import { chartDrift, renderChartFiles } from './helm/chart-files.ts';
import { readKustomizeSources, UnsupportedKustomizationError } from './helm/kustomize-sources.ts';
import { ManifestShapeError } from './helm/manifest-templates.ts';

const run = promisify(execFile);
const script = join(import.meta.dirname, 'generate-helm.ts');
const root = join(import.meta.dirname, '..');

async function generateHelm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const sources = await readKustomizeSources(root, 'config/default');
const inputs = {
  name: 'kube-endpoints-operator',
  version: '0.1.0',
  description: 'test',
  sources,
  controllers: CONTROLLER_NAMES,
  probeAllowedCIDRs: ['0.0.0.0/0'],
  probeDeniedCIDRs: [],
  logLevels: LOG_LEVELS,
};
const withDeployment = (edit: (text: string) => string) => ({
  ...inputs,
  sources: {
    ...sources,
    manifests: sources.manifests.map((m) => (m.path.endsWith('deployment.yaml') ? { ...m, text: edit(m.text) } : m)),
  },
});

describe('hack/generate-helm.ts', () => {
  it('--verify exits 0 with one line when the committed chart is what config/ generates', async () => {
    const r = await generateHelm('--verify');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^verify-helm: \d+ files in charts\/kube-endpoints-operator are up to date\n$/);
  });

  it('reports a drifted file with its first differing line, and a file it does not generate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'helm-drift-'));
    try {
      const files = renderChartFiles(inputs);
      for (const f of files) {
        await mkdir(join(dir, f.path, '..'), { recursive: true });
        await writeFile(join(dir, f.path), f.content);
      }
      assert.deepEqual(await chartDrift(dir, 'charts/kube-endpoints-operator', files), []);
      const values = join(dir, 'charts/kube-endpoints-operator/values.yaml');
      await writeFile(values, (await readFile(values, 'utf8')).replace('replicaCount: 2', 'replicaCount: 3'));
      await writeFile(join(dir, 'charts/kube-endpoints-operator/templates/extra.yaml'), 'kind: ConfigMap\n');
      const drift = await chartDrift(dir, 'charts/kube-endpoints-operator', files);
      assert.equal(drift.length, 2);
      assert.match(drift[0] ?? '', /values\.yaml is out of date \(line \d+: committed "replicaCount: 3", generated "replicaCount: 2"\)/);
      assert.equal(drift[1], 'charts/kube-endpoints-operator/templates/extra.yaml is not generated from config/ (remove it)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes values.yaml defaults from the Deployment: replicas, image, resources and the heap share of the limit', () => {
    const values =
      renderChartFiles(
        withDeployment((t) => t.replace('replicas: 2', 'replicas: 4').replace('--max-old-space-size=256', '--max-old-space-size=384')),
      ).find((f) => f.path.endsWith('values.yaml'))?.content ?? '';
    assert.match(values, /^replicaCount: 4$/m);
    assert.match(values, /^ {2}percentOfMemoryLimit: 75$/m);
    assert.match(values, /^ {4}memory: 512Mi$/m);
  });

  it('refuses sources it cannot template faithfully, saying what and where', () => {
    assert.throws(
      () => renderChartFiles(withDeployment((t) => t.replace('--max-old-space-size=256', '--max-old-space-size=300'))),
      (e: unknown) =>
        e instanceof ManifestShapeError && /--max-old-space-size=300 is not a whole percentage of the 512 MiB limit/.test(e.message),
    );
    assert.throws(
      () =>
        renderChartFiles(withDeployment((t) => t.replace('- --leader-elect=true', '- --leader-elect=true\n            - --controllers=*'))),
      /Deployment sets --controllers, which the chart renders from values/,
    );
    assert.throws(
      () =>
        renderChartFiles({
          ...inputs,
          sources: { ...sources, manifests: sources.manifests.filter((m) => !m.path.endsWith('leader-election.yaml')) },
        }),
      /config\/default includes no leader-election\.yaml/,
    );
  });

  it('refuses a kustomization feature it does not render (a patch would be lost)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'helm-kustomize-'));
    try {
      await mkdir(join(dir, 'overlay'));
      await writeFile(
        join(dir, 'overlay/kustomization.yaml'),
        'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: x\nresources: []\npatches: []\n',
      );
      await assert.rejects(
        readKustomizeSources(dir, 'overlay'),
        (e: unknown) => e instanceof UnsupportedKustomizationError && /patches/.test(e.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
