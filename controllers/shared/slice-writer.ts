import { type EndpointSlice, endpointSliceSchema } from '../../api/discovery/v1.ts';
import type { ApiClient } from '../runtime/api-client.ts';
import { describeError, isConflict, isNamespaceTerminating, isNotFound } from '../runtime/api-errors.ts';
import { type ReconcileContext, StaleCacheError } from '../runtime/reconcile.ts';
import { ENDPOINT_SLICES } from '../runtime/resource.ts';
import type { EndpointSliceTracker } from './endpoint-slice-tracker.ts';

// The one writer of EndpointSlices, shared by the EndpointSlice, EndpointSlice mirroring and ExternalEndpoints
// reconcilers (upstream: reconciler.go: finalize in k8s.io/endpointslice, and endpointslicemirroring reconciler.go:
// finalize, which are the same loop). Its error policy, for every caller:
//
// - Creates, then updates, then deletes, in plan order; the first failure stops the plan (nothing after it is sent).
// - Create refused because the namespace is terminating (403 Forbidden with cause NamespaceTerminating, "unable to create
//   new content in namespace ... because it is being terminated"; see isNamespaceTerminating): every further
//   create would fail the same way and the slices go with the namespace, so the plan stops quietly
//   ('namespace-terminating', not an error), as upstream's finalize does.
// - Create AlreadyExists, update NotFound and any other API error: a failure, with upstream's message
//   (`failed to create EndpointSlice for <owner>: ...`, `failed to update <name> EndpointSlice for <owner>: ...`).
// - Update Conflict: a failure like any other (upstream), unless `conflictIsStaleCache` (see there).
// - Delete NotFound: the slice is already gone, which is what the delete wanted: success, but neither tracked as an
//   expected deletion nor reported as a change (upstream deleteEndpointSlice), unless `deleteNotFound: 'fail'`.
// - Every successful write is recorded in the EndpointSliceTracker (update / expectDeletion), then reported through
//   `onWrite` (the controllers' change metrics).
// An empty plan makes no API call. The writer never retries: a failure ends the caller's sync, which the controller
// retries with backoff (endpointslice_controller.go: syncService reports it as a FailedToUpdateEndpointSlices Event,
// handleErr requeues), and the tracker makes the retry wait for a cache that shows our writes (endpointslice_tracker.go:
// StaleSlices).

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
export interface SliceWriterContext extends Pick<ReconcileContext, 'signal' | 'logger'> {
  readonly client: ApiClient;
  readonly tracker: Pick<EndpointSliceTracker, 'update' | 'expectDeletion'>;
  readonly namespace: string;
  /** The owner as errors name it: `Service ns/name`, `Endpoints ns/name`, `ExternalEndpoints ns/name`. */
  readonly owner: string;
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

const PAST: Record<SliceOperation, string> = { create: 'Created', update: 'Updated', delete: 'Deleted' };

/** Records a successful write: tracker, `onWrite`, debug log. */
function written(ctx: SliceWriterContext, operation: SliceOperation, slice: Readonly<EndpointSlice>): void {
  if (operation === 'delete') ctx.tracker.expectDeletion(slice);
  else ctx.tracker.update(slice);
  ctx.onWrite?.(operation, slice);
  ctx.logger.debug(
    { endpointSlice: slice.metadata.name, addressType: slice.addressType, endpoints: slice.endpoints?.length ?? 0 },
    `${PAST[operation]} EndpointSlice`,
  );
}

/** Upstream's message for a failed write: `failed to create EndpointSlice for <owner>: ...`, `failed to update <name> ...`. */
function failed(ctx: SliceWriterContext, operation: SliceOperation, slice: Readonly<EndpointSlice>, err: unknown): SliceWriteOutcome {
  const what = operation === 'create' ? 'EndpointSlice' : `${slice.metadata.name ?? ''} EndpointSlice`;
  return {
    kind: 'failed',
    operation,
    message: `failed to ${operation} ${what} for ${ctx.owner}: ${describeError(err).message}`,
    cause: err,
  };
}

/** Sends one create or update; returns the API server's answer. */
async function send(ctx: SliceWriterContext, operation: 'create' | 'update', slice: Readonly<EndpointSlice>): Promise<EndpointSlice> {
  const { client, namespace, signal } = ctx;
  const body = wireBody(slice);
  const answer =
    operation === 'create'
      ? await client.create(ENDPOINT_SLICES, namespace, body, { signal })
      : await client.update(ENDPOINT_SLICES, namespace, slice.metadata.name ?? '', body, { signal });
  return endpointSliceSchema.parse(answer);
}

/** Applies one sync's writes under the policy above. Never throws for an API error: the outcome says what happened. */
export async function applySlicePlan(
  ctx: SliceWriterContext,
  plan: SliceWrites,
  options: SliceWriterOptions = {},
): Promise<SliceWriteOutcome> {
  const writes: ['create' | 'update', Readonly<EndpointSlice>][] = [
    ...(options.skipCreates === true ? [] : plan.toCreate.map((s) => ['create', s] as ['create', Readonly<EndpointSlice>])),
    ...plan.toUpdate.map((s) => ['update', s] as ['update', Readonly<EndpointSlice>]),
  ];
  for (const [operation, slice] of writes) {
    let answer: EndpointSlice;
    try {
      answer = await send(ctx, operation, slice);
    } catch (err) {
      if (operation === 'create' && isNamespaceTerminating(err)) {
        ctx.logger.debug({ err: describeError(err) }, 'Skipped EndpointSlice writes in terminating namespace');
        return { kind: 'namespace-terminating' };
      }
      if (operation === 'update' && options.conflictIsStaleCache === true && isConflict(err)) {
        const name = `${ctx.namespace}/${slice.metadata.name ?? ''}`;
        return { kind: 'stale', error: new StaleCacheError(`EndpointSlice ${name} changed since it was cached`, { cause: err }) };
      }
      return failed(ctx, operation, slice, err);
    }
    written(ctx, operation, answer);
  }
  for (const slice of plan.toDelete) {
    try {
      await ctx.client.delete(ENDPOINT_SLICES, ctx.namespace, slice.metadata.name ?? '', { signal: ctx.signal });
    } catch (err) {
      if (isNotFound(err) && options.deleteNotFound !== 'fail') continue;
      return failed(ctx, 'delete', slice, err);
    }
    written(ctx, 'delete', slice);
  }
  return { kind: 'applied' };
}

/**
 * {@link applySlicePlan} for a caller that ends its sync at a failure: throws the stale-cache error, or the failure
 * wrapped by `toError` (the controller's own error class, `cause` the API error). Returns how the plan ended otherwise.
 */
export async function applySlicePlanOrThrow(
  ctx: SliceWriterContext,
  plan: SliceWrites,
  options: SliceWriterOptions,
  toError: (message: string, options: { cause: unknown }) => Error,
): Promise<'applied' | 'namespace-terminating'> {
  const outcome = await applySlicePlan(ctx, plan, options);
  if (outcome.kind === 'failed') throw toError(outcome.message, { cause: outcome.cause });
  if (outcome.kind === 'stale') throw outcome.error;
  return outcome.kind;
}
