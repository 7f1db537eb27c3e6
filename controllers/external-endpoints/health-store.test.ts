import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HealthPolicy } from './health.ts';
import { BackendHealthStore } from './health-store.ts';
import type { ProbeResult } from './probe/prober.ts';

const policy: HealthPolicy = { healthyThreshold: 1, unhealthyThreshold: 2, minDwellMs: 0 };
const ok: ProbeResult = { ok: true, latencyMs: 1 };
const refused: ProbeResult = { ok: false, latencyMs: 1, error: { reason: 'Refused', message: 'refused' } };
const timeout: ProbeResult = { ok: false, latencyMs: 1000, error: { reason: 'Timeout', message: 'timed out' } };
const aborted: ProbeResult = { ok: false, latencyMs: 0, error: { reason: 'Aborted', message: 'aborted' } };
const KEY = BackendHealthStore.jobKey('prod/db', '198.18.0.2');

describe('BackendHealthStore', () => {
  it('flags as significant only results that change what status or slices show', () => {
    const store = new BackendHealthStore();
    store.track('prod/db', '198.18.0.2', policy);
    const seq = [ok, ok, refused, refused, refused, timeout, aborted, ok].map((r, i) => {
      const o = store.observe(KEY, r, i * 1000);
      return `${o?.backend.health.state}${o?.significant ? '!' : ''}`;
    });
    // Unknown->Healthy, steady, one failure below threshold, ->Unhealthy, steady, new reason, abort ignored, recovery.
    assert.deepEqual(seq, ['Healthy!', 'Healthy', 'Healthy', 'Unhealthy!', 'Unhealthy', 'Unhealthy!', 'Unhealthy', 'Healthy!']);
  });

  it('seeds a new backend once and keeps its health across policy updates', () => {
    const store = new BackendHealthStore();
    const seeded = store.track('prod/db', '198.18.0.2', policy, () => ({
      state: 'Unhealthy',
      consecutiveFailures: 9,
      consecutiveSuccesses: 0,
    }));
    assert.equal(seeded.state, 'Unhealthy');
    const again = store.track('prod/db', '198.18.0.2', { ...policy, healthyThreshold: 3 }, () => assert.fail('seeded twice'));
    assert.equal(again.state, 'Unhealthy');
    // The new threshold applies: one success is not enough any more.
    assert.equal(store.observe(KEY, ok, 1)?.backend.health.state, 'Unhealthy');
  });

  it('drops results of backends no longer tracked, and forgets whole objects', () => {
    const store = new BackendHealthStore();
    store.track('prod/db', '198.18.0.2', policy);
    store.track('prod/db', '198.18.0.6', policy);
    store.track('prod/web', '198.18.0.2', policy);
    store.untrack('prod/db', '198.18.0.2');
    assert.equal(store.observe(KEY, ok, 1), undefined);
    assert.deepEqual(store.forgetObject('prod/db'), ['198.18.0.6']);
    assert.deepEqual(store.addresses('prod/db'), []);
    assert.deepEqual(store.addresses('prod/web'), ['198.18.0.2']);
  });
});
