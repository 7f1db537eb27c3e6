import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fnv128aHex } from './fnv128a.ts';
import { deepHashObject, fnv128aHexFast, spewForHash } from './go-spew.ts';
import { type GoValue, goBool, goInt, goPointer, goSlice, goString, goStruct } from './go-value.ts';

// Golden dumps and digests printed by Go itself: k8s.io/utils/dump.ForHash (go-spew
// v1.1.2-0.20180830191138-d8f796af33cc) and hash/fnv New128a, on the values described in each `given`.

const str = (s: string) => goString(s);
const endpointPort = (name: string, port: number, protocol: string, appProtocol?: string): GoValue =>
  goStruct('v1.EndpointPort', [
    ['Name', goString(name)],
    ['Port', goInt(port)],
    ['Protocol', goString(protocol, 'v1.Protocol')],
    ['AppProtocol', goPointer(appProtocol, 'string', str)],
  ]);
const objectReference = (kind: string, namespace: string, name: string, uid: string): GoValue =>
  goStruct('v1.ObjectReference', [
    ['Kind', goString(kind)],
    ['Namespace', goString(namespace)],
    ['Name', goString(name)],
    ['UID', goString(uid, 'types.UID')],
    ['APIVersion', goString('')],
    ['ResourceVersion', goString('')],
    ['FieldPath', goString('')],
  ]);
const endpointAddress = (ip: string, nodeName: string | undefined, ref: GoValue | undefined): GoValue =>
  goStruct('v1.EndpointAddress', [
    ['IP', goString(ip)],
    ['Hostname', goString('')],
    ['NodeName', goPointer(nodeName, 'string', str)],
    ['TargetRef', goPointer(ref, 'v1.ObjectReference', (r) => r)],
  ]);

const cases: { name: string; given: GoValue; want: { dump: string; hash: string } }[] = [
  {
    name: 'struct with a nil pointer field',
    given: endpointPort('http', 80, 'TCP'),
    want: {
      dump: '(v1.EndpointPort){Name:(string)http Port:(int32)80 Protocol:(v1.Protocol)TCP AppProtocol:(*string)<nil>}',
      hash: '754b003f50f133a539c60d18cfb30a55',
    },
  },
  {
    name: 'struct with a set pointer field',
    given: endpointPort('http', 80, 'TCP', 'http'),
    want: {
      dump: '(v1.EndpointPort){Name:(string)http Port:(int32)80 Protocol:(v1.Protocol)TCP AppProtocol:(*string)http}',
      hash: 'd076f4fe2056195b8bf843571ce8e176',
    },
  },
  {
    name: 'nested slices of structs: elements print no type, pointers to "" print nothing after the type',
    given: goStruct('v1.EndpointSubset', [
      ['Addresses', goSlice([0], 'v1.EndpointAddress', () => endpointAddress('1.2.3.4', '', objectReference('Pod', 'ns', 'p', 'u')))],
      ['NotReadyAddresses', goSlice(undefined, 'v1.EndpointAddress', () => str(''))],
      ['Ports', goSlice([0], 'v1.EndpointPort', () => endpointPort('http', 80, 'TCP'))],
    ]),
    want: {
      dump:
        '(v1.EndpointSubset){Addresses:([]v1.EndpointAddress)[{IP:(string)1.2.3.4 Hostname:(string) NodeName:(*string) ' +
        'TargetRef:(*v1.ObjectReference){Kind:(string)Pod Namespace:(string)ns Name:(string)p UID:(types.UID)u ' +
        'APIVersion:(string) ResourceVersion:(string) FieldPath:(string)}}] NotReadyAddresses:([]v1.EndpointAddress)<nil> ' +
        'Ports:([]v1.EndpointPort)[{Name:(string)http Port:(int32)80 Protocol:(v1.Protocol)TCP AppProtocol:(*string)<nil>}]}',
      hash: '979601dee823450b380dc994f620f8a0',
    },
  },
  {
    name: 'nil slice and empty slice differ; nil pointers inside a slice element keep their type',
    given: goStruct('v1.EndpointSubset', [
      ['Addresses', goSlice([0], 'v1.EndpointAddress', () => endpointAddress('1.2.3.4', undefined, undefined))],
      ['NotReadyAddresses', goSlice([], 'v1.EndpointAddress', () => str(''))],
      ['Ports', goSlice(undefined, 'v1.EndpointPort', () => str(''))],
    ]),
    want: {
      dump:
        '(v1.EndpointSubset){Addresses:([]v1.EndpointAddress)[{IP:(string)1.2.3.4 Hostname:(string) NodeName:(*string)<nil> ' +
        'TargetRef:(*v1.ObjectReference)<nil>}] NotReadyAddresses:([]v1.EndpointAddress)[] Ports:([]v1.EndpointPort)<nil>}',
      hash: '64e5ac01ee0d08c047dde09097f591ce',
    },
  },
  {
    name: 'pointers to bool',
    given: goStruct('v1.EndpointConditions', [
      ['Ready', goPointer(true, 'bool', goBool)],
      ['Serving', goPointer(undefined, 'bool', goBool)],
      ['Terminating', goPointer(undefined, 'bool', goBool)],
    ]),
    want: {
      dump: '(v1.EndpointConditions){Ready:(*bool)true Serving:(*bool)<nil> Terminating:(*bool)<nil>}',
      hash: 'c0afe0fb89526670e2e464e19f50fe2c',
    },
  },
  {
    name: "spew's ignoreNextType residue: after a nil pointer in a slice the next field prints no type",
    given: goStruct('main.T', [
      ['P', goSlice(['x', undefined], '*string', (s) => goPointer(s, 'string', str))],
      ['S', goString('after')],
      ['B', goBool(true)],
    ]),
    want: { dump: '(main.T){P:([]*string)[<*>x <nil>] S:after B:(bool)true}', hash: '57f5a97f20672047f9f12d60416678ea' },
  },
  {
    name: 'top-level slice of strings',
    given: goSlice(['a', 'b'], 'string', str),
    want: { dump: '([]string)[a b]', hash: '90d3e2b13eb1a19da5dd36320670ac42' },
  },
];

describe('spewForHash and deepHashObject match Go', () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(spewForHash(c.given), c.want.dump);
      assert.equal(deepHashObject(c.given), c.want.hash);
    });
  }
});

describe('fnv128aHexFast equals fnv128aHex', () => {
  const samples = [
    '',
    'a',
    'foobar',
    'ünïcødé ✓ 𝄞',
    'x'.repeat(4096),
    Array.from({ length: 2000 }, (_, i) => String.fromCharCode(i % 1200)).join(''),
  ];
  for (const [i, s] of samples.entries()) it(`sample ${i} (${s.length} chars)`, () => assert.equal(fnv128aHexFast(s), fnv128aHex(s)));
});
