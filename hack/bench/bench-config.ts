import { parseArgs } from 'node:util';
import { z } from 'zod';

// What the endpoints benchmark runs: workload shapes (Services x Pods per Service, and which phases), chosen by a
// preset or by --services/--pods, plus the tuning both implementations share. Parsing is pure (argv in, config or
// one error line out).

/** One workload: `services` Services with `podsPerService` ready Pods each, and the phases to run on it. */
export interface Shape {
  readonly name: string;
  readonly services: number;
  readonly podsPerService: number;
  /** Readiness flips for the churn-latency phase; 0 skips the phase. */
  readonly churnFlips: number;
  /** Restart the controller and touch every Service, expecting zero writes. */
  readonly restartAndResync: boolean;
  /** Replace every Pod, 5 % at a time, as a Deployment rollout would. */
  readonly rollingRestart: boolean;
}

/** The validated benchmark configuration. */
export interface BenchConfig {
  readonly preset: string;
  readonly shapes: readonly Shape[];
  /** Readiness flips per second in the churn phase. */
  readonly churnRate: number;
  /** Client-side QPS and burst of both controllers (kube-controller-manager's --kube-api-qps/--kube-api-burst). */
  readonly qps: number;
  readonly burst: number;
  /** Which implementations run; all three unless debugging. */
  readonly implementations: readonly Implementation[];
  /** Runs of each workload per implementation (the order alternates); reports give the median and min-max. */
  readonly repeat: number;
  /** Extra Node flags for the operator processes (e.g. `--cpu-prof --cpu-prof-dir=DIR`), after the shipped ones. */
  readonly operatorNodeArgs: readonly string[];
  /** Parallel requests of the benchmark's own object creation. */
  readonly createConcurrency: number;
  /** Where the run's JSON goes. */
  readonly resultsDir: string;
  /** Also write docs/bench/<preset>.{json,svg} (default: for the default preset only); README shows those. */
  readonly updateDocs: boolean;
}

/**
 * `kube-endpoints-operator` runs as config/manager ships it (its container env, NODE_OPTIONS with the heap cap, read
 * from the manifest); `kube-endpoints-operator-uncapped` runs the same code without that env (V8's default heap).
 */
export const IMPLEMENTATIONS = ['kube-controller-manager', 'kube-endpoints-operator', 'kube-endpoints-operator-uncapped'] as const;
export type Implementation = (typeof IMPLEMENTATIONS)[number];

const shape = (services: number, podsPerService: number, phases: Partial<Shape> = {}): Shape => ({
  name: `${services.toLocaleString('en-US')} Service${services === 1 ? '' : 's'} × ${podsPerService.toLocaleString('en-US')} Pods`,
  services,
  podsPerService,
  churnFlips: 0,
  restartAndResync: false,
  rollingRestart: false,
  ...phases,
});

/**
 * Named workload sets. `default` is issue 4's sizes plus issue 5's rolling restart of a 5,000-Pod Service (about
 * 9 minutes on 2 cores; README's numbers come from it); `quick` is a smaller check (about 4 minutes); `large` reaches
 * 50,000 Pods and 5,000 Services.
 */
export const PRESETS: Readonly<Record<string, readonly Shape[]>> = {
  quick: [shape(100, 10, { churnFlips: 100, restartAndResync: true }), shape(1, 1000, { churnFlips: 100 })],
  default: [
    shape(1000, 10, { churnFlips: 200, restartAndResync: true }),
    shape(1, 1000, { churnFlips: 200 }),
    shape(1, 5000, { rollingRestart: true }),
  ],
  large: [
    shape(5000, 10, { churnFlips: 200, restartAndResync: true }),
    shape(100, 100, { churnFlips: 200 }),
    shape(1, 10000, { rollingRestart: true }),
  ],
};

export const BENCH_USAGE = `Usage: node hack/bench/endpoints-bench.ts [flags]

Runs kube-controller-manager's endpoint controllers and this operator, each against its own fresh local control plane,
on the same workloads, and compares initial sync, churn latency, API writes, bytes, CPU and memory.

Flags:
  --preset NAME         ${Object.keys(PRESETS).join(', ')} (default "default")
  --services N          one custom workload of N Services (1..5000) ...
  --pods N              ... and N Pods in total (1000..50000), spread evenly; replaces the preset
  --rolling-restart     with --services/--pods: also replace every Pod
  --churn N             readiness flips per workload in the churn phase (default: the preset's)
  --churn-rate N        readiness flips per second (default 10)
  --qps N --burst N     client-side QPS/burst of both controllers (default 20/30, kube-controller-manager's)
  --implementations L   comma list of ${IMPLEMENTATIONS.join(', ')} (default all; the operator runs with the
                        env of config/manager's manager container, the uncapped one without it)
  --repeat N            runs of each workload per implementation, alternating which goes first (default 1);
                        tables show the median and min-max
  --operator-node-args S  extra Node flags for the operator, space-separated (write --operator-node-args="--cpu-prof --cpu-prof-dir=prof")
  --create-concurrency N  parallel creation requests of the benchmark itself (default 48)
  --results-dir DIR     where the run's JSON goes (default bench-results)
  --update-docs         also write docs/bench/<preset>.{json,svg} (default: only with the default preset)
  -h, --help
`;

