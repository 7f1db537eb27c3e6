import { type Document, isMap, isScalar, isSeq, parseAllDocuments, Scalar, type YAMLMap } from 'yaml';
import { z } from 'zod';
import type { ManifestSource, OverlayTransforms } from './kustomize-sources.ts';
import { ManifestShapeError } from './manifest-templates.ts';
import type { TemplateTokens } from './template-tokens.ts';

// The Deployment's fields that become chart values, read from config/manager/deployment.yaml (so values.yaml's
// defaults are the kustomize install's), and the edit that puts the value references in their place.

/** The Deployment as kustomize renders it, in the terms of the chart's values. */
export interface DeploymentFacts {
  readonly replicas: number;
  /** After the overlay's `images:`. */
  readonly image: { readonly repository: string; readonly tag: string };
  readonly pullPolicy: string;
  readonly args: readonly string[];
  readonly resources: { readonly requests?: Record<string, string>; readonly limits: Record<string, string> };
  /** The comment above the resources in the source (why these numbers). */
  readonly resourcesComment: string | undefined;
  /** NODE_OPTIONS --max-old-space-size as a percentage of resources.limits.memory. */
  readonly heapPercentOfMemoryLimit: number;
  /** NODE_OPTIONS --max-semi-space-size. */
  readonly maxSemiSpaceSizeMiB: number;
}

const NODE_OPTIONS = /^--max-old-space-size=(\d+) --max-semi-space-size=(\d+)$/;
const MEMORY = /^(\d+)(Mi|Gi)$/;

/** `512Mi` -> 512, `1Gi` -> 1024; undefined for any other spelling. */
export function memoryMiB(quantity: string): number | undefined {
  const m = MEMORY.exec(quantity);
  if (m === null) return undefined;
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

const containerSchema = z.looseObject({
  name: z.string(),
  image: z.string(),
  imagePullPolicy: z.string(),
  args: z.array(z.string()),
  env: z.array(z.looseObject({ name: z.string(), value: z.string().optional() })),
  resources: z.object({
    requests: z.record(z.string(), z.string()).optional(),
    limits: z.record(z.string(), z.string()),
  }),
});
const deploymentSchema = z.looseObject({
  kind: z.literal('Deployment'),
  spec: z.looseObject({
    replicas: z.number().int(),
    template: z.looseObject({ spec: z.looseObject({ containers: z.tuple([containerSchema]) }) }),
  }),
});

function deploymentDocument(source: ManifestSource): Document {
  const docs = parseAllDocuments(source.text);
  if (!Array.isArray(docs) || docs.length !== 1) throw new ManifestShapeError(`${source.path}: expected one Deployment`);
  const [doc] = docs;
  if (doc === undefined) throw new ManifestShapeError(`${source.path}: expected one Deployment`);
  return doc;
}

function containerNode(doc: Document, where: string): YAMLMap {
  const container = doc.getIn(['spec', 'template', 'spec', 'containers', 0], true);
  if (!isMap(container)) throw new ManifestShapeError(`${where}: no container`);
  return container;
}

/** Reads the facts; throws ManifestShapeError when the Deployment is not in the shape the chart templates. */
export function deploymentFacts(source: ManifestSource, overlay: OverlayTransforms): DeploymentFacts {
  const doc = deploymentDocument(source);
  const parsed = deploymentSchema.safeParse(doc.toJS());
  if (!parsed.success)
    throw new ManifestShapeError(`${source.path}: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
  const d = parsed.data;
  const [c] = d.spec.template.spec.containers;

  if (c.image.includes('@')) throw new ManifestShapeError(`${source.path}: image digests are not templated (${c.image})`);
  const colon = c.image.lastIndexOf(':');
  const name = colon < 0 ? c.image : c.image.slice(0, colon);
  const sourceTag = colon < 0 ? 'latest' : c.image.slice(colon + 1);
  const override = overlay.images.find((i) => i.name === name);

  const nodeOptions = c.env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
  const heap = NODE_OPTIONS.exec(nodeOptions);
  if (heap === null)
    throw new ManifestShapeError(`${source.path}: NODE_OPTIONS "${nodeOptions}" is not "--max-old-space-size=N --max-semi-space-size=M"`);
  const limitMiB = memoryMiB(c.resources.limits.memory ?? '');
  if (limitMiB === undefined) throw new ManifestShapeError(`${source.path}: resources.limits.memory must be given in Mi or Gi`);
  const percent = (Number(heap[1]) * 100) / limitMiB;
  if (!Number.isInteger(percent))
    throw new ManifestShapeError(`${source.path}: --max-old-space-size=${heap[1]} is not a whole percentage of the ${limitMiB} MiB limit`);

  const resourcesNode = containerNode(doc, source.path).get('resources', true);
  return {
    replicas: d.spec.replicas,
    image: { repository: override?.newName ?? name, tag: override?.newTag ?? sourceTag },
    pullPolicy: c.imagePullPolicy,
    args: c.args,
    resources: c.resources,
    resourcesComment: isMap(resourcesNode) ? (resourcesNode.commentBefore ?? undefined) : undefined,
    heapPercentOfMemoryLimit: percent,
    maxSemiSpaceSizeMiB: Number(heap[2]),
  };
}

/** The edit that references values from the Deployment (see {@link templateManifest}'s `edit`). */
export function templateDeploymentFields(chart: string): (doc: Document, tokens: TemplateTokens) => void {
  return (doc, tokens) => {
    const set = (map: YAMLMap, key: string, token: string) => {
      if (!map.has(key)) throw new ManifestShapeError(`Deployment: no ${key}`);
      map.set(key, new Scalar(token));
    };
    const spec = doc.get('spec', true);
    if (!isMap(spec)) throw new ManifestShapeError('Deployment: no spec');
    set(spec, 'replicas', tokens.inline('{{ .Values.replicaCount }}'));
    const container = containerNode(doc, 'Deployment');
    set(container, 'image', tokens.inline(`{{ include "${chart}.image" . | quote }}`));
    set(container, 'imagePullPolicy', tokens.inline('{{ .Values.image.pullPolicy }}'));
    set(
      container,
      'args',
      tokens.block((indent) => [`{{- include "${chart}.args" . | nindent ${indent} }}`]),
    );
    set(
      container,
      'resources',
      tokens.block((indent) => [`{{- toYaml .Values.resources | nindent ${indent} }}`]),
    );
    const env = container.get('env', true);
    const nodeOptions = isSeq(env) ? env.items.find((e) => isMap(e) && e.get('name') === 'NODE_OPTIONS') : undefined;
    if (!isMap(nodeOptions)) throw new ManifestShapeError('Deployment: no NODE_OPTIONS');
    const value = nodeOptions.get('value', true);
    if (!isScalar(value)) throw new ManifestShapeError('Deployment: NODE_OPTIONS has no value');
    value.value = tokens.inline(`{{ include "${chart}.nodeOptions" . | quote }}`);
  };
}
