import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { z } from 'zod';
import type { CustomResourceDescriptor } from '../../api/v1alpha1/custom-resource.ts';
import { CUSTOM_RESOURCES } from '../generate-crds.ts';
import { crdDrift, crdFileName, renderCrdFiles } from './crd-files.ts';

const repoRoot = join(import.meta.dirname, '../..');

const gadget: CustomResourceDescriptor = {
  group: 'example.com',
  version: 'v1',
  kind: 'Gadget',
  plural: 'gadgets',
  singular: 'gadget',
  shortNames: [],
  categories: [],
  scope: 'Namespaced',
  description: 'A gadget.',
  spec: z.object({ n: z.int32().describe('N.') }).describe('Spec.'),
  status: z.object({}).describe('Status.'),
  printerColumns: [],
};

describe('renderCrdFiles', () => {
  it('renders one manifest per kind and a kustomization listing them, sorted by file name', () => {
    const files = renderCrdFiles([{ ...gadget, plural: 'zeds', kind: 'Zed', singular: 'zed' }, gadget]);
    assert.deepEqual(
      files.map((f) => f.path),
      ['config/crd/bases/example.com_gadgets.yaml', 'config/crd/bases/example.com_zeds.yaml', 'config/crd/kustomization.yaml'],
    );
    assert.deepEqual(parse(files[2]?.content ?? ''), {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: ['bases/example.com_gadgets.yaml', 'bases/example.com_zeds.yaml'],
    });
  });

  it('writes a do-not-edit header and YAML that reads back as the CRD', () => {
    const [crd] = renderCrdFiles([gadget]);
    assert.ok(crd?.content.startsWith('# Generated from api/v1alpha1 by `npm run generate:crds`'));
    const parsed = parse(crd?.content ?? '') as { kind: string; metadata: { name: string } };
    assert.deepEqual([parsed.kind, parsed.metadata.name], ['CustomResourceDefinition', 'gadgets.example.com']);
  });

  it('names files as kubebuilder does', () => {
    assert.equal(
      crdFileName({ group: 'kube-endpoints-operator.io', plural: 'externalendpoints' }),
      'kube-endpoints-operator.io_externalendpoints.yaml',
    );
  });
});

describe('crdDrift', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  async function repoWith(files: Record<string, string>): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'crd-drift-'));
    dirs.push(root);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), content);
    }
    return root;
  }
  const rendered = renderCrdFiles([gadget]);
  const upToDate = Object.fromEntries(rendered.map((f) => [f.path, f.content]));

  const cases: { name: string; given: Record<string, string>; want: string[] }[] = [
    { name: 'nothing when every file matches', given: upToDate, want: [] },
    {
      name: 'a missing file',
      given: { 'config/crd/kustomization.yaml': upToDate['config/crd/kustomization.yaml'] ?? '' },
      want: ['config/crd/bases/example.com_gadgets.yaml is missing'],
    },
    {
      name: 'a file edited by hand',
      given: {
        ...upToDate,
        'config/crd/bases/example.com_gadgets.yaml': `${upToDate['config/crd/bases/example.com_gadgets.yaml']}# edit\n`,
      },
      want: ['config/crd/bases/example.com_gadgets.yaml is out of date'],
    },
    {
      name: 'a manifest of a kind that no longer exists',
      given: { ...upToDate, 'config/crd/bases/example.com_gizmos.yaml': 'x' },
      want: ['config/crd/bases/example.com_gizmos.yaml is not generated from any kind (remove it)'],
    },
  ];
  for (const c of cases) {
    it(`reports ${c.name}`, async () => {
      assert.deepEqual(await crdDrift(await repoWith(c.given), rendered), c.want);
    });
  }
});

describe('config/crd in this repository', () => {
  it('is exactly what the zod types generate (run npm run generate:crds when this fails)', async () => {
    assert.deepEqual(await crdDrift(repoRoot, renderCrdFiles(CUSTOM_RESOURCES)), []);
  });
});
