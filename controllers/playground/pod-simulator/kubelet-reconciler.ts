import { splitKey } from '../../../api/core/meta.ts';
import type { ApiClient } from '../../runtime/api-client.ts';
import { isConflict, isNotFound } from '../../runtime/api-errors.ts';
import type { Store } from '../../runtime/cache/store.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { EventRecorder } from '../../runtime/manager-types.ts';
import { done, type ReconcileContext, type Reconciler, type Request, type Result, requeueAfter } from '../../runtime/reconcile.ts';
import { PODS } from '../../runtime/resource.ts';
import { podBehaviour } from './pod-behaviour.ts';
import type { PodIpAllocator } from './pod-ip-allocator.ts';
import { NO_ADDRESS_RETRY_MS, planPodLifecycle, reportedIPs, terminationDeadline } from './pod-lifecycle.ts';
import type { PodWorkers } from './pod-workers.ts';
import { runtimePodStatus } from './runtime-pod-status.ts';
import { isKubeletStopped } from './simulated-node.ts';
import { isSimulatedNode, nodePodCIDRs, type SimNode, type SimPod } from './simulated-objects.ts';

// The simulated kubelets of every fake Node, as one reconciler keyed by Pod: read the Pod and its Node from the
// caches, let the pure planner decide, then make at most one write (a status patch or the final delete).

/** The field manager of the simulated kubelet's writes (visible in managedFields). */
export const KUBELET_FIELD_MANAGER = 'playground-kubelet';

/** What {@link KubeletReconciler} reads and writes with. */
export interface KubeletReconcilerDeps {
  readonly pods: Store<SimPod>;
  readonly nodes: Store<SimNode>;
  readonly client: ApiClient;
  readonly clock: Clock;
  readonly allocator: PodIpAllocator;
  readonly events: EventRecorder;
  /** Readiness delay of containers without a readiness probe. */
  readonly defaultReadinessDelayMs: number;
  /** Runs the containers of Pods whose images are local builds (absent: every Pod is simulated). */
  readonly workers?: PodWorkers;
}

/** Plays the kubelet for Pods bound to simulated Nodes. Safe for concurrent keys (the allocator is synchronous). */
export class KubeletReconciler implements Reconciler {
  readonly #d: KubeletReconcilerDeps;

  constructor(deps: KubeletReconcilerDeps) {
    this.#d = deps;
  }

