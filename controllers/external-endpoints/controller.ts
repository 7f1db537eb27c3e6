import { type Endpoints, parseEndpoints, type Service, parseService } from '../../api/core/v1.ts';
import { type EndpointSlice, parseEndpointSlice } from '../../api/discovery/v1.ts';
import { type ExternalEndpoints, externalEndpointsSchema } from '../../api/v1alpha1/external-endpoints.ts';
import type { ControllerHandle, ControllerRegistry } from '../runtime/manager-types.ts';
import { defaultControllerRateLimiter } from '../runtime/queue/rate-limiters.ts';
import type { RateLimiter } from '../runtime/queue/types.ts';
import { ENDPOINT_SLICES, ENDPOINTS, SERVICES } from '../runtime/resource.ts';
import { checkRange } from '../shared/check-range.ts';
import { DEFAULT_PROBE_ALLOWED_CIDRS, DEFAULT_PROBE_DENIED_CIDRS, newAddressPolicy } from './address-policy.ts';
import { type DnsLookup, DnsResolver, NodeDnsLookup } from './dns/resolver.ts';
import {
  endpointSliceEventHandler,
  endpointsEventHandler,
  externalEndpointsEventHandler,
  probeResultHandler,
  serviceEventHandler,
} from './handlers.ts';
import { BackendHealthStore } from './health-store.ts';
import { LEGACY_ENDPOINTS_SELECTOR } from './legacy-endpoints.ts';
import { ExternalEndpointsMetrics } from './metrics.ts';
import { NetProber } from './probe/net-prober.ts';
import { ProbeScheduler } from './probe/probe-scheduler.ts';
import type { Prober } from './probe/prober.ts';
import { ExternalEndpointsReconciler, OWN_SLICES_SELECTOR, SLICES_BY_OBJECT_INDEX, slicesByObjectIndex } from './reconciler.ts';
import { EXTERNAL_ENDPOINTS } from './resources.ts';
import { EndpointSliceTracker } from '../shared/endpoint-slice-tracker.ts';

// Wiring of the ExternalEndpoints controller: informers (ExternalEndpoints, Services, and only our own slices and
// Endpoints through label selectors), the reconciler, and the probe scheduler, registered as a leader-election
// runnable: the manager starts it on the leader once the caches synced and aborts its signal when leadership is lost
// or the manager stops, which stops every probe. Its results go to the controller's queue, given when it starts.

/** The name `--controllers` knows; also logs, metrics and the queue name. */
export const CONTROLLER_NAME = 'external-endpoints-controller';
/** API client user agent suffix. */
export const USER_AGENT = 'external-endpoints-controller';
/** The `source.component` of the Events this controller records. */
export const EVENT_COMPONENT = 'external-endpoints-controller';
/** The probe scheduler's runnable name (logs). */
export const PROBE_SCHEDULER_NAME = 'external-endpoints-probe-scheduler';

/** Settings of the controller; each documents its default. */
export interface ExternalEndpointsControllerOptions {
  /** Concurrent reconciles, 1..50. Default 2. */
  readonly workers?: number;
  /** Endpoints per EndpointSlice, 1..1000 (`--max-endpoints-per-slice`). Default 100. */
  readonly maxEndpointsPerSlice?: number;
  /** CIDRs that may be probed and published (`--external-endpoints-probe-allowed-cidrs`). Default: everything. */
  readonly probeAllowedCIDRs?: readonly string[];
  /** CIDRs never probed or published, replacing the built-in list (`--external-endpoints-probe-denied-cidrs`). Default: the built-in deny-list. */
  readonly probeDeniedCIDRs?: readonly string[];
  /** Probes in flight at once over all backends, 1..1000 (`--external-endpoints-probe-concurrency`). Default 10. */
  readonly probeConcurrency?: number;
  /** DNS servers (`ip` or `ip:port`) for dnsName backends. Default: the system's resolv.conf. Ignored with `dnsLookup`. */
  readonly dnsServers?: readonly string[];
  /** The DNS I/O. Default: node:dns with TTLs ({@link NodeDnsLookup}). A seam for tests. */
  readonly dnsLookup?: DnsLookup;
  /** The probe I/O. Default {@link NetProber}. A seam for tests. */
  readonly prober?: Prober;
  /** Shortest time between two status writes of one object, ms, 0..600000. Default 5000. */
  readonly statusMinIntervalMs?: number;
  /** Retry backoff. Default: client-go's controller default (5 ms..1000 s per key, 10 qps / burst 100). */
  readonly rateLimiter?: RateLimiter;
}

/** Thrown for an option outside its range or an unparsable CIDR (`cause` says which). */
export class InvalidExternalEndpointsOptionsError extends Error {
  override readonly name = 'InvalidExternalEndpointsOptionsError';
}

