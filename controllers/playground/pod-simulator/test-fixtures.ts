import { IndexedStore } from '../../runtime/cache/indexed-store.ts';
import type { ReconcileContext } from '../../runtime/reconcile.ts';
import { captureLogger } from '../../runtime/testing/capture-logger.ts';
import { FakeApiClient } from '../../runtime/testing/fake-api-client.ts';
import { NODES, PODS } from '../../runtime/resource.ts';
import { testContext } from '../../runtime/testing/test-context.ts';
import { deepFreeze } from '../../runtime/testing/deep-freeze.ts';
import { NODE_NAME_INDEX } from './scheduler-reconciler.ts';
import { LABEL_SIMULATED_NODE, type SimNode, type SimPod, simNodeSchema, simPodSchema } from './simulated-objects.ts';

// Builders and fakes shared by the simulator's tests. Not used by production code.

/** 2023-11-14T22:13:20Z: a whole second, so wire timestamps round-trip exactly. */
export const T0 = 1_700_000_000_000;
export const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> | T[K] : T[K];
};

/** A deep-frozen Pod parsed through the simulator's schema; `over` replaces whole top-level sections' fields. */
export function pod(
  over: {
    metadata?: Partial<SimPod['metadata']>;
    spec?: DeepPartial<SimPod['spec']>;
    status?: DeepPartial<SimPod['status']>;
  } = {},
): SimPod {
  return deepFreeze(
    simPodSchema.parse({
      metadata: {
        name: 'web-1',
        namespace: 'default',
        uid: 'uid-web-1',
        resourceVersion: '1',
        ...over.metadata,
      },
      spec: { containers: [{ name: 'nginx', image: 'nginx' }], ...over.spec },
      status: { phase: 'Pending', ...over.status },
    }),
  );
}

/** A deep-frozen simulated Node, Ready, with pod CIDR 10.244.<index>.0/24 and address 172.18.0.<index+1>. */
export function node(
  name = 'playground-node-1',
  over: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    spec?: Partial<SimNode['spec']>;
    ready?: string;
  } = {},
): SimNode {
  const index = Number(/(\d+)$/.exec(name)?.[1] ?? '1');
  return deepFreeze(
    simNodeSchema.parse({
      metadata: {
        name,
        uid: `uid-${name}`,
        resourceVersion: '1',
        labels: { [LABEL_SIMULATED_NODE]: 'true', ...over.labels },
        ...(over.annotations ? { annotations: over.annotations } : {}),
      },
      spec: {
        podCIDR: `10.244.${index}.0/24`,
        podCIDRs: [`10.244.${index}.0/24`],
        ...over.spec,
      },
      status: {
        conditions: [
          ...['MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({
            type,
            status: 'False',
            lastHeartbeatTime: iso(T0),
            lastTransitionTime: iso(T0),
          })),
          {
            type: 'Ready',
            status: over.ready ?? 'True',
            lastHeartbeatTime: iso(T0),
            lastTransitionTime: iso(T0),
          },
        ],
        addresses: [{ type: 'InternalIP', address: `172.18.0.${index + 1}` }],
      },
    }),
  );
}

/** Stores as the simulator's informers index them. */
export function stores(pods: readonly SimPod[], nodes: readonly SimNode[]) {
  const podStore = new IndexedStore<SimPod>({
    keyFunc: (p) => `${p.metadata.namespace}/${p.metadata.name}`,
    namespaceFunc: (p) => p.metadata.namespace,
    indexers: { [NODE_NAME_INDEX]: (p) => [p.spec.nodeName ?? ''] },
  });
  const nodeStore = new IndexedStore<SimNode>({
    keyFunc: (n) => n.metadata.name,
    namespaceFunc: () => '',
  });
  for (const p of pods) podStore.upsert(p);
  for (const n of nodes) nodeStore.upsert(n);
  return { pods: podStore, nodes: nodeStore };
}

/** The shared fake API server client, holding the Pods and Nodes as the API server would (the caches' objects). */
export function server(pods: readonly SimPod[], nodes: readonly SimNode[]): FakeApiClient {
  const client = new FakeApiClient();
  client.seed(PODS, ...pods);
  client.seed(NODES, ...nodes);
  return client;
}

/** A reconcile context with a capturing logger. */
export function context(): ReconcileContext & {
  readonly lines: ReturnType<typeof captureLogger>['lines'];
} {
  const { logger, lines } = captureLogger();
  return { ...testContext({ logger }), lines };
}
