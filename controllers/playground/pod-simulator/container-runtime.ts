import type { ProbeTarget } from './container-probe.ts';
import type { SimContainer, SimPod } from './simulated-objects.ts';

// The simulated kubelet's container runtime: Pods whose images are local OCI builds run for real (runc, inside a network
// namespace; hack/container-runtime/ implements it), every other Pod stays simulated (pod-lifecycle.ts). These are the
// types both sides share: the I/O interface and what a running Pod looks like to the status writer.

/** A Pod's sandbox: its network namespace and the files mounted into its containers. */
export interface Sandbox {
  /** `/run/netns/<name>`. */
  readonly netnsPath: string;
  readonly netnsName: string;
  /** The Pod IP, as the Pod's containers see it. */
  readonly ip: string;
  /** Per-Pod directory (ServiceAccount files, hosts, bundles, logs). */
  readonly dir: string;
}

/** A created container. */
export interface CreatedContainer {
  readonly id: string;
  /** `sha256:<digest>` of the image manifest. */
  readonly imageID: string;
  /** Where its stdout and stderr go. */
  readonly logPath: string;
}

/** The I/O of running containers; a fake in unit tests. Every method may throw; the worker reports it as a state. */
export interface ContainerEngine {
  /** Whether `image` names a local OCI image this engine runs. */
  handles(image: string): boolean;
  /** Creates the Pod's network namespace (with `podIP`), ServiceAccount files and hosts file. */
  createSandbox(pod: Readonly<SimPod>, podIP: string, signal: AbortSignal): Promise<Sandbox>;
  /** Removes what createSandbox made. Idempotent. */
  removeSandbox(sandbox: Sandbox): Promise<void>;
  /** Unpacks the image (cached) and writes the bundle of run number `attempt` of `container`. */
  createContainer(sandbox: Sandbox, pod: Readonly<SimPod>, container: Readonly<SimContainer>, attempt: number): Promise<CreatedContainer>;
  /** Starts it and resolves with its exit code once it has exited (128+n for signal n). */
  run(id: string): Promise<number>;
  /** Sends a signal to the container's processes. Never throws for a container that already exited. */
  kill(id: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Deletes the stopped container: runc state, cgroups, bundle. Idempotent. */
  remove(id: string): Promise<void>;
  /** One probe attempt from inside the sandbox. */
  probe(sandbox: Sandbox, target: ProbeTarget, timeoutMs: number): Promise<boolean>;
}

/** A container's state as a kubelet reports it (times in ms). */
export type RuntimeContainerPhase =
  | { readonly kind: 'waiting'; readonly reason: string; readonly message?: string }
  | { readonly kind: 'running'; readonly startedAtMs: number }
  | {
      readonly kind: 'terminated';
      readonly exitCode: number;
      readonly reason: string;
      readonly startedAtMs: number;
      readonly finishedAtMs: number;
    };

/** What the runtime knows of one container now. */
export interface RuntimeContainerState {
  readonly name: string;
  readonly image: string;
  readonly imageID: string;
  readonly containerID: string;
  readonly phase: RuntimeContainerPhase;
  readonly lastTermination?: Extract<RuntimeContainerPhase, { kind: 'terminated' }>;
  readonly ready: boolean;
  readonly restartCount: number;
  /** The current run's output. */
  readonly logPath?: string;
}

/** What the runtime knows of one Pod now. */
export interface RuntimePodState {
  readonly uid: string;
  readonly containers: readonly RuntimeContainerState[];
  /** Termination was asked for. */
  readonly terminating: boolean;
  /** Everything of the Pod is gone (containers, sandbox): the kubelet may delete the Pod object. */
  readonly removed: boolean;
}
