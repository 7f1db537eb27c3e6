import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { locateControlPlaneBinaries } from '../../hack/local-cluster/binaries.ts';
import { waitFor } from '../envtest/wait-for.ts';

// The operator's embedded mode (no kubeconfig: it starts its own local control plane) on SIGTERM: the manager must
// drain and release its Lease through the embedded API server before that server goes away. The operator process
// starts its own cluster here, so this file needs no startTestCluster().

const MAIN = fileURLToPath(new URL('../../cmd/operator/main.ts', import.meta.url));
const binaries = await locateControlPlaneBinaries({ kubebuilderAssets: process.env.KUBEBUILDER_ASSETS, env: process.env });

interface LogLine {
  readonly msg?: string;
  readonly level?: string;
}

/** The operator in embedded mode with short leader election timings and nothing else running. */
function startOperator() {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      MAIN,
      '--controllers=endpoints-controller',
      '--leader-elect-lease-duration=4s',
      '--leader-elect-renew-deadline=3s',
      '--leader-elect-retry-period=500ms',
      '--metrics-bind-address=0',
      '--health-probe-bind-address=0',
      '--playground-kube-controller-manager=false',
      '--playground-simulator=false',
    ],
    {
      // No KUBECONFIG and no in-cluster variables: the embedded control plane. PATH for openssl.
      env: { PATH: process.env.PATH ?? '', KUBEBUILDER_ASSETS: binaries.dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: LogLine[] = [];
  const stdout = child.stdout;
  assert.ok(stdout !== null);
  createInterface({ input: stdout }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      lines.push({ msg: line });
    }
  });
  child.stderr?.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const workDir = () => {
    const created = lines.find((l) => l.msg?.includes('Created work directory'))?.msg ?? '';
    return /Created work directory (\S+)/.exec(created)?.[1];
  };
  const index = (msg: string) => lines.findIndex((l) => l.msg === msg);
  return { child, lines, exited, workDir, index };
}

async function exitWithin(op: ReturnType<typeof startOperator>, ms: number): Promise<number | null> {
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, ms, 'timeout').unref());
  const code = await Promise.race([op.exited, timeout]);
  if (code === 'timeout') {
    op.child.kill('SIGKILL');
    assert.fail(`the operator did not exit within ${ms} ms`);
  }
  return code;
}

describe('the operator with an embedded control plane', () => {
  it('on SIGTERM stops the manager (drain, Lease released) before the control plane, then exits 0', async () => {
    const op = startOperator();
    try {
      await waitFor(() => op.index('Started controllers') >= 0, {
        description: 'the controllers to start',
        timeoutMs: 90_000,
        intervalMs: 50,
      });
      const dir = op.workDir();
      assert.ok(dir !== undefined && existsSync(dir), 'the embedded cluster has a work directory');
      op.child.kill('SIGTERM');
      assert.equal(await exitWithin(op, 60_000), 0);

      const messages = op.lines.map((l) => l.msg ?? '');
      assert.ok(op.index('Released lease') >= 0, `the lease was released:\n${messages.join('\n')}`);
      assert.equal(op.index('Failed to release lease'), -1, 'no release against a stopped API server');
      const stoppedManager = op.index('Stopped manager');
      const stoppingCluster = op.index('Stopping embedded local cluster');
      assert.ok(stoppedManager >= 0 && stoppingCluster > stoppedManager, 'the cluster is stopped after the manager');
      assert.equal(existsSync(dir), false, 'the work directory is gone');
    } finally {
      op.child.kill('SIGKILL');
    }
  });

  it('on SIGTERM while the control plane is starting ends the start, cleans up and exits 0', async () => {
    const op = startOperator();
    try {
      await waitFor(() => op.lines.some((l) => l.msg?.includes('Started etcd')), {
        description: 'etcd to start',
        timeoutMs: 60_000,
        intervalMs: 20,
      });
      const dir = op.workDir();
      assert.ok(dir !== undefined);
      op.child.kill('SIGTERM');
      assert.equal(await exitWithin(op, 20_000), 0);
      assert.equal(op.index('Started controllers'), -1);
      assert.equal(existsSync(dir), false, 'the work directory is gone');
    } finally {
      op.child.kill('SIGKILL');
    }
  });
});
