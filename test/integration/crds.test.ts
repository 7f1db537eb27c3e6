import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { setCondition } from '../../api/v1alpha1/condition.ts';
import { externalEndpointsSchema, externalEndpointsSpecSchema } from '../../api/v1alpha1/external-endpoints.ts';
import { EXTERNAL_ENDPOINTS_RESOURCE, SESSION_AFFINITY_POLICIES_RESOURCE } from '../../api/v1alpha1/group-version.ts';
import { sessionAffinityPolicySchema, sessionAffinityPolicySpecSchema } from '../../api/v1alpha1/session-affinity-policy.ts';
import { startTestCluster } from '../envtest/test-cluster.ts';
import { waitForCrdsEstablished } from '../envtest/crds-established.ts';

// The generated CRDs on a real kube-apiserver, installed the way users install them (kubectl apply of the files):
// they become Established, re-apply unchanged, accept the shipped samples and default them exactly as the zod types
// do, refuse every invalid sample with the message it names, print their columns, and take the status we write.

const repo = join(import.meta.dirname, '../..');
const CRD_BASES = join(repo, 'config/crd/bases');
const SAMPLES = join(repo, 'config/samples');
const EXPECT_ERROR = 'test.kube-endpoints-operator.io/expect-error';
const CRD_NAMES = ['externalendpoints.kube-endpoints-operator.io', 'sessionaffinitypolicies.kube-endpoints-operator.io'];

const env = await startTestCluster({ name: 'crds-test' });
const cacheDir = await mkdtemp(join(tmpdir(), 'kubectl-cache-'));
after(() => rm(cacheDir, { recursive: true, force: true }));

const exec = promisify(execFile);

/** Runs kubectl against the test cluster (own discovery cache, so a stale one from another run never interferes). */
async function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('kubectl', ['--kubeconfig', env.cluster.kubeconfigPath, '--cache-dir', cacheDir, ...args], {
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error('kubectl is not on PATH: these tests install the CRDs the way users do, with kubectl', { cause: err });
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const sampleObject = z.looseObject({
  kind: z.string(),
  metadata: z.looseObject({ name: z.string(), annotations: z.record(z.string(), z.string()).optional() }),
  spec: z.unknown(),
});

async function samplesIn(dir: string): Promise<{ file: string; object: z.infer<typeof sampleObject> }[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  const out: { file: string; object: z.infer<typeof sampleObject> }[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), 'utf8')))
      out.push({ file, object: sampleObject.parse(doc.toJS()) });
  }
  return out;
}

