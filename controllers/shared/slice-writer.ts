import type { Logger } from 'pino';
import { type EndpointSlice, endpointSliceSchema } from '../../api/discovery/v1.ts';
import type { ApiClient } from '../runtime/api-client.ts';
import { describeError, isConflict, isNamespaceTerminating, isNotFound } from '../runtime/api-errors.ts';
import { StaleCacheError } from '../runtime/reconcile.ts';
import { ENDPOINT_SLICES } from '../runtime/resource.ts';
import type { EndpointSliceTracker } from './endpoint-slice-tracker.ts';

// The one writer of EndpointSlices, shared by the EndpointSlice, EndpointSlice mirroring and ExternalEndpoints
// reconcilers (upstream: reconciler.go: finalize in k8s.io/endpointslice, and endpointslicemirroring reconciler.go:
// finalize, which are the same loop). Its error policy, for every caller:
//
// - Creates, then updates, then deletes, in plan order; the first failure stops the plan (nothing after it is sent).
// - Create refused because the namespace is terminating (Forbidden with cause NamespaceTerminating): every further
//   create would fail the same way and the slices go with the namespace, so the plan stops quietly
//   ('namespace-terminating', not an error), as upstream's finalize does.
// - Create AlreadyExists, update NotFound and any other API error: a failure, with upstream's message
//   (`failed to create EndpointSlice for <owner>: ...`, `failed to update <name> EndpointSlice for <owner>: ...`).
// - Update Conflict: a failure like any other (upstream), unless `conflictIsStaleCache` (see there).
// - Delete NotFound: the slice is already gone, which is what the delete wanted: success, but neither tracked as an
//   expected deletion nor reported as a change (upstream deleteEndpointSlice), unless `deleteNotFound: 'fail'`.
// - Every successful write is recorded in the EndpointSliceTracker (update / expectDeletion), then reported through
//   `onWrite` (the controllers' change metrics).
// An empty plan makes no API call.

/** The writes of one sync. */
export interface SliceWrites {
  readonly toCreate: readonly Readonly<EndpointSlice>[];
  readonly toUpdate: readonly Readonly<EndpointSlice>[];
  readonly toDelete: readonly Readonly<EndpointSlice>[];
}

/** One kind of write. */
export type SliceOperation = 'create' | 'update' | 'delete';

/** How a plan ended. */
export type SliceWriteOutcome =
  | { readonly kind: 'applied' }
  /** A create was refused because the namespace is terminating; the rest of the plan was skipped. Not an error. */
  | { readonly kind: 'namespace-terminating' }
  /** A write failed; the rest of the plan was skipped. `message` is upstream's, `cause` the API error. */
  | { readonly kind: 'failed'; readonly operation: SliceOperation; readonly message: string; readonly cause: unknown }
  /** Only with `conflictIsStaleCache`: an update met a Conflict. */
  | { readonly kind: 'stale'; readonly error: StaleCacheError };

/** What {@link applySlicePlan} writes through and how it names the owner in errors. */
export interface SliceWriterContext {
  readonly client: ApiClient;
  readonly tracker: Pick<EndpointSliceTracker, 'update' | 'expectDeletion'>;
  readonly namespace: string;
  /** The owner as errors name it: `Service ns/name`, `Endpoints ns/name`, `ExternalEndpoints ns/name`. */
  readonly owner: string;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Called after each successful write (metrics). */
  readonly onWrite?: (operation: SliceOperation, slice: Readonly<EndpointSlice>) => void;
}

/** The differences the callers need; each default is the policy above. */
export interface SliceWriterOptions {
  /**
   * Send no creates (updates and deletes still go). The EndpointSlice controller sets it while its Service is being
   * deleted, so as not to race the garbage collector (reconciler.go: finalize, `service.DeletionTimestamp == nil`).
   */
  readonly skipCreates?: boolean;
  /**
   * 'fail' makes a NotFound delete a failure. The mirroring controller's finalize treats every delete error alike
   * (endpointslicemirroring reconciler.go: finalize); default 'ignore' as the EndpointSlice controller's
   * (reconciler.go: finalize through deleteEndpointSlice).
   */
  readonly deleteNotFound?: 'ignore' | 'fail';
  /**
   * Report an update Conflict as a stale cache instead of a failure. Only the ExternalEndpoints controller sets it
   * (no upstream counterpart): its slices are ours alone, so a Conflict means the cache had not seen our own write yet.
   */
  readonly conflictIsStaleCache?: boolean;
}

/** The request body: informer copies may lack apiVersion/kind, which a PUT or POST body should carry. */
function wireBody(slice: Readonly<EndpointSlice>): EndpointSlice {
  return { ...slice, apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice' };
}

function logWrite(ctx: SliceWriterContext, message: string, slice: Readonly<EndpointSlice>): void {
  ctx.logger.debug(
    { endpointSlice: slice.metadata.name, addressType: slice.addressType, endpoints: slice.endpoints?.length ?? 0 },
    message,
  );
}

/** Applies one sync's writes under the policy above. Never throws for an API error: the outcome says what happened. */
export async function applySlicePlan(
  ctx: SliceWriterContext,
  plan: SliceWrites,
  options: SliceWriterOptions = {},
): Promise<SliceWriteOutcome> {
  const { client, tracker, namespace, owner, signal } = ctx;
  if (options.skipCreates !== true) {
    for (const slice of plan.toCreate) {
      let created: EndpointSlice;
      try {
        created = endpointSliceSchema.parse(await client.create(ENDPOINT_SLICES, namespace, wireBody(slice), { signal }));
      } catch (err) {
        if (isNamespaceTerminating(err)) {
          ctx.logger.debug({ err: describeError(err) }, 'Skipped EndpointSlice writes in terminating namespace');
          return { kind: 'namespace-terminating' };
        }
        return {
          kind: 'failed',
          operation: 'create',
          message: `failed to create EndpointSlice for ${owner}: ${describeError(err).message}`,
          cause: err,
        };
      }
      tracker.update(created);
      ctx.onWrite?.('create', created);
      logWrite(ctx, 'Created EndpointSlice', created);
    }
  }
  for (const slice of plan.toUpdate) {
    const name = slice.metadata.name ?? '';
    let updated: EndpointSlice;
    try {
      updated = endpointSliceSchema.parse(await client.update(ENDPOINT_SLICES, namespace, name, wireBody(slice), { signal }));
    } catch (err) {
      if (options.conflictIsStaleCache === true && isConflict(err)) {
        return {
          kind: 'stale',
          error: new StaleCacheError(`EndpointSlice ${namespace}/${name} changed since it was cached`, { cause: err }),
        };
      }
      return {
        kind: 'failed',
        operation: 'update',
        message: `failed to update ${name} EndpointSlice for ${owner}: ${describeError(err).message}`,
        cause: err,
      };
    }
    tracker.update(updated);
    ctx.onWrite?.('update', updated);
    logWrite(ctx, 'Updated EndpointSlice', updated);
  }
  for (const slice of plan.toDelete) {
    const name = slice.metadata.name ?? '';
    try {
      await client.delete(ENDPOINT_SLICES, namespace, name, { signal });
    } catch (err) {
      if (isNotFound(err) && options.deleteNotFound !== 'fail') continue;
      return {
        kind: 'failed',
        operation: 'delete',
        message: `failed to delete ${name} EndpointSlice for ${owner}: ${describeError(err).message}`,
        cause: err,
      };
    }
    tracker.expectDeletion(slice);
    ctx.onWrite?.('delete', slice);
    logWrite(ctx, 'Deleted EndpointSlice', slice);
  }
  return { kind: 'applied' };
}
