import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PodLifecycleInput, type PodLifecyclePlan, planPodLifecycle, terminationDeadline } from './pod-lifecycle.ts';
import { ANNOTATION_KUBELET } from './simulated-node.ts';
import type { SimPod } from './simulated-objects.ts';
import { iso, node, pod, T0 } from './test-fixtures.ts';

const P = 'playground.kube-endpoints-operator.io/';
const N1 = node('playground-node-1');

function input(over: Partial<PodLifecycleInput> = {}): PodLifecycleInput {
  return {
    pod: pod(),
    node: N1,
    nowMs: T0,
    allocatedIPs: ['10.244.1.2'],
    defaultReadinessDelayMs: 1_000,
    ...over,
  };
}

// A Pod the kubelet already started at `startMs` and reported with the given readiness.
function running(
  ready: boolean,
  startMs = T0,
  extra: {
    metadata?: Partial<SimPod['metadata']>;
    spec?: Partial<SimPod['spec']>;
  } = {},
): SimPod {
  const r = ready ? 'True' : 'False';
  return pod({
    metadata: extra.metadata,
    spec: {
      nodeName: 'playground-node-1',
      containers: [{ name: 'nginx', image: 'nginx' }],
      ...extra.spec,
    },
    status: {
      phase: 'Running',
      podIP: '10.244.1.2',
      podIPs: [{ ip: '10.244.1.2' }],
      hostIP: '172.18.0.2',
      startTime: iso(startMs),
      conditions: [
        {
          type: 'PodReadyToStartContainers',
          status: 'True',
          lastTransitionTime: iso(startMs),
        },
        {
          type: 'Initialized',
          status: 'True',
          lastTransitionTime: iso(startMs),
        },
        {
          type: 'ContainersReady',
          status: r,
          lastTransitionTime: iso(startMs),
          ...(ready
            ? {}
            : {
                reason: 'ContainersNotReady',
                message: 'containers with unready status: [nginx]',
              }),
        },
        {
          type: 'Ready',
          status: r,
          lastTransitionTime: iso(startMs),
          ...(ready
            ? {}
            : {
                reason: 'ContainersNotReady',
                message: 'containers with unready status: [nginx]',
              }),
        },
      ],
      containerStatuses: [
        {
          name: 'nginx',
          ready,
          started: true,
          state: { running: { startedAt: iso(startMs) } },
        },
      ],
    },
  });
}

const bound = (
  over: {
    metadata?: Partial<SimPod['metadata']>;
    spec?: Partial<SimPod['spec']>;
  } = {},
) =>
  pod({
    metadata: over.metadata,
    spec: {
      nodeName: 'playground-node-1',
      containers: [{ name: 'nginx', image: 'nginx' }],
      ...over.spec,
    },
  });

// What a plan amounts to, in a form a table can state.
function summary(plan: PodLifecyclePlan) {
  if (plan.kind !== 'sync') return plan;
  const s = plan.status;
  return {
    kind: plan.kind,
    write:
      s === undefined
        ? undefined
        : {
            phase: s.phase,
            ready: s.conditions.find((c) => c.type === 'Ready')?.status,
            ips: s.podIPs.map((p) => p.ip),
          },
    requeueAfterMs: plan.requeueAfterMs,
    ...(plan.problem ? { problem: plan.problem } : {}),
  };
}

