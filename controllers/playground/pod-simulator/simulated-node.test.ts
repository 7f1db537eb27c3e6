import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../../runtime/testing/deep-freeze.ts';
import { desiredNode, type NodeLayout, nodeLease, planNodeStatus } from './simulated-node.ts';
import { type SimNode, simNodeSchema } from './simulated-objects.ts';
import { iso, node, T0 } from './test-fixtures.ts';

const LAYOUT: NodeLayout = {
  count: 4,
  zones: ['zone-a', 'zone-b', 'zone-c'],
  dualStack: false,
  kubeletVersion: 'v1.36.4',
};

describe('desiredNode', () => {
  const cases: {
    name: string;
    given: { index: number; layout: NodeLayout };
    want: unknown;
  }[] = [
    {
      name: 'the first Node: zone-a, 10.244.1.0/24, 172.18.0.2',
      given: { index: 1, layout: LAYOUT },
      want: {
        name: 'playground-node-1',
        zone: 'zone-a',
        podCIDRs: ['10.244.1.0/24'],
        ips: ['172.18.0.2'],
      },
    },
    {
      name: 'zones are assigned round-robin',
      given: { index: 4, layout: LAYOUT },
      want: {
        name: 'playground-node-4',
        zone: 'zone-a',
        podCIDRs: ['10.244.4.0/24'],
        ips: ['172.18.0.5'],
      },
    },
    {
      name: 'dual-stack: an IPv6 pod CIDR and address after the IPv4 ones',
      given: { index: 10, layout: { ...LAYOUT, dualStack: true } },
      want: {
        name: 'playground-node-10',
        zone: 'zone-a',
        podCIDRs: ['10.244.10.0/24', 'fd00:10:244:a::/64'],
        ips: ['172.18.0.11', 'fc00:f853:ccd:e793::b'],
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const n = simNodeSchema.parse(desiredNode(c.given.index, c.given.layout, T0));
      assert.deepEqual(
        {
          name: n.metadata.name,
          zone: n.metadata.labels?.['topology.kubernetes.io/zone'],
          podCIDRs: n.spec.podCIDRs,
          ips: n.status.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address),
        },
        c.want,
      );
      assert.equal(n.spec.podCIDR, n.spec.podCIDRs?.[0]);
      assert.equal(n.metadata.labels?.['playground.kube-endpoints-operator.io/simulated'], 'true');
      assert.equal(n.status.conditions?.find((x) => x.type === 'Ready')?.status, 'True');
    });
  }
});

function withConditions(conditions: SimNode['status']['conditions']): SimNode {
  const base = node();
  return deepFreeze(simNodeSchema.parse({ ...base, status: { ...base.status, conditions } }));
}

const healthy = (heartbeatMs: number) =>
  ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'].map((type) => ({
    type,
    status: type === 'Ready' ? 'True' : 'False',
    lastHeartbeatTime: iso(heartbeatMs),
    lastTransitionTime: iso(T0),
  }));

describe('planNodeStatus', () => {
  it('posts nothing while healthy and the last report is recent', () => {
    assert.deepEqual(planNodeStatus(withConditions(healthy(T0)), T0 + 59_000, 60_000), { kind: 'none' });
  });

  it('posts a heartbeat when the report interval has passed, keeping transition times', () => {
    const plan = planNodeStatus(withConditions(healthy(T0)), T0 + 60_000, 60_000);
    assert.equal(plan.kind, 'patch');
    const ready = plan.kind === 'patch' ? plan.conditions.find((c) => c.type === 'Ready') : undefined;
    assert.equal(ready?.lastHeartbeatTime, iso(T0 + 60_000));
    assert.equal(ready?.lastTransitionTime, iso(T0));
  });

  it('reports Ready again at once after the node lifecycle controller set Unknown', () => {
    const conditions = healthy(T0).map((c) => ({
      ...c,
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
    }));
    const plan = planNodeStatus(withConditions(conditions), T0 + 1_000, 60_000);
    const ready = plan.kind === 'patch' ? plan.conditions.find((c) => c.type === 'Ready') : undefined;
    assert.deepEqual([ready?.status, ready?.reason, ready?.lastTransitionTime], ['True', 'KubeletReady', iso(T0 + 1_000)]);
  });
});

describe('nodeLease', () => {
  it('is held by the Node, renewed now in MicroTime, and owned by the Node for garbage collection', () => {
    assert.deepEqual(nodeLease(node('playground-node-2'), T0 + 123, 40), {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: 'playground-node-2',
        namespace: 'kube-node-lease',
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'Node',
            name: 'playground-node-2',
            uid: 'uid-playground-node-2',
          },
        ],
      },
      spec: {
        holderIdentity: 'playground-node-2',
        leaseDurationSeconds: 40,
        renewTime: '2023-11-14T22:13:20.123000Z',
      },
    });
  });
});
