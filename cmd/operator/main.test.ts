import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, exitCodeFor, main } from './main.ts';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) } };
}

describe('main', () => {
  it('prints help to stdout and exits 0', async () => {
    const t = io();
    assert.equal(await main(['--help'], {}, t.io), EXIT_OK);
    assert.match(t.out.join(''), /^Usage: kube-endpoints-operator/);
    assert.deepEqual(t.err, []);
  });

  it('prints one error line to stderr and exits 2 for a bad flag, before touching any cluster', async () => {
    const t = io();
    assert.equal(await main(['--max-endpoints-per-slice=5000'], { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, t.io), EXIT_USAGE);
    assert.deepEqual(t.err, ['error: --max-endpoints-per-slice must be between 1 and 1000 (got 5000)\n']);
    assert.deepEqual(t.out, []);
  });

  it('says in one line that no playground is built in when none is given a cluster and the build lacks one (the image)', async () => {
    const t = io();
    let loads = 0;
    const missing = async () => {
      loads++;
      throw Object.assign(new Error("Cannot find module '/app/cmd/operator/playground/embedded-cluster.ts'"), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    };
    assert.equal(await main([], {}, t.io, missing), EXIT_FAILURE);
    assert.equal(loads, 1);
    assert.deepEqual(t.err, [
      'error: no cluster to connect to: pass --kubeconfig or set KUBECONFIG (in a Pod the service account is used); ' +
        'this build has no embedded playground to start instead\n',
    ]);
    assert.deepEqual(t.out, []);
  });

  it('maps manager outcomes to exit codes: only a clean stop is 0', () => {
    assert.equal(exitCodeFor({ kind: 'stopped' }), EXIT_OK);
    assert.equal(exitCodeFor({ kind: 'lost-leadership' }), EXIT_FAILURE);
    assert.equal(exitCodeFor({ kind: 'failed', error: new Error('x') }), EXIT_FAILURE);
  });
});
