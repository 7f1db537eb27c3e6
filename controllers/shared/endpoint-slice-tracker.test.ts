import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_SERVICE_NAME } from '../../api/labels.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { EndpointSliceTracker } from './endpoint-slice-tracker.ts';

// Upstream k8s.io/endpointslice util/endpointslice_tracker_test.go (v1.36): TestEndpointSliceTrackerUpdate,
// TestEndpointSliceTrackerStaleSlices, TestEndpointSliceTrackerDeletion, TestEndpointSliceTrackerDeleteService.

const slice = (opts: { uid?: string; generation?: number; namespace?: string; service?: string } = {}): EndpointSlice =>
  deepFreeze({
    metadata: {
      name: 'example-1',
      namespace: opts.namespace ?? 'ns1',
      uid: opts.uid ?? 'original',
      generation: opts.generation ?? 1,
      labels: { [LABEL_SERVICE_NAME]: opts.service ?? 'svc1' },
    },
    addressType: 'IPv4',
    endpoints: [],
  });

describe('EndpointSliceTracker update/has/shouldSync (upstream TestEndpointSliceTrackerUpdate)', () => {
  const original = slice();
  const cases: { name: string; given: EndpointSlice; want: { has: boolean; shouldSync: boolean } }[] = [
    { name: 'same slice', given: original, want: { has: true, shouldSync: false } },
    { name: 'different namespace', given: slice({ namespace: 'ns2' }), want: { has: false, shouldSync: true } },
    { name: 'different Service', given: slice({ service: 'svc2' }), want: { has: false, shouldSync: true } },
    { name: 'newer generation', given: slice({ generation: 2 }), want: { has: true, shouldSync: true } },
    { name: 'older generation is an echo', given: slice({ generation: 0 }), want: { has: true, shouldSync: false } },
    { name: 'different UID', given: slice({ uid: 'other' }), want: { has: false, shouldSync: true } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const tracker = new EndpointSliceTracker();
      tracker.update(original);
      assert.deepEqual({ has: tracker.has(c.given), shouldSync: tracker.shouldSync(c.given) }, c.want);
    });
  }
});

describe('EndpointSliceTracker.staleSlices (upstream TestEndpointSliceTrackerStaleSlices)', () => {
  const cases: { name: string; given: { track?: (t: EndpointSliceTracker) => void; slices: EndpointSlice[] }; want: boolean }[] = [
    { name: 'empty tracker', given: { slices: [] }, want: false },
    {
      name: 'tracked Service, no slices tracked, none given',
      given: { track: (t) => t.expectDeletion(slice({ uid: 'gone' })), slices: [] },
      want: false,
    },
    { name: 'matching slices', given: { track: (t) => t.update(slice()), slices: [slice()] }, want: false },
    { name: 'newer slice in the tracker', given: { track: (t) => t.update(slice({ generation: 2 })), slices: [slice()] }, want: true },
    { name: 'newer slice in the cache', given: { track: (t) => t.update(slice()), slices: [slice({ generation: 2 })] }, want: false },
    { name: 'a given slice is expected to be deleted', given: { track: (t) => t.expectDeletion(slice()), slices: [slice()] }, want: true },
    { name: 'a tracked slice is missing from the cache', given: { track: (t) => t.update(slice()), slices: [] }, want: true },
    { name: 'another Service is not looked at', given: { track: (t) => t.update(slice({ service: 'svc2' })), slices: [] }, want: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const tracker = new EndpointSliceTracker();
      c.given.track?.(tracker);
      assert.equal(tracker.staleSlices('ns1', 'svc1', c.given.slices), c.want);
    });
  }
});

describe('EndpointSliceTracker.handleDeletion (upstream TestEndpointSliceTrackerDeletion)', () => {
  const cases: {
    name: string;
    given: { expectDeletionOf?: EndpointSlice; checked: EndpointSlice };
    want: { has: boolean; shouldSync: boolean; expected: boolean };
  }[] = [
    {
      name: 'deletion expected',
      given: { expectDeletionOf: slice(), checked: slice() },
      want: { has: true, shouldSync: true, expected: true },
    },
    { name: 'no deletion expected: unexpected', given: { checked: slice() }, want: { has: true, shouldSync: false, expected: false } },
    {
      name: 'deletion expected in another namespace, check that one',
      given: { expectDeletionOf: slice({ namespace: 'ns2' }), checked: slice({ namespace: 'ns2' }) },
      want: { has: true, shouldSync: true, expected: false },
    },
    {
      name: 'deletion expected for another Service, check that one',
      given: { expectDeletionOf: slice({ service: 'svc2' }), checked: slice({ service: 'svc2' }) },
      want: { has: true, shouldSync: true, expected: false },
    },
    {
      name: 'deletion expected for another Service, check the original',
      given: { expectDeletionOf: slice({ service: 'svc2' }), checked: slice() },
      want: { has: true, shouldSync: false, expected: false },
    },
    {
      name: 'deletion expected with another generation, check that one',
      given: { expectDeletionOf: slice({ generation: 2 }), checked: slice({ generation: 2 }) },
      want: { has: true, shouldSync: true, expected: true },
    },
    {
      name: 'deletion expected with another generation, check the original',
      given: { expectDeletionOf: slice({ generation: 2 }), checked: slice() },
      want: { has: true, shouldSync: true, expected: true },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const tracker = new EndpointSliceTracker();
      tracker.update(slice());
      if (c.given.expectDeletionOf !== undefined) tracker.expectDeletion(c.given.expectDeletionOf);
      const has = tracker.has(c.given.checked);
      const shouldSync = tracker.shouldSync(c.given.checked);
      const expected = tracker.handleDeletion(slice());
      assert.deepEqual({ has, shouldSync, expected }, c.want);
      assert.equal(tracker.has(slice()), false, 'the original is forgotten after handleDeletion');
    });
  }

  it('an untracked slice counts as an expected deletion', () => {
    assert.equal(new EndpointSliceTracker().handleDeletion(slice()), true);
  });
});

describe('EndpointSliceTracker.deleteService (upstream TestEndpointSliceTrackerDeleteService)', () => {
  const cases: { name: string; given: { namespace: string; name: string }; want: { has: boolean; shouldSync: boolean } }[] = [
    { name: 'the slice’s Service', given: { namespace: 'ns1', name: 'svc1' }, want: { has: false, shouldSync: true } },
    { name: 'same name, other namespace', given: { namespace: 'ns2', name: 'svc1' }, want: { has: true, shouldSync: false } },
    { name: 'same namespace, other name', given: { namespace: 'ns1', name: 'svc2' }, want: { has: true, shouldSync: false } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const tracker = new EndpointSliceTracker();
      tracker.update(slice());
      tracker.deleteService(c.given.namespace, c.given.name);
      assert.deepEqual({ has: tracker.has(slice()), shouldSync: tracker.shouldSync(slice()) }, c.want);
    });
  }
});
