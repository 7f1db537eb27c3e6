import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { parseAllDocuments, parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { GENERATED_NOTE, helpersTpl, notesTxt, serviceMonitorTemplate } from './chart-helpers.ts';
import { valuesSchema, valuesYaml } from './chart-values.ts';
import { deploymentFacts, templateDeploymentFields } from './deployment-values.ts';
import type { KustomizeSources, ManifestSource } from './kustomize-sources.ts';
import { ManifestShapeError, NAME_LABEL, type TemplateContext, type TemplateOptions, templateManifest } from './manifest-templates.ts';

// The Helm chart `npm run generate:helm` writes, rendered in memory from config/ so that generating and verifying are
// the same computation (as hack/crd/crd-files.ts does for the CRDs).

/** A file to write: path relative to the repository root, and its exact content. */
export interface GeneratedFile {
  readonly path: string;
  readonly content: string;
}

export interface ChartInputs {
  /** package.json: the chart is named after the package, versioned with it, described by it. */
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly sources: KustomizeSources;
  /** cmd/operator/config.ts: CONTROLLER_NAMES; each has its RBAC in config/rbac/<name>.yaml. */
  readonly controllers: readonly string[];
  readonly probeAllowedCIDRs: readonly string[];
  readonly probeDeniedCIDRs: readonly string[];
  readonly logLevels: readonly string[];
}

/** Where the chart lives, relative to the repository root. */
export const chartDir = (name: string): string => `charts/${name}`;

const kindOf = (text: string): string[] => {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return [];
  return docs.map((d) => String((d.toJS() as { kind?: unknown } | null)?.kind ?? ''));
};

const generatedFrom = (path: string): string =>
  `# Generated from ${path} by \`npm run generate:helm\` (hack/generate-helm.ts). Do not edit.`;

const serviceSchema = z.looseObject({
  metadata: z.looseObject({ labels: z.record(z.string(), z.string()).default({}) }),
  spec: z.looseObject({ ports: z.array(z.looseObject({ name: z.string() })).min(1) }),
});

const crdSchema = z.looseObject({ metadata: z.looseObject({ labels: z.record(z.string(), z.string()).optional() }) });

/** A CRD for crds/: as in config/crd, with the overlay's labels (what kustomize applies). */
function crdFile(source: ManifestSource, overlayLabels: Readonly<Record<string, string>>): string {
  const doc = parseDocument(source.text);
  crdSchema.parse(doc.toJS());
  for (const [k, v] of Object.entries(overlayLabels)) doc.setIn(['metadata', 'labels', k], v);
  return `${generatedFrom(source.path)}\n${doc.toString({ lineWidth: 0 })}`;
}

/** Renders every file of the chart. Throws ManifestShapeError / UnsupportedKustomizationError on sources it cannot template. */
export function renderChartFiles(inputs: ChartInputs): GeneratedFile[] {
  const { name: chart, sources } = inputs;
  const dir = chartDir(chart);
  const overlay = sources.overlay;
  const ctx: TemplateContext = { chart, project: chart, namespace: overlay.namespace, overlayLabelKeys: Object.keys(overlay.labels) };

  const deployments = sources.manifests.filter((m) => kindOf(m.text).includes('Deployment'));
  const [deploymentSource] = deployments;
  if (deploymentSource === undefined || deployments.length !== 1)
    throw new ManifestShapeError(`config/default must hold exactly one Deployment file (found ${deployments.length})`);
  const facts = deploymentFacts(deploymentSource, overlay);
  const leaderElect = facts.args.includes('--leader-elect=true');

  // Files whose objects values switch on and off, by file name; each must exist so a rename cannot drop the switch.
  const conditions = new Map<string, string>([
    ['namespace.yaml', '.Values.namespace.create'],
    ['metrics-service.yaml', '.Values.metrics.enabled'],
    ['pod-disruption-budget.yaml', '.Values.podDisruptionBudget.enabled'],
    ['leader-election.yaml', '.Values.leaderElection.enabled'],
    ...inputs.controllers.map((c): [string, string] => [`${c}.yaml`, `(index .Values.controllers ${JSON.stringify(c)})`]),
  ]);
  const byName = new Map(sources.manifests.map((m) => [basename(m.path), m]));
  if (byName.size !== sources.manifests.length) throw new ManifestShapeError('two manifest files in config/ share a file name');
  for (const file of conditions.keys())
    if (!byName.has(file)) throw new ManifestShapeError(`config/default includes no ${file}; hack/helm/chart-files.ts switches it`);

  const metricsService = byName.get('metrics-service.yaml');
  const service = serviceSchema.parse(parseDocument(metricsService?.text ?? '').toJS());
  const serviceLabels = Object.fromEntries(Object.entries(service.metadata.labels).filter(([k]) => k !== NAME_LABEL));

  const files: GeneratedFile[] = [];
  for (const source of sources.manifests) {
    const kinds = kindOf(source.text);
    if (kinds.length > 0 && kinds.every((k) => k === 'CustomResourceDefinition')) {
      files.push({ path: `${dir}/crds/${basename(source.path)}`, content: crdFile(source, overlay.labels) });
      continue;
    }
    const file = basename(source.path);
    const isDeployment = source === deploymentSource;
    const options: TemplateOptions = {
      condition: conditions.get(file),
      preamble: isDeployment ? [`{{- include "${chart}.validate" . }}`] : [],
    };
    const body = templateManifest(source, ctx, options, isDeployment ? templateDeploymentFields(chart) : undefined);
    files.push({ path: `${dir}/templates/${file}`, content: `${generatedFrom(source.path)}\n${body}` });
  }

  const values = {
    facts,
    controllers: inputs.controllers,
    probeAllowedCIDRs: inputs.probeAllowedCIDRs,
    probeDeniedCIDRs: inputs.probeDeniedCIDRs,
    logLevels: inputs.logLevels,
    leaderElect,
  };
  const chartYaml = stringify(
    {
      apiVersion: 'v2',
      name: chart,
      description: inputs.description,
      type: 'application',
      version: inputs.version,
      appVersion: facts.image.tag,
    },
    { lineWidth: 0 },
  );
  files.push(
    { path: `${dir}/Chart.yaml`, content: `# ${GENERATED_NOTE}\n${chartYaml}` },
    { path: `${dir}/values.yaml`, content: valuesYaml(values) },
    { path: `${dir}/values.schema.json`, content: valuesSchema(values) },
    {
      path: `${dir}/templates/_helpers.tpl`,
      content: helpersTpl({ chart, overlayLabels: overlay.labels, controllers: inputs.controllers, deploymentArgs: facts.args }),
    },
    { path: `${dir}/templates/NOTES.txt`, content: notesTxt(chart) },
    {
      path: `${dir}/templates/servicemonitor.yaml`,
      content: serviceMonitorTemplate({ chart, serviceLabels, portName: service.spec.ports[0]?.name ?? 'metrics' }),
    },
  );
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

async function listFiles(root: string, dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(root, dir), { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name)));
}

/** Files under `dir` that `files` does not contain. */
export async function staleFiles(root: string, dir: string, files: readonly GeneratedFile[]): Promise<string[]> {
  const wanted = new Set(files.map((f) => f.path));
  return (await listFiles(root, dir)).filter((p) => !wanted.has(p)).sort();
}

/** One readable line per missing, outdated or stale file under `dir`; empty when the chart is up to date. */
export async function chartDrift(root: string, dir: string, files: readonly GeneratedFile[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    const current = await readFile(join(root, f.path), 'utf8').catch(() => undefined);
    if (current === undefined) out.push(`${f.path} is missing`);
    else if (current !== f.content) out.push(`${f.path} is out of date (${firstDifference(current, f.content)})`);
  }
  for (const p of await staleFiles(root, dir, files)) out.push(`${p} is not generated from config/ (remove it)`);
  return out;
}

/** `line N: committed "..." vs generated "..."` for the first line that differs. */
export function firstDifference(current: string, wanted: string): string {
  const a = current.split('\n');
  const b = wanted.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i])
      return `line ${i + 1}: committed ${JSON.stringify(a[i] ?? '<end of file>')}, generated ${JSON.stringify(b[i] ?? '<end of file>')}`;
  }
  return 'identical lines';
}
