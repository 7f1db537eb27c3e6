import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Document } from 'yaml';
import type { CustomResourceDescriptor } from '../../api/v1alpha1/custom-resource.ts';
import { customResourceDefinition } from './custom-resource-definition.ts';

// The files `npm run generate:crds` owns under config/crd/, rendered in memory so that generating and verifying are
// the same computation: verify renders, then compares byte for byte with what is on disk.

/** Directory of the generated CRDs, relative to the repository root. */
export const CRD_DIR = 'config/crd';
/** Directory of the CRD manifests. Every *.yaml in it is owned by the generator. */
export const CRD_BASES_DIR = `${CRD_DIR}/bases`;

/** A file to write: path relative to the repository root, and its exact content. */
export interface GeneratedFile {
  readonly path: string;
  readonly content: string;
}

const HEADER = ' Generated from api/v1alpha1 by `npm run generate:crds` (hack/generate-crds.ts). Do not edit.';

/** File name of a CRD, as kubebuilder names them: `<group>_<plural>.yaml`. */
export function crdFileName(d: Pick<CustomResourceDescriptor, 'group' | 'plural'>): string {
  return `${d.group}_${d.plural}.yaml`;
}

function render(value: unknown): string {
  const doc = new Document(value);
  doc.commentBefore = HEADER;
  // lineWidth 0: no folding, so a changed description is a one-line diff.
  return doc.toString({ lineWidth: 0 });
}

/**
 * Renders every generated file: one CRD manifest per descriptor (sorted by file name) and the kustomization listing
 * them. Pure apart from the conversion's own checks: throws CrdSchemaError when a descriptor cannot become a valid CRD.
 */
export function renderCrdFiles(descriptors: readonly CustomResourceDescriptor[]): GeneratedFile[] {
  const crds = descriptors
    .map((d) => ({ name: crdFileName(d), content: render(customResourceDefinition(d)) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: crds.map((c) => `bases/${c.name}`),
  };
  return [
    ...crds.map((c) => ({ path: `${CRD_BASES_DIR}/${c.name}`, content: c.content })),
    { path: `${CRD_DIR}/kustomization.yaml`, content: render(kustomization) },
  ];
}

/** Generated *.yaml files under config/crd/bases that `files` does not contain (left over from a removed kind). */
export async function staleCrdFiles(root: string, files: readonly GeneratedFile[]): Promise<string[]> {
  const wanted = new Set(files.map((f) => f.path));
  let names: string[];
  try {
    names = await readdir(join(root, CRD_BASES_DIR));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.yaml'))
    .map((n) => `${CRD_BASES_DIR}/${n}`)
    .filter((p) => !wanted.has(p))
    .sort();
}

/**
 * Compares the rendered files with the repository at `root`: one readable line per missing, outdated or stale file;
 * empty when everything is up to date.
 */
export async function crdDrift(root: string, files: readonly GeneratedFile[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    let current: string | undefined;
    try {
      current = await readFile(join(root, f.path), 'utf8');
    } catch {
      current = undefined;
    }
    if (current === undefined) out.push(`${f.path} is missing`);
    else if (current !== f.content) out.push(`${f.path} is out of date`);
  }
  for (const p of await staleCrdFiles(root, files)) out.push(`${p} is not generated from any kind (remove it)`);
  return out;
}
