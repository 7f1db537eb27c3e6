import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ParsedPodBehaviour, podBehaviour } from './pod-behaviour.ts';
import { pod } from './test-fixtures.ts';

const P = 'playground.kube-endpoints-operator.io/';
const HEALTHY = {
  neverReady: false,
  exit: undefined,
  exitAfterMs: 0,
  flapMs: undefined,
  readinessDelayMs: undefined,
  serveWhileTerminating: false,
};

describe('podBehaviour', () => {
  const cases: {
    name: string;
    given: Record<string, string>;
    want: ParsedPodBehaviour;
  }[] = [
    {
      name: 'no annotations: a healthy container',
      given: {},
      want: { behaviour: HEALTHY, invalid: [] },
    },
    {
      name: 'ready=false',
      given: { [`${P}ready`]: 'false' },
      want: { behaviour: { ...HEALTHY, neverReady: true }, invalid: [] },
    },
    {
      name: 'ready=true changes nothing',
      given: { [`${P}ready`]: 'true' },
      want: { behaviour: HEALTHY, invalid: [] },
    },
    {
      name: 'fail wins over complete',
      given: {
        [`${P}fail`]: 'true',
        [`${P}complete`]: 'true',
        [`${P}exit-after-seconds`]: '2.5',
      },
      want: {
        behaviour: { ...HEALTHY, exit: 'failure', exitAfterMs: 2_500 },
        invalid: [],
      },
    },
    {
      name: 'complete',
      given: { [`${P}complete`]: 'true' },
      want: { behaviour: { ...HEALTHY, exit: 'success' }, invalid: [] },
    },
    {
      name: 'flap, readiness delay and serve-while-terminating',
      given: {
        [`${P}flap-seconds`]: '4',
        [`${P}readiness-delay-seconds`]: '0',
        [`${P}serve-while-terminating`]: 'true',
      },
      want: {
        behaviour: {
          ...HEALTHY,
          flapMs: 4_000,
          readinessDelayMs: 0,
          serveWhileTerminating: true,
        },
        invalid: [],
      },
    },
    {
      name: 'unparsable values are ignored and reported',
      given: {
        [`${P}ready`]: 'nope',
        [`${P}flap-seconds`]: '0.5',
        [`${P}exit-after-seconds`]: '-1',
        'other.io/x': 'y',
      },
      want: {
        behaviour: HEALTHY,
        invalid: [`${P}ready=nope`, `${P}exit-after-seconds=-1`, `${P}flap-seconds=0.5`],
      },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(podBehaviour(pod({ metadata: { annotations: c.given } })), c.want));
});
