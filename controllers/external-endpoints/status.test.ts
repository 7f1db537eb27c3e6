import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExternalEndpointsSpecInput, ExternalEndpointsStatus } from '../../api/v1alpha1/external-endpoints.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { newAddressPolicy } from './address-policy.ts';
import { resolveBackends } from './backends.ts';
import type { NameResolution } from './dns/resolver.ts';
import { type BackendHealth, decidePublication } from './health.ts';
import { checkService } from './service-check.ts';
import { desiredStatus, sameSignificantStatus } from './status.ts';
import { makeObject, makeService } from './test-fixtures.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const policy = newAddressPolicy();
const healthy: BackendHealth = {
  state: 'Healthy',
  consecutiveSuccesses: 4,
  consecutiveFailures: 0,
  lastProbeTime: NOW - 1000,
  lastTransitionTime: NOW - 60_000,
  lastLatencyMs: 2.4,
};
const refused: BackendHealth = {
  state: 'Unhealthy',
  consecutiveSuccesses: 0,
  consecutiveFailures: 3,
  lastProbeTime: NOW - 1000,
  lastTransitionTime: NOW - 5000,
  lastError: { reason: 'Refused', message: 'connection refused by 198.18.0.6:5432' },
  lastLatencyMs: 0.4,
};
const PORTS = [{ name: 'pg', port: 5432 }];

function status(
  spec: Partial<ExternalEndpointsSpecInput>,
  opts: {
    health?: Record<string, BackendHealth>;
    service?: ReturnType<typeof makeService> | null;
    prev?: ExternalEndpointsStatus;
    resolutions?: NameResolution[];
  } = {},
) {
  const object = deepFreeze(
    makeObject({ endpoints: [], ports: PORTS, healthCheck: { type: 'TCP' }, ...spec }, opts.prev ? { status: opts.prev } : {}),
  );
  const service = checkService('prod/db', opts.service === null ? undefined : (opts.service ?? makeService()), object.spec.ports);
  const resolutions = new Map((opts.resolutions ?? []).map((r) => [r.name, r]));
  const set = resolveBackends(object.spec, resolutions, policy);
  const probing = object.spec.healthCheck?.type !== 'None';
  const health = new Map(Object.entries(opts.health ?? {}));
  const decision = decidePublication(
    set.backends.map((b) => ({
      key: b.address,
      state: probing ? (health.get(b.address)?.state ?? 'Unknown') : 'Healthy',
      maintenance: b.maintenance,
    })),
    object.spec.failurePolicy,
  );
  return desiredStatus(deepFreeze({ object, now: NOW, service, backends: set, probing, health, decision, resolutions }));
}

