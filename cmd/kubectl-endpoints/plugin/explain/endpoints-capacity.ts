import type { Pod, Service } from '../../../../api/core/v1.ts';
import { desiredSubsets } from '../../../../controllers/endpoints/desired.ts';
import { countAddresses, truncateSubsets } from '../../../../controllers/endpoints/truncate.ts';

// Which Pods the Endpoints controller's address cap leaves out of the v1 Endpoints object. EndpointSlices have no such
// cap (they split), so this only affects consumers of the deprecated Endpoints API.

/** The cap's effect on one Service. */
export interface EndpointsCapacity {
  /** Addresses the Endpoints object would hold without the cap. */
  readonly addresses: number;
  /** Addresses it holds after truncation. */
  readonly kept: number;
  /** Names of the Pods whose address was dropped. */
  readonly droppedPods: ReadonlySet<string>;
}

function podNames(subsets: ReturnType<typeof desiredSubsets>['subsets']): Set<string> {
  const names = new Set<string>();
  for (const s of subsets) {
    for (const a of [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]) if (a.targetRef?.name) names.add(a.targetRef.name);
  }
  return names;
}

/** Runs the Endpoints controller's desired-subsets and truncation on the selected Pods. Pure. */
export function endpointsCapacity(
  service: Readonly<Service>,
  selectedPods: readonly Readonly<Pod>[],
  maxCapacity: number,
): EndpointsCapacity {
  const { subsets } = desiredSubsets(service, selectedPods);
  const truncated = truncateSubsets(subsets, maxCapacity);
  const addresses = countAddresses(subsets);
  if (!truncated.truncated) return { addresses, kept: addresses, droppedPods: new Set() };
  const kept = podNames(truncated.subsets);
  const droppedPods = new Set([...podNames(subsets)].filter((n) => !kept.has(n)));
  return { addresses, kept: countAddresses(truncated.subsets), droppedPods };
}
