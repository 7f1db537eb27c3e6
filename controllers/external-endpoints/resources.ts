import { EXTERNAL_ENDPOINTS_RESOURCE } from '../../api/v1alpha1/group-version.ts';
import type { ResourceType } from '../runtime/resource.ts';

// The REST descriptor of the ExternalEndpoints CRD, typed for the runtime (api/ declares it without importing the
// runtime, so it is only structurally a ResourceType there).

/** `externalendpoints.kube-endpoints-operator.io/v1alpha1`, namespaced. */
export const EXTERNAL_ENDPOINTS: ResourceType = EXTERNAL_ENDPOINTS_RESOURCE;

/** Secrets: read one by name, on demand, for database check credentials (see credentials.ts). */
export const SECRETS: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };
