import { setupEndpointsController } from '../../controllers/endpoints/controller.ts';
import { setupEndpointSliceController } from '../../controllers/endpointslice/controller.ts';
import { setupEndpointSliceMirroringController } from '../../controllers/endpointslice-mirroring/controller.ts';
import { setupExternalEndpointsController } from '../../controllers/external-endpoints/controller.ts';
import { EXTERNAL_ENDPOINTS_RESOURCE, SESSION_AFFINITY_POLICIES_RESOURCE } from '../../api/v1alpha1/group-version.ts';
import type { ControllerRegistry } from '../../controllers/runtime/manager-types.ts';
import type { ResourceType } from '../../controllers/runtime/resource.ts';
import { setupSessionAffinityController } from '../../controllers/session-affinity/controller.ts';
import type { ControllerName, OperatorConfig } from './config.ts';

// The one place that maps `--controllers` names to controller packages and flags to their options. A controller whose
// package has not landed yet has no entry: enabling it logs a warning instead of failing, so the flag's set of names
// (which mirrors the final product) can be fixed ahead of the code.

/** Registers one controller on the manager, with its options taken from the configuration. */
export type ControllerRegistration = (registry: ControllerRegistry, config: OperatorConfig) => void;

/**
 * Custom resources a controller watches. A controller whose CRD is not installed is skipped with a warning naming the
 * install command: its informer could never sync, and the manager waits for every informer before any controller runs.
 */
export const CONTROLLER_REQUIRES: Readonly<Partial<Record<ControllerName, readonly ResourceType[]>>> = {
  'external-endpoints-controller': [EXTERNAL_ENDPOINTS_RESOURCE],
  'session-affinity-controller': [SESSION_AFFINITY_POLICIES_RESOURCE],
};

/**
 * Registration per controller name. `undefined` = not available in this build yet.
 */
export const CONTROLLER_REGISTRATIONS: Readonly<Record<ControllerName, ControllerRegistration | undefined>> = {
  'endpoints-controller': (registry, config) => {
    setupEndpointsController(registry, {
      workers: config.endpoints.concurrentSyncs,
      batchPeriodMs: config.endpoints.updatesBatchPeriodMs,
    });
  },
  'endpointslice-controller': (registry, config) => {
    setupEndpointSliceController(registry, {
      workers: config.endpointSlice.concurrentSyncs,
      batchPeriodMs: config.endpointSlice.updatesBatchPeriodMs,
      maxEndpointsPerSlice: config.endpointSlice.maxEndpointsPerSlice,
    });
  },
  'endpointslice-mirroring-controller': (registry, config) => {
    setupEndpointSliceMirroringController(registry, {
      workers: config.endpointSliceMirroring.concurrentSyncs,
      batchPeriodMs: config.endpointSliceMirroring.updatesBatchPeriodMs,
      maxEndpointsPerSubset: config.endpointSliceMirroring.maxEndpointsPerSubset,
    });
  },
  'external-endpoints-controller': (registry, config) => {
    setupExternalEndpointsController(registry, {
      maxEndpointsPerSlice: config.endpointSlice.maxEndpointsPerSlice,
      probeAllowedCIDRs: config.externalEndpoints.probeAllowedCIDRs,
      probeDeniedCIDRs: config.externalEndpoints.probeDeniedCIDRs,
      probeConcurrency: config.externalEndpoints.probeConcurrency,
    });
  },
  'session-affinity-controller': (registry) => {
    setupSessionAffinityController(registry);
  },
};
