import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BinariesUnavailableError, binariesIn, locateControlPlaneBinaries } from './binaries.ts';

async function fakeBinaryDir(dir: string, names: readonly string[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const name of names) {
    await writeFile(join(dir, name), '#!/bin/sh\n');
    await chmod(join(dir, name), 0o755);
  }
  return dir;
}

async function script(dir: string, name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/usr/bin/env bash\n${body}\n`);
  return path;
}

describe('locateControlPlaneBinaries', () => {
  let root = '';
  let complete = '';
  let partial = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'keo-binaries-test-'));
    complete = await fakeBinaryDir(join(root, 'complete'), ['etcd', 'kube-apiserver', 'kube-controller-manager']);
    partial = await fakeBinaryDir(join(root, 'partial'), ['etcd', 'kube-apiserver']);
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('uses KUBEBUILDER_ASSETS as is when it holds all three binaries, without running the build', async () => {
    const buildScript = await script(root, 'must-not-run.sh', 'exit 1');
    const found = await locateControlPlaneBinaries({ kubebuilderAssets: complete, env: {}, buildScript });
    assert.deepEqual(found, binariesIn(complete));
  });

  it('runs the build script when KUBEBUILDER_ASSETS lacks a binary, passing its progress through', async () => {
    const buildScript = await script(root, 'build.sh', `echo "[control-plane 0s] step one" >&2\necho "$OUT_DIR"`);
    const lines: string[] = [];
    const found = await locateControlPlaneBinaries({
      kubebuilderAssets: partial,
      env: { OUT_DIR: complete, PATH: '/usr/bin:/bin' },
      buildScript,
      onBuildOutput: (line) => lines.push(line),
    });
    assert.equal(found.kubeControllerManager, join(complete, 'kube-controller-manager'));
    assert.deepEqual(lines, ['[control-plane 0s] step one']);
  });

  it('fails with one line naming the script and its last message when the build fails', async () => {
    const buildScript = await script(root, 'fails.sh', 'echo "build-control-plane: Go is required" >&2\nexit 1');
    await assert.rejects(
      locateControlPlaneBinaries({ env: { PATH: '/usr/bin:/bin' }, buildScript, onBuildOutput: () => {} }),
      (err: unknown) => {
        assert.ok(err instanceof BinariesUnavailableError);
        assert.equal(
          err.message,
          `control-plane binaries unavailable: ${buildScript} exited with code 1: build-control-plane: Go is required`,
        );
        return true;
      },
    );
  });

  it('refuses a directory reported by the script that lacks a binary', async () => {
    const buildScript = await script(root, 'lies.sh', `echo "${partial}"`);
    await assert.rejects(
      locateControlPlaneBinaries({ env: {}, buildScript }),
      /does not hold executable etcd, kube-apiserver and kube-controller-manager/,
    );
  });
});
