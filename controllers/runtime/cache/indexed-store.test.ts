import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../testing/deep-freeze.ts';
import { IndexedStore, IndexFuncError } from './indexed-store.ts';
import { NAMESPACE_INDEX } from './store.ts';

interface Obj {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly resourceVersion: string;
    readonly labels?: Record<string, string>;
  };
}

const obj = (ns: string, name: string, rv = '1', labels?: Record<string, string>): Obj =>
  deepFreeze({ metadata: { name, namespace: ns, resourceVersion: rv, ...(labels ? { labels } : {}) } });

const key = (o: Obj) => `${o.metadata.namespace}/${o.metadata.name}`;
// An index with several values per object, to exercise multi-value maintenance.
const byLabelValue = (o: Obj) => Object.entries(o.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`);

const newStore = () =>
  new IndexedStore<Obj>({ keyFunc: key, namespaceFunc: (o) => o.metadata.namespace, indexers: { label: byLabelValue } });

type Op = { upsert: Obj } | { remove: string } | { replace: Obj[] };

function run(ops: readonly Op[]): IndexedStore<Obj> {
  const s = newStore();
  for (const op of ops) {
    if ('upsert' in op) s.upsert(op.upsert);
    else if ('remove' in op) s.remove(op.remove);
    else s.replace(op.replace);
  }
  return s;
}

const names = (objs: readonly Obj[]) => objs.map(key).sort();

describe('IndexedStore', () => {
  const a1 = obj('ns1', 'a', '1', { app: 'web', tier: 'fe' });
  const a2 = obj('ns1', 'a', '2', { app: 'db' });
  const b = obj('ns1', 'b', '1', { app: 'web' });
  const c = obj('ns2', 'c', '1', { app: 'web' });

  const cases: {
    name: string;
    given: readonly Op[];
    want: { keys: string[]; ns1: string[]; ns2: string[]; web: string[]; db: string[]; fe: string[] };
  }[] = [
    { name: 'an empty store has nothing', given: [], want: { keys: [], ns1: [], ns2: [], web: [], db: [], fe: [] } },
    {
      name: 'upserts index every value of an object',
      given: [{ upsert: a1 }, { upsert: b }, { upsert: c }],
      want: {
        keys: ['ns1/a', 'ns1/b', 'ns2/c'],
        ns1: ['ns1/a', 'ns1/b'],
        ns2: ['ns2/c'],
        web: ['ns1/a', 'ns1/b', 'ns2/c'],
        db: [],
        fe: ['ns1/a'],
      },
    },
    {
      name: 'an update moves the object out of its old index values',
      given: [{ upsert: a1 }, { upsert: b }, { upsert: a2 }],
      want: { keys: ['ns1/a', 'ns1/b'], ns1: ['ns1/a', 'ns1/b'], ns2: [], web: ['ns1/b'], db: ['ns1/a'], fe: [] },
    },
    {
      name: 'a remove clears every index',
      given: [{ upsert: a1 }, { upsert: c }, { remove: 'ns1/a' }],
      want: { keys: ['ns2/c'], ns1: [], ns2: ['ns2/c'], web: ['ns2/c'], db: [], fe: [] },
    },
    {
      name: 'removing an unknown key changes nothing',
      given: [{ upsert: b }, { remove: 'ns9/zzz' }],
      want: { keys: ['ns1/b'], ns1: ['ns1/b'], ns2: [], web: ['ns1/b'], db: [], fe: [] },
    },
    {
      name: 'a replace rebuilds the content and the indexes',
      given: [{ upsert: a1 }, { upsert: b }, { replace: [a2, c] }],
      want: { keys: ['ns1/a', 'ns2/c'], ns1: ['ns1/a'], ns2: ['ns2/c'], web: ['ns2/c'], db: ['ns1/a'], fe: [] },
    },
    {
      name: 'a replace with a duplicate key keeps the later object only',
      given: [{ replace: [a1, a2] }],
      want: { keys: ['ns1/a'], ns1: ['ns1/a'], ns2: [], web: [], db: ['ns1/a'], fe: [] },
    },
  ];
  for (const { name, given, want } of cases) {
    it(name, () => {
      const s = run(given);
      assert.deepEqual([...s.keys()].sort(), want.keys);
      assert.equal(s.size, want.keys.length);
      assert.deepEqual(names(s.list()), want.keys);
      assert.deepEqual(names(s.byIndex(NAMESPACE_INDEX, 'ns1')), want.ns1);
      assert.deepEqual(names(s.byIndex(NAMESPACE_INDEX, 'ns2')), want.ns2);
      assert.deepEqual(names(s.byIndex('label', 'app=web')), want.web);
      assert.deepEqual(names(s.byIndex('label', 'app=db')), want.db);
      assert.deepEqual(names(s.byIndex('label', 'tier=fe')), want.fe);
    });
  }

  it('replace reports what was added, updated and deleted', () => {
    const s = run([{ upsert: a1 }, { upsert: b }]);
    const diff = s.replace([a2, c]);
    assert.deepEqual(names(diff.added), ['ns2/c']);
    assert.deepEqual(diff.updated, [{ oldObj: a1, newObj: a2 }]);
    assert.deepEqual(names(diff.deleted), ['ns1/b']);
    assert.deepEqual(diff.rejected, []);
  });

  it('upsert returns the previous object and remove the removed one', () => {
    const s = newStore();
    assert.equal(s.upsert(a1), undefined);
    assert.equal(s.upsert(a2), a1);
    assert.equal(s.remove('ns1/a'), a2);
    assert.equal(s.remove('ns1/a'), undefined);
  });

  it('returns the stored instances, never copies', () => {
    const s = run([{ upsert: a1 }]);
    assert.equal(s.get('ns1/a'), a1);
    assert.equal(s.byIndex('label', 'app=web')[0], a1);
  });

  it('a list taken before a write is not changed by it', () => {
    const s = run([{ upsert: a1 }]);
    const before = s.list();
    s.upsert(b);
    assert.deepEqual(names(before), ['ns1/a']);
    assert.deepEqual(names(s.list()), ['ns1/a', 'ns1/b']);
  });

  it('throws for an index that is not registered', () => {
    assert.throws(() => newStore().byIndex('nope', 'x'), /not registered/);
  });

  it('refuses an extra index named like the namespace index', () => {
    assert.throws(
      () => new IndexedStore<Obj>({ keyFunc: key, namespaceFunc: () => '', indexers: { [NAMESPACE_INDEX]: () => [] } }),
      /registered twice/,
    );
  });

  it('leaves the store unchanged when an index function throws on upsert', () => {
    const s = new IndexedStore<Obj>({
      keyFunc: key,
      namespaceFunc: (o) => o.metadata.namespace,
      indexers: {
        picky: (o) => {
          if (o.metadata.resourceVersion === '2') throw new Error('boom');
          return ['x'];
        },
      },
    });
    s.upsert(a1);
    assert.throws(() => s.upsert(a2), IndexFuncError);
    assert.equal(s.get('ns1/a'), a1);
    assert.deepEqual(names(s.byIndex('picky', 'x')), ['ns1/a']);
  });

  it('replace leaves out objects whose index function throws and reports them', () => {
    const s = new IndexedStore<Obj>({
      keyFunc: key,
      namespaceFunc: (o) => o.metadata.namespace,
      indexers: {
        picky: (o) => {
          if (o.metadata.name === 'b') throw new Error('boom');
          return [];
        },
      },
    });
    const diff = s.replace([a1, b]);
    assert.deepEqual(s.keys(), ['ns1/a']);
    assert.deepEqual(
      diff.rejected.map((e) => e.key),
      ['ns1/b'],
    );
  });

  it('drops empty index buckets so churned values do not accumulate', () => {
    const s = run([{ upsert: a1 }, { remove: 'ns1/a' }]);
    assert.deepEqual(s.byIndex(NAMESPACE_INDEX, 'ns1'), []);
    assert.deepEqual(s.byIndex('label', 'tier=fe'), []);
  });

  it('ingests 20,000 objects in linear time', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => obj(`ns${i % 100}`, `p${i}`, '1', { app: `a${i % 10}` }));
    const s = newStore();
    const started = performance.now();
    s.replace(many);
    for (const o of many.slice(0, 5000)) s.upsert(o);
    const elapsed = performance.now() - started;
    assert.equal(s.size, 20_000);
    assert.equal(s.byIndex(NAMESPACE_INDEX, 'ns7').length, 200);
    // A quadratic ingest (client-node's findIndex per item) takes many seconds at this size.
    assert.ok(elapsed < 2000, `ingest took ${elapsed} ms`);
  });
});
