import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { MAX_BACKEND_EVENTS, type Observation, observationFromStatus, transitionEvents } from './events.ts';
import type { HealthState } from './health.ts';
import { makeObject } from './test-fixtures.ts';

const OK = { reason: 'ServiceFound', message: 'Service found; publishing backends' };

function obs(o: {
  service?: { reason: string; message: string };
  backends?: Record<string, HealthState>;
  refused?: Record<string, string>;
  below?: string;
  dns?: Record<string, string>;
}): Observation {
  return {
    service: o.service ?? OK,
    backends: new Map(
      Object.entries(o.backends ?? {}).map(([a, state]) => [
        a,
        { state, detail: state === 'Unhealthy' ? 'Refused: connection refused' : undefined },
      ]),
    ),
    refused: new Map(Object.entries(o.refused ?? {})),
    belowMinHealthy: o.below,
    dnsFailures: new Map(Object.entries(o.dns ?? {})),
  };
}

const show = (prev: Observation | undefined, next: Observation) =>
  transitionEvents(deepFreeze(prev), deepFreeze(next)).map((e) => `${e.type} ${e.reason}: ${e.message}`);

describe('transitionEvents', () => {
  const cases: { name: string; given: { prev: Observation | undefined; next: Observation }; want: string[] }[] = [
    {
      name: 'nothing changed: no Event',
      given: { prev: obs({ backends: { a: 'Unhealthy' } }), next: obs({ backends: { a: 'Unhealthy' } }) },
      want: [],
    },
    {
      name: 'a backend going down is one Warning; coming back one Normal',
      given: { prev: obs({ backends: { a: 'Healthy', b: 'Unhealthy' } }), next: obs({ backends: { a: 'Unhealthy', b: 'Healthy' } }) },
      want: [
        'Warning BackendUnhealthy: Backend a is unhealthy: Refused: connection refused',
        'Normal BackendHealthy: Backend b is healthy again',
      ],
    },
    {
      name: 'Unknown to Healthy is not news',
      given: { prev: obs({ backends: { a: 'Unknown' } }), next: obs({ backends: { a: 'Healthy' } }) },
      want: [],
    },
    {
      name: 'a new object announces its problems once',
      given: { prev: undefined, next: obs({ refused: { x: 'x is denied' }, backends: { a: 'Unhealthy' } }) },
      want: ['Warning BackendUnhealthy: Backend a is unhealthy: Refused: connection refused', 'Warning AddressRefused: x is denied'],
    },
    {
      name: 'a Service becoming unusable is announced alone (backend problems are not evaluated, so none "recovers")',
      given: {
        prev: obs({ backends: { a: 'Unhealthy' }, below: 'below' }),
        next: obs({ service: { reason: 'ServiceNotFound', message: 'gone' } }),
      },
      want: ['Warning ServiceNotFound: gone'],
    },
    { name: 'a new healthy object is silent', given: { prev: undefined, next: obs({ backends: { a: 'Healthy' } }) }, want: [] },
    {
      name: 'the Service becoming usable again is announced',
      given: { prev: obs({ service: { reason: 'ServiceNotFound', message: 'missing' } }), next: obs({}) },
      want: ['Normal ServiceFound: Service found; publishing backends'],
    },
    {
      name: 'crossing minHealthy both ways',
      given: { prev: obs({}), next: obs({ below: 'publishing all' }) },
      want: ['Warning BelowMinHealthy: publishing all'],
    },
    {
      name: 'back above minHealthy',
      given: { prev: obs({ below: 'publishing all' }), next: obs({}) },
      want: ['Normal MinHealthyRestored: Enough backends are healthy again; publishing by health'],
    },
    {
      name: 'a name starting to fail',
      given: { prev: obs({ dns: { 'a.test': 'old' } }), next: obs({ dns: { 'a.test': 'still', 'b.test': 'SERVFAIL' } }) },
      want: ['Warning DNSResolutionFailed: SERVFAIL'],
    },
  ];
  for (const { name, given, want } of cases) it(name, () => assert.deepEqual(show(given.prev, given.next), want));

  it('sums up a mass change after a bounded number of backend Events', () => {
    const many = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`b${i}`, 'Unhealthy' as HealthState]));
    const got = show(obs({}), obs({ backends: many }));
    assert.equal(got.length, MAX_BACKEND_EVENTS + 1);
    assert.equal(got.at(-1), 'Warning TooManyChanges: 15 more backend changes not announced one by one; see status.endpoints');
  });
});

describe('observationFromStatus', () => {
  it('reads what the stored status already announced, so a new leader does not repeat it', () => {
    const object = makeObject(
      { endpoints: [{ dnsName: 'a.test' }], ports: [{ port: 80 }] },
      {
        status: {
          conditions: [
            { type: 'ServiceFound', status: 'True', reason: 'ServiceFound', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' },
            {
              type: 'BelowMinHealthy',
              status: 'True',
              reason: 'PublishingAll',
              message: 'below',
              lastTransitionTime: '2026-01-01T00:00:00Z',
            },
            {
              type: 'DNSResolved',
              status: 'False',
              reason: 'ResolutionFailed',
              message: 'SERVFAIL',
              lastTransitionTime: '2026-01-01T00:00:00Z',
            },
          ],
          endpoints: [
            {
              address: '198.18.0.2',
              healthy: false,
              health: 'Unhealthy',
              reason: 'Refused',
              consecutiveFailures: 3,
              consecutiveSuccesses: 0,
            },
            {
              address: '198.18.0.6',
              healthy: false,
              health: 'Unknown',
              reason: 'DeniedAddress',
              lastError: 'denied',
              consecutiveFailures: 0,
              consecutiveSuccesses: 0,
            },
          ],
        },
      },
    );
    const prev = observationFromStatus(deepFreeze(object));
    assert.ok(prev);
    const next = obs({
      backends: { '198.18.0.2': 'Unhealthy' },
      refused: { '198.18.0.6': 'denied' },
      below: 'below',
      dns: { 'a.test': 'SERVFAIL' },
    });
    assert.deepEqual(show(prev, next), []);
  });

  it('is undefined without a status', () => {
    assert.equal(observationFromStatus(makeObject({ endpoints: [], ports: [{ port: 80 }] })), undefined);
  });
});
