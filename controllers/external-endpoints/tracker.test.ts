import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { deepFreeze } from '../shared/deep-freeze.ts';
import { SliceTracker } from './tracker.ts';

const slice = (name: string, generation: number): EndpointSlice =>
  deepFreeze({ metadata: { name, namespace: 'prod', generation }, addressType: 'IPv4', endpoints: [] });

describe('SliceTracker', () => {
  it('calls the cache stale until it shows a created slice', () => {
    const t = new SliceTracker();
    t.written('prod/db', slice('db-1', 1));
    assert.equal(t.stale('prod/db', []), true);
    assert.equal(t.stale('prod/db', [slice('db-1', 1)]), false);
    // Caught up: the entry is gone, so a later foreign deletion is not "stale".
    assert.equal(t.stale('prod/db', []), false);
  });

  it('calls the cache stale while it shows an older generation than we wrote', () => {
    const t = new SliceTracker();
    t.written('prod/db', slice('db-1', 4));
    assert.equal(t.stale('prod/db', [slice('db-1', 3)]), true);
    assert.equal(t.stale('prod/db', [slice('db-1', 5)]), false);
  });

  it('calls the cache stale while it still shows a slice we deleted', () => {
    const t = new SliceTracker();
    t.deleted('prod/db', 'db-1');
    assert.equal(t.stale('prod/db', [slice('db-1', 2)]), true);
    assert.equal(t.stale('prod/db', []), false);
  });

  it('stops waiting for a slice the informer saw deleted (by someone else)', () => {
    const t = new SliceTracker();
    t.written('prod/db', slice('db-1', 1));
    t.observedDeletion('prod/db', 'db-1');
    assert.equal(t.stale('prod/db', []), false);
  });

  it('keeps objects apart and forgets them', () => {
    const t = new SliceTracker();
    t.written('prod/db', slice('db-1', 1));
    assert.equal(t.stale('prod/web', []), false);
    t.forget('prod/db');
    assert.equal(t.stale('prod/db', []), false);
  });
});
