// When the kubelet starts an exited container again: restartPolicy decides whether, the crash-loop backoff when (10 s
// doubling up to 5 min, reset after 10 min of running; pkg/kubelet/kubelet.go: backOffPeriod, MaxContainerBackOff).
// Pure.

export const INITIAL_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 300_000;
/** A container that ran this long before exiting starts its backoff over. */
export const BACKOFF_RESET_MS = 600_000;

/** Whether a container that exited with `exitCode` is started again under the Pod's `restartPolicy`. */
export function shouldRestart(restartPolicy: string | undefined, exitCode: number): boolean {
  const policy = restartPolicy ?? 'Always';
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/**
 * The delay before restart number `restartCount + 1` of a container that ran `ranMs` before exiting: 0 for the first
 * restart after a long run, else 10 s * 2^(earlier restarts), capped at 5 min.
 */
export function restartDelayMs(restartCount: number, ranMs: number): number {
  if (ranMs >= BACKOFF_RESET_MS) return 0;
  return Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** Math.min(restartCount, 10));
}
