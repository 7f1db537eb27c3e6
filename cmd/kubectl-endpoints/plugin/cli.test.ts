import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type CliIo, main } from './cli.ts';

// The command's edges without a cluster: help, usage errors, kubeconfig errors and an unreachable API server, each
// with its exit code and with nothing on stdout when it failed.

function capture(isTTY = false): CliIo & { out: string; err: string } {
  const io = { out: '', err: '', isTTY, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

const dir = mkdtempSync(join(tmpdir(), 'kubectl-endpoints-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// A loopback port that was just free: nothing listens, so the connection is refused at once.
const port = await new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const address = server.address();
    server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
  });
});
const unreachable = join(dir, 'kubeconfig');
writeFileSync(
  unreachable,
  [
    'apiVersion: v1',
    'kind: Config',
    'current-context: c',
    `clusters: [{name: k, cluster: {server: "https://127.0.0.1:${port}"}}]`,
    'users: [{name: u, user: {token: t}}]',
    'contexts: [{name: c, context: {cluster: k, user: u}}]',
  ].join('\n'),
);

describe('main', () => {
  it('--help prints the exit codes and exits 0', async () => {
    const io = capture();
    assert.equal(await main(['--help'], {}, io), 0);
    assert.match(
      io.out,
      /Exit codes:\n\s+why\s+0 {2}the Service's EndpointSlices publish at least one ready endpoint\n\s+3 {2}they publish none/,
    );
    assert.match(io.out, /diff\s+0 {2}stored objects match what the controllers would write\n\s+1 {2}they differ/);
  });

  it('a usage error goes to stderr with exit 2', async () => {
    const io = capture();
    assert.equal(await main(['why'], {}, io), 2);
    assert.deepEqual([io.out, io.err], ['', "error: why: missing SERVICE\nRun 'kubectl endpoints --help' for usage.\n"]);
  });

  it('an unknown context is an error with exit 2', async () => {
    const io = capture();
    assert.equal(await main(['why', 'web', '--kubeconfig', unreachable, '--context', 'nope'], {}, io), 2);
    assert.equal(io.err, 'error: context "nope" not found in the kubeconfig\n');
  });

  it('an unreachable API server is an error with exit 2, for both commands', async () => {
    for (const command of ['why', 'diff']) {
      const io = capture();
      assert.equal(await main([command, 'web', '--kubeconfig', unreachable, '--request-timeout=5s'], {}, io), 2);
      assert.equal(io.out, '');
      assert.match(io.err, /^error: reading [^\n]*(ECONNREFUSED|refused)[^\n]*\n$/);
    }
  });
});
