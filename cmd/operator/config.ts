import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  DEFAULT_PROBE_ALLOWED_CIDRS,
  DEFAULT_PROBE_DENIED_CIDRS,
  InvalidCidrError,
  parseCidr,
} from '../../controllers/external-endpoints/address-policy.ts';
import { parseBindAddress } from '../../controllers/runtime/health-server.ts';
import { formatGoDuration, parseGoDuration } from './go-duration.ts';

// Command-line configuration. Flag names and defaults follow kube-controller-manager where a flag exists there, so an
// operator deployment can reuse a kube-controller-manager command line for the endpoint controllers. Parsing is
// pure (argv in, config or one error line out): main.ts alone reads process.argv and process.env.

/** Controllers this binary can run, by kube-controller-manager name where upstream has one. */
export const CONTROLLER_NAMES = [
  'endpoints-controller',
  'endpointslice-controller',
  'endpointslice-mirroring-controller',
  'external-endpoints-controller',
  'session-affinity-controller',
] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];

/** kube-controller-manager's aliases (its pre-1.28 names), accepted wherever a name is. */
export const CONTROLLER_ALIASES: Readonly<Record<string, ControllerName>> = {
  endpoint: 'endpoints-controller',
  endpointslice: 'endpointslice-controller',
  endpointslicemirroring: 'endpointslice-mirroring-controller',
};

/**
 * Controllers that `*` does not enable. Empty: every controller here is on by default, as the three endpoint
 * controllers are in kube-controller-manager. Kept as a set so a future opt-in controller is a one-line change.
 */
const DISABLED_BY_DEFAULT: ReadonlySet<ControllerName> = new Set();

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The validated configuration the operator runs with. Durations are in milliseconds. */
export interface OperatorConfig {
  /** Enabled controllers, in {@link CONTROLLER_NAMES} order. */
  readonly controllers: readonly ControllerName[];
  readonly endpoints: { readonly concurrentSyncs: number; readonly updatesBatchPeriodMs: number };
  readonly endpointSlice: {
    readonly concurrentSyncs: number;
    readonly updatesBatchPeriodMs: number;
    readonly maxEndpointsPerSlice: number;
  };
  readonly endpointSliceMirroring: {
    readonly concurrentSyncs: number;
    readonly updatesBatchPeriodMs: number;
    readonly maxEndpointsPerSubset: number;
  };
  /** CIDRs are as given (validated); an empty list is explicit (nothing allowed, or no deny-list). */
  readonly externalEndpoints: {
    readonly probeAllowedCIDRs: readonly string[];
    readonly probeDeniedCIDRs: readonly string[];
    readonly probeConcurrency: number;
  };
  readonly kubeApi: { readonly qps: number; readonly burst: number; readonly http2: boolean };
  readonly leaderElection: {
    readonly enabled: boolean;
    readonly leaseDurationMs: number;
    readonly renewDeadlineMs: number;
    readonly retryPeriodMs: number;
    readonly resourceNamespace: string;
    readonly resourceName: string;
  };
  /** Explicit kubeconfig path; undefined means: KUBECONFIG, in-cluster, or the embedded local cluster (main.ts). */
  readonly kubeconfig: string | undefined;
  /** `host:port`, or `0` to disable. */
  readonly metricsBindAddress: string;
  readonly healthProbeBindAddress: string;
  readonly logLevel: LogLevel;
}

/** The outcome of {@link parseConfig}: run, print help (exit 0), or fail with one line (exit 2). */
export type ParseResult =
  | { readonly kind: 'run'; readonly config: OperatorConfig }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'error'; readonly message: string };

// client-go refuses a renew deadline within this factor of the retry period (its JitterFactor).
const LEADER_ELECTION_JITTER_FACTOR = 1.2;

// ---- value schemas: string in, typed value out, one readable message per failure --------------------------------

const fail = (ctx: z.RefinementCtx, message: string): never => {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
};

