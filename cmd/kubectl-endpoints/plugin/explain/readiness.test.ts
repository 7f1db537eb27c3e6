import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../../../../controllers/runtime/testing/deep-freeze.ts';
import { type NodeKnowledge, notReadyBreakdown, type ReadinessCause } from './readiness.ts';
import type { PodDetail } from './snapshot.ts';
import { notReadyStatus, testNode, testPod } from './test-fixtures.ts';

const known = (ready?: 'True' | 'False' | 'Unknown'): NodeKnowledge => ({ kind: 'known', node: testNode('node-a', ready) });

const gatePod = (gateStatus: 'True' | 'False' | undefined, containerReady: boolean): PodDetail =>
  testPod('p', 1, {
    spec: { readinessGates: [{ conditionType: 'example.com/lb-ready' }] },
    status: {
      conditions: [
        { type: 'ContainersReady', status: containerReady ? 'True' : 'False' },
        {
          type: 'Ready',
          status: 'False',
          reason: 'ReadinessGatesNotReady',
          message: 'corresponding condition of pod readiness gate "example.com/lb-ready" does not exist.',
        },
        ...(gateStatus === undefined ? [] : [{ type: 'example.com/lb-ready', status: gateStatus, reason: 'TargetUnhealthy' }]),
      ],
      containerStatuses: [{ name: 'app', ready: containerReady, started: true, restartCount: 0, state: { running: {} } }],
    },
  });

const cases: { name: string; given: { pod: PodDetail; node: NodeKnowledge }; want: readonly Partial<ReadinessCause>[] }[] = [
  {
    name: 'a container failing its readiness probe',
    given: { pod: testPod('p', 1, { status: notReadyStatus() }), node: known('True') },
    want: [{ kind: 'ContainerNotReady', container: 'app', state: 'running', restartCount: 2 }],
  },
  {
    name: 'a Node whose Ready is Unknown comes first, then the container',
    given: { pod: testPod('p', 1, { status: notReadyStatus() }), node: known('Unknown') },
    want: [{ kind: 'NodeNotReady', node: 'node-a', status: 'Unknown', reason: 'NodeStatusUnknown' }, { kind: 'ContainerNotReady' }],
  },
  {
    name: 'a Node whose Ready is False',
    given: { pod: testPod('p', 1, { status: notReadyStatus() }), node: known('False') },
    want: [{ kind: 'NodeNotReady', status: 'False' }, { kind: 'ContainerNotReady' }],
  },
  {
    name: 'near miss: a Node that never reported (no Ready condition) is not blamed',
    given: { pod: testPod('p', 1, { status: notReadyStatus() }), node: known(undefined) },
    want: [{ kind: 'ContainerNotReady' }],
  },
  {
    name: 'near miss: a Ready Node under MemoryPressure is not blamed',
    given: {
      pod: testPod('p', 1, { status: notReadyStatus() }),
      node: {
        kind: 'known',
        node: {
          metadata: { name: 'node-a', resourceVersion: '1' },
          status: {
            conditions: [
              { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory' },
              { type: 'Ready', status: 'True' },
            ],
          },
        },
      },
    },
    want: [{ kind: 'ContainerNotReady' }],
  },
  {
    name: 'near miss: an unreadable Node is not blamed',
    given: { pod: testPod('p', 1, { status: notReadyStatus() }), node: { kind: 'unavailable' } },
    want: [{ kind: 'ContainerNotReady' }],
  },
  {
    name: 'a readiness gate reported False, named with its reason',
    given: { pod: gatePod('False', true), node: known('True') },
    want: [{ kind: 'ReadinessGateNotReady', conditionType: 'example.com/lb-ready', status: 'False', reason: 'TargetUnhealthy' }],
  },
  {
    name: 'a readiness gate nobody reported yet',
    given: { pod: gatePod(undefined, true), node: known('True') },
    want: [{ kind: 'ReadinessGateNotReady', status: 'Missing' }],
  },
  {
    name: 'near miss: a readiness gate that is True is not named, the failing container is',
    given: { pod: gatePod('True', false), node: known('True') },
    want: [{ kind: 'ContainerNotReady' }],
  },
  {
    name: 'near miss: a condition of a gate-like type without a declared gate is not named',
    given: {
      pod: testPod('p', 1, { status: { ...notReadyStatus([{ type: 'example.com/lb-ready', status: 'False' }]) } }),
      node: known('True'),
    },
    want: [{ kind: 'ContainerNotReady' }],
  },
  {
    name: 'a waiting container with its reason (CrashLoopBackOff)',
    given: {
      pod: testPod('p', 1, {
        status: {
          ...notReadyStatus(),
          containerStatuses: [
            { name: 'app', ready: false, restartCount: 7, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' } } },
          ],
        },
      }),
      node: known('True'),
    },
    want: [{ kind: 'ContainerNotReady', state: 'waiting', reason: 'CrashLoopBackOff', restartCount: 7 }],
  },
  {
    name: 'a not-ready sidecar counts; a not-ready ordinary init container does not',
    given: {
      pod: testPod('p', 1, {
        spec: { initContainers: [{ name: 'mesh', restartPolicy: 'Always' }, { name: 'migrate' }] },
        status: {
          conditions: [{ type: 'Ready', status: 'False' }],
          containerStatuses: [{ name: 'app', ready: true, state: { running: {} } }],
          initContainerStatuses: [
            { name: 'mesh', ready: false, started: false, state: { running: {} } },
            { name: 'migrate', ready: false, state: { terminated: { reason: 'Completed', exitCode: 0 } } },
          ],
        },
      }),
      node: known('True'),
    },
    want: [{ kind: 'ContainerNotReady', container: 'mesh', sidecar: true, started: false }],
  },
  {
    name: 'nothing known explains it: no causes, the Ready condition still reported',
    given: {
      pod: testPod('p', 1, { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'PodCompleted' }] } }),
      node: known('True'),
    },
    want: [],
  },
];

describe('notReadyBreakdown: only failing facts, Node first', () => {
  for (const c of cases) {
    it(c.name, () => {
      const got = notReadyBreakdown(deepFreeze(c.given.pod), deepFreeze(c.given.node));
      assert.equal(got.causes.length, c.want.length, JSON.stringify(got.causes));
      c.want.forEach((w, i) => {
        for (const [k, v] of Object.entries(w)) assert.deepEqual((got.causes[i] as unknown as Record<string, unknown>)[k], v, `${i}.${k}`);
      });
    });
  }

  it('reports a missing Ready condition as Missing', () => {
    const got = notReadyBreakdown(deepFreeze(testPod('p', 1, { status: { conditions: [] } })), known('True'));
    assert.deepEqual(got.readyCondition, { status: 'Missing' });
  });
});
