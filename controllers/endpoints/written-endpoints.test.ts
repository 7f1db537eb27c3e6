import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoints } from '../../api/core/v1.ts';
import { testEndpoints } from './test-fixtures.ts';
import { WrittenEndpoints } from './written-endpoints.ts';

const at = (resourceVersion: string): Endpoints => testEndpoints({ metadata: { resourceVersion } });
const key = 'ns/foo';

describe('WrittenEndpoints', () => {
  // Each case: our writes as [replaced, returned] pairs, then the version the cache shows.
  const cases: { name: string; writes: [string, string][]; cached: string | undefined; want: string | undefined; kept: boolean }[] = [
    { name: 'nothing written: the cache', writes: [], cached: '1', want: '1', kept: false },
    { name: 'the cache shows the version we replaced: our write', writes: [['1', '2']], cached: '1', want: '2', kept: true },
    { name: 'the cache shows our write: the cache, copy dropped', writes: [['1', '2']], cached: '2', want: '2', kept: false },
    { name: 'the cache shows a newer write by someone else: the cache', writes: [['1', '2']], cached: '7', want: '7', kept: false },
    { name: 'the Endpoints left the cache: nothing', writes: [['1', '2']], cached: undefined, want: undefined, kept: false },
    {
      name: 'two writes before any echo, the cache at the first replaced: the newest write',
      writes: [
        ['1', '2'],
        ['2', '3'],
      ],
      cached: '1',
      want: '3',
      kept: true,
    },
    {
      name: 'two writes, the cache shows the first: the newest write',
      writes: [
        ['1', '2'],
        ['2', '3'],
      ],
      cached: '2',
      want: '3',
      kept: true,
    },
    {
      name: 'two writes, the cache shows the second: the cache',
      writes: [
        ['1', '2'],
        ['2', '3'],
      ],
      cached: '3',
      want: '3',
      kept: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const written = new WrittenEndpoints();
      for (const [replaced, returned] of c.writes) written.remember(key, replaced, at(returned));
      const got = written.current(key, c.cached === undefined ? undefined : at(c.cached));
      assert.equal(got?.metadata.resourceVersion, c.want);
      assert.equal(written.size, c.kept ? 1 : 0);
    });
  }

  it('observed() keeps the copy only while the cache shows a version we replaced', () => {
    const written = new WrittenEndpoints();
    written.remember(key, '1', at('2'));
    written.remember(key, '2', at('3'));
    written.observed(key, '1');
    written.observed(key, '2');
    written.observed('ns/other', '9');
    assert.equal(written.size, 1);
    written.observed(key, '3');
    assert.equal(written.size, 0);
  });

  it('forget() drops the copy', () => {
    const written = new WrittenEndpoints();
    written.remember(key, '1', at('2'));
    written.forget(key);
    assert.equal(written.current(key, at('1'))?.metadata.resourceVersion, '1');
  });
});
