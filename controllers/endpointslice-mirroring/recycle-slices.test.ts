import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AddressType, EndpointSlice } from '../../api/discovery/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { recycleSlices } from './recycle-slices.ts';

const slice = (name: string, ip: string, addressType: AddressType): EndpointSlice =>
  deepFreeze({ metadata: { name }, addressType, endpoints: [{ addresses: [ip] }] });

// What the table compares: name, address type and addresses of every slice, per action, in order.
const view = (slices: readonly EndpointSlice[]) => slices.map((s) => [s.metadata.name, s.addressType, s.endpoints?.[0]?.addresses[0]]);
interface Actions {
  toCreate?: EndpointSlice[];
  toUpdate?: EndpointSlice[];
  toDelete?: EndpointSlice[];
}

describe('recycleSlices (upstream TestRecycleSlices)', () => {
  const v6a = '2001:db8:1111:3333:4444:5555:6666:7777';
  const v6b = '2001:db8:2222:3333:4444:5555:6666:7777';
  const cases: { name: string; given: Actions; want: Actions }[] = [
    { name: 'Empty slices', given: {}, want: {} },
    {
      name: '1 to create and 1 to delete',
      given: { toCreate: [slice('foo', '10.1.2.3', 'IPv4')], toDelete: [slice('bar', '10.2.3.4', 'IPv4')] },
      want: { toUpdate: [slice('bar', '10.1.2.3', 'IPv4')] },
    },
    {
      name: '1 to create, update, and delete',
      given: {
        toCreate: [slice('foo', '10.1.2.3', 'IPv4')],
        toUpdate: [slice('baz', '10.2.3.4', 'IPv4')],
        toDelete: [slice('bar', '10.3.4.5', 'IPv4')],
      },
      want: { toUpdate: [slice('baz', '10.2.3.4', 'IPv4'), slice('bar', '10.1.2.3', 'IPv4')] },
    },
    {
      name: '2 to create and 1 to delete',
      given: {
        toCreate: [slice('foo1', '10.1.2.3', 'IPv4'), slice('foo2', '10.3.4.5', 'IPv4')],
        toDelete: [slice('bar', '10.2.3.4', 'IPv4')],
      },
      want: { toCreate: [slice('foo2', '10.3.4.5', 'IPv4')], toUpdate: [slice('bar', '10.1.2.3', 'IPv4')] },
    },
    {
      name: '1 to create and 2 to delete',
      given: {
        toCreate: [slice('foo1', '10.1.2.3', 'IPv4')],
        toDelete: [slice('bar1', '10.2.3.4', 'IPv4'), slice('bar2', '10.3.4.5', 'IPv4')],
      },
      want: { toUpdate: [slice('bar1', '10.1.2.3', 'IPv4')], toDelete: [slice('bar2', '10.3.4.5', 'IPv4')] },
    },
    {
      name: '1 to create and 1 to delete for each IP family',
      given: {
        toCreate: [slice('foo-v4', '10.1.2.3', 'IPv4'), slice('foo-v6', v6a, 'IPv6')],
        toDelete: [slice('bar-v4', '10.2.2.3', 'IPv4'), slice('bar-v6', v6b, 'IPv6')],
      },
      want: { toUpdate: [slice('bar-v4', '10.1.2.3', 'IPv4'), slice('bar-v6', v6a, 'IPv6')] },
    },
    {
      name: '1 to create and 1 to delete, wrong IP family',
      given: { toCreate: [slice('foo-v4', '10.1.2.3', 'IPv4')], toDelete: [slice('bar-v6', v6b, 'IPv6')] },
      want: { toCreate: [slice('foo-v4', '10.1.2.3', 'IPv4')], toDelete: [slice('bar-v6', v6b, 'IPv6')] },
    },
    {
      // Upstream's name-based removal would drop the IPv6 create here; the exact create must be the one recycled.
      name: 'a create of another family listed first is not the one recycled',
      given: { toCreate: [slice('', v6a, 'IPv6'), slice('', '10.1.2.3', 'IPv4')], toDelete: [slice('bar-v4', '10.2.2.3', 'IPv4')] },
      want: { toCreate: [slice('', v6a, 'IPv6')], toUpdate: [slice('bar-v4', '10.1.2.3', 'IPv4')] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = recycleSlices({ toCreate: c.given.toCreate ?? [], toUpdate: c.given.toUpdate ?? [], toDelete: c.given.toDelete ?? [] });
      assert.deepEqual(view(got.toCreate), view(c.want.toCreate ?? []));
      assert.deepEqual(view(got.toUpdate), view(c.want.toUpdate ?? []));
      assert.deepEqual(view(got.toDelete), view(c.want.toDelete ?? []));
    });
  }
});
