import type { ObjectReference } from '../../api/core/meta.ts';
import { type GoValue, goString, goStruct } from './go-value.ts';

// core/v1 ObjectReference as a Go value (field order and Go types as declared upstream), for the hash order
// (go-spew.ts) and semantic equality (go-value.ts) of the structs that embed it: Endpoints addresses and EndpointSlice
// endpoints both carry one as `targetRef`.

/** v1.ObjectReference; every field a plain string, so absent equals "". */
export const objectReferenceGo = (r: Readonly<ObjectReference>): GoValue =>
  goStruct('v1.ObjectReference', [
    ['Kind', goString(r.kind)],
    ['Namespace', goString(r.namespace)],
    ['Name', goString(r.name)],
    ['UID', goString(r.uid, 'types.UID')],
    ['APIVersion', goString(r.apiVersion)],
    ['ResourceVersion', goString(r.resourceVersion)],
    ['FieldPath', goString(r.fieldPath)],
  ]);
