import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ComponentProcess, ComponentStartError, lastLine } from './component-process.ts';

/** Running, as opposed to gone or a zombie (an orphan lingers as one until PID 1 reaps it). */
const running = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

describe('ComponentProcess', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keo-process-test-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const spawnShell = (component: string, script: string) =>
    ComponentProcess.spawn({ component, binary: '/bin/sh', args: ['-c', script], logPath: join(dir, `${component}.log`), cwd: dir });

  it('writes the output to its log file and runs with an empty environment', async () => {
    process.env.ETCD_LEAK_CHECK = 'leaked';
    try {
      const proc = await spawnShell('env-check', 'echo "var=$ETCD_LEAK_CHECK"; echo oops >&2');
      await proc.exited;
      assert.equal(await readFile(proc.logPath, 'utf8'), 'var=\noops\n');
    } finally {
      delete process.env.ETCD_LEAK_CHECK;
    }
  });

  it('fails readiness with one line naming the component, the exit, the log and its last line', async () => {
    const proc = await spawnShell(
      'fake-apiserver',
      'echo starting; echo "listen tcp 127.0.0.1:6443: bind: address already in use"; exit 3',
    );
    await assert.rejects(
      proc.waitUntilReady('ready', async () => false, { timeoutMs: 5_000 }),
      (err: unknown) => {
        assert.ok(err instanceof ComponentStartError);
        assert.equal(err.portInUse, true);
        assert.equal(
          err.message,
          `fake-apiserver exited (code 3) before ready; log: ${proc.logPath}; last log line: listen tcp 127.0.0.1:6443: bind: address already in use`,
        );
        assert.ok(!err.message.includes('\n'));
        return true;
      },
    );
  });

  it('times out readiness while the process keeps running', async () => {
    const proc = await spawnShell('slow', 'exec sleep 30');
    await assert.rejects(
      proc.waitUntilReady('healthy', async () => false, { timeoutMs: 200, intervalMs: 20 }),
      (err: unknown) => {
        assert.ok(err instanceof ComponentStartError);
        assert.equal(err.portInUse, false);
        assert.match(err.message, /^slow did not report healthy within 0 s; log: /);
        return true;
      },
    );
    await proc.stop(1_000);
  });

  it('resolves readiness once the probe succeeds', async () => {
    const proc = await spawnShell('ready', 'exec sleep 30');
    let calls = 0;
    await proc.waitUntilReady('ready', async () => ++calls === 3, { timeoutMs: 5_000, intervalMs: 10 });
    assert.equal(calls, 3);
    await proc.stop(1_000);
  });

  it('stops with SIGTERM, escalating to SIGKILL for the whole process group', async () => {
    // The shell ignores SIGTERM and has a child of its own: only a group SIGKILL ends both.
    const proc = await spawnShell('stubborn', "trap '' TERM; sleep 30 & echo $! > child.pid; wait");
    await proc.waitUntilReady('child started', async () => (await readFile(join(dir, 'child.pid'), 'utf8')).trim() !== '', {
      timeoutMs: 5_000,
      intervalMs: 10,
    });
    const child = Number((await readFile(join(dir, 'child.pid'), 'utf8')).trim());
    const started = performance.now();
    await Promise.all([proc.stop(300), proc.stop(300)]);
    assert.ok(performance.now() - started >= 250, 'SIGKILL came only after the stop timeout');
    assert.equal(proc.exitStatus?.signal, 'SIGKILL');
    assert.equal(running(proc.pid), false);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(running(child), false, 'the grandchild died with its group');
  });

  it('settles a stop that escalated to SIGKILL even when nothing else keeps the caller alive', async () => {
    // In a process of its own: the test runner would otherwise keep the event loop busy and hide the hang.
    const script = join(dir, 'lonely-stop.ts');
    const module = new URL('./component-process.ts', import.meta.url).pathname;
    await writeFile(
      script,
      `import { ComponentProcess } from ${JSON.stringify(module)};
const proc = await ComponentProcess.spawn({ component: 'stubborn', binary: '/bin/sh', args: ['-c', "trap '' TERM; echo up; sleep 30"], logPath: ${JSON.stringify(join(dir, 'lonely.log'))}, cwd: ${JSON.stringify(dir)} });
await new Promise((r) => setTimeout(r, 200));
await proc.stop(100);
process.stdout.write('stopped ' + proc.exitStatus?.signal);
`,
    );
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.once('exit', (code) => resolve({ code, stdout }));
    });
    assert.deepEqual(out, { code: 0, stdout: 'stopped SIGKILL' });
  });

  it('reports an executable that cannot be run as a start error', async () => {
    await assert.rejects(
      ComponentProcess.spawn({ component: 'ghost', binary: join(dir, 'missing'), args: [], logPath: join(dir, 'ghost.log'), cwd: dir }),
      /^ComponentStartError: ghost could not be executed/,
    );
  });
});

describe('lastLine', () => {
  const cases = [
    { name: 'skips trailing blank lines', given: 'a\nb\n\n  \n', want: 'b' },
    { name: 'empty log', given: '', want: '' },
    { name: 'truncates long lines', given: 'x'.repeat(400), want: `${'x'.repeat(300)}...` },
  ];
  for (const c of cases) it(c.name, () => assert.equal(lastLine(c.given), c.want));
});
