import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstServiceIp, inClusterApiSettings } from './in-cluster-api.ts';

describe('inClusterApiSettings', () => {
  it('advertises the address with the lease reconciler and names the first Service IP and the kubernetes names', () => {
    const s = inClusterApiSettings('198.19.255.2');
    assert.deepEqual(s.flags, { 'advertise-address': '198.19.255.2', 'endpoint-reconciler-type': 'lease' });
    assert.equal(s.clusterIP, '10.0.0.1');
    assert.deepEqual(s.servingNames.ips, ['10.0.0.1']);
    assert.ok(s.servingNames.dns.includes('kubernetes.default.svc.cluster.local'));
  });

  it('takes the ClusterIP from the Service range and refuses loopback advertise addresses', () => {
    assert.equal(firstServiceIp('10.96.0.0/12'), '10.96.0.1');
    assert.equal(firstServiceIp('172.30.5.7/16'), '172.30.0.1');
    assert.equal(firstServiceIp('10.0.0.0/24,fd00:10:96::/112'), '10.0.0.1');
    assert.equal(inClusterApiSettings('198.19.255.2', '10.96.0.0/12').clusterIP, '10.96.0.1');
    assert.throws(() => inClusterApiSettings('127.0.0.1'), /non-loopback/);
    assert.throws(() => firstServiceIp('fd00::/108'), /IPv4 CIDR/);
  });
});
