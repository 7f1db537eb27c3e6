import { PLAYGROUND_PREFIX, type SimPod } from './simulated-objects.ts';

// How a Pod asks the simulated kubelet to behave: annotations, so that plain kubectl (annotate, or a Deployment's pod
// template) can script the scenarios endpoint controllers care about (kwok #1406, rbg PR #461, k8s #116285).

/** Stays Running but never Ready when "false". */
export const ANNOTATION_READY = `${PLAYGROUND_PREFIX}ready`;
/** Its containers exit with code 1: phase Failed (after `exit-after-seconds`). */
export const ANNOTATION_FAIL = `${PLAYGROUND_PREFIX}fail`;
/** Its containers exit with code 0: phase Succeeded (after `exit-after-seconds`). */
export const ANNOTATION_COMPLETE = `${PLAYGROUND_PREFIX}complete`;
/** Seconds from start until a `fail` or `complete` Pod exits. Default 0. */
export const ANNOTATION_EXIT_AFTER_SECONDS = `${PLAYGROUND_PREFIX}exit-after-seconds`;
/** Readiness toggles every N seconds once the Pod first became ready. */
export const ANNOTATION_FLAP_SECONDS = `${PLAYGROUND_PREFIX}flap-seconds`;
/** Seconds from start until Ready; wins over the readiness probe's initialDelaySeconds. */
export const ANNOTATION_READINESS_DELAY_SECONDS = `${PLAYGROUND_PREFIX}readiness-delay-seconds`;
/** Keeps Ready during graceful termination (a server that drains), so its endpoint stays `serving`. */
export const ANNOTATION_SERVE_WHILE_TERMINATING = `${PLAYGROUND_PREFIX}serve-while-terminating`;

/** The scripted behaviour of one Pod; every field is optional and absent means "like a healthy container". */
export interface PodBehaviour {
  readonly neverReady: boolean;
  readonly exit: 'failure' | 'success' | undefined;
  readonly exitAfterMs: number;
  readonly flapMs: number | undefined;
  readonly readinessDelayMs: number | undefined;
  readonly serveWhileTerminating: boolean;
}

/** The behaviour plus the annotations that could not be understood (reported as a Warning Event). */
export interface ParsedPodBehaviour {
  readonly behaviour: PodBehaviour;
  readonly invalid: readonly string[];
}

/**
 * Reads the playground annotations of a Pod. Pure. An unparsable value is ignored (the healthy default applies) and
 * named in `invalid` as `key=value`. `fail` wins over `complete` when both are set.
 */
export function podBehaviour(pod: Readonly<SimPod>): ParsedPodBehaviour {
  const annotations = pod.metadata.annotations ?? {};
  const invalid: string[] = [];
  const flag = (key: string): boolean | undefined => {
    const v = annotations[key];
    if (v === undefined) return undefined;
    if (v === 'true') return true;
    if (v === 'false') return false;
    invalid.push(`${key}=${v}`);
    return undefined;
  };
  const seconds = (key: string, min: number): number | undefined => {
    const v = annotations[key];
    if (v === undefined) return undefined;
    const n = /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : Number.NaN;
    if (!Number.isFinite(n) || n < min) {
      invalid.push(`${key}=${v}`);
      return undefined;
    }
    return Math.round(n * 1000);
  };
  const fail = flag(ANNOTATION_FAIL) === true;
  const complete = flag(ANNOTATION_COMPLETE) === true;
  const behaviour: PodBehaviour = {
    neverReady: flag(ANNOTATION_READY) === false,
    exit: fail ? 'failure' : complete ? 'success' : undefined,
    exitAfterMs: seconds(ANNOTATION_EXIT_AFTER_SECONDS, 0) ?? 0,
    // Sub-second flapping would only flood the API server.
    flapMs: seconds(ANNOTATION_FLAP_SECONDS, 1),
    readinessDelayMs: seconds(ANNOTATION_READINESS_DELAY_SECONDS, 0),
    serveWhileTerminating: flag(ANNOTATION_SERVE_WHILE_TERMINATING) === true,
  };
  return { behaviour, invalid };
}
