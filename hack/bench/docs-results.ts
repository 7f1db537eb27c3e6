import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchRun } from './bench-report.ts';
import { renderSvg } from './bench-report.ts';

// Where README's benchmark numbers live: docs/bench/<preset>.json (the run as written) and docs/bench/<preset>.svg (its
// plot), one pair per preset, so the default and the large preset are published side by side.

/** The two files a run of `preset` is published as, relative to the repository. */
export function docsResultsPaths(preset: string): { readonly json: string; readonly svg: string } {
  return { json: `docs/bench/${preset}.json`, svg: `docs/bench/${preset}.svg` };
}

/** Writes the run and its plot under `repo`; returns the paths written, relative to `repo`. */
export async function writeDocsResults(repo: string, run: BenchRun): Promise<readonly string[]> {
  const paths = docsResultsPaths(run.preset);
  await mkdir(join(repo, 'docs/bench'), { recursive: true });
  await writeFile(join(repo, paths.json), `${JSON.stringify(run, null, 2)}\n`);
  await writeFile(join(repo, paths.svg), renderSvg(run));
  return [paths.json, paths.svg];
}