describe('generated CRDs on a real API server', () => {
  let ns = '';
  before(async () => {
    const applied = await kubectl('apply', '-f', CRD_BASES);
    assert.equal(applied.code, 0, applied.stderr);
    await waitForCrdsEstablished(env.client, CRD_NAMES);
    ns = await env.createNamespace('crds');
  });

  it('are accepted by kubectl apply and unchanged when applied again', async () => {
    const again = await kubectl('apply', '-f', CRD_BASES);
    assert.equal(again.code, 0, again.stderr);
    for (const name of CRD_NAMES) assert.match(again.stdout, new RegExp(`${name.replaceAll('.', '\\.')} unchanged`));
  });

  it('accept the shipped samples and default them exactly as the zod types do', async () => {
    const applied = await kubectl(
      'apply',
      '-n',
      ns,
      '-f',
      join(SAMPLES, 'external-endpoints.yaml'),
      '-f',
      join(SAMPLES, 'external-endpoints-failover.yaml'),
      '-f',
      join(SAMPLES, 'external-endpoints-postgres.yaml'),
      '-f',
      join(SAMPLES, 'session-affinity-policy.yaml'),
    );
    assert.equal(applied.code, 0, applied.stderr);
    for (const { object } of await samplesIn(SAMPLES)) {
      if (object.kind === 'ExternalEndpoints') {
        const stored = externalEndpointsSchema.parse(await env.client.get(EXTERNAL_ENDPOINTS_RESOURCE, ns, object.metadata.name));
        assert.deepEqual(stored.spec, externalEndpointsSpecSchema.parse(object.spec));
      } else if (object.kind === 'SessionAffinityPolicy') {
        const stored = sessionAffinityPolicySchema.parse(
          await env.client.get(SESSION_AFFINITY_POLICIES_RESOURCE, ns, object.metadata.name),
        );
        assert.deepEqual(stored.spec, sessionAffinityPolicySpecSchema.parse(object.spec));
      }
    }
  });

  it('fill the same defaults as zod into minimal objects (raw stored spec, not re-parsed)', async () => {
    const xepSpec = { endpoints: [{ dnsName: 'db.example.com' }], ports: [{ port: 5432 }], healthCheck: { type: 'HTTP', http: {} } };
    const xep = z.object({ spec: z.unknown() }).parse(
      await env.client.create(EXTERNAL_ENDPOINTS_RESOURCE, ns, {
        apiVersion: 'kube-endpoints-operator.io/v1alpha1',
        kind: 'ExternalEndpoints',
        metadata: { name: 'minimal' },
        spec: xepSpec,
      }),
    );
    assert.deepEqual(xep.spec, externalEndpointsSpecSchema.parse(xepSpec));

    const sapSpec = { serviceSelector: {}, sessionAffinity: 'ClientIP' };
    const sap = z.object({ spec: z.unknown() }).parse(
      await env.client.create(SESSION_AFFINITY_POLICIES_RESOURCE, ns, {
        apiVersion: 'kube-endpoints-operator.io/v1alpha1',
        kind: 'SessionAffinityPolicy',
        metadata: { name: 'minimal' },
        spec: sapSpec,
      }),
    );
    assert.deepEqual(sap.spec, sessionAffinityPolicySpecSchema.parse(sapSpec));
  });

  it('refuse every invalid sample with the message it names', async () => {
    const invalid = await samplesIn(join(SAMPLES, 'invalid'));
    assert.ok(invalid.length >= 10);
    const failures: string[] = [];
    for (const { file, object } of invalid) {
      const expected = object.metadata.annotations?.[EXPECT_ERROR] ?? '<no expect-error annotation>';
      const r = await kubectl('apply', '--dry-run=server', '-n', ns, '-f', join(SAMPLES, 'invalid', file));
      if (r.code === 0) failures.push(`${file}: accepted`);
      else if (!r.stderr.includes(expected)) failures.push(`${file}: "${r.stderr.trim()}" does not contain "${expected}"`);
    }
    assert.deepEqual(failures, []);
  });

  it('print their columns and are found by short name and category', async () => {
    const xep = await kubectl('get', 'xep', '-n', ns);
    assert.equal(xep.code, 0, xep.stderr);
    assert.match(xep.stdout.split('\n')[0] ?? '', /^NAME\s+READY\s+TOTAL\s+AGE$/);
    const wide = await kubectl('get', 'xep', '-n', ns, '-o', 'wide');
    assert.equal(wide.code, 0, wide.stderr);
    assert.match(wide.stdout.split('\n')[0] ?? '', /^NAME\s+READY\s+TOTAL\s+TIER\s+AGE$/, 'the active tier only with -o wide');
    const sap = await kubectl('get', 'sap', '-n', ns);
    assert.equal(sap.code, 0, sap.stderr);
    assert.match(sap.stdout.split('\n')[0] ?? '', /^NAME\s+AFFINITY\s+TIMEOUT\s+MATCHED\s+APPLIED\s+AGE$/);
    assert.match(sap.stdout, /frontend-sticky\s+ClientIP\s+3600\s/);
    const all = await kubectl('get', 'kube-endpoints-operator', '-n', ns, '-o', 'name');
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(all.stdout.trim().split('\n').sort(), [
      'externalendpoints.kube-endpoints-operator.io/db-read',
      'externalendpoints.kube-endpoints-operator.io/db-write',
      'externalendpoints.kube-endpoints-operator.io/legacy-api',
      'externalendpoints.kube-endpoints-operator.io/minimal',
      'externalendpoints.kube-endpoints-operator.io/payments-api',
      'sessionaffinitypolicy.kube-endpoints-operator.io/frontend-sticky',
      'sessionaffinitypolicy.kube-endpoints-operator.io/minimal',
    ]);
  });

  it('explain fields with the descriptions written in zod', async () => {
    const r = await kubectl('explain', 'externalendpoints.spec.healthCheck.timeoutSeconds');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Seconds after which a probe counts as failed\. At most intervalSeconds\./);
  });

  it('take the status our helpers produce through the status subresource', async () => {
    const conditions = setCondition(
      undefined,
      { type: 'Ready', status: 'True', reason: 'BackendsReady', message: '1 of 1 ready', observedGeneration: 1 },
      Date.now(),
    );
    const status = {
      observedGeneration: 1,
      conditions,
      endpoints: [
        {
          address: '192.0.2.10',
          healthy: true,
          consecutiveFailures: 0,
          consecutiveSuccesses: 2,
          lastProbeTime: conditions[0]?.lastTransitionTime,
        },
      ],
      readyCount: 1,
      totalCount: 1,
    };
    const patched = externalEndpointsSchema.parse(
      await env.client.patch(EXTERNAL_ENDPOINTS_RESOURCE, ns, 'legacy-api', { status }, 'merge', { subresource: 'status' }),
    );
    assert.deepEqual(patched.status, status);
    const columns = await kubectl('get', 'xep', 'legacy-api', '-n', ns, '--no-headers');
    assert.match(columns.stdout, /^legacy-api\s+1\s+1\s/);
  });
});
