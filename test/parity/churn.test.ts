import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHURN_SERVICES, envInt, generateChurn, replayCommand } from './churn.ts';
import { mulberry32 } from './mulberry32.ts';
import type { Step } from './scenario.ts';

// The churn generator is only useful if a seed replays exactly and every generated step is valid on a real API
// server; these tests hold it to both without a cluster.

const SEEDS = [1, 2, 3, 42, 1234, 0xdeadbeef, 2 ** 32 - 1];

/**
 * Replays a sequence against a minimal model and returns the violations: steps an API server would refuse, and
 * transitions no real cluster makes (a terminal Pod running again, a ready Pod without an IP, a new IP for a
 * terminating Pod).
 */
function violations(rounds: readonly (readonly Step[])[]): string[] {
  const out: string[] = [];
  const pods = new Map<string, { ips: readonly string[]; finished: boolean; ready: boolean; terminating: boolean }>();
  const services = new Set<string>();
  const ipOwners = new Map<string, string>();
  const claim = (pod: string, ips: readonly string[] | undefined) => {
    for (const ip of ips ?? []) {
      const owner = ipOwners.get(ip);
      if (owner !== undefined) out.push(`IP ${ip} of ${pod} was already handed to ${owner}`);
      ipOwners.set(ip, pod);
    }
  };
  for (const step of rounds.flat()) {
    switch (step.do) {
      case 'createService':
        if (services.has(step.name)) out.push(`service ${step.name} created twice`);
        services.add(step.name);
        break;
      case 'patchService':
        if (!services.has(step.name)) out.push(`patch of missing service ${step.name}`);
        break;
      case 'deleteService':
        if (!services.delete(step.name)) out.push(`delete of missing service ${step.name}`);
        break;
      case 'createPod':
        if (pods.has(step.name)) out.push(`pod ${step.name} created twice`);
        pods.set(step.name, { ips: step.ips ?? [], finished: false, ready: step.ready ?? false, terminating: false });
        claim(step.name, step.ips);
        if (step.ready === true && (step.ips ?? []).length === 0) out.push(`pod ${step.name} created ready without an IP`);
        if ((step.ips ?? []).length === 0 && step.phase !== 'Pending') out.push(`pod ${step.name} without an IP is ${step.phase}`);
        break;
      case 'setPodStatus':
      case 'relabelPod': {
        const p = pods.get(step.name);
        if (p === undefined) out.push(`${step.do} of missing pod ${step.name}`);
        if (step.do === 'setPodStatus' && p) {
          claim(step.name, step.ips);
          if (p.finished) out.push(`pod ${step.name} changed status after reaching a terminal phase`);
          if (step.ips !== undefined && p.terminating) out.push(`terminating pod ${step.name} got a new IP`);
          if (step.ips !== undefined) p.ips = step.ips;
          if (step.ready !== undefined) p.ready = step.ready;
          if (p.ready && p.ips.length === 0) out.push(`pod ${step.name} ready without an IP`);
          if (step.phase === 'Succeeded' || step.phase === 'Failed') p.finished = true;
        }
        break;
      }
      case 'terminatePod': {
        const p = pods.get(step.name);
        if (p === undefined) out.push(`terminate of missing pod ${step.name}`);
        else if (p.finished) pods.delete(step.name);
        else p.terminating = true;
        break;
      }
      case 'deletePod':
        if (!pods.delete(step.name)) out.push(`delete of missing pod ${step.name}`);
        break;
      default:
        out.push(`unexpected step ${step.do}`);
    }
  }
  return out;
}

describe('the churn model check', () => {
  it('flags the transitions no real cluster makes', () => {
    const create: Step = { do: 'createPod', name: 'p', labels: {}, ips: ['10.0.0.1'], ready: true, phase: 'Running' };
    const cases: { name: string; steps: Step[]; want: RegExp }[] = [
      {
        name: 'terminal pod runs again',
        steps: [create, { do: 'setPodStatus', name: 'p', phase: 'Failed', ready: false }, { do: 'setPodStatus', name: 'p', ready: true }],
        want: /after reaching a terminal phase/,
      },
      {
        name: 'ready without IP',
        steps: [{ do: 'createPod', name: 'q', labels: {}, ips: [], ready: true, phase: 'Pending' }],
        want: /ready without an IP/,
      },
      {
        name: 'Running without IP',
        steps: [{ do: 'createPod', name: 'q', labels: {}, ips: [], ready: false, phase: 'Running' }],
        want: /without an IP is Running/,
      },
      {
        name: 'new IP while terminating',
        steps: [create, { do: 'terminatePod', name: 'p' }, { do: 'setPodStatus', name: 'p', ips: ['10.0.0.2'] }],
        want: /terminating pod p got a new IP/,
      },
    ];
    for (const c of cases) assert.match(violations([c.steps]).join('\n'), c.want, c.name);
  });
});

