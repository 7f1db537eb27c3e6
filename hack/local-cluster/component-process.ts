import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

// One control-plane binary running as a child process. Each child leads its own process group (detached), so a stop
// signal reaches anything it forks and, more importantly, a Ctrl-C on the terminal does not reach it before we decide
// how to stop it. Output goes straight to a log file (no pipes), so a chatty component never blocks on a full pipe and
// the log survives for post-mortem reading.

/** How a child ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Start of a component that did not become ready. The message is one line naming the component and its log. */
export class ComponentStartError extends Error {
  override readonly name = 'ComponentStartError';
  readonly component: string;
  readonly logPath: string;
  /** The component failed to bind a port another process took first: worth retrying on fresh ports. */
  readonly portInUse: boolean;

  constructor(init: { component: string; logPath: string; reason: string; portInUse: boolean; lastLogLine: string; cause?: unknown }) {
    const last = init.lastLogLine === '' ? '' : `; last log line: ${init.lastLogLine}`;
    super(`${init.component} ${init.reason}; log: ${init.logPath}${last}`, { cause: init.cause });
    this.component = init.component;
    this.logPath = init.logPath;
    this.portInUse = init.portInUse;
  }
}

/** What to run. */
export interface ComponentSpawnOptions {
  /** Name used in errors and progress ("etcd", "kube-apiserver"). */
  readonly component: string;
  readonly binary: string;
  readonly args: readonly string[];
  /** Receives stdout and stderr; truncated first, so after a retry it holds only the last attempt. */
  readonly logPath: string;
  readonly cwd: string;
  /**
   * The child's whole environment. Default: empty, so variables of the caller (ETCD_*, KUBECONFIG) cannot silently
   * change a component's configuration.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Called as soon as the child runs, before any readiness wait, so an interrupted start can still kill it. */
  readonly onSpawn?: (process: ComponentProcess) => void;
}

/** Readiness loop settings. */
export interface ReadinessOptions {
  readonly timeoutMs: number;
  /** Pause between probes. Default 100 ms, as envtest. */
  readonly intervalMs?: number;
}

const PORT_IN_USE = /address already in use/i;

/**
 * A spawned component. Not restartable: a retry spawns a new one. Stopping is idempotent and safe to call
 * concurrently; {@link ComponentProcess.killNow} is the synchronous variant for process-exit handlers.
 */
export class ComponentProcess {
  readonly component: string;
  readonly logPath: string;
  readonly pid: number;
  /** Settles when the child has exited, however it ended. */
  readonly exited: Promise<ProcessExit>;
  #exit: ProcessExit | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(opts: ComponentSpawnOptions, child: ChildProcess, pid: number) {
    this.component = opts.component;
    this.logPath = opts.logPath;
    this.pid = pid;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
    // The child must never keep the caller alive by itself: a forgotten cluster is killed by the exit handler instead.
    child.unref();
  }

  /** Spawns the binary. Throws {@link ComponentStartError} when it cannot be executed at all. */
  static async spawn(opts: ComponentSpawnOptions): Promise<ComponentProcess> {
    const fd = openSync(opts.logPath, 'w');
    let child: ChildProcess;
    try {
      child = spawn(opts.binary, opts.args, {
        cwd: opts.cwd,
        env: { ...(opts.env ?? {}) },
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid ?? -1));
      child.once('error', reject);
    }).catch((err: unknown) => {
      throw new ComponentStartError({
        component: opts.component,
        logPath: opts.logPath,
        reason: `could not be executed (${opts.binary}: ${(err as Error).message})`,
        portInUse: false,
        lastLogLine: '',
        cause: err,
      });
    });
    const proc = new ComponentProcess(opts, child, pid);
    opts.onSpawn?.(proc);
    return proc;
  }

  /** The exit status once the child has exited, else undefined. */
  get exitStatus(): ProcessExit | undefined {
    return this.#exit;
  }

  /**
   * Polls `probe` until it resolves true. Probe rejections count as "not yet". Throws {@link ComponentStartError} when
   * the child exits first or the timeout passes; the child is left running in the latter case (the caller stops it).
   */
  async waitUntilReady(what: string, probe: () => Promise<boolean>, opts: ReadinessOptions): Promise<void> {
    const deadline = performance.now() + opts.timeoutMs;
    let lastProbeError: unknown;
    for (;;) {
      if (this.#exit !== undefined) throw await this.#startError(`exited (${describeExit(this.#exit)}) before ${what}`, lastProbeError);
      const ok = await probe().catch((err: unknown) => {
        lastProbeError = err;
        return false;
      });
      if (ok) return;
      if (performance.now() >= deadline) {
        throw await this.#startError(`did not report ${what} within ${Math.round(opts.timeoutMs / 1000)} s`, lastProbeError);
      }
      await Promise.race([sleep(opts.intervalMs ?? 100), this.exited]);
    }
  }

  /**
   * SIGTERM to the process group, then SIGKILL after `timeoutMs` if it is still running. Resolves once the child has
   * exited. Idempotent.
   */
  stop(timeoutMs: number): Promise<void> {
    this.#stopping ??= this.#stop(timeoutMs);
    return this.#stopping;
  }

  /**
   * Resolves true once the child has exited, false after `timeoutMs`. Keeps the event loop alive meanwhile (the child
   * itself is unref'd), and cancels its timer on exit so it never holds the caller's process open afterwards.
   */
  async waitForExit(timeoutMs: number): Promise<boolean> {
    if (this.#exit !== undefined) return true;
    const timer = new AbortController();
    try {
      return await Promise.race([this.exited.then(() => true), sleep(timeoutMs, false, { signal: timer.signal })]);
    } finally {
      timer.abort();
    }
  }

  /** Synchronous SIGKILL of the process group, for `process.on('exit')` where nothing can be awaited. */
  killNow(): void {
    if (this.#exit === undefined) signalGroup(this.pid, 'SIGKILL');
  }

  async #stop(timeoutMs: number): Promise<void> {
    if (this.#exit !== undefined) return;
    signalGroup(this.pid, 'SIGTERM');
    if (!(await this.waitForExit(timeoutMs))) {
      signalGroup(this.pid, 'SIGKILL');
      // Not `await this.exited`: the child is unref'd, so with nothing else pending the caller's process would exit
      // before the child is reaped, leaving this promise (and its caller's await) unsettled.
      await this.waitForExit(timeoutMs);
    }
  }

  async #startError(reason: string, cause: unknown): Promise<ComponentStartError> {
    const log = await readFile(this.logPath, 'utf8').catch(() => '');
    return new ComponentStartError({
      component: this.component,
      logPath: this.logPath,
      reason,
      portInUse: PORT_IN_USE.test(log),
      lastLogLine: lastLine(log),
      cause,
    });
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone, which is the goal.
  }
}

function describeExit(exit: ProcessExit): string {
  return exit.signal === null ? `code ${exit.code}` : `signal ${exit.signal}`;
}

/** The last non-empty line of a log, trimmed to a readable length. */
export function lastLine(log: string): string {
  const lines = log.split('\n').filter((l) => l.trim() !== '');
  const line = (lines[lines.length - 1] ?? '').trim();
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}
