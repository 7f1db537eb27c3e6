import { waitFor } from '../envtest/wait-for.ts';

// The endpoint controllers of one side of a parity pair, run as a real child process so that faults are real: a
// SIGKILL leaves no chance to flush or clean up, a SIGSTOP freezes it with its connections open. Implemented by
// kube-controller-manager (kcm-process.ts) and by this operator's own binary (operator-process.ts).

export interface ControllerProcess {
  /** `kube-controller-manager` or `operator`, for messages. */
  readonly side: string;
  /** Whether a run is live (started and not yet exited). */
  readonly running: boolean;
  /** How many runs were started so far. */
  readonly runs: number;
  /**
   * Starts a new run and resolves once its informers have synced and every controller started (so that from then on,
   * any write it was going to make at start-up it makes now). Throws when it is already running.
   */
  start(): Promise<void>;
  /** SIGKILL: no graceful shutdown, nothing flushed. Resolves once it has exited. */
  kill(): Promise<void>;
  /** SIGTERM, and SIGKILL after a while; resolves once it has exited. Idempotent, also when never started. */
  stop(): Promise<void>;
  /** SIGSTOP: the process keeps its connections but reads nothing and writes nothing until {@link thaw}. */
  freeze(): void;
  /** SIGCONT after {@link freeze}. */
  thaw(): void;
  /** Sum of the depths and of the adds of the three controllers' work queues (their workqueue metrics). */
  queues(): Promise<{ depth: number; adds: number }>;
  /** The logs of every run so far, concatenated (e.g. to find the 410 a watch got). */
  logText(): Promise<string>;
}

/** Options of {@link waitForIdle}. */
export interface IdleOptions {
  /** How long the queues must stay empty with no key added. Default 2 s (longer than every first retry, 5 ms to 1 s). */
  readonly quietMs?: number;
  /** Default 60 s. */
  readonly timeoutMs?: number;
}

/**
 * Resolves once `proc`'s work queues are empty and no key was added to any of them for `quietMs`: it has done what
 * its last inputs asked for. Returns how long that took until the quiet period began (ms).
 */
export async function waitForIdle(proc: ControllerProcess, opts: IdleOptions = {}): Promise<number> {
  const quietMs = opts.quietMs ?? 2_000;
  const started = performance.now();
  let last: { adds: number; since: number } | undefined;
  let idleAt = started;
  await waitFor(
    async () => {
      const q = await proc.queues().catch(() => undefined);
      const now = performance.now();
      if (q === undefined || q.depth > 0 || last === undefined || last.adds !== q.adds) {
        last = q === undefined || q.depth > 0 ? undefined : { adds: q.adds, since: now };
        return false;
      }
      idleAt = last.since;
      return now - last.since >= quietMs;
    },
    { description: `${proc.side}: its work queues to stay empty for ${quietMs} ms`, timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 100 },
  );
  return idleAt - started;
}
