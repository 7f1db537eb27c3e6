import type { ApiClient } from '../../runtime/api-client.ts';
import { isAlreadyExists, isNotFound } from '../../runtime/api-errors.ts';
import type { Store } from '../../runtime/cache/store.ts';
import type { Clock } from '../../runtime/clock.ts';
import { done, type ReconcileContext, type Reconciler, type Request, type Result, requeueAfter } from '../../runtime/reconcile.ts';
import { LEASES, NODES } from '../../runtime/resource.ts';
import { KUBELET_FIELD_MANAGER } from './kubelet-reconciler.ts';
import {
  desiredNode,
  isKubeletStopped,
  NODE_LEASE_NAMESPACE,
  type NodeLayout,
  nodeLease,
  planNodeStatus,
  simulatedNodeName,
} from './simulated-node.ts';
import { isSimulatedNode, type SimNode } from './simulated-objects.ts';

// The node side of the simulated kubelets, keyed by Node name: create the configured fake Nodes once, then renew each
// live Node's Lease every renew interval and post its status when it changed or is due. The requeue-after of each
// reconcile is the heartbeat clock.

/** Heartbeat timing; defaults are the kubelet's, except the status report (5 min there; 1 min keeps `kubectl get nodes` fresh). */
export interface NodeHeartbeatTiming {
  /** Lease duration written into the Lease. Default 40 s. */
  readonly leaseDurationSeconds: number;
  /** Lease renew interval. Default 10 s (a quarter of the duration, as the kubelet). */
  readonly leaseRenewIntervalMs: number;
  /** Status report interval when nothing changed. Default 60 s. */
  readonly statusReportIntervalMs: number;
}

/** What {@link NodeReconciler} reads and writes with. */
export interface NodeReconcilerDeps {
  readonly nodes: Store<SimNode>;
  readonly client: ApiClient;
  readonly clock: Clock;
  readonly layout: NodeLayout;
  readonly timing: NodeHeartbeatTiming;
}

/** Creates the fake Nodes and keeps their heartbeats going. Safe for concurrent keys. */
export class NodeReconciler implements Reconciler {
  readonly #d: NodeReconcilerDeps;
  // Nodes created (or found) by this process: one a user deletes later stays deleted, as a lost machine would.
  readonly #created = new Set<string>();

  constructor(deps: NodeReconcilerDeps) {
    this.#d = deps;
  }

  /** The names of the configured Nodes, in index order. */
  configuredNodeNames(): string[] {
    return Array.from({ length: this.#d.layout.count }, (_, i) => simulatedNodeName(i + 1));
  }

  /** Reconciles one Node name. */
  async reconcile(request: Request, ctx: ReconcileContext): Promise<Result> {
    const name = request.key;
    const node = this.#d.nodes.get(name);
    if (node === undefined) return this.#create(name, ctx);
    this.#created.add(name);
    if (!isSimulatedNode(node) || isKubeletStopped(node)) return done();

    const nowMs = this.#d.clock.now();
    const { leaseDurationSeconds, leaseRenewIntervalMs, statusReportIntervalMs } = this.#d.timing;
    try {
      await this.#d.client.patch(LEASES, NODE_LEASE_NAMESPACE, name, nodeLease(node, nowMs, leaseDurationSeconds), 'apply', {
        fieldManager: KUBELET_FIELD_MANAGER,
        force: true,
        signal: ctx.signal,
      });
      ctx.logger.debug('Renewed node Lease');
      const status = planNodeStatus(node, nowMs, statusReportIntervalMs);
      if (status.kind === 'patch') {
        await this.#d.client.patch(NODES, '', name, { status: { conditions: status.conditions } }, 'merge', {
          subresource: 'status',
          fieldManager: KUBELET_FIELD_MANAGER,
          signal: ctx.signal,
        });
        ctx.logger.debug('Updated Node status');
      }
    } catch (err) {
      if (isNotFound(err)) return done();
      throw err;
    }
    return requeueAfter(leaseRenewIntervalMs);
  }

  async #create(name: string, ctx: ReconcileContext): Promise<Result> {
    const index = this.configuredNodeNames().indexOf(name) + 1;
    if (index === 0 || this.#created.has(name)) return done();
    try {
      await this.#d.client.create(NODES, '', desiredNode(index, this.#d.layout, this.#d.clock.now()), { signal: ctx.signal });
      ctx.logger.info(
        {
          node: name,
          zone: this.#d.layout.zones[(index - 1) % Math.max(1, this.#d.layout.zones.length)],
        },
        'Created Node',
      );
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    this.#created.add(name);
    return done();
  }
}
