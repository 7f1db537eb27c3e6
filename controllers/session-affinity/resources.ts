import { SESSION_AFFINITY_POLICIES_RESOURCE } from '../../api/v1alpha1/group-version.ts';
import type { ResourceType } from '../runtime/resource.ts';

// The REST descriptor of the SessionAffinityPolicy CRD, typed for the runtime (api/ declares it without importing the
// runtime, so it is only structurally a ResourceType there).

/** `sessionaffinitypolicies.kube-endpoints-operator.io/v1alpha1`, namespaced. */
export const SESSION_AFFINITY_POLICIES: ResourceType = SESSION_AFFINITY_POLICIES_RESOURCE;
