#!/usr/bin/env node
// Generates the Helm chart charts/kube-endpoints-operator/ from the kustomize sources (config/default and what it
// includes) and the operator's flag names (`npm run generate:helm`), or with --verify checks that the committed chart
// is what those sources generate (`npm run verify:helm`, CI): exit 1 and one line per file that drifted.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import packageJson from '../package.json' with { type: 'json' };
import { CONTROLLER_NAMES, LOG_LEVELS } from '../cmd/operator/config.ts';
import { DEFAULT_PROBE_ALLOWED_CIDRS, DEFAULT_PROBE_DENIED_CIDRS } from '../controllers/external-endpoints/address-policy.ts';
import { chartDir, chartDrift, renderChartFiles, staleFiles } from './helm/chart-files.ts';
import { readKustomizeSources } from './helm/kustomize-sources.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function main(argv: readonly string[]): Promise<number> {
  const verify = argv.includes('--verify');
  const unknown = argv.filter((a) => a !== '--verify');
  if (unknown.length > 0) {
    console.error(`generate-helm: unknown argument ${unknown[0]} (usage: generate-helm.ts [--verify])`);
    return 2;
  }
  const dir = chartDir(packageJson.name);
  const files = renderChartFiles({
    name: packageJson.name,
    version: packageJson.version,
    description: packageJson.description,
    sources: await readKustomizeSources(root, 'config/default'),
    controllers: CONTROLLER_NAMES,
    probeAllowedCIDRs: DEFAULT_PROBE_ALLOWED_CIDRS,
    probeDeniedCIDRs: DEFAULT_PROBE_DENIED_CIDRS,
    logLevels: LOG_LEVELS,
  });
  if (verify) {
    const drift = await chartDrift(root, dir, files);
    for (const line of drift) console.error(`verify-helm: ${line}; run npm run generate:helm`);
    if (drift.length === 0) console.log(`verify-helm: ${files.length} files in ${dir} are up to date`);
    return drift.length === 0 ? 0 : 1;
  }
  for (const f of files) {
    await mkdir(dirname(join(root, f.path)), { recursive: true });
    await writeFile(join(root, f.path), f.content);
  }
  for (const stale of await staleFiles(root, dir, files)) await rm(join(root, stale));
  console.log(`generate-helm: wrote ${files.length} files to ${dir}`);
  return 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`generate-helm: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
