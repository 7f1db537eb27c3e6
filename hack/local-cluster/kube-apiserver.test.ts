import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kubeApiServerArgs } from './kube-apiserver.ts';

const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
};

describe('kubeApiServerArgs', () => {
  const given = deepFreeze({
    etcdUrl: 'http://127.0.0.1:2379',
    securePort: 40443,
    files: {
      certDir: '/w/certs',
      clientCaFile: '/w/ca.crt',
      serviceAccountPublicKeyFile: '/w/sa.pub',
      serviceAccountSigningKeyFile: '/w/sa.key',
    },
  });

  it('binds and advertises loopback only and runs no endpoint reconciler', () => {
    const args = kubeApiServerArgs(given);
    for (const flag of ['--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', '--endpoint-reconciler-type=none']) {
      assert.ok(args.includes(flag), flag);
    }
  });

  it('derives the service-account issuer from the secure port', () => {
    const args = kubeApiServerArgs(given);
    assert.ok(args.includes('--secure-port=40443'));
    assert.ok(args.includes('--service-account-issuer=https://127.0.0.1:40443/'));
  });

  it('lets a caller override a default without repeating the flag', () => {
    const args = kubeApiServerArgs({ ...given, flags: { 'disable-admission-plugins': 'ServiceAccount,DefaultStorageClass' } });
    assert.deepEqual(
      args.filter((a) => a.startsWith('--disable-admission-plugins=')),
      ['--disable-admission-plugins=ServiceAccount,DefaultStorageClass'],
    );
  });
});
