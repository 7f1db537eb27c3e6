import { type Document, isMap, isScalar, isSeq, type Node, parseAllDocuments, Scalar, stringify, type YAMLMap } from 'yaml';
import type { ManifestSource } from './kustomize-sources.ts';
import { TemplateTokens } from './template-tokens.ts';

// One kustomize manifest file -> one Helm template, edited as YAML so the source's comments stay: the overlay's
// namespace becomes the release namespace, names derived from the project name become the chart's fullname, label
// selectors gain the release instance, metadata labels become the chart's standard labels plus the source's own, and
// the Deployment's tunable fields become values.

/** What every template is rendered against. */
export interface TemplateContext {
  /** Prefix of the chart's named templates (`<chart>.fullname`): the chart name. */
  readonly chart: string;
  /** The name the sources give their objects (and derived names): `kube-endpoints-operator`. */
  readonly project: string;
  /** The namespace config/default sets. */
  readonly namespace: string;
  /** Label keys the chart's labels template sets on every object (the overlay's labels): not repeated per object. */
  readonly overlayLabelKeys: readonly string[];
}

/** A manifest file's place in the chart: the condition it renders under, and text before its first document. */
export interface TemplateOptions {
  /** A Helm expression (`.Values.metrics.enabled`); undefined: always rendered. */
  readonly condition?: string | undefined;
  /** Template lines put before the first document (for example an include that validates values). */
  readonly preamble?: readonly string[];
}

export const NAME_LABEL = 'app.kubernetes.io/name';

/** Thrown when a source does not have the shape the chart generator relies on. */
export class ManifestShapeError extends Error {}

const yamlScalar = (v: string): string => stringify(v, { lineWidth: 0 }).trimEnd();
const pairLine = (k: string, v: string): string => `${yamlScalar(k)}: ${yamlScalar(v)}`;

function stringMap(map: YAMLMap, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of map.items) {
    if (!isScalar(pair.key) || !isScalar(pair.value)) throw new ManifestShapeError(`${where}: labels must be plain strings`);
    out[String(pair.key.value)] = String(pair.value.value);
  }
  return out;
}

/** Label maps used as selectors carry the project's name label: they get the chart's selector labels instead. */
function isSelectorMap(node: unknown, project: string): node is YAMLMap {
  return (
    isMap(node) && node.items.some((p) => isScalar(p.key) && p.key.value === NAME_LABEL && isScalar(p.value) && p.value.value === project)
  );
}

/** `kube-endpoints-operator`, `kube-endpoints-operator-metrics`, `kube-endpoints-operator:leader-election`. */
const isDerivedName = (s: string, project: string): boolean => s === project || s.startsWith(`${project}-`) || s.startsWith(`${project}:`);

function walk(node: Node | null, ctx: TemplateContext, tokens: TemplateTokens, where: string): void {
  if (isSeq(node)) {
    node.items.forEach((item, i) => walk(item as Node, ctx, tokens, `${where}[${i}]`));
    return;
  }
  if (!isMap(node)) return;
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const here = `${where}.${key}`;
    const value = pair.value;
    if (isSelectorMap(value, ctx.project)) {
      const own = stringMap(value, here);
      delete own[NAME_LABEL];
      pair.value = new Scalar(
        tokens.block((indent) => [
          `{{- include "${ctx.chart}.selectorLabels" . | nindent ${indent} }}`,
          ...Object.entries(own).map(([k, v]) => pairLine(k, v)),
        ]),
      );
      continue;
    }
    if (isScalar(value) && typeof value.value === 'string') {
      const s = value.value;
      if ((key === 'namespace' || key === 'name') && s === ctx.namespace) {
        value.value = tokens.inline('{{ .Release.Namespace }}');
      } else if ((key === 'name' || key === 'serviceAccountName') && isDerivedName(s, ctx.project)) {
        value.value = tokens.inline(`{{ include "${ctx.chart}.fullname" . }}${s.slice(ctx.project.length)}`);
      }
      continue;
    }
    walk(value as Node, ctx, tokens, here);
  }
}

/** metadata.labels -> the chart's labels plus the source's own (its name label is the chart's, so not repeated). */
function templateMetadataLabels(doc: Document, ctx: TemplateContext, tokens: TemplateTokens, where: string): void {
  const metadata = doc.get('metadata', true);
  if (!isMap(metadata)) throw new ManifestShapeError(`${where}: no metadata`);
  const labels = metadata.get('labels', true);
  const own = isMap(labels) ? stringMap(labels, `${where}.metadata.labels`) : {};
  const name = own[NAME_LABEL];
  if (name !== undefined && name !== ctx.project)
    throw new ManifestShapeError(`${where}: label ${NAME_LABEL} is "${name}"; the chart sets it to the project name "${ctx.project}"`);
  delete own[NAME_LABEL];
  for (const k of ctx.overlayLabelKeys) delete own[k];
  metadata.set(
    'labels',
    tokens.block((indent) => [
      `{{- include "${ctx.chart}.labels" . | nindent ${indent} }}`,
      ...Object.entries(own).map(([k, v]) => pairLine(k, v)),
    ]),
  );
}

/**
 * Renders one manifest file as a Helm template. `edit` runs on each document first, with the same tokens, for the
 * fields that become values (the Deployment's). Returns the template text (without a header).
 */
export function templateManifest(
  source: ManifestSource,
  ctx: TemplateContext,
  options: TemplateOptions = {},
  edit: (doc: Document, tokens: TemplateTokens) => void = () => {},
): string {
  const tokens = new TemplateTokens();
  const docs = parseAllDocuments(source.text);
  if (!Array.isArray(docs)) throw new ManifestShapeError(`${source.path}: not a YAML stream`);
  const texts = docs.map((doc, i) => {
    if (doc.errors.length > 0) throw new ManifestShapeError(`${source.path}: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
    const where = `${source.path}#${i}`;
    edit(doc, tokens);
    templateMetadataLabels(doc, ctx, tokens, where);
    walk(doc.contents, ctx, tokens, where);
    // A document after the first prints its own `---`; the join puts it back once.
    return tokens.resolve(doc.toString({ lineWidth: 0 })).replace(/^---\n/, '');
  });
  const body = texts.join('---\n');
  const preamble = options.preamble ?? [];
  if (options.condition === undefined) return [...preamble, body].join('\n');
  return [...preamble, `{{- if ${options.condition} }}`, body.trimEnd(), '{{- end }}', ''].join('\n');
}
