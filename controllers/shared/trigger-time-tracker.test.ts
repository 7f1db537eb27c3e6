import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod, Service } from '../../api/core/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { formatTriggerTime, TriggerTimeTracker } from './trigger-time-tracker.ts';

const T0 = '2024-01-01T00:00:00Z';
const ms = (s: string) => Date.parse(s);

function service(created: string | undefined = T0): Service {
  return deepFreeze({ metadata: { name: 'svc', namespace: 'ns', ...(created ? { creationTimestamp: created } : {}) }, spec: {} });
}

function pod(name: string, readyAt: string | undefined): Pod {
  return deepFreeze({
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '1' },
    spec: { containers: [] },
    status: { conditions: readyAt === undefined ? [] : [{ type: 'Ready', status: 'True', lastTransitionTime: readyAt }] },
  });
}

describe('TriggerTimeTracker', () => {
  it('returns the service creation time for a new service without pods', () => {
    const t = new TriggerTimeTracker();
    assert.equal(t.computeEndpointLastChangeTriggerTime('ns', service(), []), ms(T0));
  });

  it('returns the service creation time for a new service with existing pods, even newer ones', () => {
    const t = new TriggerTimeTracker();
    assert.equal(t.computeEndpointLastChangeTriggerTime('ns', service(), [pod('a', '2024-01-01T00:00:05Z')]), ms(T0));
  });

  it('returns zero (undefined) for a new service without a creation time', () => {
    const t = new TriggerTimeTracker();
    assert.equal(t.computeEndpointLastChangeTriggerTime('ns', service(''), []), undefined);
  });

  it('returns the earliest time of the pods added since the last sync', () => {
    const t = new TriggerTimeTracker();
    t.computeEndpointLastChangeTriggerTime('ns', service(), []);
    const got = t.computeEndpointLastChangeTriggerTime('ns', service(), [
      pod('a', '2024-01-01T00:00:07Z'),
      pod('b', '2024-01-01T00:00:03Z'),
      pod('c', undefined),
    ]);
    assert.equal(got, ms('2024-01-01T00:00:03Z'));
  });

  it('returns the earliest changed time when pods are updated, ignoring unchanged ones', () => {
    const t = new TriggerTimeTracker();
    t.computeEndpointLastChangeTriggerTime('ns', service(), [pod('a', '2024-01-01T00:00:01Z'), pod('b', '2024-01-01T00:00:02Z')]);
    const got = t.computeEndpointLastChangeTriggerTime('ns', service(), [
      pod('a', '2024-01-01T00:00:01Z'),
      pod('b', '2024-01-01T00:00:09Z'),
    ]);
    assert.equal(got, ms('2024-01-01T00:00:09Z'));
  });

  it('returns zero when nothing changed', () => {
    const t = new TriggerTimeTracker();
    const pods = [pod('a', '2024-01-01T00:00:01Z')];
    t.computeEndpointLastChangeTriggerTime('ns', service(), pods);
    assert.equal(t.computeEndpointLastChangeTriggerTime('ns', service(), pods), undefined);
  });

  it('counts a pod deleted then re-added under the same name as a change', () => {
    const t = new TriggerTimeTracker();
    t.computeEndpointLastChangeTriggerTime('ns', service(), [pod('a', '2024-01-01T00:00:01Z')]);
    t.computeEndpointLastChangeTriggerTime('ns', service(), []);
    assert.equal(t.computeEndpointLastChangeTriggerTime('ns', service(), [pod('a', '2024-01-01T00:00:01Z')]), ms('2024-01-01T00:00:01Z'));
  });

  it('returns the creation time again after the service was deleted and re-added', () => {
    const t = new TriggerTimeTracker();
    t.computeEndpointLastChangeTriggerTime('ns', service(), [pod('a', '2024-01-01T00:00:01Z')]);
    t.deleteService('ns', 'svc');
    assert.equal(t.has('ns', 'svc'), false);
    const recreated = service('2024-02-01T00:00:00Z');
    assert.equal(t.computeEndpointLastChangeTriggerTime('ns', recreated, [pod('a', '2024-01-01T00:00:01Z')]), ms('2024-02-01T00:00:00Z'));
  });

  it('returns zero when the service is updated without pod changes', () => {
    const t = new TriggerTimeTracker();
    t.computeEndpointLastChangeTriggerTime('ns', service(), []);
    assert.equal(t.computeEndpointLastChangeTriggerTime('ns', service(), []), undefined);
  });

  it('keeps services in different namespaces apart', () => {
    const t = new TriggerTimeTracker();
    t.computeEndpointLastChangeTriggerTime('ns', service(), []);
    assert.equal(t.computeEndpointLastChangeTriggerTime('other', service(), []), ms(T0));
  });
});