/** The outcome of {@link parseBenchArgs}. */
export type BenchArgs =
  { readonly kind: 'run'; readonly config: BenchConfig } | { readonly kind: 'help' } | { readonly kind: 'error'; readonly message: string };

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Parses the command line. Pure. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        preset: { type: 'string' },
        services: { type: 'string' },
        pods: { type: 'string' },
        'rolling-restart': { type: 'boolean' },
        churn: { type: 'string' },
        'churn-rate': { type: 'string' },
        qps: { type: 'string' },
        burst: { type: 'string' },
        implementations: { type: 'string' },
        repeat: { type: 'string' },
        'operator-node-args': { type: 'string' },
        'create-concurrency': { type: 'string' },
        'results-dir': { type: 'string' },
        'update-docs': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  if (values.help === true) return { kind: 'help' };
  try {
    return { kind: 'run', config: toConfig(values) };
  } catch (err) {
    if (err instanceof FlagError) return { kind: 'error', message: err.message };
    throw err;
  }
}

/** A bad flag value; the message is one line naming the flag. */
class FlagError extends Error {
  override readonly name = 'FlagError';
}

function flag<T, D>(name: string, schema: z.ZodType<T>, raw: unknown, fallback: D): T | D {
  if (raw === undefined) return fallback;
  const r = schema.safeParse(raw);
  if (!r.success) throw new FlagError(`--${name}: ${r.error.issues[0]?.message ?? 'invalid'} (got "${String(raw)}")`);
  return r.data;
}

function toConfig(values: Readonly<Record<string, string | boolean | undefined>>): BenchConfig {
  const presetName = typeof values.preset === 'string' ? values.preset : 'default';
  const preset = PRESETS[presetName];
  if (preset === undefined) throw new FlagError(`--preset: unknown preset "${presetName}" (known: ${Object.keys(PRESETS).join(', ')})`);
  const services = flag('services', int(1, 5000), values.services, undefined);
  const pods = flag('pods', int(1, 50_000), values.pods, undefined);
  const churn = flag('churn', int(0, 100_000), values.churn, undefined);
  const churnRate = flag('churn-rate', z.coerce.number().positive().max(1000), values['churn-rate'], 10);
  const qps = flag('qps', z.coerce.number().positive().max(100_000), values.qps, 20);
  const burst = flag('burst', int(1, 100_000), values.burst, 30);
  const createConcurrency = flag('create-concurrency', int(1, 512), values['create-concurrency'], 48);
  const repeat = flag('repeat', int(1, 20), values.repeat, 1);
  const operatorNodeArgs =
    typeof values['operator-node-args'] === 'string' ? values['operator-node-args'].split(/\s+/).filter((a) => a !== '') : [];
  const badArg = operatorNodeArgs.find((a) => !a.startsWith('--'));
  if (badArg !== undefined) throw new FlagError(`--operator-node-args: "${badArg}" is not a --flag (write --name=value)`);

  let shapes: readonly Shape[] = preset;
  if (services !== undefined || pods !== undefined) {
    if (services === undefined || pods === undefined) throw new FlagError('--services and --pods go together');
    if (pods < services) throw new FlagError(`--pods (${pods}) must be at least --services (${services})`);
    shapes = [
      shape(services, Math.floor(pods / services), {
        churnFlips: 200,
        restartAndResync: true,
        rollingRestart: values['rolling-restart'] === true,
      }),
    ];
  }
  if (churn !== undefined) shapes = shapes.map((s) => ({ ...s, churnFlips: s.churnFlips > 0 ? churn : 0 }));

  const implementations: Implementation[] = [];
  for (const name of (typeof values.implementations === 'string' ? values.implementations : IMPLEMENTATIONS.join(',')).split(',')) {
    const impl = IMPLEMENTATIONS.find((i) => i === name.trim());
    if (impl === undefined) throw new FlagError(`--implementations: unknown "${name}" (known: ${IMPLEMENTATIONS.join(', ')})`);
    if (!implementations.includes(impl)) implementations.push(impl);
  }
  const custom = services !== undefined;
  return {
    preset: custom ? 'custom' : presetName,
    shapes,
    churnRate,
    qps,
    burst,
    implementations,
    repeat,
    operatorNodeArgs,
    createConcurrency,
    resultsDir: typeof values['results-dir'] === 'string' ? values['results-dir'] : 'bench-results',
    updateDocs: values['update-docs'] === true || (!custom && presetName === 'default' && churn === undefined),
  };
}
