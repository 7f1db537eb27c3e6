import type { ApiClient } from '../../controllers/runtime/api-client.ts';
import { isNotFound } from '../../controllers/runtime/api-errors.ts';
import { ENDPOINTS, NODES, PODS, SERVICES } from '../../controllers/runtime/resource.ts';
import type { PodPort, Step } from './scenario.ts';

// Applies one scenario step to one cluster, doing what a user (and, for Pod status, a kubelet) would do. The same
// call sequence runs on both clusters, so both see the same inputs up to UIDs and timestamps.

const containerPorts = (ports: readonly PodPort[] | undefined) =>
  (ports ?? []).map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' }));

function podStatus(s: { ips?: readonly string[] | undefined; ready?: boolean | undefined; phase?: string | undefined }, now: string) {
  const ips = s.ips ?? [];
  return {
    phase: s.phase ?? 'Running',
    ...(ips.length > 0 ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
    conditions: [{ type: 'Ready', status: s.ready ? 'True' : 'False', lastTransitionTime: now }],
  };
}

export async function applyStep(
  client: ApiClient,
  namespace: string,
  step: Step,
  now: () => string = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
): Promise<void> {
  switch (step.do) {
    case 'createNode': {
      // With its status in the create, as a kubelet registers: a Node that is first seen not Ready and then Ready
      // makes upstream's topology cache compute twice, and which computation a Service sync sees is timing.
      const created = (await client.create(NODES, '', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: step.name, labels: step.zone ? { 'topology.kubernetes.io/zone': step.zone } : {} },
        ...(step.cpu !== undefined ? { status: nodeStatus(step.cpu, true, now()) } : {}),
      })) as { status?: { allocatable?: { cpu?: string } } };
      if (step.cpu !== undefined && created.status?.allocatable?.cpu !== step.cpu) {
        throw new Error(`the API server dropped the status of Node ${step.name} on create; the scenario needs it there`);
      }
      return;
    }
    case 'setNodeStatus':
      await setNodeStatus(client, step.name, step.cpu, step.ready, now());
      return;
    case 'deleteNode':
      await client.delete(NODES, '', step.name);
      return;
    case 'createService': {
      const selector = step.selector === undefined ? { app: step.name } : step.selector;
      await client.create(SERVICES, namespace, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: step.name, labels: step.labels, annotations: step.annotations },
        spec: {
          type: step.type,
          externalName: step.externalName,
          ...(selector === null ? {} : { selector }),
          ports: step.ports ?? (step.type === 'ExternalName' ? undefined : [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }]),
          clusterIP: step.headless ? 'None' : undefined,
          ipFamilyPolicy: step.ipFamilyPolicy,
          ipFamilies: step.ipFamilies,
          publishNotReadyAddresses: step.publishNotReadyAddresses,
          trafficDistribution: step.trafficDistribution,
        },
      });
      return;
    }
    case 'patchService':
      await client.patch(SERVICES, namespace, step.name, step.patch, 'merge');
      return;
    case 'deleteService':
      await client.delete(SERVICES, namespace, step.name);
      return;
    case 'createPod': {
      await client.create(PODS, namespace, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: step.name, labels: step.labels },
        spec: {
          nodeName: step.nodeName,
          hostname: step.hostname,
          subdomain: step.subdomain,
          containers: [{ name: 'app', image: 'example.invalid/app:1', ports: containerPorts(step.ports) }],
          ...(step.sidecarPorts
            ? {
                initContainers: [
                  {
                    name: 'sidecar',
                    image: 'example.invalid/sidecar:1',
                    restartPolicy: 'Always',
                    ports: containerPorts(step.sidecarPorts),
                  },
                ],
              }
            : {}),
        },
      });
      if (step.ips !== undefined || step.ready !== undefined || step.phase !== undefined) {
        await client.patch(PODS, namespace, step.name, { status: podStatus(step, now()) }, 'merge', { subresource: 'status' });
      }
      return;
    }
    case 'createPods': {
      // A few at a time: fast enough for a thousand Pods, gentle enough for a shared machine.
      const queue = [...step.pods];
      const worker = async () => {
        for (let p = queue.shift(); p !== undefined; p = queue.shift()) await applyStep(client, namespace, p, now);
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      return;
    }
    case 'setPodStatus': {
      const current = (await client.get(PODS, namespace, step.name)) as {
        status?: { podIPs?: { ip: string }[]; phase?: string; conditions?: { type: string; status: string }[] };
      };
      const ips = step.ips ?? current.status?.podIPs?.map((p) => p.ip) ?? [];
      const ready = step.ready ?? current.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      const phase = step.phase ?? current.status?.phase ?? 'Running';
      await client.patch(PODS, namespace, step.name, { status: podStatus({ ips, ready, phase }, now()) }, 'merge', {
        subresource: 'status',
      });
      return;
    }
    case 'relabelPod':
      // Merge patch with nulls for removed keys replaces the label set exactly.
      {
        const current = (await client.get(PODS, namespace, step.name)) as { metadata?: { labels?: Record<string, string> } };
        const labels: Record<string, string | null> = {};
        for (const k of Object.keys(current.metadata?.labels ?? {})) labels[k] = null;
        Object.assign(labels, step.labels);
        await client.patch(PODS, namespace, step.name, { metadata: { labels } }, 'merge');
      }
      return;
    case 'terminatePod':
      await client.delete(PODS, namespace, step.name);
      return;
    case 'deletePod':
      await forceDelete(client, namespace, step.name);
      return;
    case 'createEndpoints':
      await client.create(ENDPOINTS, namespace, {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: step.name, labels: step.labels },
        subsets: step.subsets,
      });
      return;
    case 'updateEndpoints': {
      const current = (await client.get(ENDPOINTS, namespace, step.name)) as { metadata: Record<string, unknown> };
      await client.update(ENDPOINTS, namespace, step.name, {
        ...current,
        metadata: { ...current.metadata, ...(step.labels ? { labels: step.labels } : {}) },
        subsets: step.subsets,
      });
      return;
    }
    case 'deleteEndpoints':
      await client.delete(ENDPOINTS, namespace, step.name);
      return;
    case 'steps':
      for (const s of step.steps) await applyStep(client, namespace, s, now);
      return;
    default: {
      const never: never = step;
      throw new Error(`unknown step ${JSON.stringify(never)}`);
    }
  }
}

/** Reports a Node's allocatable CPU and readiness through nodes/status, as its kubelet would. */
async function setNodeStatus(client: ApiClient, name: string, cpu: string, ready: boolean, now: string): Promise<void> {
  await client.patch(NODES, '', name, { status: nodeStatus(cpu, ready, now) }, 'merge', { subresource: 'status' });
}

function nodeStatus(cpu: string, ready: boolean, now: string) {
  return {
    capacity: { cpu, memory: '8Gi', pods: '110' },
    allocatable: { cpu, memory: '8Gi', pods: '110' },
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'Parity', lastHeartbeatTime: now, lastTransitionTime: now }],
  };
}

/** Deletes a Pod at once (grace period 0), as `kubectl delete --force` does; a missing Pod is fine. */
async function forceDelete(client: ApiClient, namespace: string, name: string): Promise<void> {
  try {
    await client.delete(PODS, namespace, name, { gracePeriodSeconds: 0 });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