const intFlag = (min: number, max?: number) =>
  z.string().transform((s, ctx): number => {
    if (!/^[+-]?\d+$/.test(s.trim())) return fail(ctx, `must be an integer (got "${s}")`);
    const n = Number.parseInt(s, 10);
    if (max !== undefined && (n < min || n > max)) return fail(ctx, `must be between ${min} and ${max} (got ${n})`);
    if (n < min) return fail(ctx, `must be at least ${min} (got ${n})`);
    return n;
  });

const positiveFloatFlag = () =>
  z.string().transform((s, ctx): number => {
    const n = s.trim() === '' ? Number.NaN : Number(s);
    if (!Number.isFinite(n)) return fail(ctx, `must be a number (got "${s}")`);
    if (n <= 0) return fail(ctx, `must be greater than 0 (got ${n})`);
    return n;
  });

const durationFlag = (positive: boolean) =>
  z.string().transform((s, ctx): number => {
    const ms = parseGoDuration(s.trim());
    if (ms === undefined) return fail(ctx, `must be a duration such as 500ms, 15s or 1m30s (got "${s}")`);
    if (ms < 0) return fail(ctx, `must not be negative (got ${s})`);
    if (positive && ms === 0) return fail(ctx, `must be greater than 0 (got ${s})`);
    return ms;
  });

// strconv.ParseBool's spellings, which pflag accepts for `--flag=value`.
const TRUE_WORDS = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);
const boolFlag = () =>
  z.string().transform((s, ctx): boolean => {
    if (TRUE_WORDS.has(s)) return true;
    if (FALSE_WORDS.has(s)) return false;
    return fail(ctx, `must be true or false (got "${s}")`);
  });

const nonEmptyFlag = () => z.string().transform((s, ctx): string => (s.trim() === '' ? fail(ctx, 'must not be empty') : s.trim()));

const bindAddressFlag = () =>
  z.string().transform((s, ctx): string => {
    try {
      parseBindAddress(s);
      return s;
    } catch {
      return fail(ctx, `must be host:port, :port or 0 to disable (got "${s}")`);
    }
  });

const logLevelFlag = () =>
  z.string().transform((s, ctx): LogLevel => {
    const level = LOG_LEVELS.find((l) => l === s);
    return level ?? fail(ctx, `must be one of ${LOG_LEVELS.join(', ')} (got "${s}")`);
  });

// A comma-separated CIDR list; "" is an explicit empty list.
const cidrListFlag = () =>
  z.string().transform((s, ctx): string[] => {
    const entries = s
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    for (const e of entries) {
      try {
        parseCidr(e);
      } catch (err) {
        if (err instanceof InvalidCidrError) return fail(ctx, `has an invalid CIDR: ${err.message}`);
        throw err;
      }
    }
    return entries;
  });

const controllersFlag = () =>
  z.string().transform((s, ctx): ControllerName[] => {
    const result = resolveControllers(s === '' ? [] : s.split(','));
    return result.ok ? result.enabled : fail(ctx, result.message);
  });

// ---- the flag table: the single source of names, defaults, help and schemas ------------------------------------

interface FlagSpec {
  readonly kind: 'string' | 'boolean';
  /** Default as the user would type it; undefined = unset. */
  readonly default: string | undefined;
  readonly help: string;
  readonly schema: z.ZodType<unknown, string>;
}

