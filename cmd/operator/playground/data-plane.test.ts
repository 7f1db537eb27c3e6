import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodeNetworkOf } from './data-plane.ts';

describe('nodeNetworkOf', () => {
  const node = (addresses: { type: string; address: string }[], podCIDRs?: string[]) => ({
    metadata: { name: 'playground-node-2' },
    spec: { podCIDR: podCIDRs?.[0], podCIDRs },
    status: { addresses },
  });
  for (const [name, raw, want] of [
    [
      'a simulated Node: its IPv4 InternalIP and Pod CIDR',
      node(
        [
          { type: 'InternalIP', address: '172.18.0.3' },
          { type: 'Hostname', address: 'playground-node-2' },
        ],
        ['10.244.2.0/24'],
      ),
      { name: 'playground-node-2', nodeIp: '172.18.0.3', podCidr: '10.244.2.0/24' },
    ],
    [
      'dual-stack: the IPv4 ones, whatever the order',
      node(
        [
          { type: 'InternalIP', address: 'fc00:f853:ccd:e793::3' },
          { type: 'InternalIP', address: '172.18.0.3' },
        ],
        ['fd00:10:244:2::/64', '10.244.2.0/24'],
      ),
      { name: 'playground-node-2', nodeIp: '172.18.0.3', podCidr: '10.244.2.0/24' },
    ],
    ['no Pod CIDR yet', node([{ type: 'InternalIP', address: '172.18.0.3' }]), undefined],
    ['no InternalIP yet', node([{ type: 'Hostname', address: 'x' }], ['10.244.2.0/24']), undefined],
    ['not a Node', { kind: 'Pod' }, undefined],
  ] as const) {
    it(name, () => assert.deepEqual(nodeNetworkOf(raw), want));
  }
});
