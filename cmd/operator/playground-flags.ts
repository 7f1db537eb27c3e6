import { z } from 'zod';
import { parseGoDuration } from './go-duration.ts';
import type { PlaygroundDataPlaneMode } from './playground/data-plane.ts';

// The embedded playground's flags (`--playground-*`): parsed here, before config.ts sees the command line, so the
// operator's flag table stays about the operator; they only matter when no kubeconfig is given and the playground
// starts (./playground/, loaded only then). This file is on every start's path and in the image; the playground is not.

/** The playground settings (`--playground-*` flags). */
export interface PlaygroundConfig {
  /** Run kube-controller-manager (Deployments, ReplicaSets, garbage collection, node lifecycle, ...). */
  readonly kubeControllerManager: boolean;
  /** Run the pod lifecycle simulator (fake Nodes, binding, kubelets). */
  readonly simulator: boolean;
  /** Fake Nodes. */
  readonly nodes: number;
  /** IPv4 + IPv6 pod addresses, and a dual-stack Service CIDR. */
  readonly dualStack: boolean;
  /** Readiness delay of containers without a readiness probe. */
  readonly readinessDelayMs: number;
  /** kube-proxy mode of the data plane (real Pod networks, kube-proxy, CoreDNS), or off. */
  readonly dataPlane: PlaygroundDataPlaneMode;
}

const TRUE_WORDS = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

const boolValue = z.string().transform((s, ctx): boolean => {
  if (TRUE_WORDS.has(s)) return true;
  if (FALSE_WORDS.has(s)) return false;
  ctx.addIssue({
    code: 'custom',
    message: `must be true or false (got "${s}")`,
  });
  return z.NEVER;
});

interface PlaygroundFlag {
  readonly kind: 'boolean' | 'string';
  readonly default: string;
  readonly help: string;
  readonly schema: z.ZodType<unknown, string>;
}

const PLAYGROUND_FLAGS = {
  'playground-kube-controller-manager': {
    kind: 'boolean',
    default: 'true',
    help: 'Playground (embedded cluster only): run kube-controller-manager with every default controller but the endpoint ones.',
    schema: boolValue,
  },
  'playground-simulator': {
    kind: 'boolean',
    default: 'true',
    help: 'Playground: run the pod lifecycle simulator (fake Nodes, Pod binding, IPs, readiness, termination).',
    schema: boolValue,
  },
  'playground-nodes': {
    kind: 'string',
    default: '3',
    help: 'Playground: simulated Nodes, in zones zone-a, zone-b, zone-c round-robin (0..250).',
    schema: z.string().transform((s, ctx): number => {
      const n = /^\d+$/.test(s.trim()) ? Number(s) : Number.NaN;
      if (Number.isInteger(n) && n >= 0 && n <= 250) return n;
      ctx.addIssue({
        code: 'custom',
        message: `must be an integer between 0 and 250 (got "${s}")`,
      });
      return z.NEVER;
    }),
  },
  'playground-dual-stack': {
    kind: 'boolean',
    default: 'false',
    help: 'Playground: give Pods an IPv4 and an IPv6 address, and the API server IPv4 and IPv6 Service CIDRs.',
    schema: boolValue,
  },
  'playground-readiness-delay': {
    kind: 'string',
    default: '1s',
    help: 'Playground: how long a container without readiness probe takes to become ready.',
    schema: z.string().transform((s, ctx): number => {
      const ms = parseGoDuration(s.trim());
      if (ms !== undefined && ms >= 0) return ms;
      ctx.addIssue({
        code: 'custom',
        message: `must be a duration such as 0s, 500ms or 2s (got "${s}")`,
      });
      return z.NEVER;
    }),
  },
  'playground-data-plane': {
    kind: 'string',
    default: 'nftables',
    help: 'Playground: a data plane for the simulated Pods (network namespaces, kube-proxy in this mode, CoreDNS): nftables, iptables or off. Needs root and nft/iptables; without them the playground starts without one and says why.',
    schema: z.string().transform((s, ctx): PlaygroundDataPlaneMode => {
      const v = s.trim();
      if (v === 'nftables' || v === 'iptables' || v === 'off') return v;
      ctx.addIssue({ code: 'custom', message: `must be nftables, iptables or off (got "${s}")` });
      return z.NEVER;
    }),
  },
} as const satisfies Record<string, PlaygroundFlag>;

