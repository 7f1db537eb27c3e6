import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointSlice, SliceEndpoint } from '../../api/discovery/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import {
  ANNOTATION_TOPOLOGY_AWARE_HINTS as HINTS,
  ANNOTATION_TOPOLOGY_MODE as MODE,
  hintsEnabled,
  reconcileTrafficDistributionHints,
  removeHints,
  validTrafficDistribution,
} from './hints.ts';
import { makeSlice } from './test-fixtures.ts';

describe('hintsEnabled (upstream Test_hintsEnabled)', () => {
  const cases: { name: string; given: Record<string, string> | undefined; want: boolean }[] = [
    { name: 'no annotations', given: undefined, want: false },
    { name: 'other annotations', given: { 'topology-hints': 'enabled' }, want: false },
    { name: 'hints annotation = enabled', given: { [HINTS]: 'enabled' }, want: false },
    { name: 'hints annotation = aUto', given: { [HINTS]: 'aUto' }, want: false },
    { name: 'hints annotation = auto', given: { [HINTS]: 'auto' }, want: true },
    { name: 'hints annotation = Auto', given: { [HINTS]: 'Auto' }, want: true },
    { name: 'hints annotation = disabled', given: { [HINTS]: 'disabled' }, want: false },
    { name: 'mode annotation = enabled', given: { [MODE]: 'enabled' }, want: false },
    { name: 'mode annotation = aUto', given: { [MODE]: 'aUto' }, want: false },
    { name: 'mode annotation = auto', given: { [MODE]: 'auto' }, want: true },
    { name: 'mode annotation = Auto', given: { [MODE]: 'Auto' }, want: true },
    { name: 'mode annotation = disabled', given: { [MODE]: 'disabled' }, want: false },
    { name: 'mode disabled, hints auto: the deprecated key wins', given: { [MODE]: 'disabled', [HINTS]: 'auto' }, want: true },
    { name: 'mode auto, hints disabled: the deprecated key wins', given: { [MODE]: 'auto', [HINTS]: 'disabled' }, want: false },
    { name: 'hints annotation empty still wins over mode auto', given: { [MODE]: 'auto', [HINTS]: '' }, want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(hintsEnabled(c.given === undefined ? undefined : deepFreeze(c.given)), c.want));
});

describe('validTrafficDistribution', () => {
  const cases: { name: string; given: [string | undefined, boolean]; want: boolean }[] = [
    { name: 'unset', given: [undefined, true], want: false },
    { name: 'PreferClose', given: ['PreferClose', true], want: true },
    { name: 'PreferClose without the gate', given: ['PreferClose', false], want: true },
    { name: 'PreferSameZone', given: ['PreferSameZone', true], want: true },
    { name: 'PreferSameNode', given: ['PreferSameNode', true], want: true },
    { name: 'PreferSameZone with the gate off', given: ['PreferSameZone', false], want: false },
    { name: 'unknown value', given: ['Random', true], want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(validTrafficDistribution(...c.given), c.want));
});

const ep = (ip: string, opts: { ready?: boolean; zone?: string; node?: string; hints?: SliceEndpoint['hints'] } = {}): SliceEndpoint => ({
  addresses: [ip],
  conditions: { ready: opts.ready ?? true },
  ...(opts.zone === undefined ? {} : { zone: opts.zone }),
  ...(opts.node === undefined ? {} : { nodeName: opts.node }),
  ...(opts.hints === undefined ? {} : { hints: opts.hints }),
});
const zoneHint = (z: string) => ({ forZones: [{ name: z }] });
const newSlice = (endpoints: SliceEndpoint[]): EndpointSlice => {
  const s = makeSlice('', endpoints);
  delete s.metadata.name;
  return s;
};
const hintsOf = (slices: readonly EndpointSlice[]) => slices.map((s) => (s.endpoints ?? []).map((e) => e.hints ?? null));

describe('reconcileTrafficDistributionHints (upstream TestReconcileHints)', () => {
  type Given = { td: string | undefined; create: EndpointSlice[]; update: EndpointSlice[]; unchanged: EndpointSlice[] };
  type Want = {
    create: (SliceEndpoint['hints'] | null)[][];
    update: (SliceEndpoint['hints'] | null)[][];
    updateNames: (string | undefined)[];
  };
  const cases: { name: string; given: Given; want: Want }[] = [
    {
      name: 'PreferClose sets zone hints on ready endpoints of created and updated slices',
      given: {
        td: 'PreferClose',
        create: [newSlice([ep('10.0.0.1', { zone: 'zone-a' }), ep('10.0.0.2', { zone: 'zone-b' })])],
        update: [makeSlice('s1', [ep('10.0.0.3', { zone: 'zone-a' }), ep('10.0.0.4', { zone: 'zone-c' })])],
        unchanged: [makeSlice('s2', [ep('10.0.0.5', { zone: 'zone-a', hints: zoneHint('zone-a') })])],
      },
      want: { create: [[zoneHint('zone-a'), zoneHint('zone-b')]], update: [[zoneHint('zone-a'), zoneHint('zone-c')]], updateNames: ['s1'] },
    },
    {
      name: 'PreferSameZone behaves as PreferClose',
      given: { td: 'PreferSameZone', create: [newSlice([ep('10.0.0.1', { zone: 'zone-a', node: 'n1' })])], update: [], unchanged: [] },
      want: { create: [[zoneHint('zone-a')]], update: [], updateNames: [] },
    },
    {
      name: 'PreferSameNode sets zone and node hints',
      given: { td: 'PreferSameNode', create: [newSlice([ep('10.0.0.1', { zone: 'zone-a', node: 'n1' })])], update: [], unchanged: [] },
      want: { create: [[{ forZones: [{ name: 'zone-a' }], forNodes: [{ name: 'n1' }] }]], update: [], updateNames: [] },
    },
    {
      name: 'incorrect hints on an unchanged slice are corrected through an update',
      given: {
        td: 'PreferClose',
        create: [],
        update: [],
        unchanged: [
          makeSlice('s1', [ep('10.0.0.1', { zone: 'zone-a', hints: zoneHint('zone-b') })]),
          makeSlice('s2', [ep('10.0.0.2', { zone: 'zone-a', hints: zoneHint('zone-a') })]),
        ],
      },
      want: { create: [], update: [[zoneHint('zone-a')]], updateNames: ['s1'] },
    },
    {
      name: 'no zones, PreferClose: no hints',
      given: {
        td: 'PreferClose',
        create: [newSlice([ep('10.0.0.1', { node: 'n1' })])],
        update: [],
        unchanged: [makeSlice('s1', [ep('10.0.0.2')])],
      },
      want: { create: [[null]], update: [], updateNames: [] },
    },
    {
      name: 'no zones, PreferSameNode: node hints only',
      given: { td: 'PreferSameNode', create: [newSlice([ep('10.0.0.1', { node: 'n1' })])], update: [], unchanged: [] },
      want: { create: [[{ forNodes: [{ name: 'n1' }] }]], update: [], updateNames: [] },
    },
    {
      name: 'unready endpoints neither trigger updates nor lose their hints',
      given: {
        td: 'PreferClose',
        create: [newSlice([ep('10.0.0.1', { ready: false, zone: 'zone-a', hints: zoneHint('zone-b') })])],
        update: [],
        unchanged: [makeSlice('s1', [ep('10.0.0.2', { ready: false, zone: 'zone-a' })])],
      },
      want: { create: [[zoneHint('zone-b')]], update: [], updateNames: [] },
    },
    {
      name: 'an unrecognised trafficDistribution removes hints',
      given: {
        td: 'Random',
        create: [newSlice([ep('10.0.0.1', { zone: 'zone-a', hints: zoneHint('zone-a') })])],
        update: [],
        unchanged: [
          makeSlice('s1', [ep('10.0.0.2', { zone: 'zone-a', hints: zoneHint('zone-a') })]),
          makeSlice('s2', [ep('10.0.0.3', { zone: 'zone-a' })]),
        ],
      },
      want: { create: [[null]], update: [[null]], updateNames: ['s1'] },
    },
    {
      name: 'an unset trafficDistribution removes hints',
      given: {
        td: undefined,
        create: [],
        update: [makeSlice('s0', [ep('10.0.0.1', { zone: 'zone-a', hints: zoneHint('zone-a') })])],
        unchanged: [makeSlice('s1', [ep('10.0.0.2', { ready: false, hints: zoneHint('zone-a') })])],
      },
      want: { create: [], update: [[null], [null]], updateNames: ['s0', 's1'] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const g = deepFreeze(c.given);
      const got = reconcileTrafficDistributionHints(g.td, g.create, g.update, g.unchanged);
      assert.deepEqual(
        { create: hintsOf(got.toCreate), update: hintsOf(got.toUpdate), updateNames: got.toUpdate.map((s) => s.metadata.name) },
        c.want,
      );
    });
  }

  it('copies slices instead of modifying them (upstream TestReconcileHints_doesNotMutateUnchangedSlices)', () => {
    const unchanged = deepFreeze([makeSlice('s1', [ep('10.0.0.1', { zone: 'zone-a' })])]);
    const before = JSON.stringify(unchanged);
    const got = reconcileTrafficDistributionHints('PreferClose', [], [], unchanged);
    assert.equal(JSON.stringify(unchanged), before);
    assert.notEqual(got.toUpdate[0], unchanged[0]);
  });
});

describe('removeHints', () => {
  it('strips hints from slices being written and turns hinted unchanged slices into updates', () => {
    const given = deepFreeze({
      create: [newSlice([ep('10.0.0.1', { hints: zoneHint('a') })])],
      update: [makeSlice('s0', [ep('10.0.0.2', { hints: zoneHint('a') })])],
      unchanged: [makeSlice('s1', [ep('10.0.0.3', { ready: false, hints: zoneHint('a') })]), makeSlice('s2', [ep('10.0.0.4')])],
    });
    const got = removeHints(given.create, given.update, given.unchanged);
    assert.deepEqual(
      { create: hintsOf(got.toCreate), update: hintsOf(got.toUpdate), names: got.toUpdate.map((s) => s.metadata.name) },
      { create: [[null]], update: [[null], [null]], names: ['s0', 's1'] },
    );
  });
});
