import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ApiClient } from '../../controllers/runtime/api-client.ts';
import { isNotFound } from '../../controllers/runtime/api-errors.ts';
import type { Clock } from '../../controllers/runtime/clock.ts';
import { CUSTOM_RESOURCE_DEFINITIONS, type ResourceType } from '../../controllers/runtime/resource.ts';

// CRDs are installed the way users install them: the generated YAML, sent as is. Server-side apply of the raw object
// keeps every `x-kubernetes-*` key and default (a typed client would drop them), and re-applying is a no-op.

const FIELD_MANAGER = 'kube-endpoints-operator';

/** Applies every CRD in `dir` and waits until each is Established. Throws one readable line on failure or timeout. */
export async function installCrds(
  client: ApiClient,
  dir: string,
  clock: Clock,
  signal: AbortSignal,
  timeoutMs = 30_000,
): Promise<string[]> {
  const names: string[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort()) {
    const crd = parseYaml(await readFile(join(dir, file), 'utf8')) as { metadata?: { name?: string } };
    const name = crd.metadata?.name;
    if (name === undefined) throw new Error(`${file} has no metadata.name`);
    await client.patch(CUSTOM_RESOURCE_DEFINITIONS, '', name, crd, 'apply', { fieldManager: FIELD_MANAGER, force: true, signal });
    names.push(name);
  }
  const deadline = clock.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = (await client.get(CUSTOM_RESOURCE_DEFINITIONS, '', name, signal)) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (clock.now() > deadline) throw new Error(`CustomResourceDefinition ${name} was not Established within ${timeoutMs / 1000} s`);
      await clock.sleep(200, signal);
    }
  }
  return names;
}

/** The resources the API server does not serve (discovery of each group/version), e.g. CRDs not installed yet. */
export async function missingResources(
  client: ApiClient,
  resources: readonly ResourceType[],
  signal?: AbortSignal,
): Promise<ResourceType[]> {
  const missing: ResourceType[] = [];
  for (const r of resources) {
    const path = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
    try {
      const list = (await client.getPath(path, signal)) as { resources?: { name?: string }[] };
      if (!list.resources?.some((x) => x.name === r.plural)) missing.push(r);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      missing.push(r);
    }
  }
  return missing;
}
