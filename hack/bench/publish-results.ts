// Publishes a saved benchmark run as README's numbers: docs/bench/<preset>.{json,svg}, and prints its Markdown tables.
// For runs made without --update-docs, or from another checkout (the large preset runs for most of an hour, so it is
// often run from a frozen worktree while work goes on).
//
//   node hack/bench/publish-results.ts bench-results/<time>.json

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { benchRunSchema } from './bench-run-schema.ts';
import { renderTable } from './bench-report.ts';
import { writeDocsResults } from './docs-results.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

async function main(argv: readonly string[]): Promise<number> {
  const [file, ...rest] = argv;
  if (file === undefined || rest.length > 0 || file === '-h' || file === '--help') {
    process.stderr.write('usage: node hack/bench/publish-results.ts RESULTS.json\n');
    return file === '-h' || file === '--help' ? 0 : 2;
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    process.stderr.write(`error: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    process.stderr.write(`error: ${file} is not JSON: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const parsed = benchRunSchema.safeParse(json);
  if (!parsed.success) {
    process.stderr.write(`error: ${file} is not a benchmark run: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}\n`);
    return 1;
  }
  const written = await writeDocsResults(REPO, parsed.data);
  process.stdout.write(`${renderTable(parsed.data)}\n`);
  process.stderr.write(`wrote ${written.join(' and ')}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
