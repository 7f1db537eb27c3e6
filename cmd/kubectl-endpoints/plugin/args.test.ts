import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ParsedArgs, parseArgs, parseTimeout } from './args.ts';

const run = (overrides: Record<string, unknown>): ParsedArgs => ({
  kind: 'run',
  options: {
    command: 'why',
    service: 'web',
    output: 'text',
    color: 'auto',
    maxEndpointsPerSlice: 100,
    mirroringMaxEndpointsPerSubset: 1000,
    requestTimeoutMs: 30_000,
    watch: false,
    ...overrides,
  } as never,
});

const cases: { name: string; given: string[]; want: ParsedArgs }[] = [
  { name: 'why with defaults', given: ['why', 'web'], want: run({}) },
  { name: 'svc/ prefix as kubectl accepts it', given: ['diff', 'svc/web'], want: run({ command: 'diff' }) },
  { name: 'service/ prefix', given: ['why', 'service/web'], want: run({}) },
  {
    name: 'kubectl flags before and after, both value forms',
    given: ['-n', 'shop', 'why', '--context=dev', 'web', '--kubeconfig', '/tmp/kc', '-ojson'],
    want: run({ namespace: 'shop', context: 'dev', kubeconfig: '/tmp/kc', output: 'json' }),
  },
  {
    name: 'controller settings and timeout',
    given: ['diff', 'web', '--max-endpoints-per-slice=5', '--mirroring-max-endpoints-per-subset', '7', '--request-timeout=2m'],
    want: run({ command: 'diff', maxEndpointsPerSlice: 5, mirroringMaxEndpointsPerSubset: 7, requestTimeoutMs: 120_000 }),
  },
  { name: '--color=never', given: ['why', 'web', '--color=never'], want: run({ color: 'never' }) },
  { name: 'help flag', given: ['why', '--help'], want: { kind: 'help' } },
  { name: 'help command', given: ['help'], want: { kind: 'help' } },
  { name: 'version', given: ['--version'], want: { kind: 'version' } },
  { name: 'no command', given: [], want: { kind: 'error', message: 'missing command: expected "why SERVICE" or "diff SERVICE"' } },
  { name: 'unknown command', given: ['get', 'web'], want: { kind: 'error', message: 'unknown command "get": expected "why" or "diff"' } },
  { name: 'missing service', given: ['why'], want: { kind: 'error', message: 'why: missing SERVICE' } },
  { name: 'why SERVICE POD', given: ['why', 'web', 'web-1'], want: run({ pod: 'web-1' }) },
  { name: 'pod/ prefix', given: ['why', 'svc/web', 'pod/web-1.x', '-n', 'shop'], want: run({ pod: 'web-1.x', namespace: 'shop' }) },
  { name: 'extra argument', given: ['why', 'web', 'db', 'x'], want: { kind: 'error', message: 'why: unexpected argument "x"' } },
  { name: 'diff takes no Pod', given: ['diff', 'web', 'db'], want: { kind: 'error', message: 'diff: unexpected argument "db"' } },
  {
    name: 'not a Pod name',
    given: ['why', 'web', 'svc/db'],
    want: { kind: 'error', message: 'why: "svc/db" is not a Pod name (NAME or pod/NAME)' },
  },
  { name: '--watch', given: ['why', 'web', '--watch'], want: run({ watch: true }) },
  { name: '-w with JSON lines', given: ['why', '-w', 'web', '-o', 'json'], want: run({ watch: true, output: 'json' }) },
  {
    name: '--watch with a Pod',
    given: ['why', 'web', 'web-1', '-w'],
    want: { kind: 'error', message: '--watch works with "why SERVICE" only' },
  },
  {
    name: '--watch with diff',
    given: ['diff', 'web', '--watch'],
    want: { kind: 'error', message: '--watch works with "why SERVICE" only' },
  },
  {
    name: 'another resource type',
    given: ['why', 'pod/web'],
    want: { kind: 'error', message: 'why: "pod/web" is not a Service name (NAME or svc/NAME)' },
  },
  { name: 'bad output', given: ['why', 'web', '-o', 'yaml'], want: { kind: 'error', message: '--output must be text or json' } },
  {
    name: 'bad slice size',
    given: ['diff', 'web', '--max-endpoints-per-slice', '0'],
    want: { kind: 'error', message: '--max-endpoints-per-slice must be between 1 and 1000' },
  },
  {
    name: 'bad namespace',
    given: ['why', 'web', '-n', 'Shop_1'],
    want: { kind: 'error', message: '--namespace must be a valid namespace name' },
  },
];

describe('parseArgs', () => {
  for (const c of cases) it(c.name, () => assert.deepEqual(parseArgs(Object.freeze([...c.given])), c.want));

  it('reports unknown flags', () => {
    const got = parseArgs(['why', 'web', '--follow']);
    assert.equal(got.kind, 'error');
    assert.match(got.kind === 'error' ? got.message : '', /--follow/);
  });
});

describe('parseTimeout', () => {
  const table: [string, number | undefined][] = [
    ['30s', 30_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['5', 5000],
    ['0', 0],
    ['1h', undefined],
    ['-1s', undefined],
  ];
  for (const [given, want] of table) it(`${given} → ${want}`, () => assert.equal(parseTimeout(given), want));
});
