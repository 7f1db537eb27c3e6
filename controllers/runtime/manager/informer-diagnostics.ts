import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { describeError, isNotFound } from '../api-errors.ts';
import type { Clock, Timer } from '../clock.ts';
import type { ResourceType } from '../resource.ts';
import type { WatcherNotice } from '../watch/watcher.ts';

// What the manager says about its informers: why a cache does not sync (in /readyz, the sync progress log and one
// error line for a resource the server does not serve), which informer stopped for good (/healthz), and the informer
// lifecycle counter.

// How often the wait for cache sync logs which informers are still listing.
const SYNC_PROGRESS_LOG_MS = 10_000;

/** `plural.group/version` (`pods/v1` for core), as kubectl names a resource. */
function resourceName(r: ResourceType): string {
  return r.group === '' ? `${r.plural}/${r.version}` : `${r.plural}.${r.group}/${r.version}`;
}

/** Informer health, keyed by the informer registry's keys. */
export class InformerDiagnostics {
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #notices: Counter<'resource' | 'notice'>;
  readonly #failed = new Set<string>();
  /** Why an informer's last list failed, until a list succeeds. */
  readonly #listFailures = new Map<string, string>();

  constructor(deps: { logger: Logger; clock: Clock; metrics: Registry }) {
    this.#logger = deps.logger;
    this.#clock = deps.clock;
    this.#notices = new Counter({
      name: 'informer_watch_notices_total',
      help: 'Informer list/watch lifecycle events by kind: relist, reconnect, expired (410), list_failure, watch_failure, decode_failure',
      labelNames: ['resource', 'notice'],
      registers: [deps.metrics],
    });
  }

  /** Marks an informer stopped for good (its start rejected: a bug that will not heal). */
  stoppedForGood(key: string): void {
    this.#failed.add(key);
  }

  /** The `/healthz` check: undefined while no informer stopped for good. */
  liveness(): string | undefined {
    return this.#failed.size === 0 ? undefined : `stopped for good: ${[...this.#failed].join(', ')}`;
  }

  /** `key`, or `key (why its last list failed)`. */
  describe(key: string): string {
    const why = this.#listFailures.get(key);
    return why === undefined ? key : `${key} (${why})`;
  }

  /** Logs the informers among `pending()` still listing every 10 s, with why a list fails; returns the stop. */
  logSyncProgress(pending: () => string[]): Timer {
    let timer: Timer;
    const log = () => {
      const keys = pending();
      const failing = Object.fromEntries(
        keys.flatMap((k) => {
          const why = this.#listFailures.get(k);
          return why === undefined ? [] : [[k, why]];
        }),
      );
      this.#logger.info({ pending: keys, ...(Object.keys(failing).length > 0 ? { failing } : {}) }, 'Still waiting for caches to sync');
      timer = this.#clock.setTimer(SYNC_PROGRESS_LOG_MS, log);
    };
    timer = this.#clock.setTimer(SYNC_PROGRESS_LOG_MS, log);
    return { cancel: () => timer.cancel() };
  }

  /** The informer options' `observe` for informer `key` of resource `r`. */
  observe(key: string, r: ResourceType, notice: WatcherNotice): void {
    if (notice.kind === 'listed') {
      this.#listFailures.delete(key);
    } else if (notice.kind === 'retrying' && notice.phase === 'list') {
      const first = !this.#listFailures.has(key);
      const notServed = isNotFound(notice.error);
      this.#listFailures.set(
        key,
        notServed
          ? `the API server does not serve ${resourceName(r)}: ${describeError(notice.error).message}`
          : describeError(notice.error).message,
      );
      // The informer retries forever (a CRD may be installed later) and warns on every attempt; this says once, at
      // error level and in words, why every controller is being held back.
      if (first && notServed) {
        this.#logger.error(
          { informer: key, resource: resourceName(r), err: describeError(notice.error) },
          'Failed to list a resource the API server does not serve; controllers wait until it is served (is its CRD installed?)',
        );
      }
    }
    const kind =
      notice.kind === 'listed' && notice.relist
        ? 'relist'
        : notice.kind === 'watch-opened' && notice.reconnect
          ? 'reconnect'
          : notice.kind === 'expired'
            ? 'expired'
            : notice.kind === 'retrying'
              ? `${notice.phase}_failure`
              : notice.kind === 'decode-failed'
                ? 'decode_failure'
                : undefined;
    if (kind !== undefined) this.#notices.inc({ resource: r.plural, notice: kind });
  }
}
