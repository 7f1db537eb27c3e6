import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../../controllers/runtime/testing/deep-freeze.ts';
import { type PodStatusInput, podStatus } from './pod-status.ts';

const NOW = new Date('2026-03-04T05:06:07.890Z');

describe('podStatus', () => {
  const cases: { name: string; given: PodStatusInput; want: Record<string, unknown> }[] = [
    {
      name: 'a ready dual-stack pod: podIP is the primary IP, the transition time is now at second precision',
      given: { podIPs: ['10.1.0.5', 'fd00::5'] },
      want: {
        phase: 'Running',
        podIP: '10.1.0.5',
        podIPs: [{ ip: '10.1.0.5' }, { ip: 'fd00::5' }],
        hostIP: null,
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-03-04T05:06:07Z' }],
      },
    },
    {
      name: 'no IPs are sent as null so a merge patch removes stale ones',
      given: { ready: false, phase: 'Pending', hostIP: '192.0.2.1', readyTransitionTime: '2026-01-01T00:00:00Z' },
      want: {
        phase: 'Pending',
        podIP: null,
        podIPs: null,
        hostIP: '192.0.2.1',
        conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: '2026-01-01T00:00:00Z' }],
      },
    },
  ];
  for (const c of deepFreeze(cases)) it(c.name, () => assert.deepEqual(podStatus(c.given, NOW), c.want));
});