  /** Reconciles one Pod key; a missing Pod needs nothing (its address is released by the delete handler). */
  async reconcile(request: Request, ctx: ReconcileContext): Promise<Result> {
    const pod = this.#d.pods.get(request.key);
    const workers = this.#d.workers;
    if (pod === undefined) {
      // Deleted without us (a forced delete): whatever still runs is killed at once.
      workers?.terminate(request.key, undefined, 0);
      workers?.forget(request.key, undefined);
      return done();
    }
    const nodeName = pod.spec.nodeName ?? '';
    const node = nodeName === '' ? undefined : this.#d.nodes.get(nodeName);
    const nowMs = this.#d.clock.now();
    if (workers !== undefined && node !== undefined && isSimulatedNode(node) && !isKubeletStopped(node) && workers.handles(pod))
      return this.#reconcileRunning(request.key, pod, node, workers, ctx);
    const plan = planPodLifecycle({
      pod,
      node,
      nowMs,
      allocatedIPs: this.#allocate(pod, node),
      defaultReadinessDelayMs: this.#d.defaultReadinessDelayMs,
    });
    const { namespace, name } = splitKey(request.key);
    switch (plan.kind) {
      case 'ignore':
        return done();
      case 'delete':
        try {
          await this.#d.client.delete(PODS, namespace, name, {
            gracePeriodSeconds: 0,
            preconditions: { uid: plan.uid },
            signal: ctx.signal,
          });
          ctx.logger.info({ node: nodeName }, 'Deleted Pod after its grace period');
        } catch (err) {
          // Gone already, or a new Pod of the same name (uid precondition): nothing of ours is left to delete.
          if (!isNotFound(err) && !isConflict(err)) throw err;
        }
        return done();
      case 'sync': {
        if (plan.problem === 'NoPodIP')
          ctx.logger.warn({ node: nodeName }, 'Skipped Pod start: no free address in the pod CIDR of its Node');
        if (plan.status !== undefined) {
          try {
            await this.#d.client.patch(PODS, namespace, name, { status: plan.status }, 'strategic', {
              subresource: 'status',
              fieldManager: KUBELET_FIELD_MANAGER,
              signal: ctx.signal,
            });
          } catch (err) {
            if (isNotFound(err)) return done();
            throw err;
          }
          const ready = plan.status.conditions.find((c) => c.type === 'Ready')?.status === 'True';
          ctx.logger.info(
            {
              node: nodeName,
              phase: plan.status.phase,
              ready,
              podIPs: plan.status.podIPs.map((p) => p.ip),
            },
            'Updated Pod status',
          );
          this.#recordEvents(pod, plan.status.phase, nodeName);
        }
        return plan.requeueAfterMs === undefined ? done() : requeueAfter(plan.requeueAfterMs);
      }
    }
  }

  // A Pod whose containers really run: the worker runs them, this writes what it observed, and deletes the Pod
  // once the worker removed everything after the grace period.
  async #reconcileRunning(
    key: string,
    pod: Readonly<SimPod>,
    node: Readonly<SimNode>,
    workers: PodWorkers,
    ctx: ReconcileContext,
  ): Promise<Result> {
    const { namespace, name } = splitKey(key);
    const uid = pod.metadata.uid;
    const nowMs = this.#d.clock.now();
    const deadline = terminationDeadline(pod);
    let state = workers.state(key, uid);
    if (deadline !== undefined) {
      if (state === undefined || state.removed) {
        try {
          await this.#d.client.delete(PODS, namespace, name, { gracePeriodSeconds: 0, preconditions: { uid }, signal: ctx.signal });
          ctx.logger.info({ node: node.metadata.name }, 'Deleted Pod after its containers stopped');
        } catch (err) {
          if (!isNotFound(err) && !isConflict(err)) throw err;
        }
        workers.forget(key, uid);
        return done();
      }
      workers.terminate(key, uid, Math.max(0, deadline - nowMs));
      state = workers.state(key, uid);
    } else if (state === undefined) {
      const ips = reportedIPs(pod) ?? this.#allocate(pod, node);
      const v4 = ips?.find((ip) => !ip.includes(':'));
      if (ips === undefined || v4 === undefined) {
        ctx.logger.warn({ node: node.metadata.name }, 'Skipped Pod start: no free IPv4 address in the pod CIDR of its Node');
        return requeueAfter(NO_ADDRESS_RETRY_MS);
      }
      workers.ensure(key, pod, v4);
      state = workers.state(key, uid);
      // Still an older incarnation being killed: its removal brings this key back.
      if (state === undefined) return done();
      return this.#writeRunningStatus(key, pod, node, ips, state, ctx);
    }
    if (state === undefined) return done();
    const ips = reportedIPs(pod);
    if (ips === undefined) return done();
    return this.#writeRunningStatus(key, pod, node, ips, state, ctx);
  }

  async #writeRunningStatus(
    key: string,
    pod: Readonly<SimPod>,
    node: Readonly<SimNode>,
    ips: readonly string[],
    state: NonNullable<ReturnType<PodWorkers['state']>>,
    ctx: ReconcileContext,
  ): Promise<Result> {
    const status = runtimePodStatus({ pod, node, ips, state, nowMs: this.#d.clock.now() });
    if (status === undefined) return done();
    const { namespace, name } = splitKey(key);
    try {
      await this.#d.client.patch(PODS, namespace, name, { status }, 'strategic', {
        subresource: 'status',
        fieldManager: KUBELET_FIELD_MANAGER,
        signal: ctx.signal,
      });
    } catch (err) {
      if (isNotFound(err)) return done();
      throw err;
    }
    ctx.logger.info(
      {
        node: node.metadata.name,
        phase: status.phase,
        ready: status.conditions.find((c) => c.type === 'Ready')?.status === 'True',
        containers: status.containerStatuses.map(
          (c) =>
            `${c.name}:${c.state.running !== null ? 'running' : c.state.terminated !== null ? 'terminated' : (c.state.waiting?.reason ?? '')}`,
        ),
      },
      'Updated status of a Pod with running containers',
    );
    return done();
  }

  // A new address only for a Pod about to start on one of our live Nodes; one already reporting addresses keeps them.
  #allocate(pod: Readonly<SimPod>, node: Readonly<SimNode> | undefined): readonly string[] | undefined {
    if (node === undefined || !isSimulatedNode(node) || isKubeletStopped(node)) return undefined;
    if ((pod.status.podIP ?? '') !== '' || pod.metadata.deletionTimestamp !== undefined) return undefined;
    if (pod.status.phase === 'Failed' || pod.status.phase === 'Succeeded') return undefined;
    return this.#d.allocator.allocate(pod.metadata.uid, node.metadata.name, nodePodCIDRs(node));
  }

  #recordEvents(pod: Readonly<SimPod>, phase: string, nodeName: string): void {
    const ref = {
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      uid: pod.metadata.uid,
    };
    if (pod.status.startTime === undefined && phase === 'Running') {
      this.#d.events.event(ref, 'Normal', 'Started', `Started simulated containers on ${nodeName} (nothing really runs)`);
    }
    const { invalid } = podBehaviour(pod);
    if (invalid.length > 0)
      this.#d.events.event(ref, 'Warning', 'InvalidPlaygroundAnnotation', `Ignored annotations: ${invalid.join(', ')}`);
  }
}
