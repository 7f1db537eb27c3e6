import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataPlaneError } from './netns.ts';
import { CLUSTER_CIDR, MAX_NODES, nodeAddressing, podCidrAddressing } from './data-plane.ts';

describe('nodeAddressing', () => {
  for (const [index, want] of [
    [1, { nodeIp: '198.19.255.11', podCidr: '198.18.1.0/24', gateway: '198.18.1.1' }],
    [2, { nodeIp: '198.19.255.12', podCidr: '198.18.2.0/24', gateway: '198.18.2.1' }],
    [MAX_NODES, { nodeIp: '198.19.255.110', podCidr: '198.18.100.0/24', gateway: '198.18.100.1' }],
  ] as const) {
    it(`node ${index}: ${want.nodeIp}, pods ${want.podCidr}`, () => assert.deepEqual(nodeAddressing(index), want));
  }

  for (const bad of [0, -1, 1.5, MAX_NODES + 1]) {
    it(`rejects node index ${bad}`, () => assert.throws(() => nodeAddressing(bad), DataPlaneError));
  }

  it('keeps every Pod CIDR inside the cluster CIDR and off the node network', () => {
    assert.equal(CLUSTER_CIDR, '198.18.0.0/16');
    for (let i = 1; i <= MAX_NODES; i++) assert.match(nodeAddressing(i).podCidr, /^198\.18\.\d+\.0\/24$/);
  });
});

describe('podCidrAddressing', () => {
  it('gives the bridge the first address and Pods the ones after it', () => {
    const a = podCidrAddressing('10.244.3.0/24');
    assert.equal(a.gateway, '10.244.3.1');
    assert.equal(a.prefix, 24);
    assert.equal(a.address(2), '10.244.3.2');
    assert.equal(a.address(254), '10.244.3.254');
    assert.throws(() => a.address(255), DataPlaneError);
    assert.throws(() => a.address(1), DataPlaneError);
  });

  it('normalises a CIDR written with host bits', () => {
    assert.equal(podCidrAddressing('10.244.1.77/23').gateway, '10.244.0.1');
    assert.equal(podCidrAddressing('10.244.1.77/23').address(300), '10.244.1.44');
  });

  for (const bad of ['10.244.0.0', '10.244.0.0/31', 'fd00::/64', '300.1.1.1/24', '10.0.0/24']) {
    it(`rejects ${bad}`, () => assert.throws(() => podCidrAddressing(bad), DataPlaneError));
  }
});
