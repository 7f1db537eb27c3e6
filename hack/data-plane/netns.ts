import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

// The few iproute2 operations the data plane is made of, and processes run inside a network namespace. Processes
// started with `ip netns exec` survive `ip netns del`, so every namespace is emptied (its pids killed) before it is
// deleted.

export const IP = '/usr/sbin/ip';
const COMMAND_TIMEOUT_MS = 15_000;

/** A command of the data plane failed; the message names the command and its stderr. */
export class DataPlaneError extends Error {
  override readonly name = 'DataPlaneError';
}

/** Runs a command and resolves with its stdout. */
export function run(command: string, args: readonly string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new DataPlaneError(`${command} ${args.join(' ')}: ${(stderr || err.message).trim()}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

/** `ip <args>`. */
export function ip(...args: string[]): Promise<string> {
  return run(IP, args);
}

/** Runs `command` inside namespace `ns` and resolves with its stdout. */
export function inNamespace(ns: string, command: string, args: readonly string[], timeoutMs?: number): Promise<string> {
  return run(IP, ['netns', 'exec', ns, command, ...args], timeoutMs);
}

/** The network namespaces that exist (`ip netns list`), names only. */
export function listNamespacesSync(): string[] {
  try {
    return execFileSync(IP, ['netns', 'list'], { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => name !== '');
  } catch {
    return [];
  }
}

/** The pids inside namespace `ns` (none if it does not exist). */
export function namespacePidsSync(ns: string): number[] {
  try {
    return execFileSync(IP, ['netns', 'pids', ns], { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split(/\s+/)
      .filter((p) => /^\d+$/.test(p))
      .map(Number);
  } catch {
    return [];
  }
}

/** Kills every process in `ns` (SIGKILL) and deletes the namespace. Idempotent; synchronous, so exit hooks can use it. */
export function deleteNamespaceSync(ns: string): void {
  for (let round = 0; round < 3; round++) {
    const pids = namespacePidsSync(ns);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  try {
    execFileSync(IP, ['netns', 'del', ns], { timeout: COMMAND_TIMEOUT_MS, stdio: 'ignore' });
  } catch {
    // already gone
  }
}

/** A long-running process inside a namespace, in its own process group, logging to a file. */
export interface NamespaceProcess {
  readonly pid: number;
  readonly logPath: string;
  /** Resolves when it has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** SIGTERM to its process group, SIGKILL after `graceMs` (default 3 s); resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `command` inside `ns` with stdout and stderr appended to `logPath` (never a pipe to this process: a child
 * holding our pipe open would keep it alive), detached into its own process group so stop() reaches its children.
 */
export function startInNamespace(ns: string, command: string, args: readonly string[], logPath: string): NamespaceProcess {
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(IP, ['netns', 'exec', ns, command, ...args], { detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid ?? -1;
  let running = pid > 0;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
    child.once('error', () => {
      running = false;
      resolve({ code: null, signal: null });
    });
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  return {
    pid,
    logPath,
    exited,
    isRunning: () => running,
    async stop(graceMs = 3000) {
      if (!running) return;
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