describe('mulberry32', () => {
  it('yields the same stream for the same seed and a different one for another seed', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const xs = Array.from({ length: 5 }, () => a());
    assert.deepEqual(
      Array.from({ length: 5 }, () => b()),
      xs,
    );
    assert.notDeepEqual(
      Array.from({ length: 5 }, () => c()),
      xs,
    );
    for (const x of xs) assert.ok(x >= 0 && x < 1);
  });
});

describe('generateChurn', () => {
  it('replays exactly from its seed', () => {
    for (const seed of SEEDS) assert.deepEqual(generateChurn(seed, 40), generateChurn(seed, 40));
  });

  it('gives different sequences for different seeds', () => {
    assert.notDeepEqual(generateChurn(1, 20).rounds, generateChurn(2, 20).rounds);
  });

  it('starts with every Service of the universe and then emits the requested number of rounds', () => {
    const seq = generateChurn(5, 12);
    assert.equal(seq.rounds.length, 13);
    const setup = seq.rounds[0] ?? [];
    assert.deepEqual(
      setup.filter((s) => s.do === 'createService').map((s) => s.name),
      CHURN_SERVICES,
    );
  });

  it('only emits steps a real API server accepts and transitions a real cluster makes, and never hands out one IP twice', () => {
    for (const seed of SEEDS) assert.deepEqual(violations(generateChurn(seed, 300).rounds), [], `seed ${seed}`);
  });

  it('places every Pod on one of the two Nodes that exist (a missing Node makes syncs fail and back off for minutes)', () => {
    const nodes = new Set(
      SEEDS.flatMap((seed) => generateChurn(seed, 300).rounds.flat()).flatMap((s) => (s.do === 'createPod' ? [s.nodeName] : [])),
    );
    assert.deepEqual([...nodes].sort(), ['node-a', 'node-b']);
  });

  it('covers every kind of change the issue lists within a few hundred rounds', () => {
    const steps = SEEDS.flatMap((seed) => generateChurn(seed, 200).rounds.slice(1).flat());
    const kinds = new Set(steps.map((s) => s.do));
    for (const k of ['createPod', 'setPodStatus', 'relabelPod', 'terminatePod', 'deletePod', 'patchService', 'deleteService'])
      assert.ok(kinds.has(k as Step['do']), `no ${k}`);
    const statuses = steps.filter((s) => s.do === 'setPodStatus');
    assert.ok(
      statuses.some((s) => s.ready !== undefined && s.ips === undefined),
      'no readiness flip',
    );
    assert.ok(
      statuses.some((s) => s.ips !== undefined),
      'no IP change',
    );
    assert.ok(
      statuses.some((s) => s.phase === 'Failed' || s.phase === 'Succeeded'),
      'no terminal phase',
    );
    const patches = steps.filter((s) => s.do === 'patchService').map((s) => JSON.stringify(s.patch));
    assert.ok(
      patches.some((p) => p.includes('"ports"')),
      'no port rename',
    );
    assert.ok(
      patches.some((p) => p.includes('"selector"')),
      'no selector change',
    );
    assert.ok(
      steps.some((s) => s.do === 'createService'),
      'no Service recreated',
    );
  });
});

describe('replayCommand and envInt', () => {
  it('names the seed and length so a failure replays alone', () => {
    assert.equal(replayCommand(99, 30), 'PARITY_SEED=99 PARITY_SEQUENCES=1 PARITY_ROUNDS=30 PARITY_ONLY=churn npm run parity');
  });

  const cases = [
    { name: 'unset uses the default', given: undefined, want: 7 },
    { name: 'empty uses the default', given: '', want: 7 },
    { name: 'a number is read', given: '4294967295', want: 4294967295 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(envInt(Object.freeze({ X: c.given }), 'X', 7), c.want));

  it('refuses garbage rather than running with a surprise seed', () => {
    assert.throws(() => envInt({ X: 'abc' }, 'X', 1), /X must be an integer/);
    assert.throws(() => envInt({ X: '-1' }, 'X', 1), /X must be an integer/);
  });
});