type PlaygroundFlagName = keyof typeof PLAYGROUND_FLAGS;
const playgroundFlagsSchema = z.object({
  'playground-kube-controller-manager': PLAYGROUND_FLAGS['playground-kube-controller-manager'].schema,
  'playground-simulator': PLAYGROUND_FLAGS['playground-simulator'].schema,
  'playground-nodes': PLAYGROUND_FLAGS['playground-nodes'].schema,
  'playground-dual-stack': PLAYGROUND_FLAGS['playground-dual-stack'].schema,
  'playground-readiness-delay': PLAYGROUND_FLAGS['playground-readiness-delay'].schema,
  'playground-data-plane': PLAYGROUND_FLAGS['playground-data-plane'].schema,
});
const isPlaygroundFlag = (name: string): name is PlaygroundFlagName => Object.hasOwn(PLAYGROUND_FLAGS, name);

/** The playground's flags split from the rest of the command line, or one error line. */
export type PlaygroundFlagsResult =
  | {
      readonly kind: 'ok';
      readonly config: PlaygroundConfig;
      readonly rest: readonly string[];
    }
  | { readonly kind: 'error'; readonly message: string };

/**
 * Takes the `--playground-*` flags out of `argv` (`--flag`, `--flag=value`, `--flag value` for non-booleans; the last
 * repeat wins; nothing after `--` is touched) and validates them. The remaining arguments go to config.ts. Pure.
 */
export function splitPlaygroundFlags(argv: readonly string[]): PlaygroundFlagsResult {
  const raw: Partial<Record<PlaygroundFlagName, string>> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (!arg.startsWith('--playground-')) {
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (!isPlaygroundFlag(name))
      return {
        kind: 'error',
        message: `error: unknown flag --${name} (see --help)`,
      };
    if (eq >= 0) {
      raw[name] = arg.slice(eq + 1);
    } else if (PLAYGROUND_FLAGS[name].kind === 'boolean') {
      raw[name] = 'true';
    } else {
      const value = argv[i + 1];
      if (value === undefined) return { kind: 'error', message: `error: --${name} needs a value` };
      raw[name] = value;
      i++;
    }
  }
  const given: Record<string, string> = {};
  for (const name of Object.keys(PLAYGROUND_FLAGS) as PlaygroundFlagName[]) given[name] = raw[name] ?? PLAYGROUND_FLAGS[name].default;
  const parsed = playgroundFlagsSchema.safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      kind: 'error',
      message: `error: --${String(issue?.path[0] ?? '')} ${issue?.message ?? 'is invalid'}`,
    };
  }
  const v = parsed.data;
  return {
    kind: 'ok',
    rest,
    config: {
      kubeControllerManager: v['playground-kube-controller-manager'],
      simulator: v['playground-simulator'],
      nodes: v['playground-nodes'],
      dualStack: v['playground-dual-stack'],
      readinessDelayMs: v['playground-readiness-delay'],
      dataPlane: v['playground-data-plane'],
    },
  };
}

/** The playground section of `--help`, in the style of config.ts's help text. */
export function playgroundHelpText(): string {
  const lines = ['', 'Playground flags (used only when no kubeconfig is given and an embedded local cluster starts):'];
  for (const name of Object.keys(PLAYGROUND_FLAGS) as PlaygroundFlagName[]) {
    const spec: PlaygroundFlag = PLAYGROUND_FLAGS[name];
    lines.push(`  --${name}${spec.kind === 'boolean' ? '' : ' value'}`, `        ${spec.help} (default ${JSON.stringify(spec.default)})`);
  }
  return `${lines.join('\n')}\n`;
}
