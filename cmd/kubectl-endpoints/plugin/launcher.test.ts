import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// The launcher (../main.ts) must run on any Node and refuse old ones with one clear line, before anything else loads.

const MAIN = join(import.meta.dirname, '..', 'main.ts');

/** The first `node` on the system PATH older than 24, if there is one (CI images and developer machines often have one). */
function oldNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(candidate)) continue;
    const version = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    if (Number(version.split('.')[0]) < 24) return candidate;
  }
  return undefined;
}

describe('main.ts launcher', () => {
  it('on Node 24 runs the plugin', () => {
    const r = spawnSync(process.execPath, [MAIN, '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^kubectl-endpoints \d+\.\d+\.\d+\n$/);
  });

  const old = oldNode();
  it('on an older Node prints one clear error and exits 2', { skip: old === undefined ? 'no Node older than 24 installed' : false }, () => {
    const r = spawnSync(old ?? '', [MAIN, 'why', 'web'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^error: kubectl-endpoints needs Node\.js 24 or later \(it runs TypeScript directly\), but \S+ is v\d+\.\d+\.\d+\n$/,
    );
  });
});
