import { z } from 'zod';
import type { ApiClient } from '../../controllers/runtime/api-client.ts';

// The Kubernetes versions this operator is tested against: the parity suite runs against kube-controller-manager of
// the newest one (docs/adr/0004-parity-target-and-deviations.md) and still passes on the oldest. Outside this range
// the operator runs anyway (the APIs it uses are stable since v1.21), but nothing has compared it with that
// release's kube-controller-manager, so it says so once at start.

/** Oldest and newest tested minor versions of Kubernetes 1.x, inclusive. */
export const TESTED_MINORS = { oldest: 36, newest: 37 } as const;

/** What the API server's `/version` answers (apimachinery version.Info); only the fields used here. */
const versionInfoSchema = z.looseObject({ gitVersion: z.string(), major: z.string(), minor: z.string() });

export type ServerVersionCheck =
  | { readonly kind: 'tested'; readonly gitVersion: string }
  | { readonly kind: 'untested'; readonly gitVersion: string; readonly tested: string }
  | { readonly kind: 'unknown'; readonly reason: string };

/**
 * Classifies a `/version` answer. Minor versions may carry a vendor suffix ("37+" on some managed clusters); the
 * number before it decides.
 */
export function classifyServerVersion(body: unknown): ServerVersionCheck {
  const parsed = versionInfoSchema.safeParse(body);
  if (!parsed.success) return { kind: 'unknown', reason: `unexpected /version answer: ${parsed.error.issues[0]?.message ?? ''}` };
  const { gitVersion, major, minor } = parsed.data;
  const minorNumber = Number.parseInt(minor, 10);
  if (major !== '1' || !Number.isInteger(minorNumber)) return { kind: 'untested', gitVersion, tested: testedRange() };
  if (minorNumber < TESTED_MINORS.oldest || minorNumber > TESTED_MINORS.newest)
    return { kind: 'untested', gitVersion, tested: testedRange() };
  return { kind: 'tested', gitVersion };
}

const testedRange = (): string => `v1.${TESTED_MINORS.oldest}-v1.${TESTED_MINORS.newest}`;

/** Reads `/version`; an error is reported as `unknown`, never thrown: the version is information, not a gate. */
export async function checkServerVersion(client: ApiClient, signal?: AbortSignal): Promise<ServerVersionCheck> {
  try {
    return classifyServerVersion(await client.getPath('/version', signal));
  } catch (err) {
    return { kind: 'unknown', reason: err instanceof Error ? err.message : String(err) };
  }
}