describe('planPodLifecycle', () => {
  const cases: { name: string; given: PodLifecycleInput; want: unknown }[] = [
    {
      name: 'leaves a pending Pod to the scheduler',
      given: input(),
      want: { kind: 'ignore', reason: 'NotBound' },
    },
    {
      name: 'ignores a Pod whose Node is not cached',
      given: input({ pod: bound(), node: undefined }),
      want: { kind: 'ignore', reason: 'NodeNotFound' },
    },
    {
      name: 'ignores a Pod on a Node it does not simulate',
      given: input({
        pod: bound(),
        node: node('playground-node-1', {
          labels: {
            'playground.kube-endpoints-operator.io/simulated': 'false',
          },
        }),
      }),
      want: { kind: 'ignore', reason: 'NodeNotSimulated' },
    },
    {
      name: 'does nothing on a Node whose kubelet is stopped, not even for a terminating Pod',
      given: input({
        pod: running(true, T0, {
          metadata: {
            deletionTimestamp: iso(T0),
            deletionGracePeriodSeconds: 0,
          },
        }),
        node: node('playground-node-1', {
          annotations: { [ANNOTATION_KUBELET]: 'stopped' },
        }),
        nowMs: T0 + 60_000,
      }),
      want: { kind: 'ignore', reason: 'KubeletStopped' },
    },
    {
      name: 'starts a bound Pod: Running with the allocated IP, not Ready until the default delay',
      given: input({ pod: bound() }),
      want: {
        kind: 'sync',
        write: { phase: 'Running', ready: 'False', ips: ['10.244.1.2'] },
        requeueAfterMs: 1_000,
      },
    },
    {
      name: 'starts a dual-stack Pod with one address per family',
      given: input({
        pod: bound(),
        allocatedIPs: ['10.244.1.2', 'fd00:10:244:1::2'],
      }),
      want: {
        kind: 'sync',
        write: {
          phase: 'Running',
          ready: 'False',
          ips: ['10.244.1.2', 'fd00:10:244:1::2'],
        },
        requeueAfterMs: 1_000,
      },
    },
    {
      name: 'is Ready at once with a zero default delay',
      given: input({ pod: bound(), defaultReadinessDelayMs: 0 }),
      want: {
        kind: 'sync',
        write: { phase: 'Running', ready: 'True', ips: ['10.244.1.2'] },
        requeueAfterMs: undefined,
      },
    },
    {
      name: 'turns Ready once the delay from startTime has passed',
      given: input({ pod: running(false), nowMs: T0 + 1_000 }),
      want: {
        kind: 'sync',
        write: { phase: 'Running', ready: 'True', ips: ['10.244.1.2'] },
        requeueAfterMs: undefined,
      },
    },
    {
      name: 'writes nothing when the reported status is already right (no-op)',
      given: input({ pod: running(true), nowMs: T0 + 5_000 }),
      want: { kind: 'sync', write: undefined, requeueAfterMs: undefined },
    },
    {
      name: 'waits for the first container readiness probe initialDelaySeconds',
      given: input({
        pod: running(false, T0, {
          spec: {
            containers: [
              {
                name: 'nginx',
                image: 'nginx',
                readinessProbe: { initialDelaySeconds: 5 },
              },
            ],
          },
        }),
        nowMs: T0 + 2_000,
      }),
      want: { kind: 'sync', write: undefined, requeueAfterMs: 3_000 },
    },
    {
      name: 'a probe without initialDelaySeconds passes at once',
      given: input({
        pod: bound({
          spec: {
            containers: [{ name: 'nginx', image: 'nginx', readinessProbe: {} }],
          },
        }),
      }),
      want: {
        kind: 'sync',
        write: { phase: 'Running', ready: 'True', ips: ['10.244.1.2'] },
        requeueAfterMs: undefined,
      },
    },
    {
      name: 'the readiness-delay annotation wins over the probe',
      given: input({
        pod: bound({
          metadata: { annotations: { [`${P}readiness-delay-seconds`]: '7' } },
          spec: {
            containers: [
              {
                name: 'nginx',
                image: 'nginx',
                readinessProbe: { initialDelaySeconds: 1 },
              },
            ],
          },
        }),
      }),
      want: {
        kind: 'sync',
        write: { phase: 'Running', ready: 'False', ips: ['10.244.1.2'] },
        requeueAfterMs: 7_000,
      },
    },
    {
      name: 'ready=false keeps a Ready Pod unready for good',
      given: input({
        pod: running(true, T0, {
          metadata: { annotations: { [`${P}ready`]: 'false' } },
        }),
        nowMs: T0 + 9_000,
      }),
      want: {
        kind: 'sync',
        write: { phase: 'Running', ready: 'False', ips: ['10.244.1.2'] },
        requeueAfterMs: undefined,
      },
    },
    {
      name: 'flapping: unready in the second period, asked again at its end',
      given: input({
        pod: running(true, T0, {
          metadata: { annotations: { [`${P}flap-seconds`]: '3' } },
        }),
        nowMs: T0 + 1_000 + 4_000,
      }),
      want: {
        kind: 'sync',
        write: { phase: 'Running', ready: 'False', ips: ['10.244.1.2'] },
        requeueAfterMs: 2_000,
      },
    },
    {
      name: 'flapping: ready again in the third period',
      given: input({
        pod: running(false, T0, {
          metadata: { annotations: { [`${P}flap-seconds`]: '3' } },
        }),
        nowMs: T0 + 1_000 + 6_500,
      }),
      want: {
        kind: 'sync',
        write: { phase: 'Running', ready: 'True', ips: ['10.244.1.2'] },
        requeueAfterMs: 2_500,
      },
    },
    {
      name: 'fail=true: the containers exit 1 and the Pod is Failed',
      given: input({
        pod: running(false, T0, {
          metadata: { annotations: { [`${P}fail`]: 'true' } },
        }),
        nowMs: T0 + 100,
      }),
      want: {
        kind: 'sync',
        write: { phase: 'Failed', ready: 'False', ips: ['10.244.1.2'] },
        requeueAfterMs: undefined,
      },
    },
    {
      name: 'complete=true with exit-after-seconds: runs (and turns ready) until then',
      given: input({
        pod: running(false, T0, {
          metadata: {
            annotations: {
              [`${P}complete`]: 'true',
              [`${P}exit-after-seconds`]: '5',
            },
          },
        }),
        nowMs: T0 + 2_000,
      }),
      want: {
        kind: 'sync',
        write: { phase: 'Running', ready: 'True', ips: ['10.244.1.2'] },
        requeueAfterMs: 3_000,
      },
    },
    {
      name: 'complete=true: Succeeded once exit-after-seconds passed',
      given: input({
        pod: running(true, T0, {
          metadata: {
            annotations: {
              [`${P}complete`]: 'true',
              [`${P}exit-after-seconds`]: '5',
            },
          },
        }),
        nowMs: T0 + 5_000,
      }),
      want: {
        kind: 'sync',
        write: { phase: 'Succeeded', ready: 'False', ips: ['10.244.1.2'] },
        requeueAfterMs: undefined,
      },
    },
    {
      name: 'a terminal Pod is final',
      given: input({
        pod: pod({
          spec: { nodeName: 'playground-node-1' },
          status: { phase: 'Failed', podIP: '10.244.1.2' },
        }),
      }),
      want: { kind: 'sync', write: undefined, requeueAfterMs: undefined },
    },
    {
      name: 'an address is needed to start: none free means retry later',
      given: input({ pod: bound(), allocatedIPs: undefined }),
      want: {
        kind: 'sync',
        write: undefined,
        requeueAfterMs: 5_000,
        problem: 'NoPodIP',
      },
    },
    {
      name: 'a Pod keeps the addresses it reports over newly allocated ones',
      given: input({
        pod: running(false),
        allocatedIPs: ['10.244.1.99'],
        nowMs: T0 + 1_000,
      }),
      want: {
        kind: 'sync',
        write: { phase: 'Running', ready: 'True', ips: ['10.244.1.2'] },
        requeueAfterMs: undefined,
      },
    },
    {
      name: 'terminating: unready at once, deleted when the grace period ends',
      given: input({
        pod: running(true, T0, {
          metadata: {
            deletionTimestamp: iso(T0 + 10_000 + 30_000),
            deletionGracePeriodSeconds: 30,
          },
        }),
        nowMs: T0 + 10_000,
      }),
      want: {
        kind: 'sync',
        write: { phase: 'Running', ready: 'False', ips: ['10.244.1.2'] },
        requeueAfterMs: 30_000,
      },
    },
    {
      name: 'terminating past its deadline: delete, guarded by the uid',
      given: input({
        pod: running(false, T0, {
          metadata: {
            deletionTimestamp: iso(T0 + 40_000),
            deletionGracePeriodSeconds: 30,
          },
        }),
        nowMs: T0 + 40_000,
      }),
      want: { kind: 'delete', uid: 'uid-web-1' },
    },
    {
      name: 'terminating with serve-while-terminating stays Ready (a draining server)',
      given: input({
        pod: running(true, T0, {
          metadata: {
            annotations: { [`${P}serve-while-terminating`]: 'true' },
            deletionTimestamp: iso(T0 + 40_000),
            deletionGracePeriodSeconds: 30,
          },
        }),
        nowMs: T0 + 10_000,
      }),
      want: { kind: 'sync', write: undefined, requeueAfterMs: 30_000 },
    },
    {
      name: 'a Pod deleted before it started is deleted at once',
      given: input({
        pod: bound({
          metadata: {
            deletionTimestamp: iso(T0 + 30_000),
            deletionGracePeriodSeconds: 30,
          },
        }),
      }),
      want: { kind: 'delete', uid: 'uid-web-1' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(summary(planPodLifecycle(c.given)), c.want));
  }

  it('writes the kubelet conditions only, clearing the reason of a condition that turned True', () => {
    const plan = planPodLifecycle(input({ pod: running(false), nowMs: T0 + 1_000 }));
    assert.equal(plan.kind, 'sync');
    const conditions = plan.kind === 'sync' ? plan.status?.conditions : undefined;
    assert.deepEqual(
      conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['PodReadyToStartContainers', 'True', null],
        ['Initialized', 'True', null],
        ['ContainersReady', 'True', null],
        ['Ready', 'True', null],
      ],
    );
    // Unchanged conditions keep their transition time; changed ones get now.
    assert.equal(conditions?.find((c) => c.type === 'Initialized')?.lastTransitionTime, iso(T0));
    assert.equal(conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime, iso(T0 + 1_000));
  });

  it('holds Ready at False while a readiness gate is not True, with the gate named', () => {
    const gated = running(false, T0, {
      spec: { readinessGates: [{ conditionType: 'example.com/lb' }] },
    });
    const plan = planPodLifecycle(input({ pod: gated, nowMs: T0 + 1_000 }));
    const conditions = plan.kind === 'sync' ? plan.status?.conditions : undefined;
    assert.equal(conditions?.find((c) => c.type === 'ContainersReady')?.status, 'True');
    assert.deepEqual(
      conditions?.find((c) => c.type === 'Ready'),
      {
        type: 'Ready',
        status: 'False',
        reason: 'ReadinessGatesNotReady',
        message: 'readiness gates not True: [example.com/lb]',
        lastTransitionTime: iso(T0),
      },
    );
  });

  it('turns Ready when every readiness gate condition is True', () => {
    const base = running(false, T0, {
      spec: { readinessGates: [{ conditionType: 'example.com/lb' }] },
    });
    const gated = pod({
      metadata: base.metadata,
      spec: base.spec,
      status: {
        ...base.status,
        conditions: [...(base.status.conditions ?? []), { type: 'example.com/lb', status: 'True' }],
      },
    });
    const plan = planPodLifecycle(input({ pod: gated, nowMs: T0 + 1_000 }));
    assert.equal(plan.kind === 'sync' ? plan.status?.conditions.find((c) => c.type === 'Ready')?.status : undefined, 'True');
    // The gate's own condition is someone else's: never part of the kubelet's patch.
    assert.equal(plan.kind === 'sync' ? plan.status?.conditions.some((c) => c.type === 'example.com/lb') : undefined, false);
  });

  it('reports exited containers as terminated and removes their running state', () => {
    const failing = running(true, T0, {
      metadata: { annotations: { [`${P}fail`]: 'true' } },
    });
    const plan = planPodLifecycle(input({ pod: failing, nowMs: T0 + 2_000 }));
    const state = plan.kind === 'sync' ? plan.status?.containerStatuses[0]?.state : undefined;
    assert.equal(state?.running, null);
    assert.deepEqual(state?.terminated, {
      exitCode: 1,
      reason: 'Error',
      startedAt: iso(T0),
      finishedAt: iso(T0),
      containerID: 'playground://uid-web--nginx',
    });
  });

  it('reports regular init containers as completed and sidecars as running', () => {
    const p = bound({
      spec: {
        initContainers: [
          { name: 'setup', image: 'busybox' },
          { name: 'proxy', image: 'envoy', restartPolicy: 'Always' },
        ],
      },
    });
    const plan = planPodLifecycle(input({ pod: p }));
    const init = plan.kind === 'sync' ? plan.status?.initContainerStatuses : undefined;
    assert.deepEqual(
      init?.map((s) => [s.name, s.state.running === null ? 'terminated' : 'running']),
      [
        ['setup', 'terminated'],
        ['proxy', 'running'],
      ],
    );
  });
});

