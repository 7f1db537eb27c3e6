import { isIP } from 'node:net';
import { type Clock, realClock } from '../../runtime/clock.ts';
import { grpcProbe } from './grpc-probe.ts';
import { httpProbe } from './http-probe.ts';
import { type ProbeResult, type Prober, type ProbeSpec, type ProbeTarget, probeFailure } from './prober.ts';
import { mysqlProbe } from './mysql-probe.ts';
import { postgresqlProbe } from './postgresql-probe.ts';
import { redisProbe } from './redis-probe.ts';
import { tcpExchangeProbe } from './tcp-exchange-probe.ts';
import { tcpProbe } from './tcp-probe.ts';

/** Options of {@link NetProber}. */
export interface NetProberOptions {
  /** Timers for probe timeouts and latency. Default: the real clock. */
  readonly clock?: Clock;
}

/**
 * The production {@link Prober}: TCP connects and HTTP(S) requests over node:net/http/https, one fresh connection
 * per probe (no agent, no keep-alive), so a probe measures the backend and leaves nothing open. Safe to share.
 */
export class NetProber implements Prober {
  readonly #clock: Clock;

  constructor(options: NetProberOptions = {}) {
    this.#clock = options.clock ?? realClock;
  }

  probe(target: ProbeTarget, spec: ProbeSpec, signal: AbortSignal): Promise<ProbeResult> {
    if (isIP(target.address) === 0) {
      return Promise.resolve(probeFailure('InvalidTarget', `"${target.address}" is not an IP address; resolve names before probing`, 0));
    }
    switch (spec.type) {
      case 'TCP':
        return spec.exchange === undefined
          ? tcpProbe(target, spec, signal, this.#clock)
          : tcpExchangeProbe(target, { ...spec, exchange: spec.exchange }, signal, this.#clock);
      case 'HTTP':
      case 'HTTPS':
        return httpProbe(target, spec, signal, this.#clock);
      case 'PostgreSQL':
        return postgresqlProbe(target, spec, signal, this.#clock);
      case 'Redis':
        return redisProbe(target, spec, signal, this.#clock);
      case 'MySQL':
        return mysqlProbe(target, spec, signal, this.#clock);
      case 'GRPC':
        return grpcProbe(target, spec, signal, this.#clock);
    }
  }
}
