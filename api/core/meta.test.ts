import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectReferenceOf } from './meta.ts';

describe('objectReferenceOf', () => {
  it('copies namespace, name, uid and resourceVersion under the given apiVersion and kind', () => {
    const service = { metadata: { namespace: 'ns', name: 'web', uid: 'u1', resourceVersion: '7', labels: { a: 'b' } } };
    assert.deepEqual(objectReferenceOf(service, 'v1', 'Service'), {
      apiVersion: 'v1',
      kind: 'Service',
      namespace: 'ns',
      name: 'web',
      uid: 'u1',
      resourceVersion: '7',
    });
  });

  it('leaves unset fields out (no undefined keys on the wire) and gives a cluster-scoped object namespace ""', () => {
    const ref = objectReferenceOf({ metadata: { name: 'node-1' } }, 'v1', 'Node');
    assert.deepEqual(ref, { apiVersion: 'v1', kind: 'Node', namespace: '', name: 'node-1' });
    assert.deepEqual(Object.keys(ref).sort(), ['apiVersion', 'kind', 'name', 'namespace']);
  });
});
