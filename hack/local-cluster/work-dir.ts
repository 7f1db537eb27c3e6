import { constants } from 'node:fs';
import { access, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Where a cluster keeps its etcd data, certificates and logs. tmpfs (/dev/shm) when available: etcd fsyncs every write
// on builds without --unsafe-no-fsync, and on a disk that alone makes the API server several times slower.

/** The base directories tried in order when the caller names none. */
export const DEFAULT_BASE_DIRS: readonly string[] = ['/dev/shm', tmpdir()];

/**
 * Creates a fresh private directory `keo-local-cluster-XXXXXX` under the first writable directory of `candidates`.
 * Throws when none is writable.
 */
export async function createWorkDir(candidates: readonly string[] = DEFAULT_BASE_DIRS): Promise<string> {
  for (const base of candidates) {
    if (!(await isWritableDir(base))) continue;
    return mkdtemp(join(base, 'keo-local-cluster-'));
  }
  throw new Error(`no writable directory for the local cluster among ${candidates.join(', ')}`);
}

async function isWritableDir(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isDirectory()) return false;
    await access(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
