import type { ExternalEndpointsStatus } from '../../api/v1alpha1/external-endpoints.ts';
import type { CredentialsResult } from './credentials.ts';
import type { Observation } from './events.ts';
import { NameResolutions } from './name-resolutions.ts';
import type { TierState } from './tiers.ts';

// Everything the ExternalEndpoints reconciler remembers about one object between reconciles, in one record, so that
// forgetting an object is dropping its record: a field added here cannot be left behind by cleanup. Health memory
// (shared with the probe result handler), the slice tracker and metrics are kept by their owners, and cleared by
// cleanup through their own forget calls.

/** A status write we made: while the cache still shows `resourceVersionBefore`, it has not seen the write. */
export interface StatusWrite {
  readonly at: number;
  readonly resourceVersionBefore: string | undefined;
  readonly status: ExternalEndpointsStatus;
}

/** Credentials read from a Secret, with what they were read for (`fingerprint` of the reference) and when. */
export interface CredentialsMemo {
  readonly fingerprint: string;
  readonly at: number;
  readonly result: CredentialsResult;
}

/** What is remembered about one ExternalEndpoints object. */
export class ObjectMemory {
  /** Resolutions of the object's dnsNames. */
  readonly names = new NameResolutions();
  /** What Events were last emitted for (absent: the object's status says what was announced before a restart). */
  announced: Observation | undefined;
  /** The last status write, for coalescing. */
  statusWrite: StatusWrite | undefined;
  /** A foreign Endpoints object in the way of spec.publishEndpoints, and when to check it again. */
  endpointsConflict: { readonly until: number; readonly message: string } | undefined;
  /**
   * An Endpoints object this process created that the cache has not shown yet: AlreadyExists for it is our own write
   * (a stale cache), not a foreign object, which saves a GET (and the RBAC verb for it).
   */
  endpointsCreated = false;
  /** The active priority tier. */
  tier: TierState | undefined;
  /** Slow-start admission times. */
  admissions: readonly number[] | undefined;
  /** Credentials of a database health check. */
  credentials: CredentialsMemo | undefined;
}
