import { endpointsSchema, serviceSchema } from '../../../../api/core/v1.ts';
import { endpointSliceSchema } from '../../../../api/discovery/v1.ts';
import { LABEL_SERVICE_NAME } from '../../../../api/labels.ts';
import type { ApiClient } from '../../../../controllers/runtime/api-client.ts';
import { describeError } from '../../../../controllers/runtime/api-errors.ts';
import type { Clock } from '../../../../controllers/runtime/clock.ts';
import { ENDPOINT_SLICES, ENDPOINTS, PODS, type ResourceType, SERVICES } from '../../../../controllers/runtime/resource.ts';
import { Watcher, type WatcherEvent, type WatcherNotice } from '../../../../controllers/runtime/watch/watcher.ts';
import { podDetailSchema } from '../explain/snapshot.ts';
import { type ChangeLine, ChangeTracker, type Observed, type WatchedKind } from './change-tracker.ts';

// The I/O of `why SERVICE --watch`: four list+watch loops (the repo's Watcher, which resumes, relists and backs off on
// its own) over the Service's Pods (its namespace), the Service and its Endpoints (by name) and its EndpointSlices (by
// the service-name label). Their events go, in arrival order, through one ChangeTracker; each resulting line is
// emitted at once. Ends when `signal` aborts: every watch request is cancelled and the loops return.

/** Where the lines go. */
export interface WatchOutput {
  /** A change, or the summary once every collection is listed. */
  line(line: ChangeLine): void;
  /** A watch that is failing and being retried (forbidden, network). */
  warning(text: string): void;
}

interface Source<T> {
  readonly kind: WatchedKind;
  readonly resource: ResourceType;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly decode: (raw: Readonly<Record<string, unknown>>) => T | undefined;
}

function decoder<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }) {
  return (raw: Readonly<Record<string, unknown>>): T | undefined => {
    const r = schema.safeParse(raw);
    return r.success ? r.data : undefined;
  };
}

function observed(kind: WatchedKind, e: WatcherEvent<unknown>): Observed {
  // The decode of each source gives the type its kind expects.
  return (e.type === 'replace' ? { kind, type: 'replace', objects: e.objects } : { kind, type: e.type, obj: e.obj }) as Observed;
}

/** Watches `namespace/name` until `signal` aborts. Resolves when every watch has stopped. */
export async function runWatch(
  client: ApiClient,
  namespace: string,
  name: string,
  clock: Clock,
  out: WatchOutput,
  signal: AbortSignal,
): Promise<void> {
  const tracker = new ChangeTracker(name);
  const byName = `metadata.name=${name}`;
  const sources: Source<unknown>[] = [
    { kind: 'service', resource: SERVICES, fieldSelector: byName, decode: decoder(serviceSchema) },
    { kind: 'pod', resource: PODS, decode: decoder(podDetailSchema) },
    { kind: 'slice', resource: ENDPOINT_SLICES, labelSelector: `${LABEL_SERVICE_NAME}=${name}`, decode: decoder(endpointSliceSchema) },
    { kind: 'endpoints', resource: ENDPOINTS, fieldSelector: byName, decode: decoder(endpointsSchema) },
  ];
  let announced = false;
  const observe = (kind: WatchedKind) => (n: WatcherNotice) => {
    if (n.kind === 'retrying') out.warning(`watching ${kind}s: ${describeError(n.error).message}; retrying in ${n.delayMs} ms`);
  };
  await Promise.all(
    sources.map(async (s) => {
      const watcher = new Watcher(client, {
        resource: s.resource,
        namespace,
        ...(s.labelSelector !== undefined ? { labelSelector: s.labelSelector } : {}),
        ...(s.fieldSelector !== undefined ? { fieldSelector: s.fieldSelector } : {}),
        decode: s.decode,
        clock,
        observe: observe(s.kind),
      });
      for await (const e of watcher.run(signal)) {
        const at = clock.now();
        for (const line of tracker.observe(observed(s.kind, e), at)) out.line(line);
        if (!announced && tracker.synced) {
          announced = true;
          out.line(tracker.summary(at));
        }
      }
    }),
  );
}