const conditions = (s: ExternalEndpointsStatus) =>
  Object.fromEntries((s.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}: ${c.message}`]));

describe('desiredStatus', () => {
  it('reports only ServiceFound and Ready when the Service is unusable, with no backends', () => {
    const s = status({ endpoints: [{ ip: '198.18.0.2' }] }, { service: makeService({ selector: { app: 'db' } }) });
    assert.deepEqual(conditions(s), {
      ServiceFound:
        'False/ServiceHasSelector: Service prod/db has a selector, so the EndpointSlice controller publishes its Pods; remove the selector to publish these backends',
      Ready:
        'False/NotPublished: Service prod/db has a selector, so the EndpointSlice controller publishes its Pods; remove the selector to publish these backends',
    });
    assert.deepEqual([s.endpoints, s.readyCount, s.healthyCount, s.totalCount, s.observedGeneration], [[], 0, 0, 0, 1]);
  });

  it('reports per-backend health, reasons and latency, and the aggregate conditions', () => {
    const s = status(
      { endpoints: [{ ip: '198.18.0.2' }, { ip: '198.18.0.6' }] },
      { health: { '198.18.0.2': healthy, '198.18.0.6': refused } },
    );
    assert.deepEqual(s.endpoints, [
      {
        address: '198.18.0.2',
        healthy: true,
        health: 'Healthy',
        ready: true,
        lastProbeTime: '2026-03-01T11:59:59Z',
        lastTransitionTime: '2026-03-01T11:59:00Z',
        latencyMs: 2,
        consecutiveFailures: 0,
        consecutiveSuccesses: 4,
      },
      {
        address: '198.18.0.6',
        healthy: false,
        health: 'Unhealthy',
        ready: false,
        reason: 'Refused',
        lastProbeTime: '2026-03-01T11:59:59Z',
        lastTransitionTime: '2026-03-01T11:59:55Z',
        lastError: 'connection refused by 198.18.0.6:5432',
        latencyMs: 0,
        consecutiveFailures: 3,
        consecutiveSuccesses: 0,
      },
    ]);
    assert.deepEqual([s.readyCount, s.healthyCount, s.totalCount], [1, 1, 2]);
    assert.deepEqual(conditions(s), {
      ServiceFound: 'True/ServiceFound: Service prod/db exists and has no selector',
      Ready: 'True/BackendsReady: 1 of 2 ready',
      Degraded: 'True/BackendsUnhealthy: 1 of 2 backends unhealthy: 198.18.0.6 (Refused)',
      DNSResolved: 'True/NoDNSNames: no backend is declared by dnsName',
      BelowMinHealthy: 'False/EnoughHealthy: 1 of 2 backends healthy, minHealthy 1',
    });
  });

  it('shows unprobed backends as healthy, maintenance as Unknown with its reason, and refusals with theirs', () => {
    const meta: NameResolution = {
      name: 'meta.test',
      addresses: [{ address: '169.254.169.254', family: 4, ttlSeconds: 30, expiresAt: NOW + 30_000 }],
      errors: [],
      consecutiveFailures: 0,
      attemptedAt: NOW,
      nextRefreshAt: NOW + 30_000,
    };
    const s = status(
      {
        healthCheck: { type: 'None' },
        endpoints: [{ ip: '198.18.0.2' }, { ip: '198.18.0.6', maintenance: true }, { dnsName: 'meta.test' }, { ip: '100.100.100.200' }],
      },
      { resolutions: [meta] },
    );
    assert.deepEqual(
      s.endpoints?.map((e) => `${e.address} ${e.health} healthy=${e.healthy} ready=${e.ready} ${e.reason ?? ''}`),
      [
        '198.18.0.2 Healthy healthy=true ready=true ',
        '198.18.0.6 Unknown healthy=false ready=false Maintenance',
        '169.254.169.254 Unknown healthy=false ready=false LinkLocalAddress',
        '100.100.100.200 Unknown healthy=false ready=false DeniedAddress',
      ],
    );
    assert.equal(
      conditions(s).Degraded,
      'True/InvalidAddress: 1 address refused: 169.254.169.254 is in the link-local range (169.254.0.0/16, fe80::/10), which Kubernetes refuses in endpoints. 1 address refused: 100.100.100.200 is in 100.100.100.200/32, which this operator never probes',
    );
  });

  it('reports a failing name with the addresses it keeps', () => {
    const r: NameResolution = {
      name: 'db.test',
      addresses: [{ address: '198.18.0.2', family: 4, ttlSeconds: 30, expiresAt: NOW - 1 }],
      errors: [{ family: 4, reason: 'ServerFailure', message: 'db.test (A) could not be resolved: the DNS server failed (SERVFAIL)' }],
      consecutiveFailures: 2,
      attemptedAt: NOW,
      nextRefreshAt: NOW + 10_000,
    };
    const s = status({ endpoints: [{ dnsName: 'db.test' }] }, { resolutions: [r], health: { '198.18.0.2': healthy } });
    assert.equal(
      conditions(s).DNSResolved,
      'False/ResolutionFailed: db.test (A) could not be resolved: the DNS server failed (SERVFAIL) (keeping last known 198.18.0.2)',
    );
    assert.equal(s.endpoints?.[0]?.resolvedFrom, 'db.test');
  });

  it('says which way the failure policy went below minHealthy', () => {
    const open = status({ endpoints: [{ ip: '198.18.0.6' }] }, { health: { '198.18.0.6': refused } });
    assert.equal(
      conditions(open).BelowMinHealthy,
      'True/PublishingAll: 0 of 1 backends healthy, fewer than minHealthy 1: publishing every backend as ready (fail open)',
    );
    assert.equal(open.readyCount, 1);
    const closed = status(
      { endpoints: [{ ip: '198.18.0.2' }, { ip: '198.18.0.6' }], failurePolicy: { minHealthy: 2, whenBelowMinHealthy: 'PublishNone' } },
      { health: { '198.18.0.2': healthy, '198.18.0.6': refused } },
    );
    assert.equal(
      conditions(closed).BelowMinHealthy,
      'True/PublishingNone: 1 of 2 backends healthy, fewer than minHealthy 2: publishing no backend as ready (fail closed)',
    );
    assert.equal(conditions(closed).Ready, 'False/NoReadyBackends: 0 of 2 ready');
  });

  it('keeps lastTransitionTime of conditions whose status holds, and moves it for those that change', () => {
    const first = status({ endpoints: [{ ip: '198.18.0.2' }] }, { health: { '198.18.0.2': healthy } });
    const prev = { ...first, conditions: first.conditions?.map((c) => ({ ...c, lastTransitionTime: '2026-01-01T00:00:00Z' })) };
    const next = status({ endpoints: [{ ip: '198.18.0.2' }] }, { prev, health: { '198.18.0.2': { ...healthy, state: 'Unhealthy' } } });
    const times = Object.fromEntries((next.conditions ?? []).map((c) => [c.type, c.lastTransitionTime]));
    assert.deepEqual(times, {
      ServiceFound: '2026-01-01T00:00:00Z',
      Ready: '2026-01-01T00:00:00Z', // still ready: fail open publishes it
      Degraded: '2026-03-01T12:00:00Z',
      DNSResolved: '2026-01-01T00:00:00Z',
      BelowMinHealthy: '2026-03-01T12:00:00Z',
    });
  });
});

describe('sameSignificantStatus', () => {
  const base = status({ endpoints: [{ ip: '198.18.0.2' }] }, { health: { '198.18.0.2': healthy } });
  const cases: { name: string; given: ExternalEndpointsStatus; want: boolean }[] = [
    { name: 'identical', given: base, want: true },
    {
      name: 'only per-probe fields moved (time, latency, counters, error text)',
      given: status(
        { endpoints: [{ ip: '198.18.0.2' }] },
        {
          health: {
            '198.18.0.2': {
              ...healthy,
              lastProbeTime: NOW,
              lastLatencyMs: 9,
              consecutiveSuccesses: 9,
              consecutiveFailures: 1,
              lastError: { reason: 'Timeout', message: 'x' },
            },
          },
        },
      ),
      want: true,
    },
    { name: 'health changed', given: status({ endpoints: [{ ip: '198.18.0.2' }] }, { health: { '198.18.0.2': refused } }), want: false },
    {
      name: 'an address was added',
      given: status({ endpoints: [{ ip: '198.18.0.2' }, { ip: '198.18.0.10' }] }, { health: { '198.18.0.2': healthy } }),
      want: false,
    },
  ];
  for (const { name, given, want } of cases) it(name, () => assert.equal(sameSignificantStatus(base, given), want));

  it('a missing stored status always differs', () => assert.equal(sameSignificantStatus(base, undefined), false));
});
