import type { SimContainer, SimProbe } from './simulated-objects.ts';

// Liveness and readiness probes of a container that really runs (controllers/playground/pod-simulator/pod-workers.ts): what to
// probe, when, and how a result moves the probe's outcome, as the kubelet's prober does (pkg/kubelet/prober/worker.go:
// doProbe; defaults from pkg/apis/core/v1/defaults.go: SetDefaults_Probe). Pure.

/** What one probe attempt checks, inside the Pod's network namespace. */
export type ProbeTarget =
  { readonly kind: 'http'; readonly port: number; readonly path: string } | { readonly kind: 'tcp'; readonly port: number };

/** A probe's schedule and thresholds, in ms. */
export interface ProbeTiming {
  readonly initialDelayMs: number;
  readonly periodMs: number;
  readonly timeoutMs: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

/** A probe's outcome so far: the reported result and how many attempts in a row agreed with the last one. */
export interface ProbeState {
  readonly success: boolean;
  readonly lastAttempt: boolean | undefined;
  readonly streak: number;
}

/**
 * The target of `probe`: httpGet (path default `/`, HTTPS unsupported) or tcpSocket, with a named port resolved
 * against the container's ports. An error names what cannot be probed (exec probes included).
 */
export function probeTarget(container: Readonly<SimContainer>, probe: Readonly<SimProbe>): ProbeTarget | { readonly error: string } {
  const resolve = (port: number | string): number | undefined =>
    typeof port === 'number'
      ? port
      : /^\d+$/.test(port)
        ? Number(port)
        : (container.ports ?? []).find((p) => p.name === port)?.containerPort;
  if (probe.httpGet != null) {
    const port = resolve(probe.httpGet.port);
    if (port === undefined) return { error: `httpGet port ${String(probe.httpGet.port)} is not a port of container ${container.name}` };
    if ((probe.httpGet.scheme ?? 'HTTP').toUpperCase() !== 'HTTP') return { error: 'httpGet over HTTPS is not supported here' };
    return { kind: 'http', port, path: probe.httpGet.path ?? '/' };
  }
  if (probe.tcpSocket != null) {
    const port = resolve(probe.tcpSocket.port);
    if (port === undefined) return { error: `tcpSocket port ${String(probe.tcpSocket.port)} is not a port of container ${container.name}` };
    return { kind: 'tcp', port };
  }
  return { error: 'only httpGet and tcpSocket probes run here' };
}

/** The probe's timing with the API defaults (period 10 s, timeout 1 s, thresholds 1 and 3). */
export function probeTiming(probe: Readonly<SimProbe>): ProbeTiming {
  return {
    initialDelayMs: (probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: (probe.periodSeconds ?? 10) * 1000,
    timeoutMs: (probe.timeoutSeconds ?? 1) * 1000,
    successThreshold: probe.successThreshold ?? 1,
    failureThreshold: probe.failureThreshold ?? 3,
  };
}

/** Before the first attempt a readiness probe reports failure (not ready) and a liveness probe success. */
export function initialProbeState(kind: 'readiness' | 'liveness'): ProbeState {
  return { success: kind === 'liveness', lastAttempt: undefined, streak: 0 };
}

/**
 * The state after one attempt: the reported result flips only once `successThreshold` (or `failureThreshold`)
 * attempts in a row agree.
 */
export function nextProbeState(
  state: ProbeState,
  attempt: boolean,
  timing: Pick<ProbeTiming, 'successThreshold' | 'failureThreshold'>,
): ProbeState {
  const streak = state.lastAttempt === attempt ? state.streak + 1 : 1;
  const threshold = attempt ? timing.successThreshold : timing.failureThreshold;
  const success = attempt !== state.success && streak >= threshold ? attempt : state.success;
  return { success, lastAttempt: attempt, streak };
}
