import type { InformerSpec, SharedInformer } from '../manager-types.ts';
import { apiVersionOf } from '../resource.ts';
import { LazyInformer } from './lazy-informer.ts';

// One shared informer per (resource, label selector, parse id), as controller-runtime's informer cache keeps one per
// GroupVersionKind (cache/internal/informers.go: Informers.Get). The parse id is part of the key because the parse
// function decides the shape of cached objects: callers that project differently (the pod simulator reads more of a
// Pod than the endpoint controllers) declare different ids and get separate informers rather than objects of someone
// else's shape. The key is a declared name, never a function's identity, so an inline lambda cannot silently create a
// second informer: the same key with another parse function is an error, as is one function under two ids.

/** The registry key of a spec: `apiVersion/plural?labelSelector#parseId`. */
export function informerKey<T>(spec: InformerSpec<T>): string {
  return `${apiVersionOf(spec.resource)}/${spec.resource.plural}?${spec.labelSelector ?? ''}#${spec.parseId}`;
}

/** The informers requested so far, each a {@link LazyInformer} until the manager builds the real ones. */
export class InformerRegistry {
  readonly #informers = new Map<string, LazyInformer<unknown>>();
  readonly #parseIds = new Map<(raw: unknown) => unknown, string>();
  #closed = false;

  /**
   * The shared informer for `spec`, created on first use; a later request with the same key returns it and adds its
   * indexers. Throws after {@link close}, for a parse id already declared with another parse function (or a parse
   * function already declared under another id), and for an index name already registered with another function.
   */
  informer<T>(spec: InformerSpec<T>): SharedInformer<T> {
    const key = informerKey(spec);
    if (this.#closed) throw new Error(`informer ${key} requested after the manager started`);
    const declared = this.#parseIds.get(spec.parse);
    if (declared !== undefined && declared !== spec.parseId)
      throw new Error(`informer ${key}: its parse function is already declared as parse id ${declared}; one function, one id`);
    const existing = this.#informers.get(key) as LazyInformer<T> | undefined;
    if (existing !== undefined && existing.spec.parse !== spec.parse)
      throw new Error(
        `informer ${key}: parse id ${spec.parseId} registered with two different parse functions; share one module-level function or declare another parse id`,
      );
    this.#parseIds.set(spec.parse, spec.parseId);
    if (existing === undefined) {
      const informer = new LazyInformer<T>(key, spec);
      this.#informers.set(key, informer as LazyInformer<unknown>);
      return informer;
    }
    existing.merge(spec);
    return existing;
  }

  /** Refuses further requests: the set of informers is fixed once the manager starts. */
  close(): void {
    this.#closed = true;
  }

  /** Every informer, in request order. */
  all(): readonly LazyInformer<unknown>[] {
    return [...this.#informers.values()];
  }
}
