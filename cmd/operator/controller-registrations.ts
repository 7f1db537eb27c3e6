import { setupEndpointsController } from '../../controllers/endpoints/controller.ts';
import { setupEndpointSliceController } from '../../controllers/endpointslice/controller.ts';
import { setupEndpointSliceMirroringController } from '../../controllers/endpointslice-mirroring/controller.ts';
import type { ControllerRegistry } from '../../controllers/runtime/manager-types.ts';
import type { ControllerName, OperatorConfig } from './config.ts';

// The one place that maps `--controllers` names to controller packages and flags to their options. A controller whose
// package has not landed yet has no entry: enabling it logs a warning instead of failing, so the flag's set of names
// (which mirrors the final product) can be fixed ahead of the code.

/** Registers one controller on the manager, with its options taken from the configuration. */
export type ControllerRegistration = (registry: ControllerRegistry, config: OperatorConfig) => void;

/**
 * Registration per controller name. `undefined` = not available in this build yet.
 * TODO(lead): wire `external-endpoints-controller` and `session-affinity-controller` when controllers/external-endpoints/
 * and controllers/session-affinity/ export their setup functions.
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
  'external-endpoints-controller': undefined,
  'session-affinity-controller': undefined,
};
