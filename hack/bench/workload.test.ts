import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inParallel, podIp, serviceName, Workload } from './workload.ts';

describe('podIp', () => {
  it('gives every Pod number its own address across /16 boundaries', () => {
    const seen = new Set<string>();
    for (let n = 0; n < 120_000; n++) seen.add(podIp(n));
    assert.equal(seen.size, 120_000);
    assert.equal(podIp(0), '10.64.0.0');
    assert.equal(podIp(65_536 + 257), '10.65.1.1');
  });
});

describe('Workload', () => {
  it('hands out fresh Pods per Service and computes expectations from the current Pods', () => {
    const w = new Workload({ name: 't', services: 2, podsPerService: 1, churnFlips: 0, restartAndResync: false, rollingRestart: false });
    assert.deepEqual(w.services, [serviceName(0), serviceName(1)]);
    const a = w.newPod('svc-00000');
    const b = w.newPod('svc-00000');
    assert.notEqual(a.ip, b.ip);
    w.pods.set(a.name, a);
    w.pods.set(b.name, { ...b, ready: false });
    assert.deepEqual(
      w.expected('svc-00000'),
      new Map([
        [a.ip, { ready: true, serving: true, terminating: false, nodeName: 'node-0', zone: 'zone-a' }],
        [b.ip, { ready: false, serving: false, terminating: false, nodeName: 'node-1', zone: 'zone-b' }],
      ]),
    );
    assert.equal(w.expected('svc-00001').size, 0);
  });
});

describe('inParallel', () => {
  it('runs every item with at most the given concurrency', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await inParallel([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      done.push(n);
      running--;
    });
    assert.equal(peak, 3);
    assert.deepEqual(
      done.sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7],
    );
  });

  it('rejects with the first failure', async () => {
    await assert.rejects(
      inParallel([1, 2], 2, async (n) => {
        if (n === 2) throw new Error('boom');
      }),
      /boom/,
    );
  });
});
