import type { Runnable } from '../manager-types.ts';

// controller-runtime's runnable groups (manager/runnable_group.go: runnables): the manager's long-running parts
// sorted by what they need before they may start. Each group starts its members in registration order, knows which
// of them are ready, and has its own stop signal, so the manager starts groups in a declared order and stops them in
// the reverse one.

/** The groups, in start order (stop order is the reverse). */
export const RUNNABLE_GROUPS = ['servers', 'others', 'caches', 'leader-election'] as const;
export type RunnableGroupName = (typeof RUNNABLE_GROUPS)[number];

/** A {@link Runnable} as a group runs it: with optional readiness, a start hook and a graceful drain. */
export interface GroupMember extends Runnable {
  /**
   * Runs once before any member of the group starts, in registration order (a controller's `onStart`); a rejection
   * stops the manager.
   */
  prepare?(signal: AbortSignal): Promise<void>;
  /** Resolves true once the member can do its job (a cache synced, a server listening). Default: ready once started. */
  waitReady?(signal: AbortSignal): Promise<boolean>;
  /** The graceful part of a stop: take no new work and resolve once in-flight work is done. */
  drain?(): Promise<void>;
}

/** Resolves when `signal` aborts. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** One group: its members, their readiness and the signal that stops them. Not restartable. */
export class RunnableGroup {
  readonly name: RunnableGroupName;
  readonly #members: GroupMember[] = [];
  readonly #ready = new Set<GroupMember>();
  readonly #running: Promise<void>[] = [];
  readonly #stop = new AbortController();
  #started = false;
  #draining = false;

  constructor(name: RunnableGroupName) {
    this.name = name;
  }

  /** Adds a member; throws once the group has started. */
  add(member: GroupMember): void {
    if (this.#started) throw new Error(`runnable ${member.name} added to the ${this.name} group after it started`);
    this.#members.push(member);
  }

  /** Member names, in registration (start) order. */
  names(): string[] {
    return this.#members.map((m) => m.name);
  }

  /** Names of the members not ready yet (all of them before the group starts). */
  pending(): string[] {
    return this.#members.filter((m) => !this.#ready.has(m)).map((m) => m.name);
  }

  /** True once {@link start} returned true. */
  get ready(): boolean {
    return this.#started && this.pending().length === 0;
  }

  /** Aborts when the group is stopped. */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  /**
   * Runs every `prepare` in order, then starts every member in order and waits until each is ready. Resolves true
   * once all are ready; false when the group was stopped or drained first (then no member starts after its hooks), a
   * hook failed or a member ended before it was ready.
   * A failing hook or member is reported through `onFailure` (unless the group is stopping), never thrown.
   */
  async start(onFailure: (error: unknown, member: GroupMember) => void): Promise<boolean> {
    if (this.#started) throw new Error(`runnable group ${this.name} started twice`);
    this.#started = true;
    const signal = this.#stop.signal;
    for (const m of this.#members) {
      if (m.prepare === undefined) continue;
      try {
        await m.prepare(signal);
      } catch (error) {
        if (!signal.aborted) onFailure(error, m);
        return false;
      }
      if (signal.aborted || this.#draining) return false;
    }
    const readiness = this.#members.map((m) => {
      const running = m.start(signal);
      this.#running.push(
        running.catch((error: unknown) => {
          if (!signal.aborted) onFailure(error, m);
        }),
      );
      const ended = running.then(
        () => false,
        () => false,
      );
      return Promise.race([m.waitReady?.(signal) ?? Promise.resolve(true), ended]).then((ok) => {
        if (ok && !signal.aborted) this.#ready.add(m);
        return ok;
      });
    });
    const ready = await Promise.all(readiness);
    return !signal.aborted && ready.every(Boolean);
  }

  /** The graceful part of a stop: every member's drain, at once; members not started yet never will be. */
  async drain(): Promise<void> {
    this.#draining = true;
    await Promise.all(this.#members.map((m) => m.drain?.()));
  }

  /** Aborts the group's signal with `reason` (once; later calls are no-ops). */
  stop(reason: Error): void {
    if (!this.#stop.signal.aborted) this.#stop.abort(reason);
  }

  /** Settles once every started member has returned. */
  async stopped(): Promise<void> {
    await Promise.allSettled(this.#running);
  }
}
