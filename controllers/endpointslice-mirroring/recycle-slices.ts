import type { EndpointSlice } from '../../api/discovery/v1.ts';

// Creating a slice and deleting another of the same address type is one write too many: upstream turns such pairs into
// an update of the slice that would have been deleted (reconciler_helpers.go: recycleSlices).

/** Slices to write, by operation. */
export interface SlicesByAction {
  readonly toCreate: readonly EndpointSlice[];
  readonly toUpdate: readonly EndpointSlice[];
  readonly toDelete: readonly Readonly<EndpointSlice>[];
}

function byAddressType<T extends Readonly<EndpointSlice>>(slices: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const s of slices) {
    const list = out.get(s.addressType);
    if (list === undefined) out.set(s.addressType, [s]);
    else list.push(s);
  }
  return out;
}

/**
 * Pairs creates with deletes of the same address type, index by index in list order; each pair becomes an update that
 * carries the created content under the deleted slice's name, appended after the existing updates. Address types are
 * visited in order of their first create. Unpaired creates and deletes stay.
 *
 * Upstream removes the paired create by matching names, and every create has an empty name, so with creates of two
 * address types it can drop the wrong one. That is a Go slip, not a behaviour anyone relies on; the exact create is
 * removed here.
 */
export function recycleSlices(slices: SlicesByAction): SlicesByAction {
  const deletesByType = byAddressType(slices.toDelete);
  const recycledCreates = new Set<EndpointSlice>();
  const recycledDeletes = new Set<Readonly<EndpointSlice>>();
  const recycled: EndpointSlice[] = [];
  for (const [addressType, creates] of byAddressType(slices.toCreate)) {
    const deletes = deletesByType.get(addressType) ?? [];
    for (let i = 0; i < creates.length && i < deletes.length; i++) {
      const create = creates[i];
      const victim = deletes[i];
      if (create === undefined || victim === undefined) break;
      recycledCreates.add(create);
      recycledDeletes.add(victim);
      recycled.push({ ...create, metadata: { ...create.metadata, name: victim.metadata.name ?? '' } });
    }
  }
  return {
    toCreate: slices.toCreate.filter((s) => !recycledCreates.has(s)),
    toUpdate: [...slices.toUpdate, ...recycled],
    toDelete: slices.toDelete.filter((s) => !recycledDeletes.has(s)),
  };
}
