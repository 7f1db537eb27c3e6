// Label and annotation keys, upstream and ours. Upstream keys are part of the API contract with kube-proxy, DNS and
// kube-controller-manager; their values must match upstream byte for byte.

/** Set on EndpointSlices: the Service they belong to. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/** Set on EndpointSlices: which controller manages them. */
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
/** Set on Endpoints by the Endpoints controller. */
export const LABEL_ENDPOINTS_MANAGED_BY = 'endpoints.kubernetes.io/managed-by';
/** Set (to "") on Endpoints and EndpointSlices of headless Services. */
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
/** Endpoints carrying this label with value "true" are not mirrored to EndpointSlices. */
export const LABEL_SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';
/** Standard topology label read from Nodes. */
export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';

/** Time of the change that caused this write (RFC 3339 with nanoseconds). */
export const ANNOTATION_LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
/** Set to "truncated" (Endpoints) or "warning" (legacy) when addresses were dropped. */
export const ANNOTATION_OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';
/** Leader-election lock annotation on legacy Endpoints locks: such objects are never treated as Service endpoints. */
export const ANNOTATION_LEADER = 'control-plane.alpha.kubernetes.io/leader';

/** managed-by values, upstream. */
export const MANAGED_BY_ENDPOINTSLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
export const MANAGED_BY_MIRRORING_CONTROLLER = 'endpointslicemirroring-controller.k8s.io';
export const MANAGED_BY_ENDPOINTS_CONTROLLER = 'endpoint-controller';

/** Ours. */
export const API_GROUP = 'kube-endpoints-operator.io';
export const MANAGED_BY_EXTERNAL_ENDPOINTS = `external-endpoints.${API_GROUP}`;
