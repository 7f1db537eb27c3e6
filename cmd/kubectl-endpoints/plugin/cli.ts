import { realClock } from '../../../controllers/runtime/clock.ts';
import { newApiClient } from '../../../controllers/runtime/api-client.ts';
import packageJson from '../../../package.json' with { type: 'json' };
import { type CliOptions, parseArgs } from './args.ts';
import { DIFF_EXIT, diffExitCode, explainDiff } from './explain/explain-diff.ts';
import { explainPod, whyPodExitCode } from './explain/explain-pod.ts';
import { explainWhy, whyExitCode } from './explain/explain-why.ts';
import { DEFAULT_EXPLAIN_SETTINGS, type ExplainSettings } from './explain/snapshot.ts';
import { fetchSnapshot } from './fetch-snapshot.ts';
import { helpText } from './help.ts';
import { processEnvironment, resolveKubeconfig } from './kubeconfig.ts';
import { renderDiff } from './render-diff.ts';
import { renderWhy } from './render-why.ts';
import { renderWhyPod } from './render-why-pod.ts';
import { newStyle, useColor } from './style.ts';
import { changeText } from './watch/change-tracker.ts';
import { runWatch } from './watch/run-watch.ts';

// `kubectl endpoints`: command line → kubeconfig → one read of the cluster → pure explanation → text or JSON → exit
// code. The only module that touches process.argv, process.env and the standard streams.

/** Where the command writes, and whether stdout is a terminal. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTTY: boolean;
}

/** Exit code of every failure that is not an answer (usage, kubeconfig, API), for both commands. */
export const EXIT_ERROR = DIFF_EXIT.error;

/** Exit code when an interrupted command did not stop within its grace period (128 + SIGINT). */
const EXIT_INTERRUPTED = 130;

// 0 means "no timeout" for kubectl's --request-timeout; the client always wants a bound.
const NO_TIMEOUT_MS = 24 * 3600 * 1000;

function settingsFrom(options: CliOptions): ExplainSettings {
  return {
    ...DEFAULT_EXPLAIN_SETTINGS,
    maxEndpointsPerSlice: options.maxEndpointsPerSlice,
    mirroringMaxEndpointsPerSubset: options.mirroringMaxEndpointsPerSubset,
  };
}

/** Runs the command. Resolves with the exit code; never rejects. */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CliIo,
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  const parsed = parseArgs(argv);
  switch (parsed.kind) {
    case 'help':
      io.stdout(helpText());
      return 0;
    case 'version':
      io.stdout(`kubectl-endpoints ${packageJson.version}\n`);
      return 0;
    case 'error':
      io.stderr(`error: ${parsed.message}\nRun 'kubectl endpoints --help' for usage.\n`);
      return EXIT_ERROR;
    case 'run':
      break;
  }
  const options = parsed.options;
  try {
    const kc = resolveKubeconfig(options, processEnvironment(env));
    const client = newApiClient(kc.kubeConfig, {
      clock: realClock,
      userAgent: `kubectl-endpoints/${packageJson.version}`,
      qps: 50,
      burst: 100,
      requestTimeoutMs: options.requestTimeoutMs === 0 ? NO_TIMEOUT_MS : options.requestTimeoutMs,
    });
    if (options.watch) {
      // The local time zone, for the times on each line (JSON lines carry UTC instead).
      const offset = new Date().getTimezoneOffset();
      const json = options.output === 'json';
      await runWatch(
        client,
        kc.namespace,
        options.service,
        realClock,
        {
          line: (l) => io.stdout(`${json ? JSON.stringify({ time: new Date(l.at).toISOString(), ...l }) : changeText(l, offset)}\n`),
          warning: (text) => io.stderr(`warning: ${text}\n`),
        },
        signal,
      );
      return 0;
    }
    const snapshot = await fetchSnapshot(client, kc.namespace, options.service, signal);
    const settings = settingsFrom(options);
    const style = newStyle(options.output === 'text' && useColor(options.color, io.isTTY, env));
    if (options.command === 'why' && options.pod !== undefined) {
      const report = explainPod(snapshot, options.pod, settings);
      io.stdout(options.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderWhyPod(report, style));
      return whyPodExitCode(report);
    }
    if (options.command === 'why') {
      const report = explainWhy(snapshot, settings);
      io.stdout(options.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderWhy(report, style));
      return whyExitCode(report);
    }
    const report = explainDiff(snapshot, settings);
    io.stdout(options.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderDiff(report, style));
    return diffExitCode(report);
  } catch (err) {
    io.stderr(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_ERROR;
  }
}

/** The process entry (called by main.ts once the Node version is checked): runs and exits with the code. */
export async function run(): Promise<void> {
  const abort = new AbortController();
  // Ctrl-C (or a TERM) stops the command cleanly: every request and watch is cancelled. If something still holds the
  // process two seconds later, it exits anyway.
  const stop = () => {
    abort.abort();
    setTimeout(() => process.exit(EXIT_INTERRUPTED), 2000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const code = await main(
    process.argv.slice(2),
    process.env,
    { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), isTTY: process.stdout.isTTY === true },
    abort.signal,
  );
  // Flush before exiting: a large JSON report to a pipe is written asynchronously.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  // Exit explicitly: keep-alive sockets must not decide when the command ends.
  process.exit(code);
}
