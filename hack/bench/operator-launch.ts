import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

// How the benchmark starts the operator: with the environment the shipped Deployment (config/manager) gives the
// manager container, read from the manifest rather than copied here, so that a change of the shipped heap cap is
// benchmarked as shipped. Parsing is pure; only loadShippedEnv reads the file.

/** The manifest the benchmark reads. */
export const SHIPPED_DEPLOYMENT = 'config/manager/deployment.yaml';

const containerSchema = z.object({
  name: z.string(),
  env: z.array(z.object({ name: z.string(), value: z.string().optional(), valueFrom: z.unknown().optional() })).optional(),
  resources: z.object({ limits: z.record(z.string(), z.union([z.string(), z.number()])).optional() }).optional(),
});
const deploymentSchema = z.object({
  kind: z.literal('Deployment'),
  spec: z.object({ template: z.object({ spec: z.object({ containers: z.array(containerSchema) }) }) }),
});

/** What the benchmark takes from the manifest. */
export interface ShippedRuntime {
  /** Literal `value` env entries of the manager container (NODE_OPTIONS among them); `valueFrom` ones are skipped. */
  readonly env: Readonly<Record<string, string>>;
  /** The container's memory limit in bytes, when set. */
  readonly memoryLimitBytes: number | undefined;
}

const UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 };

/** A Kubernetes memory quantity ("512Mi", "1G", "1000000") in bytes; throws on anything else. */
export function parseMemoryQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(q.trim());
  if (m?.[1] === undefined) throw new Error(`unsupported memory quantity "${q}"`);
  return Math.round(Number(m[1]) * (UNITS[m[2] ?? ''] ?? 1));
}

/** Reads the manager container of the Deployment in `yamlText`. Throws a one-line error when it is missing. Pure. */
export function parseShippedRuntime(yamlText: string, container = 'manager'): ShippedRuntime {
  for (const doc of parseAllDocuments(yamlText)) {
    const parsed = deploymentSchema.safeParse(doc.toJS());
    if (!parsed.success) continue;
    const c = parsed.data.spec.template.spec.containers.find((x) => x.name === container);
    if (c === undefined) continue;
    const env: Record<string, string> = {};
    for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    const limit = c.resources?.limits?.memory;
    return { env, memoryLimitBytes: limit === undefined ? undefined : parseMemoryQuantity(limit) };
  }
  throw new Error(`no Deployment with a container "${container}" in ${SHIPPED_DEPLOYMENT}`);
}

/** Reads {@link SHIPPED_DEPLOYMENT} under `repo`. */
export async function loadShippedRuntime(repo: string): Promise<ShippedRuntime> {
  return parseShippedRuntime(await readFile(`${repo}/${SHIPPED_DEPLOYMENT}`, 'utf8'));
}
