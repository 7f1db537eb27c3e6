import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

// Per-backend metrics of ExternalEndpoints. Labels namespace/name/address are per object and per backend, which is
// what users ask for (which backend is down, how slow it answers); they stay bounded because every series of a
// backend is deleted when it leaves its object, and every series of an object when it is deleted.

const PREFIX = 'external_endpoints';

type BackendLabel = 'namespace' | 'name' | 'address';

/** How a published endpoint is published: ready, not ready, or draining (maintenance: serving and terminating). */
export type PublishedState = 'ready' | 'not_ready' | 'draining';
const PUBLISHED_STATES: readonly PublishedState[] = ['ready', 'not_ready', 'draining'];

/** The health a backend moved to, the `to` label of the transitions counter. */
export type TransitionTarget = 'Healthy' | 'Unhealthy';
const TRANSITION_TARGETS: readonly TransitionTarget[] = ['Healthy', 'Unhealthy'];

function reuse<T>(registry: Registry, name: string, make: () => T, guard: (m: unknown) => m is T): T {
  const existing = registry.getSingleMetric(name);
  if (existing === undefined) return make();
  if (!guard(existing)) throw new Error(`metric ${name} is already registered with another type`);
  return existing;
}

/**
 * The controller's metrics on `registry`. Constructing it twice on one registry shares the series. Not thread-safe
 * (none needed); the label sets it created are remembered so they can be deleted.
 */
export class ExternalEndpointsMetrics {
  /** 1 when the last probe of a backend succeeded, else 0. */
  readonly probeSuccess: Gauge<BackendLabel>;
  /** Duration of probes per backend, seconds. */
  readonly probeDuration: Histogram<BackendLabel>;
  /** Changes of a backend's health after thresholds and damping (flaps), by the state it moved to. */
  readonly transitions: Counter<BackendLabel | 'to'>;
  /** Endpoints published per object, by publication state. */
  readonly published: Gauge<'namespace' | 'name' | 'state'>;
  readonly #backends = new Map<string, Set<string>>();

  constructor(registry: Registry) {
    this.probeSuccess = reuse(
      registry,
      `${PREFIX}_probe_success`,
      () =>
        new Gauge({
          name: `${PREFIX}_probe_success`,
          help: 'Whether the last health probe of an ExternalEndpoints backend succeeded (1) or failed (0)',
          labelNames: ['namespace', 'name', 'address'],
          registers: [registry],
        }),
      (m): m is Gauge<BackendLabel> => m instanceof Gauge,
    );
    this.probeDuration = reuse(
      registry,
      `${PREFIX}_probe_duration_seconds`,
      () =>
        new Histogram({
          name: `${PREFIX}_probe_duration_seconds`,
          help: 'Duration of health probes of ExternalEndpoints backends, successful or not, in seconds',
          labelNames: ['namespace', 'name', 'address'],
          buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers: [registry],
        }),
      (m): m is Histogram<BackendLabel> => m instanceof Histogram,
    );
    this.transitions = reuse(
      registry,
      `${PREFIX}_backend_transitions_total`,
      () =>
        new Counter({
          name: `${PREFIX}_backend_transitions_total`,
          help: 'Health changes of ExternalEndpoints backends (after thresholds and flap damping), by the state reached',
          labelNames: ['namespace', 'name', 'address', 'to'],
          registers: [registry],
        }),
      (m): m is Counter<BackendLabel | 'to'> => m instanceof Counter,
    );
    this.published = reuse(
      registry,
      `${PREFIX}_published_endpoints`,
      () =>
        new Gauge({
          name: `${PREFIX}_published_endpoints`,
          help: 'Endpoints published in the EndpointSlices of an ExternalEndpoints object, by state (ready, not_ready, draining)',
          labelNames: ['namespace', 'name', 'state'],
          registers: [registry],
        }),
      (m): m is Gauge<'namespace' | 'name' | 'state'> => m instanceof Gauge,
    );
  }

  #remember(namespace: string, name: string, address: string): void {
    const key = `${namespace}/${name}`;
    let set = this.#backends.get(key);
    if (set === undefined) {
      set = new Set();
      this.#backends.set(key, set);
    }
    if (set.has(address)) return;
    set.add(address);
    // Counters start at 0 for every target, so rate() works from the first flap.
    for (const to of TRANSITION_TARGETS) this.transitions.inc({ namespace, name, address, to }, 0);
  }

  /** Records one finished probe. */
  observeProbe(namespace: string, name: string, address: string, ok: boolean, seconds: number): void {
    this.#remember(namespace, name, address);
    this.probeSuccess.set({ namespace, name, address }, ok ? 1 : 0);
    this.probeDuration.observe({ namespace, name, address }, Math.max(0, seconds));
  }

  /** Counts a health change. */
  observeTransition(namespace: string, name: string, address: string, to: TransitionTarget): void {
    this.#remember(namespace, name, address);
    this.transitions.inc({ namespace, name, address, to });
  }

  /** Sets the published endpoint counts of an object. */
  setPublished(namespace: string, name: string, counts: Readonly<Record<PublishedState, number>>): void {
    for (const state of PUBLISHED_STATES) this.published.set({ namespace, name, state }, counts[state]);
  }

  /** Deletes every series of one backend. */
  forgetBackend(namespace: string, name: string, address: string): void {
    const set = this.#backends.get(`${namespace}/${name}`);
    if (set?.delete(address) !== true) return;
    this.probeSuccess.remove({ namespace, name, address });
    this.probeDuration.remove({ namespace, name, address });
    for (const to of TRANSITION_TARGETS) this.transitions.remove({ namespace, name, address, to });
  }

  /** Deletes every series of an object and its backends. */
  forgetObject(namespace: string, name: string): void {
    for (const address of [...(this.#backends.get(`${namespace}/${name}`) ?? [])]) this.forgetBackend(namespace, name, address);
    this.#backends.delete(`${namespace}/${name}`);
    for (const state of PUBLISHED_STATES) this.published.remove({ namespace, name, state });
  }
}