const FLAGS = {
  controllers: {
    kind: 'string',
    default: '*',
    help:
      'Controllers to enable: "*" enables all on by default, "foo" enables foo, "-foo" disables foo; the first match wins. ' +
      `Known: ${CONTROLLER_NAMES.join(', ')}.`,
    schema: controllersFlag(),
  },
  'concurrent-endpoint-syncs': {
    kind: 'string',
    default: '5',
    help: 'Endpoints controller workers.',
    schema: intFlag(1),
  },
  'concurrent-service-endpoint-syncs': {
    kind: 'string',
    default: '5',
    help: 'EndpointSlice controller workers (1..50).',
    schema: intFlag(1, 50),
  },
  'mirroring-concurrent-service-endpoint-syncs': {
    kind: 'string',
    default: '5',
    help: 'EndpointSlice mirroring controller workers (1..50).',
    schema: intFlag(1, 50),
  },
  'endpoint-updates-batch-period': {
    kind: 'string',
    default: '0s',
    help: 'Delay of Pod-triggered Endpoints syncs, to batch updates.',
    schema: durationFlag(false),
  },
  'endpointslice-updates-batch-period': {
    kind: 'string',
    default: '0s',
    help: 'Delay of Pod-triggered EndpointSlice syncs, to batch updates.',
    schema: durationFlag(false),
  },
  'mirroring-endpointslice-updates-batch-period': {
    kind: 'string',
    default: '0s',
    help: 'Delay of EndpointSlice-triggered mirroring syncs, to batch updates.',
    schema: durationFlag(false),
  },
  'max-endpoints-per-slice': {
    kind: 'string',
    default: '100',
    help: 'Maximum endpoints in one EndpointSlice (1..1000).',
    schema: intFlag(1, 1000),
  },
  'mirroring-max-endpoints-per-subset': {
    kind: 'string',
    default: '1000',
    help: 'Maximum endpoints mirrored from one Endpoints subset (1..1000).',
    schema: intFlag(1, 1000),
  },
  'external-endpoints-probe-allowed-cidrs': {
    kind: 'string',
    default: DEFAULT_PROBE_ALLOWED_CIDRS.join(','),
    help: 'ExternalEndpoints: comma-separated CIDRs whose addresses may be probed and published; others are refused.',
    schema: cidrListFlag(),
  },
  'external-endpoints-probe-denied-cidrs': {
    kind: 'string',
    default: DEFAULT_PROBE_DENIED_CIDRS.join(','),
    help: 'ExternalEndpoints: comma-separated CIDRs never probed or published, even inside an allowed one. Replaces the built-in list (cloud metadata, link-local), so keep its entries when adding.',
    schema: cidrListFlag(),
  },
  'external-endpoints-probe-concurrency': {
    kind: 'string',
    default: '10',
    help: 'ExternalEndpoints: health probes in flight at once over all backends (1..1000).',
    schema: intFlag(1, 1000),
  },
  'kube-api-qps': {
    kind: 'string',
    default: '20',
    help: 'Client-side requests per second to the API server, per controller.',
    schema: positiveFloatFlag(),
  },
  'kube-api-burst': {
    kind: 'string',
    default: '30',
    help: 'Client-side request burst above --kube-api-qps, per controller.',
    schema: intFlag(1),
  },
  'kube-api-http2': {
    kind: 'boolean',
    default: 'true',
    help: 'Gets, lists and watches over HTTP/2 when the API server offers it; writes always use HTTP/1.1 (docs/adr/0005-http1-to-the-api-server.md).',
    schema: boolFlag(),
  },
  'leader-elect': {
    kind: 'boolean',
    default: 'true',
    help: 'Elect a leader through a Lease before running controllers (for replicated deployments).',
    schema: boolFlag(),
  },
  'leader-elect-lease-duration': {
    kind: 'string',
    default: '15s',
    help: 'How long a non-leader waits after the last observed renewal before taking over.',
    schema: durationFlag(true),
  },
  'leader-elect-renew-deadline': {
    kind: 'string',
    default: '10s',
    help: 'How long the leader keeps retrying a failed renewal before it gives up leading.',
    schema: durationFlag(true),
  },
  'leader-elect-retry-period': {
    kind: 'string',
    default: '2s',
    help: 'Interval between attempts to acquire or renew the lease.',
    schema: durationFlag(true),
  },
  'leader-elect-resource-namespace': {
    kind: 'string',
    default: 'kube-system',
    help: 'Namespace of the leader election Lease.',
    schema: nonEmptyFlag(),
  },
  'leader-elect-resource-name': {
    kind: 'string',
    default: 'kube-endpoints-operator',
    help: 'Name of the leader election Lease.',
    schema: nonEmptyFlag(),
  },
  kubeconfig: {
    kind: 'string',
    default: undefined,
    help: 'Path to a kubeconfig. Default: $KUBECONFIG, else the in-cluster service account, else an embedded local cluster.',
    schema: z.string(),
  },
  'metrics-bind-address': {
    kind: 'string',
    default: ':8080',
    help: 'Address of the Prometheus /metrics endpoint; 0 disables it.',
    schema: bindAddressFlag(),
  },
  'health-probe-bind-address': {
    kind: 'string',
    default: ':8081',
    help: 'Address of the /healthz and /readyz probes; 0 disables them.',
    schema: bindAddressFlag(),
  },
  'log-level': {
    kind: 'string',
    default: 'info',
    help: `Log level: ${LOG_LEVELS.join(', ')}.`,
    schema: logLevelFlag(),
  },
} as const satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof FLAGS;
const FLAG_NAMES = Object.keys(FLAGS) as FlagName[];
const isFlagName = (name: string): name is FlagName => Object.hasOwn(FLAGS, name);
type FlagValues = { [K in FlagName]: z.output<(typeof FLAGS)[K]['schema']> };

