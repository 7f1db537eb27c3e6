import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { etcdArgs } from './etcd.ts';

const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
};

describe('etcdArgs', () => {
  const given = deepFreeze({ dataDir: '/w/etcd', clientPort: 1, peerPort: 2 });
  it('turns fsync off only when the binary supports it', () => {
    assert.ok(etcdArgs(given, true).includes('--unsafe-no-fsync=true'));
    assert.ok(!etcdArgs(given, false).some((a) => a.startsWith('--unsafe-no-fsync')));
  });
  it('serves clients on loopback by IP', () => {
    assert.ok(etcdArgs(given, true).includes('--listen-client-urls=http://127.0.0.1:1'));
  });
});
