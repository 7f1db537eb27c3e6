import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoints } from '../../api/core/v1.ts';
import type { EndpointSlice, SlicePort } from '../../api/discovery/v1.ts';
import { ANNOTATION_LAST_CHANGE_TRIGGER_TIME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../../api/labels.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import {
  ANNOTATION_LAST_APPLIED_CONFIGURATION,
  endpointSlicePrefix,
  isValidGenerateNamePrefix,
  newMirroredEndpointSlice,
} from './new-endpoint-slice.ts';

const ports: SlicePort[] = [{ name: 'foo', protocol: 'TCP' }];
const ownerReferences = [{ apiVersion: 'v1', kind: 'Endpoints', name: 'foo', uid: 'uid-1', controller: true, blockOwnerDeletion: true }];
const base = (labels?: Record<string, string>, annotations?: Record<string, string>): Endpoints =>
  deepFreeze({ metadata: { name: 'foo', namespace: 'test', uid: 'uid-1', labels, annotations }, subsets: [{ ports: [{ port: 80 }] }] });
const expected = (labels: Record<string, string>, annotations: Record<string, string>): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: {
    generateName: 'foo-',
    namespace: 'test',
    labels: { ...labels, [LABEL_SERVICE_NAME]: 'foo', [LABEL_MANAGED_BY]: 'endpointslicemirroring-controller.k8s.io' },
    annotations,
    ownerReferences,
  },
  addressType: 'IPv4',
  endpoints: [],
  ports,
});

describe('newMirroredEndpointSlice (upstream TestNewEndpointSlice)', () => {
  const cases: { name: string; given: Endpoints; want: EndpointSlice }[] = [
    { name: 'create slice from endpoints', given: base(), want: expected({}, {}) },
    { name: 'with annotations', given: base(undefined, { foo: 'bar' }), want: expected({}, { foo: 'bar' }) },
    { name: 'with labels', given: base({ foo: 'bar' }), want: expected({ foo: 'bar' }, {}) },
    {
      name: 'with labels and annotations',
      given: base({ foo: 'bar' }, { foo2: 'bar2' }),
      want: expected({ foo: 'bar' }, { foo2: 'bar2' }),
    },
    {
      name: 'with labels and annotations, trigger time not copied',
      given: base({ foo: 'bar' }, { foo2: 'bar2', [ANNOTATION_LAST_CHANGE_TRIGGER_TIME]: 'date' }),
      want: expected({ foo: 'bar' }, { foo2: 'bar2' }),
    },
    {
      name: 'last-applied-configuration not copied, even when empty',
      given: base(undefined, { [ANNOTATION_LAST_APPLIED_CONFIGURATION]: '', other: 'kept' }),
      want: expected({}, { other: 'kept' }),
    },
    {
      name: 'the Endpoints cannot override the mirroring labels',
      given: base({ [LABEL_SERVICE_NAME]: 'evil', [LABEL_MANAGED_BY]: 'someone-else', keep: 'me' }),
      want: expected({ keep: 'me' }, {}),
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(newMirroredEndpointSlice(c.given, ports, 'IPv4'), c.want));

  it('takes a name instead of generateName when replacing a slice', () => {
    const slice = newMirroredEndpointSlice(base(), ports, 'IPv6', 'foo-abcde');
    assert.equal(slice.metadata.name, 'foo-abcde');
    assert.equal(slice.metadata.generateName, undefined);
    assert.equal(slice.addressType, 'IPv6');
  });
});

describe('endpointSlicePrefix', () => {
  const cases: { name: string; given: string; want: string }[] = [
    { name: 'a normal name gets a dash', given: 'foo', want: 'foo-' },
    { name: 'a dotted name gets a dash', given: 'foo.bar', want: 'foo.bar-' },
    { name: 'a 253-char name still fits once the dash is masked', given: 'a'.repeat(253), want: `${'a'.repeat(253)}-` },
    { name: 'an invalid name keeps no dash', given: 'Foo', want: 'Foo' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(endpointSlicePrefix(c.given), c.want));

  it('masks the trailing dash as upstream (drops two characters, appends "a")', () => {
    // "x_-" masks to "xa" (valid) where replacing only the dash would give the invalid "x_a".
    assert.equal(isValidGenerateNamePrefix('x_-'), true);
    assert.equal(isValidGenerateNamePrefix('x_'), false);
    // A lone "-" is not masked.
    assert.equal(isValidGenerateNamePrefix('-'), false);
  });
});
