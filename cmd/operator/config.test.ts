import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PROBE_DENIED_CIDRS } from '../../controllers/external-endpoints/address-policy.ts';
import { deepFreeze } from '../../controllers/runtime/testing/deep-freeze.ts';
import { CONTROLLER_NAMES, type OperatorConfig, parseConfig, resolveControllers } from './config.ts';
import { formatGoDuration, parseGoDuration } from './go-duration.ts';

const DEFAULTS: OperatorConfig = deepFreeze({
  controllers: [...CONTROLLER_NAMES],
  endpoints: { concurrentSyncs: 5, updatesBatchPeriodMs: 0 },
  endpointSlice: { concurrentSyncs: 5, updatesBatchPeriodMs: 0, maxEndpointsPerSlice: 100 },
  endpointSliceMirroring: { concurrentSyncs: 5, updatesBatchPeriodMs: 0, maxEndpointsPerSubset: 1000 },
  externalEndpoints: { probeAllowedCIDRs: ['0.0.0.0/0', '::/0'], probeDeniedCIDRs: [...DEFAULT_PROBE_DENIED_CIDRS], probeConcurrency: 10 },
  kubeApi: { qps: 20, burst: 30, http2: true },
  leaderElection: {
    enabled: true,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    resourceNamespace: 'kube-system',
    resourceName: 'kube-endpoints-operator',
  },
  kubeconfig: undefined,
  metricsBindAddress: ':8080',
  healthProbeBindAddress: ':8081',
  logLevel: 'info',
});

function config(argv: readonly string[]): OperatorConfig {
  const r = parseConfig(deepFreeze([...argv]));
  if (r.kind !== 'run') assert.fail(`expected a config for ${argv.join(' ')}, got ${JSON.stringify(r)}`);
  return r.config;
}

function error(argv: readonly string[]): string {
  const r = parseConfig(deepFreeze([...argv]));
  if (r.kind !== 'error') assert.fail(`expected an error for ${argv.join(' ')}, got ${r.kind}`);
  assert.ok(!r.message.includes('\n'), 'one line');
  return r.message;
}

describe('parseConfig defaults', () => {
  it("match kube-controller-manager's and controller-runtime's defaults", () => {
    assert.deepEqual(config([]), DEFAULTS);
  });
});

