import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PRESETS, parseBenchArgs } from './bench-config.ts';

const run = (argv: string[]) => {
  const r = parseBenchArgs(Object.freeze(argv));
  if (r.kind !== 'run') throw new Error(`expected a run, got ${JSON.stringify(r)}`);
  return r.config;
};

describe('parseBenchArgs', () => {
  it('defaults to issue 4 and 5 sizes, kube-controller-manager tuning, every implementation once, docs updated', () => {
    const c = run([]);
    assert.equal(c.preset, 'default');
    assert.deepEqual(
      c.shapes.map((s) => [s.services, s.podsPerService, s.rollingRestart]),
      [
        [1000, 10, false],
        [1, 1000, false],
        [1, 5000, true],
      ],
    );
    assert.deepEqual([c.qps, c.burst], [20, 30]);
    assert.deepEqual(c.implementations, ['kube-controller-manager', 'kube-endpoints-operator', 'kube-endpoints-operator-uncapped']);
    assert.equal(c.repeat, 1);
    assert.deepEqual(c.operatorNodeArgs, []);
    assert.equal(c.updateDocs, true);
  });

  it('repeats workloads and passes extra Node flags to the operator', () => {
    const c = run(['--repeat', '3', '--operator-node-args', ' --cpu-prof  --cpu-prof-dir=prof ']);
    assert.equal(c.repeat, 3);
    assert.deepEqual(c.operatorNodeArgs, ['--cpu-prof', '--cpu-prof-dir=prof']);
  });

  it('runs one custom workload from --services and --pods, without touching the docs', () => {
    const c = run(['--services', '5000', '--pods', '50000', '--rolling-restart']);
    assert.equal(c.shapes.length, 1);
    assert.deepEqual([c.shapes[0]?.services, c.shapes[0]?.podsPerService, c.shapes[0]?.rollingRestart], [5000, 10, true]);
    assert.equal(c.preset, 'custom');
    assert.equal(c.updateDocs, false);
  });

  it('leaves the docs alone for other presets', () => {
    assert.equal(run(['--preset', 'quick']).updateDocs, false);
    assert.equal(run(['--preset', 'quick', '--update-docs']).updateDocs, true);
  });

  it('overrides churn only where the preset has a churn phase', () => {
    const c = run(['--churn', '7']);
    assert.deepEqual(
      c.shapes.map((s) => s.churnFlips),
      [7, 7, 0],
    );
    assert.equal(c.updateDocs, false, 'a non-default run must not replace README data');
  });

  it('presets stay within the issue sizes (1,000..50,000 Pods, up to 5,000 Services)', () => {
    for (const [name, shapes] of Object.entries(PRESETS))
      for (const s of shapes) {
        assert.ok(s.services * s.podsPerService <= 50_000, name);
        assert.ok(s.services <= 5000, name);
      }
  });

  const errors = [
    { name: 'unknown preset', given: ['--preset', 'huge'], want: /--preset: unknown preset "huge"/ },
    { name: 'services without pods', given: ['--services', '10'], want: /--services and --pods go together/ },
    { name: 'too many pods', given: ['--services', '10', '--pods', '60000'], want: /--pods:/ },
    { name: 'not a number', given: ['--qps', 'fast'], want: /--qps:/ },
    { name: 'fewer pods than services', given: ['--services', '100', '--pods', '10'], want: /must be at least --services/ },
    { name: 'unknown implementation', given: ['--implementations', 'kcm'], want: /--implementations: unknown "kcm"/ },
    { name: 'unknown flag', given: ['--bogus'], want: /bogus/ },
    { name: 'zero repeats', given: ['--repeat', '0'], want: /--repeat:/ },
    { name: 'a Node arg that is not a flag', given: ['--operator-node-args', 'prof'], want: /--operator-node-args: "prof"/ },
  ];
  for (const c of errors)
    it(`refuses ${c.name} with one line naming the flag`, () => {
      const r = parseBenchArgs(Object.freeze(c.given));
      assert.equal(r.kind, 'error');
      if (r.kind === 'error') assert.match(r.message, c.want);
    });

  it('prints help', () => assert.equal(parseBenchArgs(['-h']).kind, 'help'));
});
