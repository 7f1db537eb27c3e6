import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectKey } from '../../api/core/meta.ts';
import type { Service } from '../../api/core/v1.ts';
import { IndexedStore } from '../runtime/cache/indexed-store.ts';
import { NAMESPACE_INDEX } from '../runtime/cache/store.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { type PodProjectionKey, servicesToUpdate } from './pod-service-mapping.ts';
import { candidateServices, SERVICES_BY_SELECTOR_INDEX, serviceSelectorIndex } from './service-selector-index.ts';

function svc(name: string, selector: Record<string, string> | undefined, namespace = 'ns'): Service {
  return { metadata: { name, namespace }, spec: selector === undefined ? {} : { selector } };
}

function store(services: readonly Service[]): IndexedStore<Service> {
  const s = new IndexedStore<Service>({
    keyFunc: objectKey,
    namespaceFunc: (o) => o.metadata.namespace ?? '',
    indexers: { [SERVICES_BY_SELECTOR_INDEX]: serviceSelectorIndex },
  });
  s.replace(deepFreeze([...services]));
  return s;
}

describe('serviceSelectorIndex', () => {
  const cases: { name: string; given: Service; want: readonly string[] }[] = [
    { name: 'no selector selects nothing: not indexed', given: svc('a', undefined), want: [] },
    { name: 'empty selector selects every Pod: the namespace alone', given: svc('a', {}), want: ['ns\0'] },
    { name: 'one pair', given: svc('a', { app: 'web' }), want: ['ns\0app=web'] },
    {
      name: 'the pair of the smallest key, whatever the map order',
      given: svc('a', { tier: 'x', app: 'web', b: '' }),
      want: ['ns\0app=web'],
    },
    { name: 'an empty value', given: svc('a', { app: '' }, 'other'), want: ['other\0app='] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(serviceSelectorIndex(deepFreeze(c.given)), c.want));
});

describe('candidateServices', () => {
  const services = store([
    svc('a', { app: 'a' }),
    svc('ab', { app: 'a', tier: 'web' }),
    svc('all', {}),
    svc('none', undefined),
    svc('other-ns', { app: 'a' }, 'other'),
  ]);
  const names = (key: PodProjectionKey) => candidateServices(services, key).map(objectKey);

  it("finds the Services filed under one of the Pod's pairs or the empty selector, in its namespace only", () => {
    assert.deepEqual(names({ namespace: 'ns', labels: { app: 'a' }, podChanged: false }).sort(), ['ns/a', 'ns/ab', 'ns/all']);
    assert.deepEqual(names({ namespace: 'ns', labels: { tier: 'web' }, podChanged: false }), ['ns/all']);
    assert.deepEqual(names({ namespace: 'other', labels: { app: 'a' }, podChanged: false }), ['other/other-ns']);
  });

  it('adds the Services of the old labels on a relabel, each once', () => {
    assert.deepEqual(names({ namespace: 'ns', labels: { app: 'b' }, oldLabels: { app: 'a' }, podChanged: false }).sort(), [
      'ns/a',
      'ns/ab',
      'ns/all',
    ]);
    const both = names({ namespace: 'ns', labels: { app: 'a', x: '1' }, oldLabels: { app: 'a' }, podChanged: true });
    assert.equal(new Set(both).size, both.length, 'no Service twice');
  });

  it('gives exactly what matching every Service of the namespace gives, over random Services and Pods', () => {
    // A fixed linear congruential sequence: the same cases every run.
    let seed = 12345;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const keys = ['app', 'tier', 'zone', 'k'];
    const labels = (max: number) => {
      const out: Record<string, string> = {};
      for (let i = next(max + 1); i > 0; i--) out[keys[next(keys.length)] ?? 'app'] = `v${next(3)}`;
      return out;
    };
    const all: Service[] = [];
    for (let i = 0; i < 200; i++) {
      const kind = next(10);
      all.push(svc(`s${i}`, kind === 0 ? undefined : kind === 1 ? {} : labels(3), next(4) === 0 ? 'other' : 'ns'));
    }
    const s = store(all);
    for (let i = 0; i < 2000; i++) {
      const namespace = next(4) === 0 ? 'other' : 'ns';
      const relabel = next(3) === 0;
      const key: PodProjectionKey = {
        namespace,
        labels: labels(4),
        ...(relabel ? { oldLabels: labels(4) } : {}),
        podChanged: next(2) === 0,
      };
      const want = servicesToUpdate(s.byIndex(NAMESPACE_INDEX, namespace), key);
      assert.deepEqual(servicesToUpdate(candidateServices(s, key), key), want, JSON.stringify(key));
    }
  });
});
