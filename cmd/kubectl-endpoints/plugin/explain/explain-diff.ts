import { type EndpointsDiff, diffEndpoints } from './endpoints-diff.ts';
import { nodeIndex } from './node-index.ts';
import { type SlicesDiff, diffSlices } from './slices-diff.ts';
import { type ExplainSettings, REPORT_API_VERSION, type ServiceSnapshot } from './snapshot.ts';

// `kubectl endpoints diff`: what the endpoint controllers would write now, computed by their own pure functions from
// the snapshot, against what is stored.

/** The diff report; its JSON form is the `-o json` output (schema documented in the README). */
export interface DiffReport {
  readonly apiVersion: typeof REPORT_API_VERSION;
  readonly kind: 'DiffReport';
  readonly service: { readonly namespace: string; readonly name: string; readonly found: boolean };
  /** True when neither controller would write anything and nothing awaits garbage collection. */
  readonly inSync: boolean;
  readonly endpoints: EndpointsDiff;
  readonly endpointSlices: SlicesDiff;
}

/** Compares the stored Endpoints and EndpointSlices of the snapshot's Service with the controllers' plans. Pure. */
export function explainDiff(snapshot: ServiceSnapshot, settings: ExplainSettings): DiffReport {
  const endpoints = diffEndpoints({
    namespace: snapshot.namespace,
    name: snapshot.name,
    service: snapshot.service,
    endpoints: snapshot.endpoints,
    pods: snapshot.pods,
    maxCapacity: settings.maxEndpointsCapacity,
    controllerFieldManagers: settings.controllerFieldManagers,
  });
  const endpointSlices = diffSlices({
    name: snapshot.name,
    service: snapshot.service,
    endpoints: snapshot.endpoints,
    pods: snapshot.pods,
    nodes: nodeIndex(snapshot.nodes),
    nodeList: snapshot.nodes.kind === 'found' ? snapshot.nodes.value : [],
    slices: snapshot.endpointSlices,
    maxEndpointsPerSlice: settings.maxEndpointsPerSlice,
    mirroringMaxEndpointsPerSubset: settings.mirroringMaxEndpointsPerSubset,
    controllerFieldManagers: settings.controllerFieldManagers,
  });
  return {
    apiVersion: REPORT_API_VERSION,
    kind: 'DiffReport',
    service: { namespace: snapshot.namespace, name: snapshot.name, found: snapshot.service !== undefined },
    inSync: endpoints.action === 'none' && endpointSlices.inSync,
    endpoints,
    endpointSlices,
  };
}

/** Exit codes of `diff`. */
export const DIFF_EXIT = { inSync: 0, different: 1, error: 2 } as const;

/**
 * 0 in sync, 1 different, 2 when the question has no answer: the plan could not be computed, or the Service does not
 * exist and nothing is stored under its name.
 */
export function diffExitCode(report: DiffReport): number {
  if (report.endpointSlices.unavailable !== undefined) return DIFF_EXIT.error;
  if (!report.service.found && report.endpoints.stored === undefined && report.endpointSlices.stored.length === 0) return DIFF_EXIT.error;
  return report.inSync ? DIFF_EXIT.inSync : DIFF_EXIT.different;
}
