import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { dataPlaneSupport, removeStaleDataPlanes } from '../../hack/data-plane/data-plane.ts';
import { IP, listNamespacesSync } from '../../hack/data-plane/netns.ts';

// What a killed test process leaves behind (its claim, namespaces with processes in them, resolv.conf directories) is
// removed by the next data plane's start, and only when its owner is gone.

const support = dataPlaneSupport('nftables');

describe('stale data planes', () => {
  it(
    'are removed with their processes once their owner has died, and not before',
    { skip: support.ok ? false : support.reason },
    async () => {
      const prefix = `keo-dp-${randomBytes(4).toString('hex')}`;
      const namespaces = [`${prefix}-net`, `${prefix}-n1`];
      // An owner that is alive, then dies.
      const owner = spawn('sleep', ['60'], { stdio: 'ignore' });
      const sleeper = { pid: -1 };
      try {
        for (const ns of namespaces) execFileSync(IP, ['netns', 'add', ns]);
        mkdirSync(`/etc/netns/${prefix}-n1`, { recursive: true });
        writeFileSync(`/etc/netns/${prefix}-n1/resolv.conf`, 'nameserver 10.0.0.10\n');
        const inside = spawn(IP, ['netns', 'exec', `${prefix}-n1`, 'sleep', '60'], { stdio: 'ignore', detached: true });
        sleeper.pid = inside.pid ?? -1;
        mkdirSync('/run/keo-dataplane', { recursive: true });
        writeFileSync(`/run/keo-dataplane/${prefix}.json`, JSON.stringify({ pid: owner.pid, prefix }));

        assert.ok(!removeStaleDataPlanes().includes(prefix), 'a live owner keeps its data plane');
        assert.deepEqual(
          listNamespacesSync()
            .filter((n) => n.startsWith(`${prefix}-`))
            .sort(),
          [...namespaces].sort(),
        );

        owner.kill('SIGKILL');
        await new Promise((resolve) => owner.once('exit', resolve));
        assert.ok(removeStaleDataPlanes().includes(prefix));
        assert.deepEqual(
          listNamespacesSync().filter((n) => n.startsWith(`${prefix}-`)),
          [],
        );
        assert.equal(existsSync(`/etc/netns/${prefix}-n1`), false);
        assert.equal(existsSync(`/run/keo-dataplane/${prefix}.json`), false);
        await new Promise((resolve) =>
          inside.exitCode !== null || inside.signalCode !== null ? resolve(undefined) : inside.once('exit', resolve),
        );
        assert.notEqual(inside.signalCode, null, 'the process inside the namespace was killed');
      } finally {
        owner.kill('SIGKILL');
        for (const ns of namespaces) {
          try {
            execFileSync(IP, ['netns', 'del', ns], { stdio: 'ignore' });
          } catch {
            // removed by the test
          }
        }
        if (sleeper.pid > 0) {
          try {
            process.kill(-sleeper.pid, 'SIGKILL');
          } catch {
            // killed by the sweep
          }
        }
      }
    },
  );
});
