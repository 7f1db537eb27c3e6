import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestHost, TestProcess } from './test-host.ts';

// Real MariaDB servers (Debian's mariadb-server) inside test hosts, started by the test (no system service): a fresh
// data directory, a probe user with a password, no binary log. Administration (SET GLOBAL read_only) goes through the
// server's Unix socket as root. Removing the server (or the host) kills it; remove() deletes its directory.

const run = promisify(execFile);
const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const CLIENT = '/usr/bin/mariadb';

/** Why MariaDB tests cannot run here, or undefined when they can. */
export function mariadbSupport(): string | undefined {
  if (![MARIADBD, INSTALL_DB, CLIENT].every(existsSync))
    return 'mariadb-server is not installed (Debian package mariadb-server; .ci/run installs it)';
  return undefined;
}

export interface MariaDBServer {
  readonly host: TestHost;
  readonly process: TestProcess;
  /** Runs SQL as root over the Unix socket. */
  sql(statement: string): Promise<string>;
  /** Kills the server (if still running) and deletes its data directory. */
  remove(): Promise<void>;
}

/** Starts a server on port 3306 of `host` with user `user`@'%' identified by `password`, read_only as given. */
export async function startMariaDB(host: TestHost, user: string, password: string, readOnly: boolean): Promise<MariaDBServer> {
  const dir = mkdtempSync(join(tmpdir(), 'keo-mariadb-'));
  const socket = join(dir, 'mysqld.sock');
  // A temporary directory of its own: two bootstraps sharing /tmp can trip over each other's temporary tables.
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const remove = async (p?: TestProcess) => {
    await p?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run(
      INSTALL_DB,
      [
        '--no-defaults',
        `--datadir=${join(dir, 'data')}`,
        '--user=root',
        '--skip-test-db',
        '--auth-root-authentication-method=socket',
        `--tmpdir=${tmp}`,
      ],
      {
        timeout: 60_000,
      },
    );
  } catch (err) {
    await remove();
    throw new Error(`mariadb-install-db failed: ${(err as Error).message}`, { cause: err });
  }
  const quote = (s: string) => `'${s.replace(/[\\']/g, '\\$&')}'`;
  writeFileSync(
    join(dir, 'init.sql'),
    `CREATE USER IF NOT EXISTS ${quote(user)}@'%' IDENTIFIED BY ${quote(password)};\nSET GLOBAL read_only = ${readOnly ? 1 : 0};\n`,
  );
  const process = host.spawn(MARIADBD, [
    '--no-defaults',
    `--datadir=${join(dir, 'data')}`,
    `--socket=${socket}`,
    `--pid-file=${join(dir, 'mysqld.pid')}`,
    `--init-file=${join(dir, 'init.sql')}`,
    `--tmpdir=${tmp}`,
    '--user=root',
    '--port=3306',
    '--bind-address=0.0.0.0',
    '--skip-name-resolve',
    '--skip-log-bin',
    '--innodb-buffer-pool-size=16M',
    '--max-connections=50',
  ]);
  try {
    await process.waitForOutput(/ready for connections/, 60_000);
  } catch (err) {
    await remove(process);
    throw new Error(`MariaDB did not start in ${host.name}: ${(err as Error).message}`, { cause: err });
  }
  return {
    host,
    process,
    sql: async (statement) => (await run(CLIENT, [`--socket=${socket}`, '-uroot', '-N', '-e', statement], { timeout: 10_000 })).stdout,
    remove: () => remove(process),
  };
}
