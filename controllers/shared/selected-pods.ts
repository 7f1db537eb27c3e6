import { objectKey } from '../../api/core/meta.ts';
import type { Pod } from '../../api/core/v1.ts';
import { NAMESPACE_INDEX, type Store } from '../runtime/cache/store.ts';
import { selectorMatches } from './pod-endpoints.ts';

// The Pods a Service selects, as upstream's reconcilers list them on every sync (endpointslice_controller.go:
// syncService, endpoints_controller.go: syncService: podLister.Pods(namespace).List(selector)). A sync of a large
// Service during a rollout follows a handful of Pod writes, yet listing scans the whole namespace and matches the
// selector against every Pod. This keeps each Service's selection and replays only the Pod cache's writes since the
// last sync (Store.changesSince). The answer is always exactly the cache's namespace-index listing filtered by the
// selector, in the same order: the store lists a namespace in order of last write, and replaying a write moves the Pod
// to the end here too. Whenever the cache cannot say what changed (a relist, trimmed history, a store without a
// journal), or the selector or namespace changed, the selection is recomputed by listing.

type Selector = Readonly<Record<string, string>> | undefined;

interface Selection {
  namespace: string;
  selector: Selector;
  /** The cache revision the selection reflects. */
  revision: number;
  /** Pod key → Pod, in the order the cache lists them. */
  readonly pods: Map<string, Readonly<Pod>>;
  /** `pods` as an array, until the next change. */
  list: readonly Readonly<Pod>[] | undefined;
}

/**
 * The selected Pods of each Service, kept up to date from the Pod cache. Owned by one reconciler; like the work queue,
 * it relies on one key never being synced twice at once. No I/O.
 */
export class SelectedPods {
  readonly #pods: Store<Pod>;
  readonly #selections = new Map<string, Selection>();

  /** `pods` is the Pod cache; it must have the namespace index. */
  constructor(pods: Store<Pod>) {
    this.#pods = pods;
  }

  /**
   * The Pods of `namespace` that `selector` matches (none for an undefined selector, all for `{}`), in the order the
   * cache lists the namespace. `serviceKey` names the remembered selection; the returned array must not be modified.
   */
  select(serviceKey: string, namespace: string, selector: Selector): readonly Readonly<Pod>[] {
    const store = this.#pods;
    const current = this.#selections.get(serviceKey);
    const changes = store.changesSince?.(current?.revision ?? -1);
    if (
      current === undefined ||
      changes?.keys === undefined ||
      current.namespace !== namespace ||
      !sameSelector(current.selector, selector)
    ) {
      const pods = new Map<string, Readonly<Pod>>();
      for (const pod of store.byIndex(NAMESPACE_INDEX, namespace)) {
        if (selectorMatches(selector, pod.metadata.labels)) pods.set(objectKey(pod), pod);
      }
      const list = [...pods.values()];
      // Without a journal there is nothing to keep the selection current with: do not remember it.
      if (changes !== undefined) this.#selections.set(serviceKey, { namespace, selector, revision: changes.revision, pods, list });
      return list;
    }
    // Store keys are `namespace/name` (`name` alone in the empty namespace): most writes of other namespaces are
    // skipped by their key, the rest by the Pod's namespace.
    const prefix = `${namespace}/`;
    for (const key of changes.keys) {
      if (namespace !== '' && !key.startsWith(prefix)) continue;
      const pod = store.get(key);
      const had = current.pods.delete(key);
      if (pod !== undefined && pod.metadata.namespace === namespace && selectorMatches(selector, pod.metadata.labels)) {
        current.pods.set(key, pod);
        current.list = undefined;
      } else if (had) {
        current.list = undefined;
      }
    }
    current.revision = changes.revision;
    current.selector = selector;
    current.list ??= [...current.pods.values()];
    return current.list;
  }

  /** Forgets a Service's selection (the Service is gone). */
  forget(serviceKey: string): void {
    this.#selections.delete(serviceKey);
  }
}

/** Whether two selectors match the same Pods: the same key/value pairs, in any order. */
function sameSelector(a: Selector, b: Selector): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  let n = 0;
  for (const k in a) {
    if (!Object.hasOwn(a, k)) continue;
    n++;
    if (!Object.hasOwn(b, k) || b[k] !== a[k]) return false;
  }
  for (const k in b) if (Object.hasOwn(b, k)) n--;
  return n === 0;
}
