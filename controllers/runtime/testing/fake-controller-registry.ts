import assert from 'node:assert/strict';
import { type Logger, pino } from 'pino';
import { Registry } from 'prom-client';
import { objectKey } from '../../../api/core/meta.ts';
import type { ApiClient } from '../api-client.ts';
import type { EventHandler } from '../cache/event-handler.ts';
import { IndexedStore } from '../cache/indexed-store.ts';
import { FakeClock } from '../clock.ts';
import type {
  ControllerHandle,
  ControllerOptions,
  ControllerRegistry,
  EventRecorder,
  InformerSpec,
  Runnable,
  SharedInformer,
} from '../manager-types.ts';
import { FakeApiClient } from './fake-api-client.ts';
import { RecordingEventRecorder } from './recording-event-recorder.ts';

// Test-only: one hand-made ControllerRegistry for every controller's wiring tests, so each test drives its setup
// function against the same recorded view of the manager instead of growing its own copy of the fake.

type Keyed = { metadata?: { namespace?: string | undefined; name?: string | undefined } | undefined };

/**
 * The informer a {@link FakeControllerRegistry} hands out: the spec it was asked for, a store the test fills directly
 * (honouring the spec's indexers and the namespace index) and the registered handlers, which the test calls itself.
 * Always synced.
 */
export class FakeInformer<T> implements SharedInformer<T> {
  readonly spec: InformerSpec<T>;
  readonly store: IndexedStore<T>;
  readonly handlers: EventHandler<T>[] = [];

  constructor(spec: InformerSpec<T>) {
    this.spec = spec;
    this.store = new IndexedStore<T>({
      keyFunc: (o) => objectKey(o as Keyed),
      namespaceFunc: (o) => (o as Keyed).metadata?.namespace ?? '',
      ...(spec.indexers === undefined ? {} : { indexers: spec.indexers }),
    });
  }

  addEventHandler(handler: EventHandler<T>): void {
    this.handlers.push(handler);
  }

  hasSynced(): boolean {
    return true;
  }
}

/** One enqueue through a handle of {@link FakeControllerRegistry}; `delayMs` is undefined for a plain `enqueue`. */
export interface EnqueuedKey {
  readonly controller: string;
  readonly key: string;
  readonly delayMs: number | undefined;
}

/** Options of {@link FakeControllerRegistry}. */
export interface FakeControllerRegistryOptions {
  /** Client for a component. Default: a new, empty FakeApiClient. */
  readonly client?: (component: string) => ApiClient;
  /** Recorder for a component. Default: a new RecordingEventRecorder. */
  readonly eventRecorder?: (component: string) => EventRecorder;
}

/**
 * A ControllerRegistry that records what a setup function asked for: client and recorder components, controller
 * options, informers (by `plural` and label selector) and every enqueued key. Nothing runs by itself: tests fill the
 * stores, call the handlers, onStart, runnables and reconcilers, and advance the FakeClock.
 */
export class FakeControllerRegistry implements ControllerRegistry {
  readonly clock = new FakeClock();
  readonly logger: Logger = pino({ level: 'silent' });
  readonly metrics = new Registry();
  /** Component names passed to {@link client}, in call order. */
  readonly clients: string[] = [];
  /** Component names passed to {@link eventRecorder}, in call order. */
  readonly recorders: string[] = [];
  readonly controllers: ControllerOptions[] = [];
  /** Runnables passed to {@link add}, in call order; tests start them. */
  readonly runnables: Runnable[] = [];
  readonly enqueued: EnqueuedKey[] = [];
  /** Every informer in creation order. */
  readonly informers: FakeInformer<unknown>[] = [];
  readonly #clientFor: (component: string) => ApiClient;
  readonly #recorderFor: (component: string) => EventRecorder;

  constructor(options: FakeControllerRegistryOptions = {}) {
    this.#clientFor = options.client ?? (() => new FakeApiClient());
    this.#recorderFor = options.eventRecorder ?? (() => new RecordingEventRecorder());
  }

  client(component: string): ApiClient {
    this.clients.push(component);
    return this.#clientFor(component);
  }

  eventRecorder(component: string): EventRecorder {
    this.recorders.push(component);
    return this.#recorderFor(component);
  }

  informer<T>(spec: InformerSpec<T>): SharedInformer<T> {
    const informer = new FakeInformer(spec);
    this.informers.push(informer as FakeInformer<unknown>);
    return informer;
  }

  addController(options: ControllerOptions): ControllerHandle {
    this.controllers.push(options);
    const controller = options.name;
    return {
      name: controller,
      enqueue: (key) => this.enqueued.push({ controller, key, delayMs: undefined }),
      enqueueAfter: (key, delayMs) => this.enqueued.push({ controller, key, delayMs }),
    };
  }

  add(runnable: Runnable): void {
    this.runnables.push(runnable);
  }

  /** The runnable registered as `name`; fails the test if absent. */
  runnable(name: string): Runnable {
    const found = this.runnables.find((r) => r.name === name);
    assert.ok(found, `no runnable ${name}`);
    return found;
  }

  /** The informer created for `plural` (and exactly this label selector, none by default); fails the test if absent. */
  informerFor<T>(plural: string, labelSelector?: string): FakeInformer<T> {
    const found = this.informers.find((i) => i.spec.resource.plural === plural && i.spec.labelSelector === labelSelector);
    assert.ok(found, `no informer for ${plural}${labelSelector === undefined ? '' : `?${labelSelector}`}`);
    return found as FakeInformer<T>;
  }

  /** `plural?labelSelector` of every informer, in creation order. */
  informerKeys(): string[] {
    return this.informers.map((i) => `${i.spec.resource.plural}?${i.spec.labelSelector ?? ''}`);
  }
}
