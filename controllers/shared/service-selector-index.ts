import type { Service } from '../../api/core/v1.ts';
import type { Store } from '../runtime/cache/store.ts';
import type { PodProjectionKey } from './pod-service-mapping.ts';

// Which Services a Pod event can concern, without matching every Service of the namespace against the Pod. Upstream
// (GetPodServiceMemberships in k8s.io/endpointslice util/controller_utils.go) lists the namespace's Services and
// matches each selector, once per Pod event; with 5,000 Services and 50,000 Pods in one namespace that is 250 million
// selector matches just to process the initial list, on our one thread (docs/performance.md, start-up at scale).
//
// The Service cache gets an index instead: every Service with a selector is filed under one label pair of it (the one
// with the smallest key), a Service with an empty selector (which selects every Pod) under its namespace alone, and a
// Service without a selector (which selects none) nowhere. A Pod can only be selected by a Service filed under one of
// its own label pairs or under the empty selector, so looking those up gives a superset of its Services: the caller
// still matches each candidate's selector (servicesToUpdate), so the result is exactly upstream's.

/** The index name the Service informers register (shared: both endpoint controllers register the same function). */
export const SERVICES_BY_SELECTOR_INDEX = 'services-by-selector-pair';

const EMPTY_SELECTOR = '';

/** Index values: `<namespace>\0<key>=<value>` for the smallest selector key, `<namespace>\0` for `{}`, none without. */
export function serviceSelectorIndex(service: Readonly<Service>): readonly string[] {
  const selector = service.spec.selector;
  if (selector === undefined) return [];
  const namespace = service.metadata.namespace ?? '';
  let smallest: string | undefined;
  for (const key of Object.keys(selector)) if (smallest === undefined || key < smallest) smallest = key;
  return [`${namespace}\0${smallest === undefined ? EMPTY_SELECTOR : `${smallest}=${selector[smallest] ?? ''}`}`];
}

/**
 * The Services of the key's namespace that may select its Pod (its current or, on a relabel, its old labels): a superset
 * of the matching ones, each at most once per label set. `services` must carry {@link SERVICES_BY_SELECTOR_INDEX}.
 */
export function candidateServices(services: Store<Service>, key: PodProjectionKey): Readonly<Service>[] {
  const out: Readonly<Service>[] = [];
  const add = (value: string) => {
    for (const svc of services.byIndex(SERVICES_BY_SELECTOR_INDEX, `${key.namespace}\0${value}`)) out.push(svc);
  };
  add(EMPTY_SELECTOR);
  for (const [k, v] of Object.entries(key.labels)) add(`${k}=${v}`);
  if (key.oldLabels !== undefined) for (const [k, v] of Object.entries(key.oldLabels)) if (key.labels[k] !== v) add(`${k}=${v}`);
  return out;
}
