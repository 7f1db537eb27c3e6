#!/usr/bin/env node
// Generates config/crd/ from the zod types in api/v1alpha1 (`npm run generate:crds`), or with --verify checks that the
// files on disk are what the types generate (`npm run verify:crds`, CI): exit 1 and one line per file that drifted.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { externalEndpointsCrd } from '../api/v1alpha1/external-endpoints.ts';
import { sessionAffinityPolicyCrd } from '../api/v1alpha1/session-affinity-policy.ts';
import { crdDrift, renderCrdFiles, staleCrdFiles } from './crd/crd-files.ts';

/** Every kind this operator serves, in the order they are documented. */
export const CUSTOM_RESOURCES = [externalEndpointsCrd, sessionAffinityPolicyCrd] as const;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function main(argv: readonly string[]): Promise<number> {
  const verify = argv.includes('--verify');
  const unknown = argv.filter((a) => a !== '--verify');
  if (unknown.length > 0) {
    console.error(`generate-crds: unknown argument ${unknown[0]} (usage: generate-crds.ts [--verify])`);
    return 2;
  }
  const files = renderCrdFiles(CUSTOM_RESOURCES);
  if (verify) {
    const drift = await crdDrift(root, files);
    for (const line of drift) console.error(`verify-crds: ${line}; run npm run generate:crds`);
    if (drift.length === 0) console.log(`verify-crds: ${files.length} files in config/crd are up to date`);
    return drift.length === 0 ? 0 : 1;
  }
  for (const f of files) {
    await mkdir(dirname(join(root, f.path)), { recursive: true });
    await writeFile(join(root, f.path), f.content);
  }
  for (const stale of await staleCrdFiles(root, files)) await rm(join(root, stale));
  console.log(`generate-crds: wrote ${files.map((f) => f.path).join(', ')}`);
  return 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`generate-crds: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
