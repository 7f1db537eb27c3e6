import type { Clock } from '../../runtime/clock.ts';
import { initialProbeState, nextProbeState, type ProbeState, probeTarget, probeTiming } from './container-probe.ts';
import type { ContainerEngine, RuntimeContainerPhase, RuntimeContainerState, RuntimePodState, Sandbox } from './container-runtime.ts';
import { restartDelayMs, shouldRestart } from './restart-backoff.ts';
import type { SimContainer, SimPod, SimProbe } from './simulated-objects.ts';

// One worker per Pod whose containers really run (pkg/kubelet/pod_workers.go plays this part upstream): it creates the
// sandbox, runs each container (restarting it per restartPolicy with the crash-loop backoff), runs its probes, and on
// termination sends SIGTERM, then SIGKILL when the grace period is over, and removes everything. It never writes to
// the API: it calls `onChange(key)` and the kubelet reconciler reads `state()` and writes the status.

/** What {@link PodWorkers} works with. */
export interface PodWorkersDeps {
  readonly engine: ContainerEngine;
  readonly clock: Clock;
  /** Called with the Pod key whenever a state the status shows changed. */
  readonly onChange: (key: string) => void;
  /** Receives one line per failure the status cannot show in full (a sandbox that could not be created, ...). */
  readonly onError?: (key: string, message: string) => void;
}

/** The Pod workers of one simulator, by Pod key. */
export class PodWorkers {
  readonly #d: PodWorkersDeps;
  readonly #workers = new Map<string, PodWorker>();

  constructor(deps: PodWorkersDeps) {
    this.#d = deps;
  }

