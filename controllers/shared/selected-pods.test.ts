import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectKey } from '../../api/core/meta.ts';
import type { Pod } from '../../api/core/v1.ts';
import { IndexedStore } from '../runtime/cache/indexed-store.ts';
import { NAMESPACE_INDEX, type Store } from '../runtime/cache/store.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { MemoryStore } from '../runtime/testing/memory-store.ts';
import { selectorMatches } from './pod-endpoints.ts';
import { SelectedPods } from './selected-pods.ts';

// SelectedPods must answer exactly what listing the cache answers (namespace index, then selector, same order) after
// any sequence of cache writes and Service changes. Each case applies writes between two selections of one Service and
// compares with the listing; a selection that missed an invalidation returns the Pods of the first selection instead.

type Selector = Record<string, string> | undefined;

function pod(name: string, labels: Record<string, string>, namespace = 'ns', version = 1): Pod {
  return deepFreeze({
    metadata: { name, namespace, uid: `uid-${namespace}-${name}`, resourceVersion: String(version), labels },
    spec: { containers: [] },
    status: {},
  });
}

const newStore = () => new IndexedStore<Pod>({ keyFunc: objectKey, namespaceFunc: (p) => p.metadata.namespace });
const listing = (store: Store<Pod>, namespace: string, selector: Selector) =>
  store.byIndex(NAMESPACE_INDEX, namespace).filter((p) => selectorMatches(selector, p.metadata.labels));
