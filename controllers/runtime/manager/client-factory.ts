import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { type ApiClient, newApiClient, type RequestRecord } from '../api-client.ts';
import type { Clock } from '../clock.ts';
import { KubeEventRecorder } from '../event-recorder.ts';
import type { EventRecorder } from '../manager-types.ts';

// The manager's clients: one base client (with client-go's REST metrics), and per component a client with its own user
// agent and client-side rate limiter plus an Events recorder writing through it, as kube-controller-manager gives each
// controller (controllermanager.go: ControllerContext.ClientBuilder).

/** Options of {@link ClientFactory}. */
export interface ClientFactoryOptions {
  readonly logger: Logger;
  readonly clock: Clock;
  /** REST client metrics are registered here (only when the base client is built from `kubeConfig`). */
  readonly metrics: Registry;
  /** The cluster to talk to. Required unless `client` is given. */
  readonly kubeConfig?: KubeConfig;
  /** A ready base client; wins over `kubeConfig`. */
  readonly client?: ApiClient;
  /** Client-side QPS per component client. Default: the API client's. */
  readonly qps?: number | undefined;
  /** Client-side burst per component client. Default: the API client's. */
  readonly burst?: number | undefined;
  /** Gets, lists and watches over HTTP/2 where the server offers it. Default: the API client's (true). */
  readonly http2?: boolean | undefined;
  /** User agent prefix; a component's client sends `<userAgent>/<component>`. */
  readonly userAgent: string;
}

/** Per-component clients and Event recorders, each created once. */
export class ClientFactory {
  readonly #o: ClientFactoryOptions;
  readonly #base: ApiClient;
  readonly #clients = new Map<string, ApiClient>();
  readonly #recorders = new Map<string, KubeEventRecorder>();

  /** Throws if neither `client` nor `kubeConfig` is given. */
  constructor(options: ClientFactoryOptions) {
    this.#o = options;
    if (options.client !== undefined) {
      this.#base = options.client;
    } else if (options.kubeConfig !== undefined) {
      this.#base = newApiClient(options.kubeConfig, {
        qps: options.qps,
        burst: options.burst,
        ...(options.http2 === undefined ? {} : { http2: options.http2 }),
        clock: options.clock,
        userAgent: options.userAgent,
        observer: restClientMetrics(options.metrics),
      });
    } else {
      throw new Error('Manager needs a kubeConfig or a client');
    }
  }

  /** The client for `component`: own user agent and own client-side rate limiter. */
  client(component: string): ApiClient {
    let c = this.#clients.get(component);
    if (c === undefined) {
      c = this.#base.forComponent(`${this.#o.userAgent}/${component}`);
      this.#clients.set(component, c);
    }
    return c;
  }

  /** The Events recorder for `component` (the Event source), writing with that component's client. */
  eventRecorder(component: string): EventRecorder {
    let r = this.#recorders.get(component);
    if (r === undefined) {
      // No source host: kube-controller-manager and controller-runtime leave it empty for controller Events too.
      r = new KubeEventRecorder({ client: this.client(component), clock: this.#o.clock, logger: this.#o.logger, component });
      this.#recorders.set(component, r);
    }
    return r;
  }

  /** Flushes and stops every recorder; never rejects. */
  async closeRecorders(): Promise<void> {
    await Promise.allSettled([...this.#recorders.values()].map((r) => r.close()));
  }
}

/** client-go's REST client metrics, fed by the API client's per-request observer. */
function restClientMetrics(registry: Registry): (r: RequestRecord) => void {
  const total = new Counter({
    name: 'rest_client_requests_total',
    help: 'Number of HTTP requests to the API server, partitioned by status code and verb',
    labelNames: ['code', 'verb'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'rest_client_request_duration_seconds',
    help: 'Request latency in seconds, by verb',
    labelNames: ['verb'],
    buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
    registers: [registry],
  });
  return (r) => {
    total.inc({ code: r.code === 0 ? '<error>' : String(r.code), verb: r.verb });
    if (r.verb !== 'watch') latency.observe({ verb: r.verb }, r.durationMs / 1000);
  };
}
