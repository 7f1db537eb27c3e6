import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KubeconfigError, type KubeconfigEnvironment, resolveKubeconfig } from './kubeconfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubectl-endpoints-kc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(
  file: string,
  current: string,
  contexts: { name: string; cluster: string; namespace?: string }[],
  servers: Record<string, string>,
): string {
  const path = join(dir, file);
  const yaml = [
    'apiVersion: v1',
    'kind: Config',
    `current-context: "${current}"`,
    'clusters:',
    ...Object.entries(servers).flatMap(([name, server]) => [`- name: ${name}`, '  cluster:', `    server: ${server}`]),
    'users:',
    '- name: admin',
    '  user:',
    '    token: t',
    'contexts:',
    ...contexts.flatMap((c) => [
      `- name: ${c.name}`,
      '  context:',
      `    cluster: ${c.cluster}`,
      '    user: admin',
      ...(c.namespace ? [`    namespace: ${c.namespace}`] : []),
    ]),
  ].join('\n');
  writeFileSync(path, yaml);
  return path;
}

const a = kubeconfig(
  'a.yaml',
  'dev',
  [
    { name: 'dev', cluster: 'one', namespace: 'shop' },
    { name: 'prod', cluster: 'two' },
  ],
  { one: 'https://127.0.0.1:1', two: 'https://127.0.0.1:2' },
);
const b = kubeconfig(
  'b.yaml',
  'other',
  [
    { name: 'dev', cluster: 'three' },
    { name: 'other', cluster: 'three' },
  ],
  { three: 'https://127.0.0.1:3' },
);
const home = join(dir, 'home');

const environment = (env: Record<string, string>, files: string[] = []): KubeconfigEnvironment => ({
  env,
  home,
  exists: (p) => files.includes(p) || p === a || p === b,
});

describe('resolveKubeconfig: kubectl precedence', () => {
  it('--kubeconfig wins over KUBECONFIG; the context namespace is the default', () => {
    const r = resolveKubeconfig({ kubeconfig: a }, environment({ KUBECONFIG: b }));
    assert.deepEqual(
      [r.source, r.context, r.namespace, r.kubeConfig.getCurrentCluster()?.server],
      ['flag', 'dev', 'shop', 'https://127.0.0.1:1'],
    );
  });

  it('KUBECONFIG files merge with the first file winning names and the current context', () => {
    const r = resolveKubeconfig({}, environment({ KUBECONFIG: [a, b].join(delimiter) }));
    assert.deepEqual([r.source, r.context, r.kubeConfig.getCurrentCluster()?.server], ['KUBECONFIG', 'dev', 'https://127.0.0.1:1']);
    assert.ok(r.kubeConfig.getContextObject('other'), 'contexts of later files are kept');
  });

  it('KUBECONFIG entries that do not exist are skipped', () => {
    const r = resolveKubeconfig({}, environment({ KUBECONFIG: [join(dir, 'missing'), b].join(delimiter) }));
    assert.equal(r.context, 'other');
  });

  it('--context switches context; -n overrides; no namespace means default', () => {
    assert.deepEqual(
      (({ context, namespace }) => [context, namespace])(resolveKubeconfig({ kubeconfig: a, context: 'prod' }, environment({}))),
      ['prod', 'default'],
    );
    assert.equal(resolveKubeconfig({ kubeconfig: a, namespace: 'x' }, environment({})).namespace, 'x');
  });

  it('~/.kube/config when nothing else is given', () => {
    const homeConfig = join(home, '.kube', 'config');
    mkdirSync(join(home, '.kube'), { recursive: true });
    copyFileSync(b, homeConfig);
    const r = resolveKubeconfig({}, { env: {}, home, exists: (p) => p === homeConfig });
    assert.deepEqual([r.source, r.context], ['home', 'other']);
  });

  it('errors: unknown context, missing file, nothing at all', () => {
    assert.throws(() => resolveKubeconfig({ kubeconfig: a, context: 'nope' }, environment({})), {
      name: 'KubeconfigError',
      message: 'context "nope" not found in the kubeconfig',
    });
    assert.throws(() => resolveKubeconfig({ kubeconfig: join(dir, 'missing.yaml') }, environment({})), KubeconfigError);
    assert.throws(() => resolveKubeconfig({}, { env: {}, home, exists: () => false }), /no kubeconfig/);
  });
});