/** The zod schema of all flag values (strings as typed) to validated, typed values, with cross-flag rules. */
export const flagValuesSchema = z
  .object(
    Object.fromEntries(FLAG_NAMES.map((name) => [name, FLAGS[name].schema.optional()])) as {
      [K in FlagName]: z.ZodOptional<(typeof FLAGS)[K]['schema']>;
    },
  )
  .superRefine((v, ctx) => {
    const lease = v['leader-elect-lease-duration'];
    const renew = v['leader-elect-renew-deadline'];
    const retry = v['leader-elect-retry-period'];
    if (lease === undefined || renew === undefined || retry === undefined) return;
    if (lease <= renew) {
      ctx.addIssue({
        code: 'custom',
        path: ['leader-elect-lease-duration'],
        message: `(${formatGoDuration(lease)}) must be greater than --leader-elect-renew-deadline (${formatGoDuration(renew)})`,
      });
    } else if (renew <= LEADER_ELECTION_JITTER_FACTOR * retry) {
      ctx.addIssue({
        code: 'custom',
        path: ['leader-elect-renew-deadline'],
        message: `(${formatGoDuration(renew)}) must be greater than ${LEADER_ELECTION_JITTER_FACTOR} x --leader-elect-retry-period (${formatGoDuration(retry)})`,
      });
    }
  });

/**
 * Parses a command line (without the node and script arguments). Never throws; never reads the environment.
 * Boolean flags accept `--flag`, `--flag=true|false`; repeated flags: the last wins (as pflag).
 */
export function parseConfig(argv: readonly string[]): ParseResult {
  const normalised: string[] = [];
  let terminated = false;
  for (const arg of argv) {
    // node:util parseArgs has no optional-value booleans, so `--leader-elect` becomes `--leader-elect=true`.
    if (!terminated && arg.startsWith('--') && isFlagName(arg.slice(2)) && FLAGS[arg.slice(2) as FlagName].kind === 'boolean') {
      normalised.push(`${arg}=true`);
    } else {
      if (arg === '--') terminated = true;
      normalised.push(arg);
    }
  }
  const { tokens } = parseArgs({
    args: normalised,
    options: {
      ...Object.fromEntries(FLAG_NAMES.map((name) => [name, { type: 'string' as const }])),
      help: { type: 'boolean', short: 'h' },
    },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });

  const raw: Partial<Record<FlagName, string>> = {};
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') return { kind: 'error', message: `error: unexpected argument "${token.value}" (see --help)` };
    if (token.name === 'help') return { kind: 'help', text: helpText() };
    if (!isFlagName(token.name)) return { kind: 'error', message: `error: unknown flag ${token.rawName} (see --help)` };
    if (token.value === undefined) return { kind: 'error', message: `error: ${token.rawName} needs a value` };
    raw[token.name] = token.value;
  }
  const given: Partial<Record<FlagName, string>> = {};
  for (const name of FLAG_NAMES) {
    const value = raw[name] ?? FLAGS[name].default;
    if (value !== undefined) given[name] = value;
  }

  const parsed = flagValuesSchema.safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = String(issue?.path[0] ?? '');
    return { kind: 'error', message: `error: --${flag} ${issue?.message ?? 'is invalid'}` };
  }
  return { kind: 'run', config: toConfig(parsed.data as FlagValues) };
}

