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
  | { readonly do: 'createNode'; readonly name: string; readonly zone?: string }
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
  | { readonly do: 'deleteEndpoints'; readonly name: string };

export interface Scenario {
  readonly name: string;
  /** Which outputs to compare; default both. */
  readonly compare?: readonly ('endpoints' | 'endpointslices')[];
  readonly steps: readonly Step[];
}
