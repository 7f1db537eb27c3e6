import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// Signal handling is process-wide, so each case runs in a child process of its own.

const MODULE = fileURLToPath(new URL('./exit-cleanup.ts', import.meta.url));

interface ChildRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly marker: string;
}

describe('onProcessExit', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keo-exit-test-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function runChild(name: string, body: string, signal?: NodeJS.Signals): Promise<ChildRun> {
    const marker = join(dir, `${name}.marker`);
    const script = join(dir, `${name}.ts`);
    await writeFile(
      script,
      `import { appendFileSync } from 'node:fs';
import { onProcessExit } from ${JSON.stringify(MODULE)};
const mark = (s: string) => appendFileSync(${JSON.stringify(marker)}, s + ';');
${body}
process.stdout.write('ready\\n');
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    if (signal !== undefined) child.kill(signal);
    const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    return { code, signal: sig, marker: await readFile(marker, 'utf8').catch(() => '') };
  }

  it('runs the async cleanup on SIGINT, then lets the signal terminate the process', async () => {
    const run = await runChild(
      'sigint',
      `onProcessExit({ onExit: () => mark('exit'), onSignal: async () => { await new Promise((r) => setTimeout(r, 50)); mark('signal'); } });
setInterval(() => {}, 1000);`,
      'SIGINT',
    );
    assert.deepEqual(run, { code: null, signal: 'SIGINT', marker: 'signal;' });
  });

  it('runs the synchronous cleanup once when the process exits on its own', async () => {
    const run = await runChild('exit', `onProcessExit({ onExit: () => mark('exit'), onSignal: async () => mark('signal') });`);
    assert.deepEqual(run, { code: 0, signal: null, marker: 'exit;' });
  });

  it('runs nothing after unregistering', async () => {
    const run = await runChild('unregistered', `onProcessExit({ onExit: () => mark('exit'), onSignal: async () => mark('signal') })();`);
    assert.deepEqual(run, { code: 0, signal: null, marker: '' });
  });

  it('leaves signals to the owner when no signal cleanup is given, and still cleans up when the process exits', async () => {
    // The owner's handler drains first (here: 100 ms) and exits; the children must survive until that exit.
    const run = await runChild(
      'owner-handles-signals',
      `onProcessExit({ onExit: () => mark('exit') });
process.once('SIGTERM', () => { mark('owner'); setTimeout(() => { mark('drained'); process.exit(0); }, 100); });
setInterval(() => {}, 1000);`,
      'SIGTERM',
    );
    assert.deepEqual(run, { code: 0, signal: null, marker: 'owner;drained;exit;' });
  });

  it('cleans up every registration on SIGTERM and still terminates', async () => {
    const run = await runChild(
      'two',
      `onProcessExit({ onExit: () => mark('exit-a'), onSignal: async () => mark('a') });
onProcessExit({ onExit: () => mark('exit-b'), onSignal: async () => mark('b') });
setInterval(() => {}, 1000);`,
      'SIGTERM',
    );
    assert.equal(run.signal, 'SIGTERM');
    assert.deepEqual(run.marker.split(';').filter(Boolean).sort(), ['a', 'b']);
  });
});
