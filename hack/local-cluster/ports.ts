import { unlinkSync } from 'node:fs';
import { mkdir, open, stat, unlink, utimes } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

// Free loopback ports. Asking the kernel for port 0 gives a free port, but it is free only until someone else binds
// it: another test process on the machine may be handed the same number before our component binds. Like envtest, a
// short-lived reservation file per port narrows that window across processes; the launcher still retries a component
// that fails with "address already in use", because a process that does not honour the reservations can take it.

/** Where and for how long ports are reserved. */
export interface PortAllocatorOptions {
  /** Directory of reservation files `port-<n>`, shared by every process that should not collide. Created if missing. */
  readonly lockDir: string;
  /** A reservation older than this is considered abandoned. Default 2 min, as envtest. */
  readonly reservationMs?: number;
  /** Host to probe; always an IPv4 loopback literal, never "localhost" (Node may resolve it to ::1). */
  readonly host?: string;
}

const MAX_ATTEMPTS = 50;

/**
 * Returns a port that was free on 127.0.0.1 a moment ago and is now reserved for this caller. Release it with
 * {@link releasePort} once the component that bound it has stopped. Throws after 50 reserved or busy candidates.
 */
export async function allocatePort(opts: PortAllocatorOptions): Promise<number> {
  await mkdir(opts.lockDir, { recursive: true });
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const port = await kernelFreePort(opts.host ?? '127.0.0.1');
    if (await reservePort(opts, port)) return port;
  }
  throw new Error(`no free loopback port after ${MAX_ATTEMPTS} attempts (reservations in ${opts.lockDir})`);
}

/** Drops the reservation of `port`. Never throws. */
export async function releasePort(opts: PortAllocatorOptions, port: number): Promise<void> {
  await unlink(join(opts.lockDir, `port-${port}`)).catch(() => undefined);
}

/** Synchronous {@link releasePort}, for process-exit handlers. Never throws. */
export function releasePortSync(opts: PortAllocatorOptions, port: number): void {
  try {
    unlinkSync(join(opts.lockDir, `port-${port}`));
  } catch {
    // Already gone.
  }
}

function kernelFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error(`listening on ${host}:0 gave no port`))));
    });
  });
}

/**
 * Reserves `port` for this caller unless another caller holds a reservation younger than the reservation period.
 * Resolves whether it is now ours. The lock directory must exist.
 */
export async function reservePort(opts: PortAllocatorOptions, port: number): Promise<boolean> {
  const path = join(opts.lockDir, `port-${port}`);
  try {
    const handle = await open(path, 'wx');
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // Reserved already: take it over only when the reservation is stale (its owner crashed or forgot to release it).
  const info = await stat(path).catch(() => undefined);
  if (info === undefined || Date.now() - info.mtimeMs < (opts.reservationMs ?? 120_000)) return false;
  const now = new Date();
  await utimes(path, now, now).catch(() => undefined);
  return true;
}
