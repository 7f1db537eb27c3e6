// Last-resort cleanup when the process ends without stopping its clusters: a failing test that never reaches its
// after() hook, an uncaught exception, or a Ctrl-C. The control-plane children lead their own process groups, so a
// terminal's SIGINT does not reach them; without this they would outlive the test run and hold their ports.

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The two ways of cleaning up, for the two ways a process ends. */
export interface ExitCleanup {
  /** On `process.on('exit')`: synchronous, since nothing can be awaited once the process is exiting. */
  readonly onExit: () => void;
  /**
   * On SIGINT/SIGTERM/SIGHUP: may await (e.g. until killed children are reaped, so none is left as a zombie).
   * Should settle within a few seconds; the signal is re-raised only after it settles. Omitted: no signal listener
   * is installed, for an owner that handles signals itself and must keep the children alive while it drains; only
   * `onExit` then runs, when the process finally exits.
   */
  readonly onSignal?: () => Promise<void>;
}

/**
 * Registers `cleanup`; at most one of its two functions runs, at most once. After a signal's cleanup the signal is
 * raised again when no other listener is left, so the process still terminates as it would have without us.
 * Returns the unregister function (call it after a regular stop).
 */
export function onProcessExit(cleanup: ExitCleanup): () => void {
  let ran = false;
  const onExit = () => {
    if (ran) return;
    ran = true;
    cleanup.onExit();
  };
  const signalCleanup = cleanup.onSignal;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal during the cleanup is absorbed: the cleanup is already on its way and bounded in time.
    if (ran || signalCleanup === undefined) return;
    ran = true;
    signalCleanup()
      .catch(() => cleanup.onExit())
      .finally(() => {
        unregister();
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
  };
  const unregister = () => {
    process.removeListener('exit', onExit);
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  };
  process.once('exit', onExit);
  if (signalCleanup !== undefined) for (const s of SIGNALS) process.on(s, onSignal);
  return unregister;
}
