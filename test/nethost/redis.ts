import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestHost, TestProcess } from './test-host.ts';

// Real Redis servers (Debian's redis-server) inside test hosts: a primary and a replica of it, with a password, no
// persistence. Everything lives in the test host's processes, so removing the host removes the servers.

const run = promisify(execFile);
const REDIS_SERVER = '/usr/bin/redis-server';
const REDIS_CLI = '/usr/bin/redis-cli';

/** Why Redis tests cannot run here, or undefined when they can. */
export function redisSupport(): string | undefined {
  if (!existsSync(REDIS_SERVER) || !existsSync(REDIS_CLI))
    return 'redis-server is not installed (Debian package redis-server; .ci/run installs it)';
  return undefined;
}

export interface RedisServer {
  readonly host: TestHost;
  readonly process: TestProcess;
  /** Kills the server (if still running) and deletes its working directory. */
  remove(): Promise<void>;
}

// Each server works in a directory of its own: a replica writes the data set it receives to disk.
function start(host: TestHost, password: string, extra: readonly string[]): { process: TestProcess; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'keo-redis-'));
  const process = host.spawn(REDIS_SERVER, [
    '--dir',
    dir,
    '--port',
    '6379',
    '--bind',
    '0.0.0.0',
    '--protected-mode',
    'no',
    '--save',
    '',
    '--appendonly',
    'no',
    '--requirepass',
    password,
    '--masterauth',
    password,
    ...extra,
  ]);
  return { process, dir };
}

async function ready(host: TestHost, started: { process: TestProcess; dir: string }, pattern: RegExp): Promise<RedisServer> {
  const remove = async () => {
    await started.process.kill('SIGKILL');
    rmSync(started.dir, { recursive: true, force: true });
  };
  try {
    await started.process.waitForOutput(pattern, 30_000);
  } catch (err) {
    await remove();
    throw new Error(`Redis did not start in ${host.name}: ${(err as Error).message}`, { cause: err });
  }
  return { host, process: started.process, remove };
}

export async function startRedisPrimary(host: TestHost, password: string): Promise<RedisServer> {
  return ready(host, start(host, password, []), /Ready to accept connections/);
}

/** A replica of `primary`, replicating through `via` (a relay on the replica host's gateway, see relay.ts). */
export async function startRedisReplica(
  host: TestHost,
  via: { readonly address: string; readonly port: number },
  password: string,
): Promise<RedisServer> {
  return ready(
    host,
    start(host, password, ['--replicaof', via.address, String(via.port)]),
    /MASTER <-> REPLICA sync: (Finished with success|Master accepted a Partial Resynchronization)/,
  );
}

/** `REPLICAOF NO ONE`: the replica becomes a primary. */
export async function promoteRedis(server: RedisServer, password: string): Promise<void> {
  await run(REDIS_CLI, ['-h', server.host.address, '-p', '6379', '--no-auth-warning', '-a', password, 'REPLICAOF', 'NO', 'ONE'], {
    timeout: 10_000,
  });
}
