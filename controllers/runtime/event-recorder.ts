import type { Logger } from 'pino';
import { z } from 'zod';
import type { ObjectReference } from '../../api/core/meta.ts';
import type { ApiClient } from './api-client.ts';
import { ApiError, describeError, isAlreadyExists, isNamespaceTerminating, isNotFound } from './api-errors.ts';
import type { Clock } from './clock.ts';
import type { EventRecorder } from './manager-types.ts';
import { EVENTS } from './resource.ts';

// A core/v1 Event recorder with client-go's correlation (tools/record/events_cache.go), because a controller that
// fails the same way on every retry would otherwise write thousands of Events:
// 1. aggregation: past 10 different messages with the same (object, type, reason) within 10 minutes, further ones
//    collapse into one "(combined from similar events): ..." Event;
// 2. de-duplication: a repeat of an identical Event PATCHes `count` and `lastTimestamp` of the Event already written;
// 3. spam filter: each source+object pair has a token bucket (burst 25, one token per 5 minutes); excess is dropped.
// Writes happen one at a time off the caller's path; failures are logged, never thrown.

/** Options of {@link KubeEventRecorder}; each documents its default (client-go's). */
export interface EventRecorderOptions {
  readonly client: ApiClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Event source component, e.g. `endpoint-controller`. */
  readonly component: string;
  /** Event source host. Default ''. */
  readonly host?: string;
  /** Entries kept by each correlation cache (LRU). Default 4096. */
  readonly cacheSize?: number;
  /** Spam filter burst per source+object. Default 25. */
  readonly spamBurst?: number;
  /** Spam filter refill in tokens per second. Default 1/300 (one per 5 minutes). */
  readonly spamQps?: number;
  /** Distinct messages per (object, type, reason) before aggregation. Default 10. */
  readonly aggregateMaxEvents?: number;
  /** Window in which similar messages count towards aggregation. Default 10 minutes. */
  readonly aggregateIntervalMs?: number;
  /** Events waiting to be written; new ones are dropped beyond it. Default 1000. */
  readonly maxQueued?: number;
  /** Attempts per Event on network errors. Default 12. */
  readonly maxTries?: number;
  /** Sleep between attempts (the first one randomised). Default 10 s. */
  readonly retrySleepMs?: number;
  readonly random?: () => number;
}

const eventResponseSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), resourceVersion: z.string().optional() }),
  count: z.number().int().nullish(),
  firstTimestamp: z.string().nullish(),
});

/** The Event as this recorder writes it (core/v1 wire format, client-go's shape). */
interface EventBody {
  apiVersion: 'v1';
  kind: 'Event';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  involvedObject: ObjectReference;
  reason: string;
  message: string;
  type: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
  source: { component: string; host?: string };
}

interface Observation {
  readonly count: number;
  readonly firstTimestamp: string;
  readonly name: string;
}

interface Correlated {
  readonly event: EventBody;
  /** Where the observation is cached. */
  readonly key: string;
  /** Set when this repeats an Event already written: PATCH it instead of creating one. */
  readonly patch: { count: number; lastTimestamp: string; message: string } | undefined;
}

/** A bounded map that evicts the least recently used entry (Map iteration order is insertion order). */
class Lru<V> {
  readonly #max: number;
  readonly #map = new Map<string, V>();
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
  }
}

