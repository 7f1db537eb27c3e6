// What a kubelet would report for a pod, reduced to the fields the endpoint controllers read. Integration tests have
// no kubelet, so they write this through the pods/status subresource.

/** The observable state of a pod. */
export interface PodStatusInput {
  /** Pod IPs, primary first; `podIP` is set to the first. Default: none. */
  readonly podIPs?: readonly string[];
  /** The Ready condition. Default true. */
  readonly ready?: boolean;
  /** Default Running. */
  readonly phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  /** lastTransitionTime of the Ready condition (RFC 3339). Default: `now`. */
  readonly readyTransitionTime?: string;
  readonly hostIP?: string;
}

/** RFC 3339 with second precision, as the API server writes condition times. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The `status` to send. Absent IPs are sent as null, so a merge patch removes stale ones instead of keeping them.
 * Pure: `now` is an input.
 */
export function podStatus(input: PodStatusInput, now: Date): Record<string, unknown> {
  const ips = input.podIPs ?? [];
  return {
    phase: input.phase ?? 'Running',
    podIP: ips[0] ?? null,
    podIPs: ips.length === 0 ? null : ips.map((ip) => ({ ip })),
    hostIP: input.hostIP ?? null,
    conditions: [
      {
        type: 'Ready',
        status: (input.ready ?? true) ? 'True' : 'False',
        lastTransitionTime: input.readyTransitionTime ?? rfc3339(now),
      },
    ],
  };
}