// The tracker keeps one map per Service and mutates it, skipping Pods whose cached object did not change. These cases
// compare it with upstream's algorithm as written (trigger_time_tracker.go: ComputeEndpointLastChangeTriggerTime builds
// a new map of every Pod per sync), sync by sync.
function upstreamTracker() {
  const states = new Map<string, { service: number | undefined; pods: Map<string, number> }>();
  return (svc: Service, pods: readonly Pod[]): number | undefined => {
    const key = svc.metadata.name ?? '';
    const state = states.get(key);
    let min: number | undefined;
    const podTimes = new Map<string, number>();
    for (const p of pods) {
      const c = p.status.conditions?.find((x) => x.type === 'Ready');
      const t = c?.lastTransitionTime == null ? undefined : Date.parse(c.lastTransitionTime);
      if (t === undefined) continue;
      podTimes.set(p.metadata.name, t);
      if (t > (state?.pods.get(p.metadata.name) ?? -Infinity) && (min === undefined || t < min)) min = t;
    }
    const created = svc.metadata.creationTimestamp ? Date.parse(svc.metadata.creationTimestamp) : undefined;
    if (created !== undefined && created > (state?.service ?? -Infinity) && (min === undefined || created < min)) min = created;
    states.set(key, { service: created, pods: podTimes });
    return state === undefined ? created : min;
  };
}

describe('TriggerTimeTracker: incremental state against upstream', () => {
  const at = (s: number) => `2024-01-01T00:00:${String(s).padStart(2, '0')}Z`;
  // Each sync lists Pods as [name, Ready second or undefined]; the same name and second reuse the same frozen object, as
  // an informer cache does for an unchanged Pod.
  const cases: { name: string; syncs: (readonly [string, number | undefined])[][] }[] = [
    {
      name: 'unchanged Pods, then one Ready time moves on',
      syncs: [
        [
          ['a', 1],
          ['b', 2],
        ],
        [
          ['a', 1],
          ['b', 2],
        ],
        [
          ['a', 1],
          ['b', 5],
        ],
      ],
    },
    { name: 'a Pod replaced by a new object with the same time is no change', syncs: [[['a', 1]], [['a', 1]]] },
    { name: 'a Ready time moving back is no change', syncs: [[['a', 5]], [['a', 3]], [['a', 4]]] },
    { name: 'a Pod losing its Ready condition, then getting it back', syncs: [[['a', 5]], [['a', undefined]], [['a', 5]]] },
    { name: 'one Pod replaced by another in the same sync; the first comes back', syncs: [[['a', 1]], [['b', 2]], [['a', 1]]] },
    {
      name: 'a Pod deleted (the rest unchanged) and re-added',
      syncs: [
        [
          ['a', 1],
          ['b', 1],
        ],
        [['b', 1]],
        [
          ['a', 1],
          ['b', 1],
        ],
      ],
    },
    {
      name: 'a Pod listed twice in one sync compares both with the last sync',
      syncs: [
        [['a', 4]],
        [
          ['a', 2],
          ['a', 3],
        ],
        [['a', 3]],
      ],
    },
    {
      name: 'no Pods at all, then some',
      syncs: [
        [],
        [],
        [
          ['a', 7],
          ['b', 3],
        ],
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const objects = new Map<string, Pod>();
      const podOf = ([name, second]: readonly [string, number | undefined], fresh: boolean): Pod => {
        const key = `${name}@${second}`;
        const existing = objects.get(key);
        if (existing !== undefined && !fresh) return existing;
        const p = pod(name, second === undefined ? undefined : at(second));
        objects.set(key, p);
        return p;
      };
      const ours = new TriggerTimeTracker();
      const theirs = upstreamTracker();
      c.syncs.forEach((sync, i) => {
        // The second case replaces every object; the others reuse unchanged ones.
        const pods = sync.map((p) => podOf(p, c.name.includes('new object')));
        assert.equal(ours.computeEndpointLastChangeTriggerTime('ns', service(), pods), theirs(service(), pods), `sync ${i}`);
      });
    });
  }

  it('agrees with upstream over a long random sequence of Pod changes', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const ours = new TriggerTimeTracker();
    let theirs = upstreamTracker();
    let current = new Map<string, Pod>();
    for (let i = 0; i < 400; i++) {
      const next = new Map(current);
      for (let k = random(4); k >= 0; k--) {
        const name = `p${random(12)}`;
        const r = random(10);
        if (r < 3) next.delete(name);
        else next.set(name, pod(name, r === 3 ? undefined : at(random(60))));
      }
      current = next;
      const pods = [...current.values()];
      if (random(20) === 0) pods.push(pod('p0', at(random(60))));
      if (random(50) === 0) {
        ours.deleteService('ns', 'svc');
        const recreated = service(at(random(60)));
        theirs = upstreamTracker();
        assert.equal(ours.computeEndpointLastChangeTriggerTime('ns', recreated, pods), theirs(recreated, pods), `sync ${i}`);
        continue;
      }
      assert.equal(ours.computeEndpointLastChangeTriggerTime('ns', service(), pods), theirs(service(), pods), `sync ${i}`);
    }
  });
});

describe('formatTriggerTime', () => {
  const cases = [
    { name: 'whole seconds have no fraction', given: '2024-05-01T10:00:00Z', want: '2024-05-01T10:00:00Z' },
    { name: 'trailing zeros are trimmed', given: '2024-05-01T10:00:00.500Z', want: '2024-05-01T10:00:00.5Z' },
    { name: 'milliseconds kept', given: '2024-05-01T10:00:00.123Z', want: '2024-05-01T10:00:00.123Z' },
    { name: 'offsets are converted to UTC', given: '2024-05-01T12:00:00+02:00', want: '2024-05-01T10:00:00Z' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(formatTriggerTime(Date.parse(c.given)), c.want));
});
