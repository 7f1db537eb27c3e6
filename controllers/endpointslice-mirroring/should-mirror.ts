import type { Endpoints, Service } from '../../api/core/v1.ts';
import { ANNOTATION_LEADER, LABEL_SKIP_MIRROR } from '../../api/labels.ts';

// Which Endpoints the mirroring controller owns slices for (endpointslicemirroring_controller.go: shouldMirror,
// utils.go: skipMirror, hasLeaderElection). Everything it does not mirror must end up with no mirrored slices, so the
// decision also says why, for logs.

/**
 * Upstream shouldMirror: false when the Endpoints object carries `endpointslice.kubernetes.io/skip-mirror: "true"`
 * (exactly; any other value mirrors) or the legacy leader-election annotation (whatever its value). It does not look at
 * the Service; see {@link mirroringDecision}.
 */
export function shouldMirror(endpoints: Readonly<Endpoints>): boolean {
  return !hasSkipMirrorLabel(endpoints) && !isLeaderElectionLock(endpoints);
}

function hasSkipMirrorLabel(endpoints: Readonly<Endpoints>): boolean {
  return endpoints.metadata.labels?.[LABEL_SKIP_MIRROR] === 'true';
}

function isLeaderElectionLock(endpoints: Readonly<Endpoints>): boolean {
  const annotations = endpoints.metadata.annotations;
  return annotations !== undefined && Object.hasOwn(annotations, ANNOTATION_LEADER);
}

/** Why an Endpoints object's mirrored slices must all be deleted. */
export type NotMirroredReason = 'EndpointsNotFound' | 'SkipMirrorLabel' | 'LeaderElectionLock' | 'ServiceNotFound' | 'ServiceHasSelector';

/** The outcome of {@link mirroringDecision}; a positive one carries the Endpoints object to mirror. */
export type MirroringDecision =
  { readonly mirror: true; readonly endpoints: Readonly<Endpoints> } | { readonly mirror: false; readonly reason: NotMirroredReason };

/**
 * The full rule, in upstream's order of checks: the Endpoints object exists and {@link shouldMirror} holds, a Service of
 * the same name exists, and that Service has no selector (`spec.selector` absent; an empty `{}` selector counts as a
 * selector). The Service type is not checked.
 */
export function mirroringDecision(endpoints: Readonly<Endpoints> | undefined, service: Readonly<Service> | undefined): MirroringDecision {
  if (endpoints === undefined) return { mirror: false, reason: 'EndpointsNotFound' };
  if (hasSkipMirrorLabel(endpoints)) return { mirror: false, reason: 'SkipMirrorLabel' };
  if (isLeaderElectionLock(endpoints)) return { mirror: false, reason: 'LeaderElectionLock' };
  if (service === undefined) return { mirror: false, reason: 'ServiceNotFound' };
  if (service.spec.selector !== undefined) return { mirror: false, reason: 'ServiceHasSelector' };
  return { mirror: true, endpoints };
}