const names = (pods: readonly Pod[]) => pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}@${p.metadata.resourceVersion}`);

const app = { app: 'web' };
const initial = [pod('a', app), pod('b', app), pod('c', { app: 'db' }), pod('a', app, 'other')];

describe('SelectedPods: invalidation', () => {
  const cases: {
    name: string;
    change: (store: IndexedStore<Pod>) => void;
    /** The selector of the second selection, when the Service changed it. */
    selector?: Selector;
    namespace?: string;
    want: string[];
  }[] = [
    {
      name: 'a Pod joins by a label change',
      change: (s) => s.upsert(pod('c', app, 'ns', 2)),
      want: ['ns/a@1', 'ns/b@1', 'ns/c@2'],
    },
    { name: 'a Pod leaves by a label change', change: (s) => s.upsert(pod('a', { app: 'db' }, 'ns', 2)), want: ['ns/b@1'] },
    {
      name: 'an updated Pod is the new object, listed last as the cache lists it',
      change: (s) => s.upsert(pod('a', app, 'ns', 2)),
      want: ['ns/b@1', 'ns/a@2'],
    },
    { name: 'a Pod is deleted', change: (s) => s.remove('ns/b'), want: ['ns/a@1'] },
    {
      name: 'a Pod is deleted and re-created',
      change: (s) => {
        s.remove('ns/a');
        s.upsert(pod('a', app, 'ns', 3));
      },
      want: ['ns/b@1', 'ns/a@3'],
    },
    {
      name: 'a Pod with the same name and labels in another namespace changes nothing',
      change: (s) => {
        s.upsert(pod('b', app, 'other', 2));
        s.remove('other/a');
        s.upsert(pod('x', app, 'nsx'));
      },
      want: ['ns/a@1', 'ns/b@1'],
    },
    { name: 'the Service changes its selector', change: () => undefined, selector: { app: 'db' }, want: ['ns/c@1'] },
    {
      name: 'the Service changes its selector and a Pod changes with it',
      change: (s) => s.upsert(pod('a', { app: 'db' }, 'ns', 2)),
      selector: { app: 'db' },
      want: ['ns/c@1', 'ns/a@2'],
    },
    {
      name: 'an empty selector selects every Pod of the namespace',
      change: () => undefined,
      selector: {},
      want: ['ns/a@1', 'ns/b@1', 'ns/c@1'],
    },
    { name: 'no selector selects nothing', change: () => undefined, selector: undefined, want: [] },
    { name: 'the same key in another namespace (a re-created Service)', change: () => undefined, namespace: 'other', want: ['other/a@1'] },
    {
      name: 'a relist replaces the cache',
      change: (s) => s.replace([pod('b', app), pod('z', app), pod('a', app, 'ns', 5)]),
      want: ['ns/b@1', 'ns/z@1', 'ns/a@5'],
    },
    {
      name: 'more writes than the cache remembers',
      change: (s) => {
        for (let i = 0; i < 10_000; i++) s.upsert(pod(`n${i % 3}`, i % 2 === 0 ? app : {}, 'nsx', i));
        s.upsert(pod('d', app));
      },
      want: ['ns/a@1', 'ns/b@1', 'ns/d@1'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const store = newStore();
      store.replace(initial);
      const selected = new SelectedPods(store);
      assert.deepEqual(names(selected.select('ns/svc', 'ns', app)), ['ns/a@1', 'ns/b@1']);
      c.change(store);
      const selector = 'selector' in c ? c.selector : app;
      const namespace = c.namespace ?? 'ns';
      const got = selected.select('ns/svc', namespace, selector);
      assert.deepEqual(names(got), c.want);
      assert.deepEqual(names(got), names(listing(store, namespace, selector)));
    });
  }

  it('keeps Services apart and starts over after forget', () => {
    const store = newStore();
    store.replace(initial);
    const selected = new SelectedPods(store);
    assert.deepEqual(names(selected.select('ns/web', 'ns', app)), ['ns/a@1', 'ns/b@1']);
    assert.deepEqual(names(selected.select('ns/db', 'ns', { app: 'db' })), ['ns/c@1']);
    selected.forget('ns/web');
    store.upsert(pod('b', { app: 'db' }, 'ns', 2));
    assert.deepEqual(names(selected.select('ns/web', 'ns', app)), ['ns/a@1']);
    assert.deepEqual(names(selected.select('ns/db', 'ns', { app: 'db' })), ['ns/c@1', 'ns/b@2']);
  });

  it('returns the same array while nothing it selects changed', () => {
    const store = newStore();
    store.replace(initial);
    const selected = new SelectedPods(store);
    const first = selected.select('ns/svc', 'ns', app);
    store.upsert(pod('c', { app: 'db', tier: 'x' }, 'ns', 2));
    assert.equal(selected.select('ns/svc', 'ns', { ...app }), first);
  });

  it('lists every time from a store without a journal', () => {
    const store = new MemoryStore<Pod>(initial.map((p) => structuredClone(p)));
    const selected = new SelectedPods(store);
    assert.deepEqual(names(selected.select('ns/svc', 'ns', app)), ['ns/a@1', 'ns/b@1']);
    store.put(pod('c', app, 'ns', 2));
    store.remove('ns/a');
    assert.deepEqual(names(selected.select('ns/svc', 'ns', app)), ['ns/b@1', 'ns/c@2']);
  });

  it('agrees with listing the cache over a long random sequence of writes', () => {
    let seed = 11;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const store = newStore();
    const selected = new SelectedPods(store);
    const selectors: Selector[] = [app, { app: 'db' }, { app: 'web', tier: 'front' }, {}, undefined];
    const labelSets: Record<string, string>[] = [app, { app: 'db' }, { app: 'web', tier: 'front' }, { tier: 'front' }, {}];
    const namespaces = ['ns', 'other', ''];
    let version = 0;
    for (let i = 0; i < 3000; i++) {
      const r = random(100);
      const namespace = namespaces[random(3)] ?? 'ns';
      const name = `p${random(20)}`;
      if (r < 55) store.upsert(pod(name, labelSets[random(labelSets.length)] ?? {}, namespace, ++version));
      else if (r < 80) store.remove(namespace === '' ? name : `${namespace}/${name}`);
      else if (r < 81) store.replace(store.list().filter(() => random(4) > 0));
      else {
        const key = `svc${random(4)}`;
        const svcNamespace = namespaces[random(2)] ?? 'ns';
        const selector = selectors[random(selectors.length)];
        if (random(30) === 0) selected.forget(key);
        assert.deepEqual(names(selected.select(key, svcNamespace, selector)), names(listing(store, svcNamespace, selector)), `step ${i}`);
      }
    }
  });
});

describe('IndexedStore.changesSince', () => {
  it('lists the keys written since a revision, and nothing it cannot vouch for', () => {
    const store = newStore();
    const start = store.changesSince(-1);
    assert.equal(start.keys, undefined);
    store.upsert(pod('a', app));
    store.upsert(pod('b', app));
    store.remove('ns/a');
    const after = store.changesSince(start.revision);
    assert.deepEqual(after.keys, ['ns/a', 'ns/b', 'ns/a']);
    assert.deepEqual(store.changesSince(after.revision).keys, []);
    store.remove('ns/missing');
    assert.deepEqual(store.changesSince(after.revision).keys, [], 'removing nothing is no write');
    store.replace([pod('c', app)]);
    assert.equal(store.changesSince(after.revision).keys, undefined);
    assert.equal(store.changesSince(store.changesSince(0).revision + 1).keys, undefined, 'a revision from the future');
  });
});
