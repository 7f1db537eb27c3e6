import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type BindAddress, type HealthCheck, HealthServer } from '../health-server.ts';
import { type GroupMember, untilAborted } from './runnable-group.ts';

// The manager's HTTP servers: `/metrics` on one address, `/healthz` + `/readyz` on another, or all three on one server
// when both addresses are the same (controller-runtime's metrics and health probe servers). A disabled address (`0`)
// has no server.

/** Options of {@link ManagerServers}. */
export interface ManagerServersOptions {
  /** `/metrics` address; `0` disables. */
  readonly metricsBindAddress: string;
  /** `/healthz` + `/readyz` address; `0` disables. */
  readonly healthProbeBindAddress: string;
  readonly metrics: Registry;
  readonly healthz: readonly HealthCheck[];
  readonly readyz: readonly HealthCheck[];
  readonly logger: Logger;
}

/** The metrics and health servers, as members of the manager's `servers` group. */
export class ManagerServers {
  readonly #metrics: HealthServer | undefined;
  readonly #health: HealthServer | undefined;

  /** Throws RangeError for a malformed bind address. */
  constructor(o: ManagerServersOptions) {
    const { metricsBindAddress: metricsAddr, healthProbeBindAddress: healthAddr, healthz, readyz, logger } = o;
    if (metricsAddr !== '0' && metricsAddr === healthAddr) {
      this.#metrics = new HealthServer({ bindAddress: metricsAddr, metrics: o.metrics, healthz, readyz, logger });
      this.#health = this.#metrics;
      return;
    }
    const metrics = new HealthServer({ bindAddress: metricsAddr, metrics: o.metrics, logger });
    const health = new HealthServer({ bindAddress: healthAddr, healthz, readyz, logger });
    this.#metrics = metrics.enabled ? metrics : undefined;
    this.#health = health.enabled ? health : undefined;
  }

  /** Where the servers listen (once started), e.g. to find a port chosen with `:0`. */
  addresses(): { metrics: BindAddress | undefined; health: BindAddress | undefined } {
    return { metrics: this.#metrics?.address(), health: this.#health?.address() };
  }

  /** One member per server: ready once listening, closed when the group stops. */
  members(): GroupMember[] {
    const servers = [
      ['metrics-server', this.#metrics],
      ['health-probe-server', this.#health],
    ] as const;
    const distinct = servers.filter(([, s], i) => s !== undefined && (i === 0 || s !== this.#metrics));
    return distinct.map(([name, server]) => serverMember(name, server as HealthServer));
  }
}

function serverMember(name: string, server: HealthServer): GroupMember {
  let listening!: (ok: boolean) => void;
  const ready = new Promise<boolean>((resolve) => {
    listening = resolve;
  });
  return {
    name,
    start: async (signal) => {
      await server.start();
      listening(true);
      await untilAborted(signal);
      await server.close();
    },
    waitReady: () => ready,
  };
}
