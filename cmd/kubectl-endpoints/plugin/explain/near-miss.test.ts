import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../../../../controllers/runtime/testing/deep-freeze.ts';
import { editDistance, type LabelDifference, nearMisses, similar } from './near-miss.ts';
import { NS, testPod } from './test-fixtures.ts';

const pod = (labels: Record<string, string>, namespace = NS) =>
  testPod(`pod-${Object.values(labels).join('-') || 'none'}`, 1, { metadata: { labels, namespace } });

const cases: {
  name: string;
  given: { selector: Record<string, string>; labels: Record<string, string>; namespace?: string };
  want: LabelDifference | undefined;
}[] = [
  {
    name: 'two-label selector, one value differs',
    given: { selector: { app: 'web', tier: 'frontend' }, labels: { app: 'web', tier: 'backend' } },
    want: { key: 'tier', want: 'frontend', actual: 'backend' },
  },
  {
    name: 'two-label selector, one label missing',
    given: { selector: { app: 'web', tier: 'frontend' }, labels: { app: 'web' } },
    want: { key: 'tier', want: 'frontend' },
  },
  {
    name: 'two-label selector, a key typo is pointed out',
    given: { selector: { app: 'web', tier: 'frontend' }, labels: { app: 'web', teir: 'frontend' } },
    want: { key: 'tier', want: 'frontend', similarKey: { key: 'teir', value: 'frontend' } },
  },
  {
    name: 'near miss: two labels differ is not a near miss',
    given: { selector: { app: 'web', tier: 'frontend' }, labels: { app: 'api', tier: 'backend' } },
    want: undefined,
  },
  {
    name: 'near miss: a matching Pod is not a near miss',
    given: { selector: { app: 'web', tier: 'frontend' }, labels: { app: 'web', tier: 'frontend', x: 'y' } },
    want: undefined,
  },
  {
    name: 'near miss: another namespace is never a near miss',
    given: { selector: { app: 'web', tier: 'frontend' }, labels: { app: 'web' }, namespace: 'other' },
    want: undefined,
  },
  {
    name: 'one-label selector, a value typo',
    given: { selector: { app: 'frontend' }, labels: { app: 'fronted' } },
    want: { key: 'app', want: 'frontend', actual: 'fronted' },
  },
  {
    name: 'one-label selector, a value differing only in case',
    given: { selector: { app: 'Web' }, labels: { app: 'web' } },
    want: { key: 'app', want: 'Web', actual: 'web' },
  },
  {
    name: 'one-label selector, a key typo with the same value',
    given: { selector: { app: 'web' }, labels: { ap: 'web' } },
    want: { key: 'app', want: 'web', similarKey: { key: 'ap', value: 'web' } },
  },
  {
    name: 'near miss: one-label selector, a different app is not a typo',
    given: { selector: { app: 'web' }, labels: { app: 'db' } },
    want: undefined,
  },
  {
    name: 'near miss: one-label selector, a Pod without the label and nothing similar',
    given: { selector: { app: 'web' }, labels: { team: 'shop' } },
    want: undefined,
  },
];

describe('nearMisses: exactly one selector label off, no false positives', () => {
  for (const c of cases) {
    it(c.name, () => {
      const got = nearMisses(deepFreeze(c.given.selector), NS, deepFreeze([pod(c.given.labels, c.given.namespace)]));
      assert.deepEqual(got.nearMisses[0]?.difference, c.want);
      assert.equal(got.total, c.want === undefined ? 0 : 1);
    });
  }

  it('an absent or empty selector has none', () => {
    assert.equal(nearMisses(undefined, NS, [pod({ app: 'web' })]).total, 0);
    assert.equal(nearMisses({}, NS, [pod({ app: 'web' })]).total, 0);
  });

  it('lists at most 50, sorted by name, and counts them all', () => {
    const pods = Array.from({ length: 60 }, (_, i) =>
      testPod(`p-${String(i).padStart(2, '0')}`, i, { metadata: { labels: { app: 'web' } } }),
    );
    const got = nearMisses({ app: 'web', tier: 'frontend' }, NS, deepFreeze(pods));
    assert.equal(got.total, 60);
    assert.equal(got.nearMisses.length, 50);
    assert.equal(got.nearMisses[0]?.pod, 'p-00');
  });
});

describe('similar and editDistance', () => {
  const table: [string, string, boolean][] = [
    ['frontend', 'fronted', true],
    ['frontend', 'frontnde', true],
    ['web', 'db', false],
    ['web', 'web', false],
    ['v1', 'v2', true],
    ['backend', 'frontend', false],
  ];
  for (const [a, b, want] of table) it(`${a} ~ ${b}: ${want}`, () => assert.equal(similar(a, b), want));
  it('counts an adjacent transposition as one edit', () => assert.equal(editDistance('tier', 'teir'), 1));
});