/** A passive token bucket (TryAccept only), as client-go's spam filter uses. Starts full. */
class PassiveBucket {
  #tokens: number;
  #last: number;
  constructor(burst: number, now: number) {
    this.#tokens = burst;
    this.#last = now;
  }
  tryAccept(now: number, qps: number, burst: number): boolean {
    this.#tokens = Math.min(burst, this.#tokens + (Math.max(0, now - this.#last) * qps) / 1000);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** metav1.Time: RFC 3339 with whole seconds. */
export const formatEventTime = (epochMs: number): string => `${new Date(epochMs).toISOString().slice(0, 19)}Z`;

const objectKeyParts = (e: EventBody): string[] => [
  e.source.component,
  e.source.host ?? '',
  e.involvedObject.kind ?? '',
  e.involvedObject.namespace ?? '',
  e.involvedObject.name ?? '',
];
// Keys are joined with a separator that cannot appear in names, so ("ab","c") and ("a","bc") differ.
const join = (parts: readonly string[]): string => parts.join('\u0000');
const spamKey = (e: EventBody): string => join([...objectKeyParts(e), e.involvedObject.uid ?? '', e.involvedObject.apiVersion ?? '']);
const aggregateKey = (e: EventBody): string => join([spamKey(e), e.type, e.reason]);
const eventKey = (e: EventBody): string =>
  join([
    ...objectKeyParts(e),
    e.involvedObject.fieldPath ?? '',
    e.involvedObject.uid ?? '',
    e.involvedObject.apiVersion ?? '',
    e.type,
    e.reason,
    e.message,
  ]);

/**
 * client-go's event recorder and broadcaster in one: `event()` returns at once; a single writer correlates and writes
 * queued Events in order. Call {@link close} at shutdown. Concurrency: one writer, so correlation state needs no locks.
 */
export class KubeEventRecorder implements EventRecorder {
  readonly #o: Required<Omit<EventRecorderOptions, 'client' | 'clock' | 'logger' | 'component'>>;
  readonly #client: ApiClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #component: string;
  readonly #aggregates: Lru<{ messages: Set<string>; lastMs: number }>;
  readonly #observations: Lru<Observation>;
  readonly #spam: Lru<PassiveBucket>;
  readonly #queue: EventBody[] = [];
  readonly #stop = new AbortController();
  #writer: Promise<void> = Promise.resolve();
  #writing = false;
  #closed = false;
  // Event names are `<object>.<unix nanoseconds in hex>`; our clock has millisecond resolution, so a counter fills
  // the sub-millisecond digits and two Events in one millisecond never collide (AlreadyExists would drop one).
  #seq = 0;

  constructor(options: EventRecorderOptions) {
    this.#client = options.client;
    this.#clock = options.clock;
    this.#component = options.component;
    this.#log = options.logger.child({ eventSource: options.component });
    this.#o = {
      host: options.host ?? '',
      cacheSize: options.cacheSize ?? 4096,
      spamBurst: options.spamBurst ?? 25,
      spamQps: options.spamQps ?? 1 / 300,
      aggregateMaxEvents: options.aggregateMaxEvents ?? 10,
      aggregateIntervalMs: options.aggregateIntervalMs ?? 600_000,
      maxQueued: options.maxQueued ?? 1000,
      maxTries: options.maxTries ?? 12,
      retrySleepMs: options.retrySleepMs ?? 10_000,
      random: options.random ?? Math.random,
    };
    this.#aggregates = new Lru(this.#o.cacheSize);
    this.#observations = new Lru(this.#o.cacheSize);
    this.#spam = new Lru(this.#o.cacheSize);
  }

  /** Queues an Event about `object`. Never throws; drops the Event (debug log) when closed or the queue is full. */
  event(object: Readonly<ObjectReference>, type: 'Normal' | 'Warning', reason: string, message: string): void {
    try {
      if (this.#closed) return;
      if (object.name === undefined || object.name === '') {
        this.#log.error({ reason, object }, 'Dropped Event about an object without a name');
        return;
      }
      if (this.#queue.length >= this.#o.maxQueued) {
        this.#log.warn(
          { reason, object: { kind: object.kind, namespace: object.namespace, name: object.name } },
          'Dropped Event: queue full',
        );
        return;
      }
      this.#queue.push(this.#makeEvent(object, type, reason, message));
      if (!this.#writing) {
        this.#writing = true;
        this.#writer = this.#drain();
      }
    } catch (err) {
      this.#log.error({ err }, 'Failed to queue Event');
    }
  }

  /** Resolves once every queued Event has been written or given up on. For tests and orderly shutdown. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writer;
  }

  /** Stops intake, cancels retries and in-flight writes, and waits for the writer to stop. Queued Events are dropped. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    this.#stop.abort();
    await this.flush();
  }

  #makeEvent(ref: Readonly<ObjectReference>, type: string, reason: string, message: string): EventBody {
    const now = this.#clock.now();
    const nanos = BigInt(Math.floor(now)) * 1_000_000n + BigInt(this.#seq++ % 1_000_000);
    const time = formatEventTime(now);
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${ref.name}.${nanos.toString(16)}`, namespace: ref.namespace || 'default' },
      involvedObject: { ...ref },
      reason,
      message,
      type,
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
      source: this.#o.host === '' ? { component: this.#component } : { component: this.#component, host: this.#o.host },
    };
  }

  // The writing flag is cleared in the same synchronous step that finds the queue empty, so an Event queued right
  // after can never be stranded behind a writer that is about to finish.
  async #drain(): Promise<void> {
    try {
      for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
        if (this.#stop.signal.aborted) return;
        try {
          const correlated = this.#correlate(next);
          if (correlated !== undefined) await this.#write(correlated);
        } catch (err) {
          this.#log.error({ err, reason: next.reason }, 'Failed to write Event');
        }
      }
    } finally {
      this.#writing = false;
    }
  }

  // Aggregate, then observe, then filter: client-go's order, so a filtered repeat still advances the count that the
  // next accepted repeat writes.
  #correlate(incoming: EventBody): Correlated | undefined {
    const now = this.#clock.now();
    let event = incoming;
    let key = eventKey(incoming);

    const aggKey = aggregateKey(incoming);
    let agg = this.#aggregates.get(aggKey);
    if (agg === undefined || now - agg.lastMs > this.#o.aggregateIntervalMs) agg = { messages: new Set(), lastMs: now };
    agg.messages.add(incoming.message);
    agg.lastMs = now;
    this.#aggregates.set(aggKey, agg);
    if (agg.messages.size >= this.#o.aggregateMaxEvents) {
      event = { ...incoming, message: `(combined from similar events): ${incoming.message}` };
      key = aggKey;
    }

    const last = this.#observations.get(key);
    let patch: Correlated['patch'];
    if (last !== undefined) {
      event = {
        ...event,
        metadata: { ...event.metadata, name: last.name },
        firstTimestamp: last.firstTimestamp,
        count: last.count + 1,
      };
      patch = { count: event.count, lastTimestamp: event.lastTimestamp, message: event.message };
    }
    this.#observations.set(key, { count: event.count, firstTimestamp: event.firstTimestamp, name: event.metadata.name });

    const sKey = spamKey(event);
    let bucket = this.#spam.get(sKey);
    if (bucket === undefined) bucket = new PassiveBucket(this.#o.spamBurst, now);
    const accepted = bucket.tryAccept(now, this.#o.spamQps, this.#o.spamBurst);
    this.#spam.set(sKey, bucket);
    if (!accepted) {
      this.#log.debug({ reason: event.reason, object: event.involvedObject.name }, 'Dropped Event: spam filter');
      return undefined;
    }
    return { event, key, patch };
  }

  async #write(c: Correlated): Promise<void> {
    const signal = this.#stop.signal;
    const { namespace, name } = c.event.metadata;
    for (let tries = 1; ; tries++) {
      try {
        let written: unknown;
        let created = c.patch === undefined;
        if (c.patch !== undefined) {
          try {
            written = await this.#client.patch(EVENTS, namespace, name, c.patch, 'strategic', { signal });
          } catch (err) {
            // The Event expired on the server (default TTL 1 h): write it anew, keeping the count.
            if (!isNotFound(err)) throw err;
            created = true;
          }
        }
        if (created) written = await this.#client.create(EVENTS, namespace, c.event, { signal });
        const parsed = eventResponseSchema.safeParse(written);
        if (parsed.success) {
          this.#observations.set(c.key, {
            count: parsed.data.count ?? c.event.count,
            firstTimestamp: parsed.data.firstTimestamp ?? c.event.firstTimestamp,
            name: parsed.data.metadata.name,
          });
        }
        return;
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ApiError) {
          // The server answered: retrying the same request cannot help (client-go gives up too).
          const quiet = isAlreadyExists(err) || isNamespaceTerminating(err);
          this.#log[quiet ? 'debug' : 'error']({ err: describeError(err), reason: c.event.reason, event: name }, 'Server rejected Event');
          return;
        }
        if (tries >= this.#o.maxTries) {
          this.#log.error(
            { err: describeError(err), reason: c.event.reason, event: name, tries },
            'Failed to write Event: retry limit exceeded',
          );
          return;
        }
        this.#log.debug({ err: describeError(err), reason: c.event.reason, event: name }, 'Failed to write Event; retrying');
        const sleep = tries === 1 ? this.#o.retrySleepMs * this.#o.random() : this.#o.retrySleepMs;
        try {
          await this.#clock.sleep(sleep, signal);
        } catch {
          return;
        }
      }
    }
  }
}
