import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StaleEndpointsTracker } from './stale-endpoints-tracker.ts';

describe('StaleEndpointsTracker (TestStaleEndpointsTracker)', () => {
  it('reports the replaced resourceVersion as stale and any other as fresh', () => {
    const t = new StaleEndpointsTracker();
    assert.equal(t.isStale('ns', 'foo', '1'), false);
    t.markStale('ns', 'foo', '1');
    assert.equal(t.isStale('ns', 'foo', '1'), true);
    assert.equal(t.isStale('ns', 'foo', '2'), false);
    assert.equal(t.isStale('other', 'foo', '1'), false);
    assert.equal(t.isStale('ns', 'foo', undefined), false);
  });

  it('remembers only the latest replaced version', () => {
    const t = new StaleEndpointsTracker();
    t.markStale('ns', 'foo', '1');
    t.markStale('ns', 'foo', '2');
    assert.equal(t.isStale('ns', 'foo', '1'), false);
    assert.equal(t.isStale('ns', 'foo', '2'), true);
  });

  it('forgets an Endpoints on delete', () => {
    const t = new StaleEndpointsTracker();
    t.markStale('ns', 'foo', '1');
    t.delete('ns', 'foo');
    assert.equal(t.isStale('ns', 'foo', '1'), false);
    assert.equal(t.size, 0);
  });
});
