import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_SERVICE_NAME } from '../../api/labels.ts';
import { deepFreeze } from '../shared/deep-freeze.ts';
import { EndpointSliceTracker } from './tracker.ts';

const slice = (over: { namespace?: string; uid?: string; generation?: number; service?: string } = {}): EndpointSlice =>
  deepFreeze({
    metadata: {
      name: 'example-1',
      namespace: over.namespace ?? 'ns1',
      uid: over.uid ?? 'original',
      generation: over.generation ?? 1,
      labels: { [LABEL_SERVICE_NAME]: over.service ?? 'svc1' },
    },
    addressType: 'IPv4',
  });
const epSlice1 = slice();
const differentNS = slice({ namespace: 'ns2', uid: 'diff-ns' });
const differentService = slice({ service: 'svc2', uid: 'diff-svc' });
const newerGen = slice({ generation: 2 });

describe('EndpointSliceTracker update (upstream TestEndpointSliceTrackerUpdate)', () => {
  const cases: { name: string; given: EndpointSlice; want: { has: boolean; shouldSync: boolean } }[] = [
    { name: 'same slice', given: epSlice1, want: { has: true, shouldSync: false } },
    { name: 'different namespace', given: differentNS, want: { has: false, shouldSync: true } },
    { name: 'different service', given: differentService, want: { has: false, shouldSync: true } },
    { name: 'newer generation', given: newerGen, want: { has: true, shouldSync: true } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const t = new EndpointSliceTracker();
      t.update(epSlice1);
      assert.deepEqual({ has: t.has(c.given), shouldSync: t.shouldSync(c.given) }, c.want);
      // The tracked generation of epSlice1 is still 1: a slice at generation 1 is not newer.
      assert.equal(t.shouldSync(epSlice1), false);
    });
  }
});

describe('EndpointSliceTracker staleSlices (upstream TestEndpointSliceTrackerStaleSlices)', () => {
  const cases: { name: string; given: { setup: (t: EndpointSliceTracker) => void; slices: EndpointSlice[] }; want: boolean }[] = [
    { name: 'empty tracker', given: { setup: () => {}, slices: [] }, want: false },
    {
      name: 'empty slices (service tracked, nothing in it)',
      given: {
        setup: (t) => {
          t.update(epSlice1);
          t.handleDeletion(epSlice1);
        },
        slices: [],
      },
      want: false,
    },
    { name: 'matching slices', given: { setup: (t) => t.update(epSlice1), slices: [epSlice1] }, want: false },
    { name: 'newer slice in tracker', given: { setup: (t) => t.update(newerGen), slices: [epSlice1] }, want: true },
    { name: 'newer slice in params', given: { setup: (t) => t.update(epSlice1), slices: [newerGen] }, want: false },
    {
      name: 'slice in params is expected to be deleted',
      given: { setup: (t) => t.expectDeletion(epSlice1), slices: [epSlice1] },
      want: true,
    },
    { name: 'slice in tracker but not in params', given: { setup: (t) => t.update(epSlice1), slices: [] }, want: true },
    { name: 'deleted slice gone from params is fine', given: { setup: (t) => t.expectDeletion(epSlice1), slices: [] }, want: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const t = new EndpointSliceTracker();
      c.given.setup(t);
      assert.equal(t.staleSlices('ns1', 'svc1', c.given.slices), c.want);
    });
  }
});

describe('EndpointSliceTracker deletion (upstream TestEndpointSliceTrackerDeletion)', () => {
  const cases: {
    name: string;
    given: { expectDeletion: EndpointSlice; check: EndpointSlice };
    want: { has: boolean; shouldSync: boolean; handleDeletion: boolean };
  }[] = [
    {
      name: 'same slice',
      given: { expectDeletion: epSlice1, check: epSlice1 },
      want: { has: true, shouldSync: true, handleDeletion: true },
    },
    {
      name: 'different namespace',
      given: { expectDeletion: differentNS, check: differentNS },
      want: { has: true, shouldSync: true, handleDeletion: false },
    },
    {
      name: 'different namespace, check original ep slice',
      given: { expectDeletion: differentNS, check: epSlice1 },
      want: { has: true, shouldSync: false, handleDeletion: false },
    },
    {
      name: 'different service',
      given: { expectDeletion: differentService, check: differentService },
      want: { has: true, shouldSync: true, handleDeletion: false },
    },
    {
      name: 'expectDelete different service, check original ep slice, delete original',
      given: { expectDeletion: differentService, check: epSlice1 },
      want: { has: true, shouldSync: false, handleDeletion: false },
    },
    {
      name: 'different generation',
      given: { expectDeletion: newerGen, check: newerGen },
      want: { has: true, shouldSync: true, handleDeletion: true },
    },
    {
      name: 'expectDelete different generation, check original ep slice, delete original',
      given: { expectDeletion: newerGen, check: epSlice1 },
      want: { has: true, shouldSync: true, handleDeletion: true },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const t = new EndpointSliceTracker();
      t.update(epSlice1);
      t.expectDeletion(c.given.expectDeletion);
      assert.equal(t.has(c.given.check), c.want.has, 'has');
      assert.equal(t.shouldSync(c.given.check), c.want.shouldSync, 'shouldSync');
      assert.equal(t.handleDeletion(epSlice1), c.want.handleDeletion, 'handleDeletion');
      assert.equal(t.has(epSlice1), false, 'forgotten after handleDeletion');
    });
  }

  it('an untracked slice counts as an expected deletion', () => {
    assert.equal(new EndpointSliceTracker().handleDeletion(epSlice1), true);
  });
});

describe('EndpointSliceTracker deleteService (upstream TestEndpointSliceTrackerDeleteService)', () => {
  const cases: { name: string; given: [string, string]; want: { has: boolean; shouldSync: boolean } }[] = [
    { name: 'same service', given: ['ns1', 'svc1'], want: { has: false, shouldSync: true } },
    { name: 'different namespace', given: ['ns2', 'svc1'], want: { has: true, shouldSync: false } },
    { name: 'different service', given: ['ns1', 'svc2'], want: { has: true, shouldSync: false } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const t = new EndpointSliceTracker();
      t.update(epSlice1);
      t.deleteService(...c.given);
      assert.deepEqual({ has: t.has(epSlice1), shouldSync: t.shouldSync(epSlice1) }, c.want);
    });
  }
});