describe('parseConfig values', () => {
  const cases: { name: string; given: string[]; want: (c: OperatorConfig) => unknown; value: unknown }[] = [
    { name: 'endpoint workers', given: ['--concurrent-endpoint-syncs=9'], want: (c) => c.endpoints.concurrentSyncs, value: 9 },
    { name: 'space-separated value', given: ['--concurrent-endpoint-syncs', '7'], want: (c) => c.endpoints.concurrentSyncs, value: 7 },
    { name: 'last repeat wins', given: ['--kube-api-burst=1', '--kube-api-burst=99'], want: (c) => c.kubeApi.burst, value: 99 },
    { name: 'fractional qps', given: ['--kube-api-qps=0.5'], want: (c) => c.kubeApi.qps, value: 0.5 },
    { name: 'HTTP/2 turned off', given: ['--kube-api-http2=false'], want: (c) => c.kubeApi.http2, value: false },
    {
      name: 'slice batch period',
      given: ['--endpointslice-updates-batch-period=1m30s'],
      want: (c) => c.endpointSlice.updatesBatchPeriodMs,
      value: 90_000,
    },
    {
      name: 'endpoints batch period',
      given: ['--endpoint-updates-batch-period=500ms'],
      want: (c) => c.endpoints.updatesBatchPeriodMs,
      value: 500,
    },
    {
      name: 'mirroring batch period',
      given: ['--mirroring-endpointslice-updates-batch-period=1s'],
      want: (c) => c.endpointSliceMirroring.updatesBatchPeriodMs,
      value: 1000,
    },
    { name: 'bare --leader-elect', given: ['--leader-elect'], want: (c) => c.leaderElection.enabled, value: true },
    { name: '--leader-elect=false', given: ['--leader-elect=false'], want: (c) => c.leaderElection.enabled, value: false },
    { name: 'Go bool spelling 0', given: ['--leader-elect=0'], want: (c) => c.leaderElection.enabled, value: false },
    { name: 'Go bool spelling T', given: ['--leader-elect=T'], want: (c) => c.leaderElection.enabled, value: true },
    {
      name: 'lease timings',
      given: ['--leader-elect-lease-duration=60s', '--leader-elect-renew-deadline=40s', '--leader-elect-retry-period=5s'],
      want: (c) => [c.leaderElection.leaseDurationMs, c.leaderElection.renewDeadlineMs, c.leaderElection.retryPeriodMs],
      value: [60_000, 40_000, 5_000],
    },
    {
      name: 'lease namespace',
      given: ['--leader-elect-resource-namespace=ops'],
      want: (c) => c.leaderElection.resourceNamespace,
      value: 'ops',
    },
    { name: 'lease name', given: ['--leader-elect-resource-name=keo'], want: (c) => c.leaderElection.resourceName, value: 'keo' },
    { name: 'kubeconfig', given: ['--kubeconfig', '/tmp/kc'], want: (c) => c.kubeconfig, value: '/tmp/kc' },
    { name: 'empty kubeconfig is unset', given: ['--kubeconfig='], want: (c) => c.kubeconfig, value: undefined },
    { name: 'metrics disabled', given: ['--metrics-bind-address=0'], want: (c) => c.metricsBindAddress, value: '0' },
    {
      name: 'probe address',
      given: ['--health-probe-bind-address=127.0.0.1:9440'],
      want: (c) => c.healthProbeBindAddress,
      value: '127.0.0.1:9440',
    },
    { name: 'log level', given: ['--log-level=debug'], want: (c) => c.logLevel, value: 'debug' },
    {
      name: 'probe allow-list, comma-separated with spaces',
      given: ['--external-endpoints-probe-allowed-cidrs=10.0.0.0/8, 2001:db8::/32'],
      want: (c) => c.externalEndpoints.probeAllowedCIDRs,
      value: ['10.0.0.0/8', '2001:db8::/32'],
    },
    {
      name: 'an empty deny-list replaces the built-in one explicitly',
      given: ['--external-endpoints-probe-denied-cidrs='],
      want: (c) => c.externalEndpoints.probeDeniedCIDRs,
      value: [],
    },
    {
      name: 'probe concurrency',
      given: ['--external-endpoints-probe-concurrency=50'],
      want: (c) => c.externalEndpoints.probeConcurrency,
      value: 50,
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(c.want(config(c.given)), c.value));
});

describe('parseConfig bounds', () => {
  const bounds: { flag: string; min: number; max?: number; read: (c: OperatorConfig) => number }[] = [
    { flag: 'concurrent-endpoint-syncs', min: 1, read: (c) => c.endpoints.concurrentSyncs },
    { flag: 'concurrent-service-endpoint-syncs', min: 1, max: 50, read: (c) => c.endpointSlice.concurrentSyncs },
    { flag: 'mirroring-concurrent-service-endpoint-syncs', min: 1, max: 50, read: (c) => c.endpointSliceMirroring.concurrentSyncs },
    { flag: 'max-endpoints-per-slice', min: 1, max: 1000, read: (c) => c.endpointSlice.maxEndpointsPerSlice },
    { flag: 'mirroring-max-endpoints-per-subset', min: 1, max: 1000, read: (c) => c.endpointSliceMirroring.maxEndpointsPerSubset },
    { flag: 'kube-api-burst', min: 1, read: (c) => c.kubeApi.burst },
    { flag: 'external-endpoints-probe-concurrency', min: 1, max: 1000, read: (c) => c.externalEndpoints.probeConcurrency },
  ];
  for (const b of bounds) {
    it(`--${b.flag} accepts ${b.min}${b.max === undefined ? '' : ` and ${b.max}`}`, () => {
      assert.equal(b.read(config([`--${b.flag}=${b.min}`])), b.min);
      if (b.max !== undefined) assert.equal(b.read(config([`--${b.flag}=${b.max}`])), b.max);
    });
    it(`--${b.flag} rejects values outside the range`, () => {
      const range = b.max === undefined ? `must be at least ${b.min}` : `must be between ${b.min} and ${b.max}`;
      assert.equal(error([`--${b.flag}=${b.min - 1}`]), `error: --${b.flag} ${range} (got ${b.min - 1})`);
      if (b.max !== undefined) assert.equal(error([`--${b.flag}=${b.max + 1}`]), `error: --${b.flag} ${range} (got ${b.max + 1})`);
    });
  }
});

describe('parseConfig errors', () => {
  const cases = [
    {
      name: 'the example from the issue',
      given: ['--max-endpoints-per-slice=5000'],
      want: 'error: --max-endpoints-per-slice must be between 1 and 1000 (got 5000)',
    },
    {
      name: 'not an integer',
      given: ['--concurrent-endpoint-syncs=five'],
      want: 'error: --concurrent-endpoint-syncs must be an integer (got "five")',
    },
    {
      name: 'a fraction where an integer is needed',
      given: ['--kube-api-burst=1.5'],
      want: 'error: --kube-api-burst must be an integer (got "1.5")',
    },
    { name: 'zero qps', given: ['--kube-api-qps=0'], want: 'error: --kube-api-qps must be greater than 0 (got 0)' },
    {
      name: 'a CIDR with host bits set',
      given: ['--external-endpoints-probe-denied-cidrs=10.0.0.1/8'],
      want: 'error: --external-endpoints-probe-denied-cidrs has an invalid CIDR: "10.0.0.1/8" has bits set beyond its /8 prefix (did you mean 10.0.0.0/8?)',
    },
    { name: 'non-numeric qps', given: ['--kube-api-qps=fast'], want: 'error: --kube-api-qps must be a number (got "fast")' },
    {
      name: 'duration without unit',
      given: ['--leader-elect-lease-duration=15'],
      want: 'error: --leader-elect-lease-duration must be a duration such as 500ms, 15s or 1m30s (got "15")',
    },
    {
      name: 'negative batch period',
      given: ['--endpoint-updates-batch-period=-1s'],
      want: 'error: --endpoint-updates-batch-period must not be negative (got -1s)',
    },
    {
      name: 'zero retry period',
      given: ['--leader-elect-retry-period=0s'],
      want: 'error: --leader-elect-retry-period must be greater than 0 (got 0s)',
    },
    { name: 'bad boolean', given: ['--leader-elect=yes'], want: 'error: --leader-elect must be true or false (got "yes")' },
    {
      name: 'lease not longer than renew deadline',
      given: ['--leader-elect-lease-duration=10s'],
      want: 'error: --leader-elect-lease-duration (10s) must be greater than --leader-elect-renew-deadline (10s)',
    },
    {
      name: 'renew deadline within jitter of retry period',
      given: ['--leader-elect-retry-period=9s'],
      want: 'error: --leader-elect-renew-deadline (10s) must be greater than 1.2 x --leader-elect-retry-period (9s)',
    },
    {
      name: 'bad bind address',
      given: ['--metrics-bind-address=8080'],
      want: 'error: --metrics-bind-address must be host:port, :port or 0 to disable (got "8080")',
    },
    {
      name: 'bad log level',
      given: ['--log-level=verbose'],
      want: 'error: --log-level must be one of trace, debug, info, warn, error, fatal, silent (got "verbose")',
    },
    {
      name: 'empty lease namespace',
      given: ['--leader-elect-resource-namespace='],
      want: 'error: --leader-elect-resource-namespace must not be empty',
    },
    { name: 'unknown flag', given: ['--concurrent-syncs=3'], want: 'error: unknown flag --concurrent-syncs (see --help)' },
    { name: 'missing value', given: ['--kubeconfig'], want: 'error: --kubeconfig needs a value' },
    { name: 'positional argument', given: ['run'], want: 'error: unexpected argument "run" (see --help)' },
    {
      name: 'unknown controller',
      given: ['--controllers=*,-endpoint,foo'],
      want:
        'error: --controllers has unknown controller "foo"; known: endpoints-controller (endpoint), endpointslice-controller (endpointslice), ' +
        'endpointslice-mirroring-controller (endpointslicemirroring), external-endpoints-controller, session-affinity-controller',
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(error(c.given), c.want));

  it('--help wins and lists every flag with its default', () => {
    const r = parseConfig(['--max-endpoints-per-slice=1', '--help']);
    assert.equal(r.kind, 'help');
    const text = (r as { text: string }).text;
    for (const flag of ['--controllers', '--max-endpoints-per-slice value', '--leader-elect', '--log-level', '-h, --help'])
      assert.ok(text.includes(flag), flag);
    assert.ok(text.includes('(default "100")'));
    assert.equal(parseConfig(['-h']).kind, 'help');
  });
});

describe('resolveControllers', () => {
  const all = [...CONTROLLER_NAMES];
  const cases: { name: string; given: string[]; want: string[] }[] = [
    { name: '* enables every default controller', given: ['*'], want: all },
    { name: 'a name alone enables only it', given: ['endpointslice-controller'], want: ['endpointslice-controller'] },
    { name: 'nothing enables nothing', given: [], want: [] },
    { name: '-name disables one of *', given: ['*', '-endpoints-controller'], want: all.filter((n) => n !== 'endpoints-controller') },
    {
      name: 'the first match wins (disable before *)',
      given: ['-endpointslice-controller', '*'],
      want: all.filter((n) => n !== 'endpointslice-controller'),
    },
    {
      name: 'the first match wins (enable before disable)',
      given: ['endpoints-controller', '-endpoints-controller'],
      want: ['endpoints-controller'],
    },
    {
      name: 'aliases are accepted',
      given: ['endpoint', 'endpointslicemirroring'],
      want: ['endpoints-controller', 'endpointslice-mirroring-controller'],
    },
    { name: 'disabling by alias', given: ['*', '-endpointslice'], want: all.filter((n) => n !== 'endpointslice-controller') },
    {
      name: 'result in canonical order',
      given: ['session-affinity-controller', 'endpoints-controller'],
      want: ['endpoints-controller', 'session-affinity-controller'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = resolveControllers(deepFreeze(c.given));
      assert.deepEqual(r, { ok: true, enabled: c.want });
    });
  }

  it('is what --controllers uses, including an empty list', () => {
    assert.deepEqual(
      config(['--controllers=*,-endpointslicemirroring']).controllers,
      all.filter((n) => n !== 'endpointslice-mirroring-controller'),
    );
    assert.deepEqual(config(['--controllers=']).controllers, []);
  });

  it('rejects an empty entry as unknown', () => {
    assert.match(error(['--controllers=*,']), /unknown controller ""/);
  });
});

describe('parseGoDuration', () => {
  const cases: { name: string; given: string; want: number | undefined }[] = [
    { name: 'bare zero', given: '0', want: 0 },
    { name: 'seconds', given: '1s', want: 1000 },
    { name: 'milliseconds', given: '500ms', want: 500 },
    { name: 'compound', given: '1m30s', want: 90_000 },
    { name: 'hours and fractions', given: '1.5h', want: 5_400_000 },
    { name: 'leading dot', given: '.5s', want: 500 },
    { name: 'micro (u)', given: '250us', want: 0.25 },
    { name: 'micro (µ)', given: '1000µs', want: 1 },
    { name: 'nanoseconds', given: '1000000ns', want: 1 },
    { name: 'negative', given: '-2s', want: -2000 },
    { name: 'explicit plus', given: '+3ms', want: 3 },
    { name: 'no unit', given: '15', want: undefined },
    { name: 'empty', given: '', want: undefined },
    { name: 'unknown unit', given: '1d', want: undefined },
    { name: 'space inside', given: '1 s', want: undefined },
    { name: 'trailing junk', given: '1sx', want: undefined },
    { name: 'lone dot', given: '.s', want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.equal(parseGoDuration(c.given), c.want));

  it('formats back in Go style', () => {
    assert.deepEqual([0, 500, 1000, 90_000, 3_600_000, 5_400_500].map(formatGoDuration), [
      '0s',
      '500ms',
      '1s',
      '1m30s',
      '1h0m0s',
      '1h30m0.5s',
    ]);
  });
});
