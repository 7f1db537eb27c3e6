import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

// CPU time and peak memory of another process, read from Linux's /proc, so that both controllers (a Go binary and a
// Node process) are measured the same way from outside.

/** One reading of a process's resource use. */
export interface ProcessSample {
  /** User + system CPU time since the process started, seconds. */
  readonly cpuSeconds: number;
  /** Peak resident set size (VmHWM), bytes. */
  readonly peakRssBytes: number;
  /** Current resident set size (VmRSS), bytes. */
  readonly rssBytes: number;
}

/**
 * User + system CPU ticks from the text of `/proc/<pid>/stat`. The command name (field 2) is in parentheses and may
 * itself contain spaces and parentheses, so fields are counted from the last `)`. Throws on a malformed line.
 */
export function parseStatTicks(stat: string): number {
  const end = stat.lastIndexOf(')');
  if (end < 0) throw new Error('malformed /proc/<pid>/stat: no command name');
  // After ") " come field 3 (state) onwards; utime is field 14 and stime field 15.
  const rest = stat
    .slice(end + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('malformed /proc/<pid>/stat: no utime/stime');
  return utime + stime;
}

/** A `kB` field (VmHWM, VmRSS) of `/proc/<pid>/status`, in bytes; 0 when absent (a zombie has none). */
export function parseStatusKb(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return m?.[1] === undefined ? 0 : Number(m[1]) * 1024;
}

let clockTicks: number | undefined;

/** The kernel's USER_HZ (ticks per second in /proc), from `getconf CLK_TCK`; 100 when getconf is missing. */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Reads the process's CPU time and memory. Throws when the process is gone. */
export async function sampleProcess(pid: number): Promise<ProcessSample> {
  const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]);
  return {
    cpuSeconds: parseStatTicks(stat) / clockTicksPerSecond(),
    peakRssBytes: parseStatusKb(status, 'VmHWM'),
    rssBytes: parseStatusKb(status, 'VmRSS'),
  };
}
