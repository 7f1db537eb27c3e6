import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestHost, TestProcess } from './test-host.ts';

// Real PostgreSQL servers (Debian's postgresql package) inside test hosts: a primary, and a streaming replica cloned
// from it with pg_basebackup. The servers run as the `postgres` user (PostgreSQL refuses root) through setpriv, which
// execs, so the test host's process is the postmaster itself and killing it kills the server. Data directories live
// under one temporary directory that {@link PostgresCluster.remove} deletes.

const run = promisify(execFile);
const PG_ROOT = '/usr/lib/postgresql';

/** The bin directory of the newest installed PostgreSQL, or undefined when none is installed. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  const v = versions[0];
  return v === undefined ? undefined : join(PG_ROOT, v, 'bin');
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresSupport(): string | undefined {
  if (postgresBinDir() === undefined)
    return `PostgreSQL is not installed under ${PG_ROOT} (Debian package postgresql; .ci/run installs it)`;
  return undefined;
}

export interface PostgresServer {
  readonly host: TestHost;
  readonly dataDir: string;
  readonly process: TestProcess;
}

export interface PostgresCluster {
  readonly password: string;
  startPrimary(host: TestHost): Promise<PostgresServer>;
  /** A streaming replica cloned from the primary that `via` leads to (a relay on the replica host's gateway). */
  startReplica(host: TestHost, via: { readonly address: string; readonly port: number }): Promise<PostgresServer>;
  /** `pg_ctl promote`, waiting until the server accepts writes. */
  promote(server: PostgresServer): Promise<void>;
  remove(): Promise<void>;
}

const uidOf = async (user: string) => Number((await run('id', ['-u', user])).stdout.trim());
const gidOf = async (user: string) => Number((await run('id', ['-g', user])).stdout.trim());

/** A set of PostgreSQL servers sharing one superuser password. */
export async function createPostgresCluster(): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error(postgresSupport());
  const uid = await uidOf('postgres');
  const gid = await gidOf('postgres');
  const root = mkdtempSync(join(tmpdir(), 'keo-pg-'));
  chmodSync(root, 0o755);
  chownSync(root, uid, gid);
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const asPostgres = (command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
    run('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', join(bin, command), ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
  let n = 0;
  const newDir = () => join(root, `data-${n++}`);
  const start = async (host: TestHost, dataDir: string, ready: RegExp): Promise<PostgresServer> => {
    // Sockets outside the data directory, or pg_basebackup would copy the primary's socket lock file.
    const socketDir = `${dataDir}-sockets`;
    mkdirSync(socketDir, { mode: 0o700 });
    chownSync(socketDir, uid, gid);
    const p = host.spawn('setpriv', [
      '--reuid=postgres',
      '--regid=postgres',
      '--init-groups',
      join(bin, 'postgres'),
      '-D',
      dataDir,
      '-c',
      'listen_addresses=*',
      '-c',
      `unix_socket_directories=${socketDir}`,
      '-c',
      'fsync=off',
      '-c',
      'shared_buffers=16MB',
      '-c',
      'max_connections=20',
      // Dynamic shared memory as files in the data directory (removed with it), not /dev/shm segments, which a
      // killed server (the failover tests kill the primary) would leave behind.
      '-c',
      'dynamic_shared_memory_type=mmap',
    ]);
    try {
      await p.waitForOutput(ready, 60_000);
    } catch (err) {
      await p.kill('SIGKILL');
      throw new Error(`PostgreSQL did not start in ${host.name}: ${(err as Error).message}\n${p.output()}`, { cause: err });
    }
    return { host, dataDir, process: p };
  };
  return {
    password,
    async startPrimary(host) {
      const dataDir = newDir();
      const pwfile = join(root, 'pwfile');
      writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
      chownSync(pwfile, uid, gid);
      await asPostgres('initdb', [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        `--pwfile=${pwfile}`,
      ]);
      await appendFile(
        join(dataDir, 'pg_hba.conf'),
        'host all all 0.0.0.0/0 scram-sha-256\nhost replication all 0.0.0.0/0 scram-sha-256\n',
      );
      return start(host, dataDir, /database system is ready to accept connections/);
    },
    async startReplica(host, via) {
      const dataDir = newDir();
      // -R writes primary_conninfo with this host and port: the replica streams through the relay too.
      await asPostgres(
        'pg_basebackup',
        ['-h', via.address, '-p', String(via.port), '-U', 'postgres', '-D', dataDir, '-R', '-X', 'stream', '-w'],
        { PGPASSWORD: password },
      );
      const server = await start(host, dataDir, /database system is ready to accept read-only connections/);
      try {
        await server.process.waitForOutput(/started streaming WAL from primary/, 30_000);
      } catch (err) {
        await server.process.kill('SIGKILL');
        throw new Error(`the replica in ${host.name} does not stream: ${(err as Error).message}`, { cause: err });
      }
      return server;
    },
    async promote(server) {
      await asPostgres('pg_ctl', ['promote', '-w', '-t', '30', '-D', server.dataDir]);
    },
    async remove() {
      // A killed postmaster leaves its System V shared memory segment (a small interlock segment PostgreSQL always
      // creates); its id is on line 7 of postmaster.pid, which only a server that did not shut down cleanly leaves.
      for (const dir of readdirSync(root)) {
        const pidFile = join(root, dir, 'postmaster.pid');
        if (!existsSync(pidFile)) continue;
        const shmid = readFileSync(pidFile, 'utf8').split('\n')[6]?.trim().split(/\s+/)[1];
        if (shmid !== undefined && /^\d+$/.test(shmid)) await run('ipcrm', ['-m', shmid]).catch(() => undefined);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
