import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = join(import.meta.dirname, 'generate-crds.ts');

async function generateCrds(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('hack/generate-crds.ts', () => {
  it('--verify exits 0 with one line when config/crd is up to date', async () => {
    const r = await generateCrds('--verify');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'verify-crds: 3 files in config/crd are up to date\n');
  });

  it('refuses an unknown argument with a usage line and exit code 2', async () => {
    const r = await generateCrds('--frobnicate');
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'generate-crds: unknown argument --frobnicate (usage: generate-crds.ts [--verify])\n');
  });
});
