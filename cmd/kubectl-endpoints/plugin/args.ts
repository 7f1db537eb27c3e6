import { parseArgs as parseNodeArgs } from 'node:util';
import { z } from 'zod';

// The command line of `kubectl endpoints`, in kubectl's conventions: `-n/--namespace`, `--context`, `--kubeconfig`,
// `-o/--output`, flags before or after the positional arguments, `--flag=value` or `--flag value`, and the Service as
// `NAME`, `svc/NAME`, `service/NAME` or `services/NAME`; `why` takes an optional Pod as `NAME` or `pod/NAME`.

/** The subcommands. */
export const COMMANDS = ['why', 'diff'] as const;
export type Command = (typeof COMMANDS)[number];

/** A validated command line that runs a subcommand. */
export interface CliOptions {
  readonly command: Command;
  readonly service: string;
  /** `why SERVICE POD`: the one Pod to explain in depth. */
  readonly pod?: string;
  /** `why SERVICE --watch`: follow changes until interrupted. */
  readonly watch: boolean;
  readonly kubeconfig?: string;
  readonly context?: string;
  /** Undefined: the context's namespace, else `default`. */
  readonly namespace?: string;
  readonly output: 'text' | 'json';
  readonly color: 'auto' | 'always' | 'never';
  readonly maxEndpointsPerSlice: number;
  readonly mirroringMaxEndpointsPerSubset: number;
  readonly requestTimeoutMs: number;
}

/** What the command line asks for. */
export type ParsedArgs =
  | { readonly kind: 'run'; readonly options: CliOptions }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'error'; readonly message: string };

const SERVICE_PREFIXES = ['svc/', 'service/', 'services/'];
const POD_PREFIXES = ['po/', 'pod/', 'pods/'];
// Pod names are DNS subdomains (RFC 1123), up to 253 characters.
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `30s`, `500ms`, `2m` or a bare number of seconds, as kubectl's --request-timeout; 0 means no timeout. */
export function parseTimeout(text: string): number | undefined {
  const m = /^(\d+)(ms|s|m)?$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000;
}

const positiveInt = (flag: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${flag} must be an integer`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${flag} must be between ${min} and ${max}`);

const optionsSchema = z.object({
  kubeconfig: z.string().min(1, '--kubeconfig must not be empty').optional(),
  context: z.string().min(1, '--context must not be empty').optional(),
  namespace: z.string().regex(DNS1123_LABEL, '--namespace must be a valid namespace name').optional(),
  output: z.enum(['text', 'json'], { error: '--output must be text or json' }).default('text'),
  color: z.enum(['auto', 'always', 'never'], { error: '--color must be auto, always or never' }).default('auto'),
  'max-endpoints-per-slice': positiveInt('--max-endpoints-per-slice', 1, 1000).default(100),
  'mirroring-max-endpoints-per-subset': positiveInt('--mirroring-max-endpoints-per-subset', 1, 1000).default(1000),
  'request-timeout': z
    .string()
    .transform((s, ctx) => {
      const ms = parseTimeout(s);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: '--request-timeout must be a duration such as 30s, 500ms or 2m' });
        return z.NEVER;
      }
      return ms;
    })
    .default(30_000),
});

function serviceName(arg: string): string | undefined {
  const prefix = SERVICE_PREFIXES.find((p) => arg.startsWith(p));
  const name = prefix === undefined ? arg : arg.slice(prefix.length);
  return DNS1123_LABEL.test(name) ? name : undefined;
}

function podName(arg: string): string | undefined {
  const prefix = POD_PREFIXES.find((p) => arg.startsWith(p));
  const name = prefix === undefined ? arg : arg.slice(prefix.length);
  return name.length <= 253 && DNS1123_SUBDOMAIN.test(name) ? name : undefined;
}

/** Parses and validates `argv` (without the program name). Never throws. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  let parsed: ReturnType<typeof parseNodeArgs>;
  try {
    parsed = parseNodeArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        watch: { type: 'boolean', short: 'w' },
        version: { type: 'boolean' },
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        output: { type: 'string', short: 'o' },
        color: { type: 'string' },
        'max-endpoints-per-slice': { type: 'string' },
        'mirroring-max-endpoints-per-subset': { type: 'string' },
        'request-timeout': { type: 'string' },
      },
    });
  } catch (err) {
    return { kind: 'error', message: err instanceof Error ? err.message : String(err) };
  }
  const { values, positionals } = parsed;
  if (values.help === true || positionals[0] === 'help') return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };
  const [command, service, podArg, ...extra] = positionals;
  if (command === undefined) return { kind: 'error', message: 'missing command: expected "why SERVICE" or "diff SERVICE"' };
  if (!(COMMANDS as readonly string[]).includes(command)) {
    return { kind: 'error', message: `unknown command "${command}": expected "why" or "diff"` };
  }
  if (service === undefined) return { kind: 'error', message: `${command}: missing SERVICE` };
  const unexpected = command === 'why' ? extra[0] : (podArg ?? extra[0]);
  if (unexpected !== undefined) return { kind: 'error', message: `${command}: unexpected argument "${unexpected}"` };
  const name = serviceName(service);
  if (name === undefined) return { kind: 'error', message: `${command}: "${service}" is not a Service name (NAME or svc/NAME)` };
  const pod = podArg === undefined ? undefined : podName(podArg);
  if (podArg !== undefined && pod === undefined) return { kind: 'error', message: `why: "${podArg}" is not a Pod name (NAME or pod/NAME)` };
  const watch = values.watch === true;
  if (watch && (command !== 'why' || pod !== undefined)) return { kind: 'error', message: '--watch works with "why SERVICE" only' };
  const { help: _h, version: _v, watch: _w, ...flags } = values;
  const result = optionsSchema.safeParse(flags);
  if (!result.success) return { kind: 'error', message: result.error.issues[0]?.message ?? 'invalid flags' };
  const o = result.data;
  return {
    kind: 'run',
    options: {
      command: command as Command,
      service: name,
      ...(pod !== undefined ? { pod } : {}),
      watch,
      ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}),
      ...(o.context !== undefined ? { context: o.context } : {}),
      ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
      output: o.output,
      color: o.color,
      maxEndpointsPerSlice: o['max-endpoints-per-slice'],
      mirroringMaxEndpointsPerSubset: o['mirroring-max-endpoints-per-subset'],
      requestTimeoutMs: o['request-timeout'],
    },
  };
}