/** {@link checkRange} throwing this controller's options error. */
function checkOption(name: string, value: number, min: number, max: number): number {
  return checkRange(name, value, min, max, true, InvalidExternalEndpointsOptionsError);
}

/**
 * Registers the ExternalEndpoints controller. The CRD must be installed, or the ExternalEndpoints cache never syncs.
 * Must be called before the manager starts. Throws {@link InvalidExternalEndpointsOptionsError}.
 */
export function setupExternalEndpointsController(
  registry: ControllerRegistry,
  options: ExternalEndpointsControllerOptions = {},
): ControllerHandle {
  const workers = checkOption('workers', options.workers ?? 2, 1, 50);
  const maxEndpointsPerSlice = checkOption('maxEndpointsPerSlice', options.maxEndpointsPerSlice ?? 100, 1, 1000);
  const probeConcurrency = checkOption('probeConcurrency', options.probeConcurrency ?? 10, 1, 1000);
  const statusMinIntervalMs = checkOption('statusMinIntervalMs', options.statusMinIntervalMs ?? 5000, 0, 600_000);
  let addressPolicy: ReturnType<typeof newAddressPolicy>;
  try {
    addressPolicy = newAddressPolicy({
      allowedCIDRs: options.probeAllowedCIDRs ?? DEFAULT_PROBE_ALLOWED_CIDRS,
      deniedCIDRs: options.probeDeniedCIDRs ?? DEFAULT_PROBE_DENIED_CIDRS,
    });
  } catch (err) {
    throw new InvalidExternalEndpointsOptionsError(`invalid probe CIDR: ${(err as Error).message}`, { cause: err });
  }

  const objects = registry.informer<ExternalEndpoints>({
    resource: EXTERNAL_ENDPOINTS,
    parse: (raw) => externalEndpointsSchema.parse(raw),
    parseId: 'v1alpha1.ExternalEndpoints',
  });
  const services = registry.informer<Service>({ resource: SERVICES, parse: parseService, parseId: 'v1.Service' });
  const slices = registry.informer<EndpointSlice>({
    resource: ENDPOINT_SLICES,
    labelSelector: OWN_SLICES_SELECTOR,
    parse: parseEndpointSlice,
    parseId: 'discovery/v1.EndpointSlice',
    indexers: { [SLICES_BY_OBJECT_INDEX]: slicesByObjectIndex },
  });
  const endpoints = registry.informer<Endpoints>({
    resource: ENDPOINTS,
    labelSelector: LEGACY_ENDPOINTS_SELECTOR,
    parse: parseEndpoints,
    parseId: 'v1.Endpoints',
  });

  const logger = registry.logger.child({ controller: CONTROLLER_NAME });
  const metrics = new ExternalEndpointsMetrics(registry.metrics);
  const health = new BackendHealthStore();
  const tracker = new EndpointSliceTracker();
  const scheduler = new ProbeScheduler({
    prober: options.prober ?? new NetProber({ clock: registry.clock }),
    addressPolicy,
    clock: registry.clock,
    concurrency: probeConcurrency,
    logger,
  });

  const reconciler = new ExternalEndpointsReconciler({
    objects: objects.store,
    services: services.store,
    endpointSlices: slices.store,
    endpoints: endpoints.store,
    client: registry.client(USER_AGENT),
    clock: registry.clock,
    recorder: registry.eventRecorder(EVENT_COMPONENT),
    probes: scheduler,
    health,
    resolver: new DnsResolver({
      lookup: options.dnsLookup ?? new NodeDnsLookup(options.dnsServers === undefined ? {} : { servers: options.dnsServers }),
      clock: registry.clock,
    }),
    tracker,
    metrics,
    addressPolicy,
    maxEndpointsPerSlice,
    statusMinIntervalMs,
  });

  const handle = registry.addController({
    name: CONTROLLER_NAME,
    reconciler,
    workers,
    rateLimiter: options.rateLimiter ?? defaultControllerRateLimiter(registry.clock),
  });
  registry.add({
    name: PROBE_SCHEDULER_NAME,
    start: (signal) => {
      logger.info({ concurrency: probeConcurrency }, 'Started probe scheduler');
      return scheduler.run(signal, probeResultHandler({ health, metrics, queue: handle }));
    },
  });

  objects.addEventHandler(externalEndpointsEventHandler(handle));
  services.addEventHandler(serviceEventHandler(handle, objects.store));
  slices.addEventHandler(endpointSliceEventHandler(handle, tracker));
  endpoints.addEventHandler(endpointsEventHandler(handle));
  return handle;
}
