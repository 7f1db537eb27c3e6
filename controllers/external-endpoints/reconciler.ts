import { objectReferenceOf, splitKey } from '../../api/core/meta.ts';
import type { Endpoints, Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { LABEL_SERVICE_NAME, MANAGED_BY_EXTERNAL_ENDPOINTS } from '../../api/labels.ts';
import type { ExternalEndpoints, ExternalEndpointsStatus } from '../../api/v1alpha1/external-endpoints.ts';
import { API_VERSION, ExternalEndpointsConditionType, Kind } from '../../api/v1alpha1/group-version.ts';
import type { ApiClient } from '../runtime/api-client.ts';
import { describeError, isAlreadyExists, isConflict, isNamespaceTerminating, isNotFound } from '../runtime/api-errors.ts';
import type { IndexFunc, Store } from '../runtime/cache/store.ts';
import type { Clock } from '../runtime/clock.ts';
import type { EventRecorder } from '../runtime/manager-types.ts';
import {
  done,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Result,
  requeueAfter,
  StaleCacheError,
  TerminalError,
} from '../runtime/reconcile.ts';
import { ENDPOINTS } from '../runtime/resource.ts';
import type { AddressPolicy } from './address-policy.ts';
import { type Backend, type BackendSet, resolveBackends } from './backends.ts';
import { desiredEndpoints, sliceLabels } from './desired.ts';
import type { DnsResolver } from './dns/resolver.ts';
import { EventReason, type Observation, observationFromStatus, transitionEvents } from './events.ts';
import {
  type BackendHealth,
  decidePublication,
  type HealthPolicy,
  type PublicationDecision,
  restoreHealth,
  UNKNOWN_HEALTH,
} from './health.ts';
import { BackendHealthStore } from './health-store.ts';
import { desiredLegacyEndpoints, planLegacyEndpoints } from './legacy-endpoints.ts';
import type { ExternalEndpointsMetrics, PublishedState } from './metrics.ts';
import { dueNames, type NameResolutions } from './name-resolutions.ts';
import { ObjectMemory } from './object-memory.ts';
import { planSlices, type SlicePlan } from './plan.ts';
import type { ProbeScheduler } from './probe/probe-scheduler.ts';
import { InvalidHealthCheckError, type ProbePlan, probePlanFor } from './probe/probe-spec.ts';
import { type CredentialsResult, credentialsFromSecret, type SecretLike } from './credentials.ts';
import { EXTERNAL_ENDPOINTS, SECRETS } from './resources.ts';
import { checkService, type ServiceVerdict } from './service-check.ts';
import { desiredStatus, sameSignificantStatus } from './status.ts';
import { decideTier, hasTiers, isStandby, type TierInput, type TierPolicy, type TierState, tierChangeMessage } from './tiers.ts';
import { decideSlowStart, type SlowStartPolicy, slowStartEnabled } from './slow-start.ts';
import type { EndpointSliceTracker } from '../shared/endpoint-slice-tracker.ts';
import { applySlicePlanOrThrow } from '../shared/slice-writer.ts';

// One reconcile of one ExternalEndpoints object (key `namespace/name`, also the Service's key), level-triggered:
// read the caches, check the Service, resolve due DNS names, keep the probe jobs in line with the backends, decide
// publication from the health memory, then write in one place: slices (create, update, delete), the optional legacy
// Endpoints, and status, which is coalesced per object. A converged object makes no API call.

/** Index of our slice cache: `namespace/<service-name label>`, the key of the object the slice belongs to. */
export const SLICES_BY_OBJECT_INDEX = 'external-endpoints/object';

/** The {@link SLICES_BY_OBJECT_INDEX} function. */
export const slicesByObjectIndex: IndexFunc<EndpointSlice> = (slice) => {
  const name = slice.metadata.labels?.[LABEL_SERVICE_NAME];
  return name === undefined || name === '' ? [] : [`${slice.metadata.namespace ?? ''}/${name}`];
};

/** Label selector of the slice informer: the slices this controller manages, and nothing else. */
export const OWN_SLICES_SELECTOR = `endpointslice.kubernetes.io/managed-by=${MANAGED_BY_EXTERNAL_ENDPOINTS}`;

/** A write of the reconcile failed; retried with backoff. `cause` is the API error. */
export class ExternalEndpointsSyncError extends Error {
  override readonly name = 'ExternalEndpointsSyncError';
}

/** How often a foreign Endpoints object in our way is checked again (spec.publishEndpoints). */
const ENDPOINTS_CONFLICT_RECHECK_MS = 60_000;
/** Shortest requeue for DNS refreshes, so a zero TTL cannot spin a worker. */
const MIN_DNS_REQUEUE_MS = 1000;
/** How long credentials read from a Secret are used before it is read again (rotation), and after a failure. */
const CREDENTIALS_REFRESH_MS = 300_000;
const CREDENTIALS_RETRY_MS = 15_000;
/** Names resolved at once within one reconcile. */
const DNS_CONCURRENCY = 8;

/** What the reconciler reads and writes through; all injected so tests run on in-memory stores and a fake client. */
export interface ExternalEndpointsReconcilerDeps {
  readonly objects: Store<ExternalEndpoints>;
  readonly services: Store<Service>;
  /** Our slices only (the managed-by label), with the {@link SLICES_BY_OBJECT_INDEX} index. */
  readonly endpointSlices: Store<EndpointSlice>;
  /** Our legacy Endpoints objects only (see LEGACY_ENDPOINTS_SELECTOR). */
  readonly endpoints: Store<Endpoints>;
  readonly client: ApiClient;
  readonly clock: Clock;
  readonly recorder: EventRecorder;
  /** The probe scheduler (upsert/remove only: its lifecycle belongs to the controller). */
  readonly probes: Pick<ProbeScheduler, 'upsert' | 'remove'>;
  /** Health memory, shared with the probe result handler. */
  readonly health: BackendHealthStore;
  readonly resolver: Pick<DnsResolver, 'resolve'>;
  readonly tracker: EndpointSliceTracker;
  readonly metrics: ExternalEndpointsMetrics;
  readonly addressPolicy: AddressPolicy;
  /** 1..1000 (`--max-endpoints-per-slice`). */
  readonly maxEndpointsPerSlice: number;
  /** Shortest time between two status writes of one object, ms; changes in between are coalesced into the next. */
  readonly statusMinIntervalMs: number;
}

const EMPTY_BACKENDS: BackendSet = Object.freeze({ backends: [], refused: [], unresolved: [], order: [] });

function dnsNamesOf(object: Readonly<ExternalEndpoints>): string[] {
  return [...new Set(object.spec.endpoints.map((e) => e.dnsName).filter((n): n is string => n !== undefined))];
}

function publishedCounts(decision: PublicationDecision): Record<PublishedState, number> {
  const counts: Record<PublishedState, number> = { ready: 0, not_ready: 0, draining: 0 };
  for (const e of decision.endpoints) {
    if (e.conditions.ready) counts.ready++;
    else if (e.conditions.terminating) counts.draining++;
    else counts.not_ready++;
  }
  return counts;
}

/**
 * Reconciles one ExternalEndpoints object. Throws {@link StaleCacheError} when the slice cache is behind our own
 * writes, {@link ExternalEndpointsSyncError} when a write fails, {@link TerminalError} for a spec the admission rules
 * should have refused. Safe to call concurrently for different keys (the work queue never runs one key twice).
 */
export class ExternalEndpointsReconciler implements Reconciler {
  readonly #d: ExternalEndpointsReconcilerDeps;
  /** One record per object (see object-memory.ts); cleanup drops it whole. */
  readonly #memory = new Map<string, ObjectMemory>();

  constructor(deps: ExternalEndpointsReconcilerDeps) {
    if (!Number.isInteger(deps.maxEndpointsPerSlice) || deps.maxEndpointsPerSlice < 1 || deps.maxEndpointsPerSlice > 1000) {
      throw new RangeError(`maxEndpointsPerSlice must be an integer in 1..1000, got ${deps.maxEndpointsPerSlice}`);
    }
    this.#d = deps;
  }

  /** The memory of a live object, created on first use. Never called for an object being cleaned up. */
  #memoryOf(key: string): ObjectMemory {
    let memory = this.#memory.get(key);
    if (memory === undefined) {
      memory = new ObjectMemory();
      this.#memory.set(key, memory);
    }
    return memory;
  }

  /** Whether anything is remembered about `key` (for tests: a deleted object must leave nothing behind). */
  remembers(key: string): boolean {
    return this.#memory.has(key);
  }

  async reconcile(request: Request, ctx: ReconcileContext): Promise<Result> {
    const key = request.key;
    const object = this.#d.objects.get(key);
    if (object === undefined || object.metadata.deletionTimestamp !== undefined) {
      await this.#cleanup(key, ctx);
      return done();
    }
    const slices = this.#d.endpointSlices.byIndex(SLICES_BY_OBJECT_INDEX, key);
    const { namespace, name } = splitKey(key);
    if (this.#d.tracker.staleSlices(namespace, name, slices))
      throw new StaleCacheError(`EndpointSlice cache is behind our writes for ExternalEndpoints ${key}`);

    const service = checkService(key, this.#d.services.get(key), object.spec.ports);
    if (!service.usable) return this.#unpublish(key, object, service, slices, ctx);

    const dnsNames = dnsNamesOf(object);
    const memory = this.#memoryOf(key);
    memory.names.retain(dnsNames);
    await this.#resolveDue(key, object, dnsNames, ctx.signal);
    const resolutions = memory.names.all();
    const set = resolveBackends(object.spec, resolutions, this.#d.addressPolicy);

    const credentials = await this.#credentialsFor(key, object, ctx);
    let probePlan: ProbePlan | undefined;
    try {
      probePlan = probePlanFor(object.spec, undefined, credentials?.result);
    } catch (err) {
      if (err instanceof InvalidHealthCheckError)
        throw new TerminalError(`invalid healthCheck of ExternalEndpoints ${key}`, { cause: err });
      throw err;
    }
    const probed = probePlan === undefined ? [] : set.backends.filter((b) => !b.maintenance);
    this.#syncProbes(key, object, probed, probePlan, ctx);
    const health = new Map<string, BackendHealth>(probed.map((b) => [b.address, this.#d.health.get(key, b.address) ?? UNKNOWN_HEALTH]));
    const stateOf = (b: Backend) => (probePlan === undefined ? 'Healthy' : (health.get(b.address)?.state ?? 'Unknown'));

    const tiers = this.#decideTier(
      key,
      object,
      set.backends.filter((b) => !b.maintenance).map((b) => ({ tier: b.tier, state: stateOf(b) })),
    );
    const held = (b: Backend) =>
      tiers !== undefined && isStandby({ tier: b.tier, healthySince: health.get(b.address)?.lastTransitionTime }, tiers);
    const heldBack = new Map<string, string>();
    const inputs = set.backends.map((b) => ({ key: b.address, state: stateOf(b), maintenance: b.maintenance, standby: held(b) }));
    let decision = decidePublication(inputs, object.spec.failurePolicy);
    if (!decision.belowMinHealthy) {
      for (const b of set.backends) if (!b.maintenance && held(b) && stateOf(b) === 'Healthy') heldBack.set(b.address, 'Standby');
    }
    const slow = this.#slowStart(key, object, decision, slices, health);
    if (slow.held.size > 0) {
      for (const [address, why] of slow.held) heldBack.set(address, why);
      decision = decidePublication(
        inputs.map((i) => (slow.held.has(i.key) ? { ...i, standby: true } : i)),
        object.spec.failurePolicy,
      );
    }
    const conditions = new Map(decision.endpoints.map((e) => [e.key, e.conditions]));
    const plan = planSlices({
      object,
      existing: slices,
      desired: desiredEndpoints(set.backends, conditions),
      ports: service.ports,
      labels: sliceLabels(object, service.headless),
      maxEndpointsPerSlice: this.#d.maxEndpointsPerSlice,
    });
    await this.#applySlices(key, plan, ctx);
    const legacy = object.spec.publishEndpoints ? desiredLegacyEndpoints(object, set.backends, conditions, service.ports) : undefined;
    const endpointsConflict = await this.#applyLegacyEndpoints(key, object, legacy, ctx);

    this.#d.metrics.setPublished(namespace, name, publishedCounts(decision));
    const status = desiredStatus({
      object,
      now: this.#d.clock.now(),
      service,
      backends: set,
      probing: probePlan !== undefined,
      health,
      decision,
      resolutions,
      endpointsConflict,
      activeTier: tiers?.activeTier,
      heldBack,
      credentialsError: credentials?.result.error,
    });
    this.#announce(key, object, this.#observe(service, set, probed, health, resolutions, status));
    const statusDelay = await this.#writeStatus(key, object, status, ctx);

    const delays: number[] = [];
    if (statusDelay > 0) delays.push(statusDelay);
    if (tiers?.wakeAt !== undefined) delays.push(Math.max(1, tiers.wakeAt - this.#d.clock.now()));
    if (slow.wakeAt !== undefined) delays.push(Math.max(1, slow.wakeAt - this.#d.clock.now()));
    if (credentials !== undefined) delays.push(Math.max(1, credentials.refreshAt - this.#d.clock.now()));
    const refreshAt = memory.names.nextRefreshAt();
    if (refreshAt !== undefined) delays.push(Math.max(MIN_DNS_REQUEUE_MS, refreshAt - this.#d.clock.now()));
    return delays.length === 0 ? done() : requeueAfter(Math.min(...delays));
  }

  // The active priority tier (undefined when no backend declares a tier above 0), from memory or, after a restart or a
  // change of leader, from status; a change is announced here, once, as it is decided.
  #decideTier(
    key: string,
    object: Readonly<ExternalEndpoints>,
    backends: TierInput[],
  ): (TierState & { readonly wakeAt?: number | undefined }) | undefined {
    if (!hasTiers(backends)) {
      this.#memoryOf(key).tier = undefined;
      return undefined;
    }
    const stored = object.status?.activeTier;
    const prev = this.#memoryOf(key).tier ?? (stored === undefined ? undefined : { activeTier: stored, settled: true });
    const policy: TierPolicy = {
      minHealthy: object.spec.failover.minHealthy,
      holdDownMs: object.spec.failover.failbackHoldDownSeconds * 1000,
    };
    const d = decideTier(backends, prev, this.#d.clock.now(), policy);
    this.#memoryOf(key).tier = d.state;
    if (d.change !== undefined) {
      const failover = d.change.kind === 'Failover';
      this.#d.recorder.event(
        objectReferenceOf(object, API_VERSION, Kind.ExternalEndpoints),
        failover ? 'Warning' : 'Normal',
        failover ? EventReason.Failover : EventReason.Failback,
        tierChangeMessage(d.change, policy),
      );
    }
    return { ...d.state, wakeAt: d.wakeAt };
  }

  // The credentials of a database check: the one Secret the spec names, read by name (no watch, no list), kept for
  // CREDENTIALS_REFRESH_MS (retried sooner after a failure). A problem is a status condition and one Warning Event per
  // distinct problem, never an error of the reconcile; values are never logged.
  async #credentialsFor(
    key: string,
    object: Readonly<ExternalEndpoints>,
    ctx: ReconcileContext,
  ): Promise<{ result: CredentialsResult; refreshAt: number } | undefined> {
    const hc = object.spec.healthCheck;
    const ref =
      hc?.type === 'PostgreSQL'
        ? hc.postgresql?.credentialsSecretRef
        : hc?.type === 'Redis'
          ? hc.redis?.credentialsSecretRef
          : hc?.type === 'MySQL'
            ? hc.mysql?.credentialsSecretRef
            : undefined;
    if (ref === undefined) {
      this.#memoryOf(key).credentials = undefined;
      return undefined;
    }
    const { namespace } = splitKey(key);
    const now = this.#d.clock.now();
    const fingerprint = JSON.stringify(ref);
    const cached = this.#memoryOf(key).credentials;
    const ttl = (r: CredentialsResult) => (r.error === undefined ? CREDENTIALS_REFRESH_MS : CREDENTIALS_RETRY_MS);
    if (cached !== undefined && cached.fingerprint === fingerprint && now - cached.at < ttl(cached.result)) {
      return { result: cached.result, refreshAt: cached.at + ttl(cached.result) };
    }
    let result: CredentialsResult;
    try {
      result = credentialsFromSecret(namespace, ref, (await this.#d.client.get(SECRETS, namespace, ref.name, ctx.signal)) as SecretLike);
    } catch (err) {
      result = isNotFound(err)
        ? credentialsFromSecret(namespace, ref, undefined)
        : { error: `could not read Secret ${namespace}/${ref.name}: ${describeError(err).message}` };
    }
    if (result.error !== undefined && result.error !== cached?.result.error) {
      this.#d.recorder.event(
        objectReferenceOf(object, API_VERSION, Kind.ExternalEndpoints),
        'Warning',
        EventReason.CredentialsUnavailable,
        result.error,
      );
      ctx.logger.warn({ secret: ref.name, problem: result.error }, 'Credentials of health check unavailable');
    }
    this.#memoryOf(key).credentials = { fingerprint, at: now, result };
    return { result, refreshAt: now + ttl(result) };
  }

  // Slow start over the backends the decision would make ready; "already ready" is what our slices say, so a restart
  // does not hold back what is serving. Not applied while the safety rail is in effect.
  #slowStart(
    key: string,
    object: Readonly<ExternalEndpoints>,
    decision: PublicationDecision,
    slices: readonly Readonly<EndpointSlice>[],
    health: ReadonlyMap<string, BackendHealth>,
  ): { held: ReadonlyMap<string, string>; wakeAt?: number | undefined } {
    const spec = object.spec.slowStart;
    const policy: SlowStartPolicy = {
      minReadyMs: spec.minReadySeconds * 1000,
      maxNewPerInterval: spec.maxNewReadyPerInterval,
      intervalMs: spec.intervalSeconds * 1000,
    };
    if (!slowStartEnabled(policy) || decision.belowMinHealthy) {
      this.#memoryOf(key).admissions = undefined;
      return { held: new Map() };
    }
    const readyNow = new Set<string>();
    for (const s of slices)
      for (const e of s.endpoints ?? []) if (e.conditions?.ready === true) for (const a of e.addresses) readyNow.add(a);
    const candidates = decision.endpoints
      .filter((e) => e.conditions.ready)
      .map((e) => ({ key: e.key, healthySince: health.get(e.key)?.lastTransitionTime, publishedReady: readyNow.has(e.key) }));
    const d = decideSlowStart(candidates, this.#memoryOf(key).admissions ?? [], this.#d.clock.now(), policy);
    this.#memoryOf(key).admissions = d.admissions;
    return { held: d.held, wakeAt: d.wakeAt };
  }

  // The Service cannot take our endpoints: stop probing, remove what we published, report why.
  async #unpublish(
    key: string,
    object: Readonly<ExternalEndpoints>,
    service: Extract<ServiceVerdict, { usable: false }>,
    slices: readonly Readonly<EndpointSlice>[],
    ctx: ReconcileContext,
  ): Promise<Result> {
    this.#stopProbing(key);
    this.#memoryOf(key).names.clear();
    const plan = planSlices({
      object,
      existing: slices,
      desired: new Map(),
      ports: [],
      labels: {},
      maxEndpointsPerSlice: this.#d.maxEndpointsPerSlice,
    });
    await this.#applySlices(key, plan, ctx);
    await this.#applyLegacyEndpoints(key, object, undefined, ctx);
    const { namespace, name } = splitKey(key);
    const decision = decidePublication([], object.spec.failurePolicy);
    this.#d.metrics.setPublished(namespace, name, publishedCounts(decision));
    const status = desiredStatus({
      object,
      now: this.#d.clock.now(),
      service,
      backends: EMPTY_BACKENDS,
      probing: false,
      health: new Map(),
      decision,
      resolutions: new Map(),
    });
    this.#announce(key, object, this.#observe(service, EMPTY_BACKENDS, [], new Map(), new Map(), status));
    const delay = await this.#writeStatus(key, object, status, ctx);
    return delay > 0 ? requeueAfter(delay) : done();
  }

  // The object is gone (or going): forget it, and remove what we published without waiting for garbage collection
  // (which may not run at all, and otherwise lags).
  async #cleanup(key: string, ctx: ReconcileContext): Promise<void> {
    this.#stopProbing(key);
    this.#memory.delete(key);
    const { namespace, name } = splitKey(key);
    this.#d.metrics.forgetObject(namespace, name);
    const doomed = this.#d.endpointSlices.byIndex(SLICES_BY_OBJECT_INDEX, key).filter((s) => s.metadata.deletionTimestamp === undefined);
    await this.#applySlices(key, { toCreate: [], toUpdate: [], toDelete: doomed }, ctx);
    this.#d.tracker.deleteService(namespace, name);
    const legacy = this.#d.endpoints.get(key);
    if (legacy !== undefined) await this.#deleteLegacyEndpoints(key, ctx);
  }

  #stopProbing(key: string): void {
    const { namespace, name } = splitKey(key);
    for (const address of this.#d.health.forgetObject(key)) {
      this.#d.probes.remove(BackendHealthStore.jobKey(key, address));
      this.#d.metrics.forgetBackend(namespace, name, address);
    }
  }

  async #resolveDue(key: string, object: Readonly<ExternalEndpoints>, names: readonly string[], signal: AbortSignal): Promise<void> {
    const known = this.#memoryOf(key).names;
    const due = dueNames(known.all(), names, this.#d.clock.now());
    const bounds = object.spec.dns;
    for (let i = 0; i < due.length; i += DNS_CONCURRENCY) {
      await Promise.all(
        due.slice(i, i + DNS_CONCURRENCY).map(async (name) => {
          const resolution = await this.#d.resolver.resolve(name, known.all().get(name), bounds, signal);
          known.set(resolution);
        }),
      );
    }
  }

  // Probe jobs follow the backends: one per probed address, with the latest settings; a new address starts from its
  // entry in status when there is one (a failover or restart neither empties nor refills slices).
  #syncProbes(
    key: string,
    object: Readonly<ExternalEndpoints>,
    probed: readonly Backend[],
    plan: ProbePlan | undefined,
    ctx: ReconcileContext,
  ): void {
    const { namespace, name } = splitKey(key);
    const wanted = new Set(probed.map((b) => b.address));
    for (const address of this.#d.health.addresses(key)) {
      if (wanted.has(address)) continue;
      this.#d.probes.remove(BackendHealthStore.jobKey(key, address));
      this.#d.health.untrack(key, address);
      this.#d.metrics.forgetBackend(namespace, name, address);
    }
    if (plan === undefined) return;
    const hc = object.spec.healthCheck;
    const policy: HealthPolicy = {
      healthyThreshold: hc?.healthyThreshold ?? 1,
      unhealthyThreshold: hc?.unhealthyThreshold ?? 3,
      minDwellMs: (hc?.minDwellSeconds ?? 0) * 1000,
    };
    const previous = new Map((object.status?.endpoints ?? []).map((e) => [e.address, e]));
    for (const b of probed) {
      this.#d.health.track(key, b.address, policy, () => {
        const entry = previous.get(b.address);
        // Only a probed verdict carries over; a refusal or maintenance entry says nothing about health.
        return entry !== undefined && entry.reason !== 'Maintenance' && (entry.health !== 'Unknown' || entry.reason === undefined)
          ? restoreHealth(entry)
          : UNKNOWN_HEALTH;
      });
      const verdict = this.#d.probes.upsert({
        key: BackendHealthStore.jobKey(key, b.address),
        target: { address: b.address, port: b.probePort, dnsName: b.resolvedFrom },
        spec: plan.spec,
        intervalMs: plan.intervalMs,
      });
      if (!verdict.allowed) ctx.logger.warn({ address: b.address, reason: verdict.reason }, 'Refused probe of backend');
    }
  }

  #observe(
    service: ServiceVerdict,
    set: BackendSet,
    probed: readonly Backend[],
    health: ReadonlyMap<string, BackendHealth>,
    resolutions: ReturnType<NameResolutions['all']>,
    status: ExternalEndpointsStatus,
  ): Observation {
    const below = status.conditions?.find((c) => c.type === ExternalEndpointsConditionType.BelowMinHealthy);
    const dnsFailures = new Map<string, string>();
    for (const r of resolutions.values()) if (r.errors.length > 0) dnsFailures.set(r.name, r.errors.map((e) => e.message).join('; '));
    return {
      service: service.usable
        ? { reason: 'ServiceFound', message: 'Service found; publishing backends' }
        : { reason: service.reason, message: service.message },
      backends: new Map(
        probed.map((b) => {
          const h = health.get(b.address);
          const detail = h?.lastError === undefined ? undefined : `${h.lastError.reason}: ${h.lastError.message}`;
          return [b.address, { state: h?.state ?? 'Unknown', detail }];
        }),
      ),
      refused: new Map(set.refused.map((r) => [r.address, r.verdict.message])),
      belowMinHealthy: below?.status === 'True' ? below.message : undefined,
      dnsFailures,
    };
  }

  #announce(key: string, object: Readonly<ExternalEndpoints>, next: Observation): void {
    const memory = this.#memoryOf(key);
    const prev = memory.announced ?? observationFromStatus(object);
    const ref = objectReferenceOf(object, API_VERSION, Kind.ExternalEndpoints);
    for (const e of transitionEvents(prev, next)) this.#d.recorder.event(ref, e.type, e.reason, e.message);
    memory.announced = next;
  }

  /**
   * Writes the slice plan through the shared slice writer. Our slices are ours alone, so an update Conflict means the
   * cache had not seen our own write yet: a stale cache, retried, rather than a failure.
   */
  async #applySlices(key: string, plan: SlicePlan, ctx: ReconcileContext): Promise<void> {
    const { client, tracker } = this.#d;
    const writer = { ...ctx, client, tracker, namespace: splitKey(key).namespace, owner: `ExternalEndpoints ${key}` };
    await applySlicePlanOrThrow(writer, plan, { conflictIsStaleCache: true }, (m, o) => new ExternalEndpointsSyncError(m, o));
  }

  /**
   * Writes (or deletes) the legacy Endpoints object. Returns why it could not be written when a foreign object of that
   * name is in the way; that object is never touched, and checked again at most once a minute.
   */
  async #applyLegacyEndpoints(
    key: string,
    object: Readonly<ExternalEndpoints>,
    desired: Endpoints | undefined,
    ctx: ReconcileContext,
  ): Promise<string | undefined> {
    const { namespace, name } = splitKey(key);
    const cached = this.#d.endpoints.get(key);
    const memory = this.#memoryOf(key);
    if (cached !== undefined) memory.endpointsCreated = false;
    const plan = planLegacyEndpoints(object, cached, desired);
    const { client } = this.#d;
    switch (plan.action) {
      case 'none':
        if (desired === undefined) memory.endpointsConflict = undefined;
        return undefined;
      case 'delete':
        await this.#deleteLegacyEndpoints(key, ctx);
        return undefined;
      case 'update':
        try {
          await client.update(ENDPOINTS, namespace, name, plan.body, { signal: ctx.signal });
        } catch (err) {
          if (isConflict(err)) throw new StaleCacheError(`Endpoints ${key} changed since it was cached`, { cause: err });
          throw new ExternalEndpointsSyncError(`failed to update Endpoints ${key}: ${describeError(err).message}`, { cause: err });
        }
        ctx.logger.debug({ endpoints: key }, 'Updated Endpoints');
        return undefined;
      case 'create': {
        const now = this.#d.clock.now();
        const conflict = memory.endpointsConflict;
        if (conflict !== undefined && now < conflict.until) return conflict.message;
        try {
          await client.create(ENDPOINTS, namespace, plan.body, { signal: ctx.signal });
          memory.endpointsConflict = undefined;
          memory.endpointsCreated = true;
          ctx.logger.debug({ endpoints: key }, 'Created Endpoints');
          return undefined;
        } catch (err) {
          if (isNamespaceTerminating(err)) return undefined;
          if (!isAlreadyExists(err)) {
            throw new ExternalEndpointsSyncError(`failed to create Endpoints ${key}: ${describeError(err).message}`, { cause: err });
          }
        }
        if (memory.endpointsCreated) throw new StaleCacheError(`Endpoints ${key} was created but is not cached yet`);
        // Not ours: the cache holds every Endpoints object with our managed-by label.
        const message = `Endpoints ${key} exists and is not managed by this controller, so spec.publishEndpoints is not applied (it is left untouched)`;
        memory.endpointsConflict = { until: now + ENDPOINTS_CONFLICT_RECHECK_MS, message };
        return message;
      }
    }
  }

  async #deleteLegacyEndpoints(key: string, ctx: ReconcileContext): Promise<void> {
    const { namespace, name } = splitKey(key);
    const memory = this.#memory.get(key);
    if (memory !== undefined) memory.endpointsCreated = false;
    try {
      await this.#d.client.delete(ENDPOINTS, namespace, name, { signal: ctx.signal });
    } catch (err) {
      if (isNotFound(err)) return;
      throw new ExternalEndpointsSyncError(`failed to delete Endpoints ${key}: ${describeError(err).message}`, { cause: err });
    }
    ctx.logger.debug({ endpoints: key }, 'Deleted Endpoints');
  }

  /**
   * Writes `status` through the status subresource when it differs significantly from the stored one, at most once
   * per statusMinIntervalMs per object. Returns 0, or how long to wait before the coalesced write is due.
   */
  async #writeStatus(
    key: string,
    object: Readonly<ExternalEndpoints>,
    status: ExternalEndpointsStatus,
    ctx: ReconcileContext,
  ): Promise<number> {
    if (sameSignificantStatus(status, object.status)) return 0;
    const memory = this.#memoryOf(key);
    const last = memory.statusWrite;
    if (
      last !== undefined &&
      last.resourceVersionBefore === object.metadata.resourceVersion &&
      sameSignificantStatus(status, last.status)
    ) {
      return 0; // the cache has not caught up with our own write yet
    }
    const now = this.#d.clock.now();
    if (last !== undefined && now - last.at < this.#d.statusMinIntervalMs) return this.#d.statusMinIntervalMs - (now - last.at);
    const { namespace, name } = splitKey(key);
    try {
      await this.#d.client.patch(EXTERNAL_ENDPOINTS, namespace, name, { status }, 'merge', { subresource: 'status', signal: ctx.signal });
    } catch (err) {
      if (isNotFound(err)) return 0;
      throw new ExternalEndpointsSyncError(`failed to update status of ExternalEndpoints ${key}: ${describeError(err).message}`, {
        cause: err,
      });
    }
    memory.statusWrite = { at: now, resourceVersionBefore: object.metadata.resourceVersion, status };
    ctx.logger.debug({ ready: status.readyCount, total: status.totalCount }, 'Updated ExternalEndpoints status');
    return 0;
  }
}
