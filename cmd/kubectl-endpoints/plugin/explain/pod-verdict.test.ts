import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from '../../../../api/core/v1.ts';
import { deepFreeze } from '../../../../controllers/runtime/testing/deep-freeze.ts';
import { nodeIndex } from './node-index.ts';
import { type EndpointState, type PodVerdict, podVerdict } from './pod-verdict.ts';
import type { Lookup, NodeDetail, PodDetail } from './snapshot.ts';
import { notReadyStatus, testNode, testPod, testService } from './test-fixtures.ts';

const READY_NODE = [testNode('node-a', 'True')];

interface Case {
  name: string;
  given: { pod: PodDetail; service?: Service; nodes?: Lookup<readonly NodeDetail[]>; dropped?: string[] };
  want: { state: EndpointState; code?: string; endpoints?: PodVerdict['endpoints']; check?: (v: PodVerdict) => void };
}

const deleted = { deletionTimestamp: '2025-01-02T00:00:00Z' };

const cases: Case[] = [
  {
    name: 'a ready running Pod is a ready endpoint with no reason',
    given: { pod: testPod('p', 1) },
    want: { state: 'ready', endpoints: { state: 'ready' } },
  },
  {
    name: 'Succeeded is terminal',
    given: { pod: testPod('p', 1, { status: { phase: 'Succeeded' } }) },
    want: { state: 'absent', code: 'TerminalPhase', endpoints: { state: 'absent', reason: 'TerminalPhase' } },
  },
  {
    name: 'Failed is terminal even when its Ready condition is stale True',
    given: { pod: testPod('p', 1, { status: { phase: 'Failed' } }) },
    want: { state: 'absent', code: 'TerminalPhase' },
  },
  {
    name: 'no IP and no Node: waiting for the scheduler, with its message',
    given: {
      pod: testPod('p', 1, {
        spec: { nodeName: undefined },
        status: {
          phase: 'Pending',
          podIP: undefined,
          podIPs: undefined,
          conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }],
        },
      }),
    },
    want: {
      state: 'absent',
      code: 'NoPodIP',
      check: (v) =>
        assert.deepEqual(v.reason, {
          code: 'NoPodIP',
          scheduled: false,
          scheduling: { reason: 'Unschedulable', message: '0/3 nodes are available' },
        }),
    },
  },
  {
    name: 'no IP on a scheduled Pod',
    given: { pod: testPod('p', 1, { status: { phase: 'Pending', podIP: undefined, podIPs: [] } }) },
    want: { state: 'absent', code: 'NoPodIP', check: (v) => assert.deepEqual(v.reason, { code: 'NoPodIP', scheduled: true }) },
  },
  {
    name: 'named targetPort not declared: no port resolves, absent (the Endpoints controller skips it too)',
    given: {
      pod: testPod('p', 1, { spec: { containers: [{ name: 'app', ports: [{ name: 'web', containerPort: 8080, protocol: 'TCP' }] }] } }),
    },
    want: {
      state: 'absent',
      code: 'NoPortResolved',
      endpoints: { state: 'absent', reason: 'NoMatchingPort' },
      check: (v) =>
        assert.deepEqual(v.reason, {
          code: 'NoPortResolved',
          missing: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }],
          containerPorts: [{ container: 'app', name: 'web', port: 8080, protocol: 'TCP' }],
        }),
    },
  },
  {
    name: 'named targetPort declared with another protocol does not resolve',
    given: {
      pod: testPod('p', 1, { spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080, protocol: 'UDP' }] }] } }),
    },
    want: { state: 'absent', code: 'NoPortResolved' },
  },
  {
    name: 'near miss: the named port on a sidecar (restartable init container) resolves',
    given: {
      pod: testPod('p', 1, {
        spec: {
          containers: [{ name: 'app' }],
          initContainers: [{ name: 'proxy', restartPolicy: 'Always', ports: [{ name: 'http', containerPort: 15001, protocol: 'TCP' }] }],
        },
      }),
    },
    want: { state: 'ready', check: (v) => assert.equal(v.ports[0]?.resolved, 15001) },
  },
  {
    name: 'the named port on an ordinary init container does not resolve',
    given: {
      pod: testPod('p', 1, {
        spec: {
          containers: [{ name: 'app' }],
          initContainers: [{ name: 'setup', ports: [{ name: 'http', containerPort: 9, protocol: 'TCP' }] }],
        },
      }),
    },
    want: { state: 'absent', code: 'NoPortResolved' },
  },
  {
    name: 'Node not in the cluster: EndpointSlices skip it, the Endpoints object keeps it',
    given: { pod: testPod('p', 1, { spec: { nodeName: 'ghost' } }) },
    want: { state: 'absent', code: 'NodeMissing', endpoints: { state: 'ready' } },
  },
  {
    name: 'near miss: Nodes unreadable means no Node rule, not a missing Node',
    given: { pod: testPod('p', 1, { spec: { nodeName: 'ghost' } }), nodes: { kind: 'unavailable', reason: 'forbidden' } },
    want: { state: 'ready' },
  },
  {
    name: 'near miss: publishNotReadyAddresses keeps a Pod on an unknown Node',
    given: { pod: testPod('p', 1, { spec: { nodeName: 'ghost' } }), service: testService({ publishNotReadyAddresses: true }) },
    want: { state: 'ready' },
  },
  {
    name: 'an IPv6-only Pod behind an IPv4 Service',
    given: { pod: testPod('p', 1, { status: { podIP: 'fd00::5', podIPs: [{ ip: 'fd00::5' }] } }) },
    want: {
      state: 'absent',
      code: 'IPFamilyNotServed',
      endpoints: { state: 'absent', reason: 'NoIPOfServiceFamily' },
      check: (v) => assert.deepEqual(v.reason, { code: 'IPFamilyNotServed', podIPs: ['fd00::5'], serviceFamilies: ['IPv4'] }),
    },
  },
  {
    name: 'near miss: a dual-stack Pod behind an IPv4 Service is served by its IPv4 address',
    given: { pod: testPod('p', 1, { status: { podIPs: [{ ip: 'fd00::5' }, { ip: '10.0.0.1' }] } }) },
    want: { state: 'ready', check: (v) => assert.deepEqual(v.addresses, ['10.0.0.1']) },
  },
  {
    name: 'terminating and still Ready: serving (EndpointSlices), gone from Endpoints',
    given: { pod: testPod('p', 1, { metadata: deleted }) },
    want: {
      state: 'serving',
      code: 'Terminating',
      endpoints: { state: 'absent', reason: 'Terminating' },
      check: (v) => assert.deepEqual(v.reason, { code: 'Terminating', serving: true, deletionTimestamp: deleted.deletionTimestamp }),
    },
  },
  {
    name: 'terminating and not Ready: terminating, and the terminating rule comes before readiness',
    given: { pod: testPod('p', 1, { metadata: deleted, status: notReadyStatus() }) },
    want: { state: 'terminating', code: 'Terminating' },
  },
  {
    name: 'terminating with publishNotReadyAddresses: still a ready endpoint, no reason',
    given: { pod: testPod('p', 1, { metadata: deleted }), service: testService({ publishNotReadyAddresses: true }) },
    want: { state: 'ready', endpoints: { state: 'ready' } },
  },
  {
    name: 'container failing readiness on a Ready Node: the container only',
    given: { pod: testPod('p', 1, { status: notReadyStatus() }) },
    want: {
      state: 'notReady',
      code: 'NotReady',
      endpoints: { state: 'notReady' },
      check: (v) => {
        assert.equal(v.reason?.code, 'NotReady');
        if (v.reason?.code !== 'NotReady') return;
        assert.deepEqual(
          v.reason.causes.map((c) => c.kind),
          ['ContainerNotReady'],
        );
      },
    },
  },
  {
    name: 'not Ready with publishNotReadyAddresses: published ready, serving false, no reason',
    given: { pod: testPod('p', 1, { status: notReadyStatus() }), service: testService({ publishNotReadyAddresses: true }) },
    want: { state: 'ready', check: (v) => assert.deepEqual(v.conditions, { ready: true, serving: false, terminating: false }) },
  },
  {
    name: 'the first Ready condition decides, as the controllers read it',
    given: {
      pod: testPod('p', 1, {
        status: {
          conditions: [
            { type: 'Ready', status: 'False' },
            { type: 'Ready', status: 'True' },
          ],
        },
      }),
    },
    want: { state: 'notReady', code: 'NotReady' },
  },
  {
    name: 'some but not all Service ports resolve: ready, with the missing one named',
    given: {
      pod: testPod('p', 1),
      service: testService({
        ports: [
          { name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' },
          { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 'metrics' },
        ],
      }),
    },
    want: {
      state: 'ready',
      code: 'NamedPortNotFound',
      check: (v) => assert.deepEqual(v.reason?.code === 'NamedPortNotFound' ? v.reason.missing.map((p) => p.name) : [], ['metrics']),
    },
  },
  {
    name: 'a number targetPort always resolves, whatever the containers declare',
    given: {
      pod: testPod('p', 1, { spec: { containers: [{ name: 'app' }] } }),
      service: testService({ ports: [{ name: '', port: 80, protocol: 'TCP', targetPort: 8080 }] }),
    },
    want: { state: 'ready' },
  },
  {
    name: 'only status.podIP (no podIPs): EndpointSlices read podIPs, so no address',
    given: { pod: testPod('p', 1, { status: { podIPs: undefined } }) },
    want: { state: 'absent', code: 'IPFamilyNotServed' },
  },
  {
    name: 'dropped by the Endpoints cap: still a ready EndpointSlice endpoint',
    given: { pod: testPod('p', 1), dropped: ['p'] },
    want: { state: 'ready', endpoints: { state: 'absent', reason: 'OverCapacity' } },
  },
];

describe('podVerdict: state and first failing rule, in the controllers order', () => {
  for (const c of cases) {
    it(c.name, () => {
      const pod = deepFreeze(c.given.pod);
      const service = deepFreeze(c.given.service ?? testService());
      const nodes = nodeIndex(deepFreeze(c.given.nodes ?? { kind: 'found', value: READY_NODE }));
      const v = podVerdict(pod, { service, nodes, droppedFromEndpoints: new Set(c.given.dropped ?? []) });
      assert.equal(v.state, c.want.state);
      assert.equal(v.reason?.code, c.want.code);
      if (c.want.endpoints !== undefined) assert.deepEqual(v.endpoints, c.want.endpoints);
      c.want.check?.(v);
    });
  }

  it('the Endpoints view is absent for a Service the Endpoints controller does not manage', () => {
    const service = deepFreeze(testService({ type: 'ExternalName', externalName: 'x.example.com' }));
    const v = podVerdict(deepFreeze(testPod('p', 1)), {
      service,
      nodes: nodeIndex({ kind: 'found', value: READY_NODE }),
      droppedFromEndpoints: new Set(),
    });
    assert.equal(v.endpoints, undefined);
  });
});
