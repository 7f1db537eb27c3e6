import type { EndpointAddress, EndpointPort, EndpointSubset } from '../../api/core/v1.ts';
import { type GoValue, goInt, goPointer, goSlice, goString, goStruct } from '../shared/go-value.ts';
import { objectReferenceGo } from '../shared/object-reference-go.ts';

// The k8s.io/api core/v1 Endpoints structs as Go values (field order and Go types as declared upstream), so that the
// hash order (go-spew.ts) and semantic equality (go-value.ts) upstream computes can be reproduced from wire objects.
// Fields the structs do not declare (kept by the loose schemas) are invisible here, as they are to a Go decoder.

/** v1.EndpointAddress: nodeName and targetRef are pointers, so absent differs from "" and from {}. */
export const endpointAddressGo = (a: Readonly<EndpointAddress>): GoValue =>
  goStruct('v1.EndpointAddress', [
    ['IP', goString(a.ip)],
    ['Hostname', goString(a.hostname)],
    ['NodeName', goPointer(a.nodeName, 'string', (s) => goString(s))],
    ['TargetRef', goPointer(a.targetRef, 'v1.ObjectReference', objectReferenceGo)],
  ]);

/** v1.EndpointPort. */
export const endpointPortGo = (p: Readonly<EndpointPort>): GoValue =>
  goStruct('v1.EndpointPort', [
    ['Name', goString(p.name)],
    ['Port', goInt(p.port)],
    ['Protocol', goString(p.protocol, 'v1.Protocol')],
    ['AppProtocol', goPointer(p.appProtocol, 'string', (s) => goString(s))],
  ]);

/** v1.EndpointSubset. */
export const endpointSubsetGo = (s: Readonly<EndpointSubset>): GoValue =>
  goStruct('v1.EndpointSubset', [
    ['Addresses', goSlice(s.addresses, 'v1.EndpointAddress', endpointAddressGo)],
    ['NotReadyAddresses', goSlice(s.notReadyAddresses, 'v1.EndpointAddress', endpointAddressGo)],
    ['Ports', goSlice(s.ports, 'v1.EndpointPort', endpointPortGo)],
  ]);

/** []v1.EndpointSubset. */
export const endpointSubsetsGo = (subsets: readonly Readonly<EndpointSubset>[] | undefined): GoValue =>
  goSlice(subsets, 'v1.EndpointSubset', endpointSubsetGo);
