import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PlaygroundConfig, playgroundHelpText, splitPlaygroundFlags } from './playground-flags.ts';

const DEFAULTS: PlaygroundConfig = {
  kubeControllerManager: true,
  simulator: true,
  nodes: 3,
  dualStack: false,
  readinessDelayMs: 1_000,
  dataPlane: 'nftables',
};

describe('splitPlaygroundFlags', () => {
  const cases: { name: string; given: string[]; want: unknown }[] = [
    {
      name: 'defaults, everything else passed on',
      given: ['--leader-elect=false', '-h'],
      want: { kind: 'ok', config: DEFAULTS, rest: ['--leader-elect=false', '-h'] },
    },
    {
      name: 'booleans bare or with a value, values with = or as the next argument',
      given: [
        '--playground-dual-stack',
        '--playground-kube-controller-manager=false',
        '--playground-nodes',
        '5',
        '--playground-readiness-delay=250ms',
        '--log-level=debug',
      ],
      want: {
        kind: 'ok',
        config: { ...DEFAULTS, dualStack: true, kubeControllerManager: false, nodes: 5, readinessDelayMs: 250 },
        rest: ['--log-level=debug'],
      },
    },
    {
      name: 'the last repeat wins',
      given: ['--playground-simulator=false', '--playground-simulator=true'],
      want: { kind: 'ok', config: DEFAULTS, rest: [] },
    },
    {
      name: 'nothing after -- is touched',
      given: ['--', '--playground-nodes=9'],
      want: { kind: 'ok', config: DEFAULTS, rest: ['--', '--playground-nodes=9'] },
    },
    {
      name: 'an unknown playground flag',
      given: ['--playground-nope'],
      want: { kind: 'error', message: 'error: unknown flag --playground-nope (see --help)' },
    },
    { name: 'a missing value', given: ['--playground-nodes'], want: { kind: 'error', message: 'error: --playground-nodes needs a value' } },
    {
      name: 'a node count out of range',
      given: ['--playground-nodes=251'],
      want: { kind: 'error', message: 'error: --playground-nodes must be an integer between 0 and 250 (got "251")' },
    },
    {
      name: 'a bad boolean',
      given: ['--playground-simulator=maybe'],
      want: { kind: 'error', message: 'error: --playground-simulator must be true or false (got "maybe")' },
    },
    {
      name: 'the data plane in iptables mode, or off',
      given: ['--playground-data-plane=iptables'],
      want: { kind: 'ok', config: { ...DEFAULTS, dataPlane: 'iptables' }, rest: [] },
    },
    {
      name: 'the data plane off',
      given: ['--playground-data-plane', 'off'],
      want: { kind: 'ok', config: { ...DEFAULTS, dataPlane: 'off' }, rest: [] },
    },
    {
      name: 'an unknown data plane mode',
      given: ['--playground-data-plane=ipvs'],
      want: { kind: 'error', message: 'error: --playground-data-plane must be nftables, iptables or off (got "ipvs")' },
    },
    {
      name: 'a bad duration',
      given: ['--playground-readiness-delay=soon'],
      want: { kind: 'error', message: 'error: --playground-readiness-delay must be a duration such as 0s, 500ms or 2s (got "soon")' },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(splitPlaygroundFlags(c.given), c.want));
});

describe('playgroundHelpText', () => {
  it('documents every playground flag with its default', () => {
    const text = playgroundHelpText();
    for (const flag of [
      'playground-kube-controller-manager',
      'playground-simulator',
      'playground-nodes value',
      'playground-dual-stack',
      'playground-readiness-delay value',
    ]) {
      assert.ok(text.includes(`--${flag}`), flag);
    }
    assert.match(text, /\(default "3"\)/);
  });
});
