import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseNode, type NodeChoice, tolerates } from './node-selection.ts';
import { ANNOTATION_KUBELET } from './simulated-node.ts';
import type { SimNode, SimPod, SimTaint, SimToleration } from './simulated-objects.ts';
import { node, pod } from './test-fixtures.ts';

const N1 = node('playground-node-1', {
  labels: { 'topology.kubernetes.io/zone': 'zone-a' },
});
const N2 = node('playground-node-2', {
  labels: { 'topology.kubernetes.io/zone': 'zone-b' },
});
const N3 = node('playground-node-3', {
  labels: { 'topology.kubernetes.io/zone': 'zone-c' },
});

describe('chooseNode', () => {
  const cases: {
    name: string;
    given: {
      pod?: SimPod;
      nodes: SimNode[];
      load?: Record<string, number>;
      maxPods?: number;
    };
    want: NodeChoice;
  }[] = [
    {
      name: 'the least-loaded Node',
      given: {
        nodes: [N1, N2, N3],
        load: {
          'playground-node-1': 2,
          'playground-node-2': 1,
          'playground-node-3': 3,
        },
      },
      want: { kind: 'node', nodeName: 'playground-node-2' },
    },
    {
      name: 'ties go to the first name, so bursts spread in order',
      given: {
        nodes: [N3, N2, N1],
        load: {
          'playground-node-1': 1,
          'playground-node-2': 0,
          'playground-node-3': 0,
        },
      },
      want: { kind: 'node', nodeName: 'playground-node-2' },
    },
    {
      name: 'the nodeSelector filters',
      given: {
        pod: pod({
          spec: { nodeSelector: { 'topology.kubernetes.io/zone': 'zone-c' } },
        }),
        nodes: [N1, N2, N3],
        load: { 'playground-node-3': 50 },
      },
      want: { kind: 'node', nodeName: 'playground-node-3' },
    },
    {
      name: 'no fit: every Node with its reason',
      given: {
        nodes: [
          node('playground-node-1', { ready: 'Unknown' }),
          node('playground-node-2', {
            annotations: { [ANNOTATION_KUBELET]: 'stopped' },
          }),
          node('playground-node-3', { spec: { unschedulable: true } }),
          node('playground-node-4', {
            spec: {
              taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }],
            },
          }),
          node('playground-node-5', {
            spec: { podCIDR: undefined, podCIDRs: [] },
          }),
          node('real-node', {
            labels: { 'playground.kube-endpoints-operator.io/simulated': 'no' },
          }),
          node('playground-node-7'),
        ],
        load: { 'playground-node-7': 3 },
        maxPods: 3,
      },
      want: {
        kind: 'unschedulable',
        rejections: {
          'playground-node-1': 'NotReady',
          'playground-node-2': 'KubeletStopped',
          'playground-node-3': 'Unschedulable',
          'playground-node-4': 'UntoleratedTaint',
          'playground-node-5': 'NoPodCIDR',
          'real-node': 'NotSimulated',
          'playground-node-7': 'TooManyPods',
        },
      },
    },
    {
      name: 'a tolerated taint does not reject',
      given: {
        pod: pod({
          spec: {
            tolerations: [
              {
                key: 'dedicated',
                operator: 'Equal',
                value: 'db',
                effect: 'NoSchedule',
              },
            ],
          },
        }),
        nodes: [
          node('playground-node-4', {
            spec: {
              taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }],
            },
          }),
        ],
      },
      want: { kind: 'node', nodeName: 'playground-node-4' },
    },
    {
      name: 'condition taints are judged by the Ready condition (no kube-controller-manager to lift them)',
      given: {
        nodes: [
          node('playground-node-1', {
            spec: {
              taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }],
            },
          }),
        ],
      },
      want: { kind: 'node', nodeName: 'playground-node-1' },
    },
    {
      name: 'PreferNoSchedule never rejects',
      given: {
        nodes: [
          node('playground-node-1', {
            spec: { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] },
          }),
        ],
      },
      want: { kind: 'node', nodeName: 'playground-node-1' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = chooseNode(c.given.pod ?? pod(), c.given.nodes, new Map(Object.entries(c.given.load ?? {})), c.given.maxPods ?? 110);
      assert.deepEqual(got, c.want);
    });
  }
});

describe('tolerates', () => {
  const taint: SimTaint = {
    key: 'dedicated',
    value: 'db',
    effect: 'NoSchedule',
  };
  const cases: { name: string; given: SimToleration; want: boolean }[] = [
    {
      name: 'Equal with the same key, value and effect',
      given: {
        key: 'dedicated',
        operator: 'Equal',
        value: 'db',
        effect: 'NoSchedule',
      },
      want: true,
    },
    {
      name: 'operator defaults to Equal',
      given: { key: 'dedicated', value: 'db' },
      want: true,
    },
    {
      name: 'Equal with another value',
      given: { key: 'dedicated', value: 'web' },
      want: false,
    },
    {
      name: 'Exists with the key',
      given: { key: 'dedicated', operator: 'Exists' },
      want: true,
    },
    {
      name: 'Exists with no key matches every taint',
      given: { operator: 'Exists' },
      want: true,
    },
    {
      name: 'another effect',
      given: { key: 'dedicated', operator: 'Exists', effect: 'NoExecute' },
      want: false,
    },
    {
      name: 'another key',
      given: { key: 'gpu', operator: 'Exists' },
      want: false,
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(tolerates(c.given, taint), c.want));
});
