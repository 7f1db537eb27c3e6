import assert from 'node:assert/strict';
import { z } from 'zod';

// etcd's v3 JSON gateway (plain HTTP on loopback, LocalCluster.etcdUrl): its current revision, and a compaction that
// makes every older revision unreadable, so an API server asked to resume a watch from one answers 410 Gone.

const rangeAnswer = z.object({ header: z.object({ revision: z.string() }) });

/** etcd's current revision (a range read of one key returns it in its header). */
export async function etcdRevision(etcdUrl: string): Promise<string> {
  const res = await fetch(`${etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: 'AA==' }) });
  assert.equal(res.status, 200, `etcd range: ${res.status}`);
  return rangeAnswer.parse(await res.json()).header.revision;
}

/** Compacts etcd's history up to `revision` (physically: resolves once the old revisions are gone). */
export async function compactEtcd(etcdUrl: string, revision: string): Promise<void> {
  const res = await fetch(`${etcdUrl}/v3/kv/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision, physical: true }),
  });
  assert.equal(res.status, 200, `etcd compaction: ${res.status} ${await res.text()}`);
}
