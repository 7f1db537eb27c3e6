import type { EndpointSubset, ServicePort } from '../../api/core/v1.ts';

// A parity scenario: objects created and changed step by step, identically on two clusters (one run by
// kube-controller-manager's endpoint controllers, one by this operator). After every step the runner waits until both
// are quiet and compares normalised Endpoints and EndpointSlices.

export interface PodPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export type Step =
  | {
      readonly do: 'createNode';
      readonly name: string;
      readonly zone?: string;
      /** Allocatable CPU (e.g. `"2"`) and a Ready condition, which topology hints need; absent: no status at all. */
      readonly cpu?: string;
    }
  /** A kubelet's status report: allocatable CPU and the Ready condition (what the topology cache reads). */
  | { readonly do: 'setNodeStatus'; readonly name: string; readonly cpu: string; readonly ready: boolean }
  | { readonly do: 'deleteNode'; readonly name: string }
  | {
      readonly do: 'createService';
      readonly name: string;
      readonly labels?: Record<string, string>;
      /** null: a selectorless Service. Default: `{app: <name>}`. */
      readonly selector?: Record<string, string> | null;
      readonly ports?: readonly ServicePort[];
      readonly headless?: boolean;
      readonly ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
      readonly ipFamilies?: readonly ('IPv4' | 'IPv6')[];
      readonly publishNotReadyAddresses?: boolean;
      readonly type?: 'ClusterIP' | 'NodePort' | 'ExternalName';
      readonly externalName?: string;
      readonly annotations?: Record<string, string>;
      readonly trafficDistribution?: string;
    }
  | { readonly do: 'patchService'; readonly name: string; readonly patch: Record<string, unknown> }
  | { readonly do: 'deleteService'; readonly name: string }
  | {
      readonly do: 'createPod';
      readonly name: string;
      readonly labels: Record<string, string>;
      readonly nodeName?: string;
      /** Pod IPs; empty or absent: no IP yet. */
      readonly ips?: readonly string[];
      readonly ready?: boolean;
      readonly phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
      readonly hostname?: string;
      readonly subdomain?: string;
      readonly ports?: readonly PodPort[];
      /** Ports of a restartable (sidecar) init container. */
      readonly sidecarPorts?: readonly PodPort[];
    }
  /** Many Pods at once (created concurrently, a few at a time), as a large ReplicaSet would. */
  | { readonly do: 'createPods'; readonly pods: readonly CreatePod[] }
  | {
      readonly do: 'setPodStatus';
      readonly name: string;
      readonly ips?: readonly string[];
      readonly ready?: boolean;
      readonly phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
    }
  | { readonly do: 'relabelPod'; readonly name: string; readonly labels: Record<string, string> }
  /** Graceful delete: with no kubelet the Pod stays, terminating, until force-deleted. */
  | { readonly do: 'terminatePod'; readonly name: string }
  | { readonly do: 'deletePod'; readonly name: string }
  | {
      readonly do: 'createEndpoints';
      readonly name: string;
      readonly subsets: readonly EndpointSubset[];
      readonly labels?: Record<string, string>;
    }
  | {
      readonly do: 'updateEndpoints';
      readonly name: string;
      readonly subsets: readonly EndpointSubset[];
      readonly labels?: Record<string, string>;
    }
  | { readonly do: 'deleteEndpoints'; readonly name: string }
  /** Several steps back to back, with no settling in between (e.g. delete and recreate before anyone reacts). */
  | { readonly do: 'steps'; readonly steps: readonly Step[] };

export type CreatePod = Extract<Step, { do: 'createPod' }>;

export interface Scenario {
  readonly name: string;
  /** Which outputs to compare; default both. */
  readonly compare?: readonly ('endpoints' | 'endpointslices')[];
  readonly steps: readonly Step[];
  /** Run only in `npm run parity` (parity-full.test.ts), not in the `npm test` subset: too slow for CI. */
  readonly fullOnly?: boolean;
  /**
   * What the agreed outcome must show after a given step (1-based), so that a scenario cannot pass by both sides
   * doing nothing (e.g. no hints at all). Checked on upstream's normalised outputs once both sides agree.
   */
  readonly expect?: readonly Expectation[];
}

export interface Expectation {
  readonly afterStep: number;
  readonly what: string;
  readonly holds: (outputs: NormalOutputs) => boolean;
}

/** The compared outputs as the runner normalises them (normalize.ts), read loosely for expectations. */
export interface NormalOutputs {
  readonly endpoints?: Record<
    string,
    { annotations?: Record<string, string>; subsets?: { addresses?: unknown[]; notReadyAddresses?: unknown[] }[] }
  >;
  readonly endpointslices?: Record<
    string,
    {
      slices: number;
      endpoints: { addresses: string[] }[];
      /** One per endpoint; `hints` null when it has none. */
      hints: {
        zone?: string;
        nodeName?: string;
        ready?: boolean;
        hints: { forZones?: { name: string }[]; forNodes?: { name: string }[] } | null;
      }[];
    }[]
  >;
}
