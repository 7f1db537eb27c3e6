import { z } from 'zod';
import type { ObjectMeta } from '../../../../api/core/meta.ts';

// Who wrote an object, from its `metadata.managedFields`. The API server records one entry per field manager (by
// default the client's user agent up to the first "/") and operation; an entry by anyone but the endpoint controllers
// is a foreign edit, which those controllers may overwrite (or, for Endpoints, keep until the next Service or Pod
// change, since they do not watch Endpoints edits).

/** One managedFields entry, without the field set. */
export interface FieldManagerEntry {
  readonly manager: string;
  readonly operation: string;
  /** When the entry last changed (RFC 3339), when the API server recorded it. */
  readonly time?: string;
  /** Set for writes through a subresource (e.g. status). */
  readonly subresource?: string;
}

const entrySchema = z.looseObject({
  manager: z.string().optional(),
  operation: z.string().optional(),
  time: z.string().optional(),
  subresource: z.string().optional(),
});

/** The object's field managers in managedFields order; entries that do not parse are skipped. */
export function fieldManagers(metadata: Readonly<ObjectMeta>): FieldManagerEntry[] {
  const out: FieldManagerEntry[] = [];
  for (const raw of metadata.managedFields ?? []) {
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success) continue;
    const e = parsed.data;
    out.push({
      manager: e.manager ?? '',
      operation: e.operation ?? '',
      ...(e.time ? { time: e.time } : {}),
      ...(e.subresource ? { subresource: e.subresource } : {}),
    });
  }
  return out;
}

/** The entries written by a manager that is not one of `controllerManagers`. */
export function foreignFieldManagers(entries: readonly FieldManagerEntry[], controllerManagers: readonly string[]): FieldManagerEntry[] {
  return entries.filter((e) => !controllerManagers.includes(e.manager));
}
