import { open } from 'node:fs/promises';
import type { ComponentLog } from '../../hack/local-cluster/local-cluster.ts';

// When an integration test fails, the cause is often in a component's log (a rejected flag, a controller's error), so
// the last lines of every log are printed with the failure.

const TAIL_BYTES = 64 * 1024;

/** The last `lines` lines of each log, under a header naming the component and the file. Never throws. */
export async function logTails(logs: readonly ComponentLog[], lines = 40): Promise<string> {
  const parts = await Promise.all(
    logs.map(async (log) => {
      const text = await readTail(log.path).catch((err: unknown) => `(unreadable: ${(err as Error).message})`);
      const tail = text
        .split('\n')
        .filter((l) => l !== '')
        .slice(-lines);
      return `----- ${log.component}: last ${tail.length} lines of ${log.path}\n${tail.join('\n')}`;
    }),
  );
  return `${parts.join('\n')}\n`;
}

async function readTail(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}