function toConfig(v: FlagValues): OperatorConfig {
  return {
    controllers: v.controllers,
    endpoints: { concurrentSyncs: v['concurrent-endpoint-syncs'], updatesBatchPeriodMs: v['endpoint-updates-batch-period'] },
    endpointSlice: {
      concurrentSyncs: v['concurrent-service-endpoint-syncs'],
      updatesBatchPeriodMs: v['endpointslice-updates-batch-period'],
      maxEndpointsPerSlice: v['max-endpoints-per-slice'],
    },
    endpointSliceMirroring: {
      concurrentSyncs: v['mirroring-concurrent-service-endpoint-syncs'],
      updatesBatchPeriodMs: v['mirroring-endpointslice-updates-batch-period'],
      maxEndpointsPerSubset: v['mirroring-max-endpoints-per-subset'],
    },
    externalEndpoints: {
      probeAllowedCIDRs: v['external-endpoints-probe-allowed-cidrs'],
      probeDeniedCIDRs: v['external-endpoints-probe-denied-cidrs'],
      probeConcurrency: v['external-endpoints-probe-concurrency'],
    },
    kubeApi: { qps: v['kube-api-qps'], burst: v['kube-api-burst'], http2: v['kube-api-http2'] },
    leaderElection: {
      enabled: v['leader-elect'],
      leaseDurationMs: v['leader-elect-lease-duration'],
      renewDeadlineMs: v['leader-elect-renew-deadline'],
      retryPeriodMs: v['leader-elect-retry-period'],
      resourceNamespace: v['leader-elect-resource-namespace'],
      resourceName: v['leader-elect-resource-name'],
    },
    kubeconfig: v.kubeconfig === '' ? undefined : v.kubeconfig,
    metricsBindAddress: v['metrics-bind-address'],
    healthProbeBindAddress: v['health-probe-bind-address'],
    logLevel: v['log-level'],
  };
}

/**
 * kube-controller-manager's `--controllers` rule: walk the list, the first entry naming the controller (`name` or
 * `-name`) decides; with no match it is enabled only when `*` appears and it is not disabled by default.
 * Aliases are accepted. Any unknown entry is an error naming the known controllers.
 */
export function resolveControllers(
  entries: readonly string[],
): { readonly ok: true; readonly enabled: ControllerName[] } | { readonly ok: false; readonly message: string } {
  const canonical: string[] = [];
  for (const entry of entries.map((e) => e.trim())) {
    if (entry === '*') {
      canonical.push(entry);
      continue;
    }
    const disable = entry.startsWith('-');
    const bare = disable ? entry.slice(1) : entry;
    const name = CONTROLLER_NAMES.find((n) => n === bare) ?? CONTROLLER_ALIASES[bare];
    if (name === undefined) {
      const known = CONTROLLER_NAMES.map((n) => {
        const aliases = Object.entries(CONTROLLER_ALIASES)
          .filter(([, target]) => target === n)
          .map(([alias]) => alias);
        return aliases.length === 0 ? n : `${n} (${aliases.join(', ')})`;
      });
      return { ok: false, message: `has unknown controller "${bare}"; known: ${known.join(', ')}` };
    }
    canonical.push(disable ? `-${name}` : name);
  }
  const enabled = CONTROLLER_NAMES.filter((name) => {
    let star = false;
    for (const entry of canonical) {
      if (entry === name) return true;
      if (entry === `-${name}`) return false;
      if (entry === '*') star = true;
    }
    return star && !DISABLED_BY_DEFAULT.has(name);
  });
  return { ok: true, enabled };
}

/** Usage text for `--help`, generated from the flag table so it never drifts from the parser. */
export function helpText(): string {
  const lines = ['Usage: kube-endpoints-operator [flags]', '', 'Flags:'];
  for (const name of FLAG_NAMES) {
    const spec: FlagSpec = FLAGS[name];
    const value = spec.kind === 'boolean' ? '' : ' value';
    const def = spec.default === undefined ? '' : ` (default ${JSON.stringify(spec.default)})`;
    lines.push(`  --${name}${value}`, `        ${spec.help}${def}`);
  }
  lines.push('  -h, --help', '        Print this help and exit.');
  return `${lines.join('\n')}\n`;
}
