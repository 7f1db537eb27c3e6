import { readFile, stat } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

// The inputs of the Helm chart: the manifest files `kubectl kustomize config/default` reads, in its resource order, and
// the transformations config/default applies to them. Only the kustomize features this repository uses are accepted;
// anything else (patches, generators, replacements, ...) makes the chart generator stop rather than silently render
// something kustomize would not.

/** One manifest file kustomize includes: path relative to the repository root, and its text. */
export interface ManifestSource {
  readonly path: string;
  readonly text: string;
}

/** What config/default adds to every object. */
export interface OverlayTransforms {
  /** `namespace:` set on every namespaced object. */
  readonly namespace: string;
  /** `labels[].pairs` with `includeSelectors: false`: set on every object's metadata.labels only. */
  readonly labels: Readonly<Record<string, string>>;
  /** `images:` by image name. */
  readonly images: readonly { readonly name: string; readonly newName?: string | undefined; readonly newTag?: string | undefined }[];
}

/** config/default, read. */
export interface KustomizeSources {
  readonly overlay: OverlayTransforms;
  readonly manifests: readonly ManifestSource[];
}

const base = { apiVersion: z.literal('kustomize.config.k8s.io/v1beta1'), kind: z.literal('Kustomization') };
// strict: an unknown field is a kustomize feature the generator does not render.
const resourcesOnlySchema = z.strictObject({ ...base, resources: z.array(z.string()) });
const overlaySchema = z.strictObject({
  ...base,
  namespace: z.string().min(1),
  labels: z.array(z.strictObject({ pairs: z.record(z.string(), z.string()), includeSelectors: z.literal(false).optional() })).default([]),
  resources: z.array(z.string()),
  images: z.array(z.strictObject({ name: z.string(), newName: z.string().optional(), newTag: z.string().optional() })).default([]),
});

/** Thrown when a kustomization uses a feature the chart generator does not render. */
export class UnsupportedKustomizationError extends Error {}

function parseKustomization<T>(schema: z.ZodType<T>, path: string, text: string): T {
  const parsed = schema.safeParse(parseYaml(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UnsupportedKustomizationError(
      `${path}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'is invalid'} (hack/generate-helm.ts renders resources, namespace, labels and images only)`,
    );
  }
  return parsed.data;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** The manifest files of a resource list, depth first in kustomize's order (a directory is a nested kustomization). */
async function collect(root: string, dir: string, resources: readonly string[], out: ManifestSource[]): Promise<void> {
  for (const resource of resources) {
    const rel = normalize(join(dir, resource));
    if (await isDirectory(join(root, rel))) {
      const path = join(rel, 'kustomization.yaml');
      const nested = parseKustomization(resourcesOnlySchema, path, await readFile(join(root, path), 'utf8'));
      await collect(root, rel, nested.resources, out);
    } else {
      out.push({ path: rel, text: await readFile(join(root, rel), 'utf8') });
    }
  }
}

/** Reads the overlay at `overlayDir` (relative to `root`) and every manifest it includes. */
export async function readKustomizeSources(root: string, overlayDir: string): Promise<KustomizeSources> {
  const path = join(overlayDir, 'kustomization.yaml');
  const overlay = parseKustomization(overlaySchema, path, await readFile(join(root, path), 'utf8'));
  const manifests: ManifestSource[] = [];
  await collect(root, overlayDir, overlay.resources, manifests);
  return {
    overlay: {
      namespace: overlay.namespace,
      labels: Object.assign({}, ...overlay.labels.map((l) => l.pairs)) as Record<string, string>,
      images: overlay.images,
    },
    manifests,
  };
}
