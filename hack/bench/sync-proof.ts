import { Agent, fetch } from 'undici';
import { parsePrometheusText } from './apiserver-metrics.ts';
import type { Implementation } from './bench-config.ts';

// Proof that a (re)started controller has finished a full sync, read from its own metrics rather than assumed after a
// sleep. Both implementations expose client-go's workqueue metrics (kube-controller-manager from its secure port,
// with /metrics added to --authorization-always-allow-paths; the operator from its metrics server): a full sync is
// every Service added to each writing controller's queue at least once since the start (workqueue_adds_total counts
// distinct adds), every added key processed (workqueue_work_duration_seconds_count, observed when a worker is done
// with a key, at least the adds) and nothing waiting (workqueue_depth 0). The unfinished-work gauges are not used:
// both implementations refresh them only every 500 ms, so a key just taken by a worker can read as idle.
// Parsing is pure (the Prometheus text parser is apiserver-metrics.ts'); only scrapeMetrics does I/O.

/** The work queues of the controllers that write, per implementation (client-go queue names upstream). */
export const SYNC_QUEUES: Readonly<Record<Implementation, readonly string[]>> = {
  'kube-controller-manager': ['endpoint', 'endpoint_slice'],
  'kube-endpoints-operator': ['endpoints-controller', 'endpointslice-controller'],
  'kube-endpoints-operator-uncapped': ['endpoints-controller', 'endpointslice-controller'],
};

/** Where each writing queue stands. */
export interface QueueProgress {
  readonly queue: string;
  readonly adds: number;
  /** Keys a worker has finished with. */
  readonly done: number;
  readonly depth: number;
  /**
   * workqueue_retries_total: every delayed add, as client-go counts it (Pod events queued with the batch period, and
   * syncs retried with backoff: failed, or refused because the cache was older than the controller's own write).
   */
  readonly retries: number;
}

/** The progress of `queues` in a metrics text; a queue without series reads as nothing added. Pure. */
export function queueProgress(text: string, queues: readonly string[]): QueueProgress[] {
  const samples = parsePrometheusText(text);
  const value = (name: string, queue: string) => samples.find((s) => s.name === name && s.labels.name === queue)?.value ?? 0;
  return queues.map((queue) => ({
    queue,
    adds: value('workqueue_adds_total', queue),
    done: value('workqueue_work_duration_seconds_count', queue),
    depth: value('workqueue_depth', queue),
    retries: value('workqueue_retries_total', queue),
  }));
}

/**
 * True when every queue has taken at least `services` keys since `baseline` (the progress before a resync; none
 * after a start), finished every key it took, and has nothing waiting. Pure.
 */
export function fullSyncDone(progress: readonly QueueProgress[], services: number, baseline: readonly QueueProgress[] = []): boolean {
  return (
    progress.length > 0 &&
    progress.every((q, i) => {
      const b = baseline[i];
      return q.adds - (b?.adds ?? 0) >= services && q.done >= q.adds && q.depth === 0;
    })
  );
}

const insecure = new Agent({ connect: { rejectUnauthorized: false } });

/** GETs a metrics endpoint (https with the component's self-signed certificate, or plain http); throws on non-200. */
export async function scrapeMetrics(url: string, signal?: AbortSignal): Promise<string> {
  const res = await fetch(url, { dispatcher: insecure, signal: signal ?? AbortSignal.timeout(5000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  return text;
}

/** Closes the scraper's connections. */
export async function closeScraper(): Promise<void> {
  await insecure.close();
}