  /** Whether the Pod's containers run for real: it has containers and the engine runs every one of their images. */
  handles(pod: Readonly<SimPod>): boolean {
    return (
      pod.spec.containers.length > 0 &&
      (pod.spec.initContainers ?? []).length === 0 &&
      pod.spec.containers.every((c) => this.#d.engine.handles(c.image ?? ''))
    );
  }

  /** The Pod's state, when a worker for this incarnation (`uid`) exists. */
  state(key: string, uid: string): RuntimePodState | undefined {
    const worker = this.#workers.get(key);
    return worker?.uid === uid ? worker.state() : undefined;
  }

  /**
   * Makes sure a worker runs this incarnation of the Pod (idempotent). A worker of an older incarnation of the same
   * name is killed at once first; this one then starts once that one is gone.
   */
  ensure(key: string, pod: Readonly<SimPod>, podIP: string): void {
    const existing = this.#workers.get(key);
    if (existing?.uid === pod.metadata.uid) return;
    if (existing !== undefined) {
      existing.terminate(0);
      void existing.removed.then(() => {
        if (this.#workers.get(key) === existing) this.#workers.delete(key);
        this.#d.onChange(key);
      });
      return;
    }
    const worker = new PodWorker(key, pod, this.#d);
    this.#workers.set(key, worker);
    worker.start(podIP);
  }

  /** Starts terminating the Pod's worker (idempotent); `state().removed` turns true when all is gone. */
  terminate(key: string, uid: string | undefined, graceMs: number): void {
    const worker = this.#workers.get(key);
    if (worker !== undefined && (uid === undefined || worker.uid === uid)) worker.terminate(graceMs);
  }

  /** Forgets a removed worker (after its Pod object was deleted); `uid` undefined: whichever incarnation. */
  forget(key: string, uid: string | undefined): void {
    const worker = this.#workers.get(key);
    if (worker !== undefined && (uid === undefined || worker.uid === uid) && worker.state().removed) this.#workers.delete(key);
  }

  /** Keys of the Pods with a worker. */
  keys(): string[] {
    return [...this.#workers.keys()];
  }

  /** Terminates every worker with `graceMs` and resolves once all are removed (the simulator's shutdown). */
  async stopAll(graceMs: number): Promise<void> {
    const all = [...this.#workers.values()];
    for (const w of all) w.terminate(graceMs);
    await Promise.all(all.map((w) => w.removed));
    this.#workers.clear();
  }
}

interface ContainerSlot {
  readonly spec: Readonly<SimContainer>;
  phase: RuntimeContainerPhase;
  lastTermination: Extract<RuntimeContainerPhase, { kind: 'terminated' }> | undefined;
  ready: boolean;
  restartCount: number;
  containerID: string;
  imageID: string;
  logPath: string | undefined;
  /** Set while a run is in progress: stops its probes. */
  runAbort: AbortController | undefined;
}

class PodWorker {
  readonly key: string;
  readonly uid: string;
  readonly removed: Promise<void>;
  readonly #pod: Readonly<SimPod>;
  readonly #d: PodWorkersDeps;
  readonly #slots: ContainerSlot[];
  readonly #abort = new AbortController();
  #sandbox: Sandbox | undefined;
  #terminating = false;
  #isRemoved = false;
  #deadlineMs = 0;
  #markRemoved: () => void = () => undefined;

  constructor(key: string, pod: Readonly<SimPod>, deps: PodWorkersDeps) {
    this.key = key;
    this.uid = pod.metadata.uid;
    this.#pod = pod;
    this.#d = deps;
    this.#slots = pod.spec.containers.map((spec) => ({
      spec,
      phase: { kind: 'waiting', reason: 'ContainerCreating' },
      lastTermination: undefined,
      ready: false,
      restartCount: 0,
      containerID: '',
      imageID: '',
      logPath: undefined,
      runAbort: undefined,
    }));
    this.removed = new Promise((resolve) => (this.#markRemoved = resolve));
  }

  state(): RuntimePodState {
    return {
      uid: this.uid,
      terminating: this.#terminating,
      removed: this.#isRemoved,
      containers: this.#slots.map((s): RuntimeContainerState => ({
        name: s.spec.name,
        image: s.spec.image ?? '',
        imageID: s.imageID,
        containerID: s.containerID,
        phase: s.phase,
        ready: s.ready,
        restartCount: s.restartCount,
        ...(s.lastTermination === undefined ? {} : { lastTermination: s.lastTermination }),
        ...(s.logPath === undefined ? {} : { logPath: s.logPath }),
      })),
    };
  }

  start(podIP: string): void {
    void this.#run(podIP);
  }

  terminate(graceMs: number): void {
    const deadline = this.#d.clock.now() + graceMs;
    if (this.#terminating) {
      // Asked again (every status write brings the kubelet back): only a markedly earlier deadline, a forced delete,
      // changes anything, and then only when SIGKILL comes. SIGTERM is sent once: a second one makes some programs
      // (this operator included) exit at once instead of draining.
      if (deadline < this.#deadlineMs - 1000) {
        this.#deadlineMs = deadline;
        this.#scheduleKill(graceMs);
      }
      return;
    }
    this.#terminating = true;
    this.#deadlineMs = deadline;
    this.#abort.abort();
    if (graceMs > 0) {
      for (const slot of this.#slots)
        if (slot.phase.kind === 'running') void this.#d.engine.kill(slot.containerID, 'SIGTERM').catch(() => undefined);
    }
    this.#scheduleKill(graceMs);
    this.#changed();
  }

  // SIGKILL to whatever still runs after `graceMs`.
  #scheduleKill(graceMs: number): void {
    for (const slot of this.#slots) {
      if (slot.phase.kind !== 'running') continue;
      const id = slot.containerID;
      this.#d.clock.setTimer(graceMs, () => {
        if (slot.phase.kind === 'running' && slot.containerID === id) void this.#d.engine.kill(id, 'SIGKILL').catch(() => undefined);
      });
    }
  }

  #changed(): void {
    this.#d.onChange(this.key);
  }

  async #run(podIP: string): Promise<void> {
    try {
      for (let attempt = 0; !this.#terminating; attempt++) {
        try {
          this.#sandbox = await this.#d.engine.createSandbox(this.#pod, podIP, this.#abort.signal);
          break;
        } catch (err) {
          const message = (err as Error).message.split('\n')[0] ?? '';
          this.#d.onError?.(this.key, `sandbox: ${message}`);
          for (const s of this.#slots) s.phase = { kind: 'waiting', reason: 'CreatePodSandboxError', message };
          this.#changed();
          await this.#sleep(restartDelayMs(attempt, 0));
        }
      }
      const sandbox = this.#sandbox;
      if (sandbox !== undefined) await Promise.all(this.#slots.map((slot) => this.#runContainer(sandbox, slot)));
    } finally {
      if (this.#sandbox !== undefined)
        await this.#d.engine.removeSandbox(this.#sandbox).catch((err: unknown) => this.#d.onError?.(this.key, String(err)));
      this.#isRemoved = true;
      this.#markRemoved();
      this.#changed();
    }
  }

  async #sleep(ms: number): Promise<void> {
    await this.#d.clock.sleep(ms, this.#abort.signal).catch(() => undefined);
  }

  async #runContainer(sandbox: Sandbox, slot: ContainerSlot): Promise<void> {
    const engine = this.#d.engine;
    for (let attempt = 0; !this.#terminating; attempt++) {
      let created;
      try {
        created = await engine.createContainer(sandbox, this.#pod, slot.spec, attempt);
      } catch (err) {
        const message = (err as Error).message.split('\n')[0] ?? '';
        slot.phase = { kind: 'waiting', reason: 'CreateContainerError', message };
        this.#changed();
        await this.#sleep(restartDelayMs(slot.restartCount, 0));
        continue;
      }
      if (this.#terminating) {
        await engine.remove(created.id).catch(() => undefined);
        break;
      }
      const startedAtMs = this.#d.clock.now();
      slot.containerID = created.id;
      slot.imageID = created.imageID;
      slot.logPath = created.logPath;
      slot.phase = { kind: 'running', startedAtMs };
      const runAbort = new AbortController();
      slot.runAbort = runAbort;
      const exited = engine.run(created.id).catch(() => 128);
      slot.ready = slot.spec.readinessProbe == null;
      this.#changed();
      this.#probe(sandbox, slot, 'readiness', slot.spec.readinessProbe ?? undefined, runAbort.signal);
      this.#probe(sandbox, slot, 'liveness', slot.spec.livenessProbe ?? undefined, runAbort.signal);
      const exitCode = await exited;
      runAbort.abort();
      slot.runAbort = undefined;
      const finishedAtMs = this.#d.clock.now();
      const terminated = {
        kind: 'terminated' as const,
        exitCode,
        reason: exitCode === 0 ? 'Completed' : 'Error',
        startedAtMs,
        finishedAtMs,
      };
      slot.ready = false;
      await engine.remove(created.id).catch((err: unknown) => this.#d.onError?.(this.key, String(err)));
      if (this.#terminating || !shouldRestart(this.#pod.spec.restartPolicy, exitCode)) {
        slot.phase = terminated;
        this.#changed();
        break;
      }
      const delay = restartDelayMs(slot.restartCount, finishedAtMs - startedAtMs);
      slot.lastTermination = terminated;
      slot.phase = {
        kind: 'waiting',
        reason: 'CrashLoopBackOff',
        message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${slot.spec.name} pod=${this.#pod.metadata.name}`,
      };
      this.#changed();
      await this.#sleep(delay);
      if (this.#terminating) {
        slot.phase = terminated;
        slot.lastTermination = undefined;
        this.#changed();
        break;
      }
      slot.restartCount++;
    }
  }

  // Runs one probe of the current run until it ends; a failed liveness probe kills the run (the restart follows).
  #probe(sandbox: Sandbox, slot: ContainerSlot, kind: 'readiness' | 'liveness', probe: SimProbe | undefined, signal: AbortSignal): void {
    if (probe === undefined) return;
    const target = probeTarget(slot.spec, probe);
    if ('error' in target) {
      this.#d.onError?.(this.key, `${kind} probe of ${slot.spec.name}: ${target.error}; treated as passing`);
      if (kind === 'readiness') slot.ready = true;
      return;
    }
    const timing = probeTiming(probe);
    const id = slot.containerID;
    void (async () => {
      let state: ProbeState = initialProbeState(kind);
      try {
        await this.#d.clock.sleep(timing.initialDelayMs, signal);
        while (!signal.aborted) {
          const ok = await this.#d.engine.probe(sandbox, target, timing.timeoutMs).catch(() => false);
          if (signal.aborted) return;
          const before = state.success;
          state = nextProbeState(state, ok, timing);
          if (kind === 'readiness' && state.success !== before) {
            slot.ready = state.success;
            this.#changed();
          }
          if (kind === 'liveness' && !state.success) {
            this.#d.onError?.(this.key, `container ${slot.spec.name} failed its liveness probe; restarting it`);
            const graceMs = (this.#pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
            await this.#d.engine.kill(id, 'SIGTERM').catch(() => undefined);
            this.#d.clock.setTimer(graceMs, () => {
              if (slot.containerID === id && slot.phase.kind === 'running') void this.#d.engine.kill(id, 'SIGKILL').catch(() => undefined);
            });
            return;
          }
          await this.#d.clock.sleep(timing.periodMs, signal);
        }
      } catch {
        // the run ended (aborted sleep)
      }
    })();
  }
}
