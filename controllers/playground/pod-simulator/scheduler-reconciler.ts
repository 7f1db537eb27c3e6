import { splitKey } from '../../../api/core/meta.ts';
import type { ApiClient } from '../../runtime/api-client.ts';
import { isConflict, isNotFound } from '../../runtime/api-errors.ts';
import type { Store } from '../../runtime/cache/store.ts';
import type { EventRecorder } from '../../runtime/manager-types.ts';
import { done, type ReconcileContext, type Reconciler, type Request, type Result, requeueAfter } from '../../runtime/reconcile.ts';
import { PODS } from '../../runtime/resource.ts';
import { chooseNode } from './node-selection.ts';
import type { SimNode, SimPod } from './simulated-objects.ts';

// The simulated scheduler: binds each pending Pod that names the default scheduler (no kube-scheduler runs in the
// playground) through the pods/binding subresource, as kube-scheduler does. Like kube-scheduler it "assumes" a
// binding until its own cache shows it, so a burst of Pods created together is spread and not piled onto one Node.

/** Index of the Pod cache: Pods by spec.nodeName ('' for pending ones). */
export const NODE_NAME_INDEX = 'spec.nodeName';
/** How often an unschedulable Pod is tried again besides Node events (capacity freed by deletions has no event). */
export const UNSCHEDULABLE_RETRY_MS = 10_000;

/** Bindings made but not yet visible in the Pod cache, by Pod key. Synchronous; shared with the Pod event handler. */
export class AssumedBindings {
  readonly #byKey = new Map<string, { readonly uid: string; readonly node: string }>();

  assume(key: string, uid: string, node: string): void {
    this.#byKey.set(key, { uid, node });
  }

  /** Drops the assumption once the cache shows the binding, or the Pod is gone. */
  forget(key: string): void {
    this.#byKey.delete(key);
  }

  /** Whether this Pod incarnation (uid) was bound already. */
  has(key: string, uid: string): boolean {
    return this.#byKey.get(key)?.uid === uid;
  }

  /** Assumed Pods per Node. */
  perNode(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { node } of this.#byKey.values()) counts.set(node, (counts.get(node) ?? 0) + 1);
    return counts;
  }
}

/** What {@link SchedulerReconciler} reads and writes with. */
export interface SchedulerReconcilerDeps {
  readonly pods: Store<SimPod>;
  readonly nodes: Store<SimNode>;
  readonly client: ApiClient;
  readonly assumed: AssumedBindings;
  readonly events: EventRecorder;
  /** Pods naming this scheduler (or none) are bound. Default scheduler name: `default-scheduler`. */
  readonly schedulerName: string;
  /** Pod capacity per Node (a kubelet's maxPods). */
  readonly maxPodsPerNode: number;
}

/** Binds pending Pods to simulated Nodes. Run it with one worker: each choice must see the previous one's assumption. */
export class SchedulerReconciler implements Reconciler {
  readonly #d: SchedulerReconcilerDeps;

  constructor(deps: SchedulerReconcilerDeps) {
    this.#d = deps;
  }

  /** Reconciles one Pod key: binds it when it is pending, ours to schedule, and some Node fits. */
  async reconcile(request: Request, ctx: ReconcileContext): Promise<Result> {
    const pod = this.#d.pods.get(request.key);
    if (pod === undefined || !this.#needsBinding(request.key, pod)) return done();
    const choice = chooseNode(pod, this.#d.nodes.list(), this.#load(), this.#d.maxPodsPerNode);
    if (choice.kind === 'unschedulable') {
      ctx.logger.info({ rejections: choice.rejections }, 'Skipped Pod binding: no Node fits');
      return requeueAfter(UNSCHEDULABLE_RETRY_MS);
    }
    const { namespace, name } = splitKey(request.key);
    const binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name, namespace, uid: pod.metadata.uid },
      target: { apiVersion: 'v1', kind: 'Node', name: choice.nodeName },
    };
    try {
      await this.#d.client.create(PODS, namespace, binding, { signal: ctx.signal, subresource: { name, subresource: 'binding' } });
    } catch (err) {
      // Deleted meanwhile, or bound by someone else (409 "already assigned"): the cache will show it.
      if (isNotFound(err) || isConflict(err)) return done();
      throw err;
    }
    this.#d.assumed.assume(request.key, pod.metadata.uid, choice.nodeName);
    ctx.logger.info({ node: choice.nodeName }, 'Bound Pod');
    this.#d.events.event(
      { apiVersion: 'v1', kind: 'Pod', namespace, name, uid: pod.metadata.uid },
      'Normal',
      'Scheduled',
      `Successfully assigned ${namespace}/${name} to ${choice.nodeName}`,
    );
    return done();
  }

  #needsBinding(key: string, pod: Readonly<SimPod>): boolean {
    if ((pod.spec.nodeName ?? '') !== '' || pod.metadata.deletionTimestamp !== undefined) return false;
    if (pod.status.phase === 'Failed' || pod.status.phase === 'Succeeded') return false;
    if ((pod.spec.schedulerName ?? this.#d.schedulerName) !== this.#d.schedulerName) return false;
    return !this.#d.assumed.has(key, pod.metadata.uid);
  }

  // Active Pods per Node: the cache's bound Pods plus bindings it does not show yet.
  #load(): Map<string, number> {
    const load = this.#d.assumed.perNode();
    for (const node of this.#d.nodes.list()) {
      const bound = this.#d.pods
        .byIndex(NODE_NAME_INDEX, node.metadata.name)
        .filter((p) => p.status.phase !== 'Failed' && p.status.phase !== 'Succeeded').length;
      load.set(node.metadata.name, (load.get(node.metadata.name) ?? 0) + bound);
    }
    return load;
  }
}
