import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type GoValue, goInt, goPointer, goSlice, goString, goStruct, semanticDeepEqual } from './go-value.ts';

const ref = (rv: string | undefined) =>
  goStruct('v1.ObjectReference', [
    ['Name', goString('p')],
    ['ResourceVersion', goString(rv)],
  ]);
const ignoreRV = (type: string, field: string) => type === 'v1.ObjectReference' && field === 'ResourceVersion';

describe('semanticDeepEqual', () => {
  const cases: { name: string; given: [GoValue, GoValue, ((t: string, f: string) => boolean)?]; want: boolean }[] = [
    { name: 'nil and empty slices are equal', given: [goSlice(undefined, 'int32', goInt), goSlice([], 'int32', goInt)], want: true },
    { name: 'slices of different length differ', given: [goSlice([1], 'int32', goInt), goSlice([], 'int32', goInt)], want: false },
    {
      name: 'nil pointer differs from pointer to ""',
      given: [goPointer(undefined, 'string', goString), goPointer('', 'string', goString)],
      want: false,
    },
    { name: 'absent string equals ""', given: [goString(undefined), goString('')], want: true },
    { name: 'struct fields compared in order', given: [ref('1'), ref('2')], want: false },
    { name: 'an ignored field does not count', given: [ref('1'), ref('2'), ignoreRV], want: true },
    {
      name: 'other fields still count when one is ignored',
      given: [
        ref('1'),
        goStruct('v1.ObjectReference', [
          ['Name', goString('q')],
          ['ResourceVersion', goString('1')],
        ]),
        ignoreRV,
      ],
      want: false,
    },
    { name: 'different struct types differ', given: [goStruct('a', []), goStruct('b', [])], want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(semanticDeepEqual(...c.given), c.want));
});