describe('terminationDeadline', () => {
  const cases: { name: string; given: SimPod; want: number | undefined }[] = [
    { name: 'none without a deletionTimestamp', given: pod(), want: undefined },
    {
      name: 'the deletionTimestamp when the deletion grace equals the spec grace',
      given: pod({
        metadata: {
          deletionTimestamp: iso(T0 + 30_000),
          deletionGracePeriodSeconds: 30,
        },
        spec: { terminationGracePeriodSeconds: 30 },
      }),
      want: T0 + 30_000,
    },
    {
      name: 'a shorter deletion grace (kubectl delete --grace-period=5) wins',
      given: pod({
        metadata: {
          deletionTimestamp: iso(T0 + 5_000),
          deletionGracePeriodSeconds: 5,
        },
        spec: { terminationGracePeriodSeconds: 30 },
      }),
      want: T0 + 5_000,
    },
    {
      name: 'a longer deletion grace is capped at terminationGracePeriodSeconds',
      given: pod({
        metadata: {
          deletionTimestamp: iso(T0 + 100_000),
          deletionGracePeriodSeconds: 100,
        },
        spec: { terminationGracePeriodSeconds: 10 },
      }),
      want: T0 + 10_000,
    },
    {
      name: 'the API default of 30 s when the spec has none',
      given: pod({
        metadata: {
          deletionTimestamp: iso(T0 + 60_000),
          deletionGracePeriodSeconds: 60,
        },
      }),
      want: T0 + 30_000,
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(terminationDeadline(c.given), c.want));
});
