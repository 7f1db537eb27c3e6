import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { allocatePort, releasePort, reservePort } from './ports.ts';

const bindable = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, () => server.close(() => resolve()));
  });

describe('port allocation', () => {
  let lockDir = '';
  before(async () => {
    lockDir = await mkdtemp(join(tmpdir(), 'keo-ports-test-'));
  });
  after(() => rm(lockDir, { recursive: true, force: true }));

  it('allocates a port that can be bound on 127.0.0.1 and is reserved until released', async () => {
    const port = await allocatePort({ lockDir });
    await bindable(port);
    assert.equal(await reservePort({ lockDir }, port), false, 'a second caller must not get the allocated port');
    await releasePort({ lockDir }, port);
    assert.equal(await reservePort({ lockDir }, port), true, 'a released port is available again');
    await releasePort({ lockDir }, port);
  });

  it('gives a reserved port to exactly one of many concurrent callers', async () => {
    const wins = await Promise.all(Array.from({ length: 10 }, () => reservePort({ lockDir }, 1)));
    assert.equal(wins.filter(Boolean).length, 1);
    await releasePort({ lockDir }, 1);
  });

  it('takes over a reservation older than the reservation period', async () => {
    assert.equal(await reservePort({ lockDir }, 2), true);
    assert.equal(await reservePort({ lockDir, reservationMs: 60_000 }, 2), false);
    const old = new Date(Date.now() - 61_000);
    await utimes(join(lockDir, 'port-2'), old, old);
    assert.equal(await reservePort({ lockDir, reservationMs: 60_000 }, 2), true);
    assert.equal(await reservePort({ lockDir, reservationMs: 60_000 }, 2), false, 'the takeover refreshes the reservation');
    await releasePort({ lockDir }, 2);
  });

  it('allocates distinct ports to concurrent callers', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => allocatePort({ lockDir })));
    assert.equal(new Set(ports).size, ports.length);
    await Promise.all(ports.map((p) => releasePort({ lockDir }, p)));
  });
});
