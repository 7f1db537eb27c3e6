// Apply failures of the Service reconciler, kept in memory for the policy status ("Failed" with the message). Not
// persisted: after a restart the Service is retried and fails again if the cause remains.

/** Why applying a policy to one Service failed. */
export interface ApplyFailure {
  /** The policy that governs the Service. */
  readonly policy: string;
  readonly message: string;
}

/**
 * Failures by Service key (`namespace/name`). Written by the Service reconciler, read by the status reconciler; both
 * run on the one JavaScript thread, so no locking is needed.
 */
export class ApplyFailures {
  readonly #byService = new Map<string, ApplyFailure>();

  /** Records a failure; returns the failure it replaced, if any. */
  set(serviceKey: string, failure: ApplyFailure): ApplyFailure | undefined {
    const old = this.#byService.get(serviceKey);
    this.#byService.set(serviceKey, failure);
    return old;
  }

  /** Forgets the Service's failure; returns it, if there was one. */
  delete(serviceKey: string): ApplyFailure | undefined {
    const old = this.#byService.get(serviceKey);
    this.#byService.delete(serviceKey);
    return old;
  }

  get(serviceKey: string): ApplyFailure | undefined {
    return this.#byService.get(serviceKey);
  }
}
