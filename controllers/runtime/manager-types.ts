import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ObjectReference } from '../../api/core/meta.ts';
import type { ApiClient } from './api-client.ts';
import type { EventHandler } from './cache/event-handler.ts';
import type { IndexFunc, Store } from './cache/store.ts';
import type { Clock } from './clock.ts';
import type { RateLimiter } from './queue/types.ts';
import type { Reconciler } from './reconcile.ts';
import type { ResourceType } from './resource.ts';

// What a controller package sees of the manager. Controllers are wired through this interface only, so the runtime
// knows no controller and a controller can be tested with a hand-made registry.

/** What to watch, and how to turn raw wire objects into cached ones. */
export interface InformerSpec<T> {
  readonly resource: ResourceType;
  /**
   * Validates and projects one raw object (list item or watch event object). Throwing drops that object with an
   * error log: one malformed object must never stop the cache.
   */
  readonly parse: (raw: unknown) => T;
  /**
   * Names the shape `parse` produces, e.g. `v1.Pod` for the api package's Pod or `playground.SimPod` for a projection.
   * Informers are shared per (resource, labelSelector, parseId); one parse id goes with one parse function.
   */
  readonly parseId: string;
  /** Server-side label selector; part of the informer's key. */
  readonly labelSelector?: string;
  /** Extra indexes by name. The namespace index is always present. Index names must be unique per informer. */
  readonly indexers?: Readonly<Record<string, IndexFunc<T>>>;
}

/** A shared, read-only cache of one resource plus change notifications. */
export interface SharedInformer<T> {
  readonly store: Store<T>;
  /** Handlers run after the store is updated, in registration order, synchronously; they must be fast (enqueue). */
  addEventHandler(handler: EventHandler<T>): void;
  hasSynced(): boolean;
}

/** Records Kubernetes Events, de-duplicated and rate-limited like client-go's recorder. Never throws. */
export interface EventRecorder {
  event(object: Readonly<ObjectReference>, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface ControllerOptions {
  /** Controller name: logs (`controller` field), metrics labels, queue name. */
  readonly name: string;
  readonly reconciler: Reconciler;
  /** Concurrent workers. Default 1. */
  readonly workers?: number;
  /** Retry backoff. Default: client-go's controller default (max of 5 ms..1000 s per key and 10 qps/100 burst). */
  readonly rateLimiter?: RateLimiter;
  /** Requeues before a failing key is dropped (until its next event). Default 15. */
  readonly maxRetries?: number;
  /**
   * Runs once after every informer has synced and before the workers start (e.g. the Endpoints controller's purge of
   * orphans). A failure stops the manager.
   */
  readonly onStart?: (signal: AbortSignal) => Promise<void>;
}

/** A registered controller: a queue plus workers. Enqueuing is safe at any time, before start too. */
export interface ControllerHandle {
  readonly name: string;
  enqueue(key: string): void;
  /** Adds after a delay; the earliest pending deadline for a key wins. */
  enqueueAfter(key: string, delayMs: number): void;
}

/**
 * A long-running component the manager starts and stops (controller-runtime's manager.Runnable), such as a probe
 * scheduler. Registered with {@link ControllerRegistry.add}.
 */
export interface Runnable {
  /** Names it in logs. */
  readonly name: string;
  /** Runs until `signal` aborts, then resolves once stopped. A rejection before that stops the manager. */
  start(signal: AbortSignal): Promise<void>;
  /**
   * True (default): runs on the leader only, after the caches synced, and stops when leadership is lost, as
   * controllers do. False: runs on every replica from the start.
   */
  readonly needLeaderElection?: boolean;
}

/** The manager as controllers see it. */
export interface ControllerRegistry {
  /** A client for this component: own user agent and own client-side rate limiter, as upstream. */
  client(component: string): ApiClient;
  readonly clock: Clock;
  /** The root logger; controllers make children with a `controller` field. */
  readonly logger: Logger;
  /** Register controller-specific metrics here. */
  readonly metrics: Registry;
  /**
   * The shared informer for (resource, labelSelector, parseId), created on first use. Must be called before the manager
   * starts. Throws when the parse id was already registered with another parse function.
   */
  informer<T>(spec: InformerSpec<T>): SharedInformer<T>;
  eventRecorder(component: string): EventRecorder;
  /** Creates a controller that starts when the manager does (after caches sync, and only while leading). */
  addController(options: ControllerOptions): ControllerHandle;
  /** Registers a runnable, started with the controllers (or, with `needLeaderElection: false`, on every replica). */
  add(runnable: Runnable): void;
}
