import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tar, tarGz, tarHeader } from './ustar.ts';

describe('ustar', () => {
  const entries = [
    { name: 'kubectl-endpoints', mode: 0o755, content: Buffer.from('#!/bin/sh\necho hi\n') },
    { name: 'LICENSE', mode: 0o644, content: Buffer.alloc(1300, 'x') },
  ];

  it('is read back by system tar with names, modes and contents', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ustar-test-'));
    try {
      writeFileSync(join(dir, 'a.tar.gz'), tarGz(entries));
      const list = spawnSync('tar', ['-tvzf', 'a.tar.gz'], { cwd: dir, encoding: 'utf8' });
      assert.equal(list.status, 0, list.stderr);
      assert.match(
        list.stdout,
        /^-rwxr-xr-x root\/root\s+18 1970-01-01 00:00 kubectl-endpoints\n-rw-r--r-- root\/root\s+1300 1970-01-01 00:00 LICENSE\n$/,
      );
      const x = spawnSync('tar', ['-xzf', 'a.tar.gz'], { cwd: dir, encoding: 'utf8' });
      assert.equal(x.status, 0, x.stderr);
      assert.equal(readFileSync(join(dir, 'kubectl-endpoints'), 'utf8'), '#!/bin/sh\necho hi\n');
      assert.equal(statSync(join(dir, 'kubectl-endpoints')).mode & 0o777, 0o755);
      assert.deepEqual(readFileSync(join(dir, 'LICENSE')), entries[1]?.content);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is reproducible: the same entries give the same bytes', () => {
    assert.deepEqual(tarGz(entries), tarGz(entries));
    // Content padded to whole blocks, then two zero blocks.
    assert.equal(tar(entries).length, 512 + 512 + 512 + 1536 + 1024);
  });

  it('rejects a name that does not fit the header', () => {
    assert.throws(() => tarHeader({ name: 'x'.repeat(101), mode: 0o644, content: Buffer.alloc(0) }), /longer than 100 bytes/);
  });
});
