import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { z } from 'zod';
import { waitFor } from '../envtest/wait-for.ts';

// The playground end to end, started exactly as `npm start` starts it (a child `node cmd/operator/main.ts` with no
// kubeconfig), driven with the real kubectl: Deployment and Service in, Pods with IPs and readiness and EndpointSlices
// out, scaling and Pod deletion followed, and nothing left running afterwards. Every wait is bounded.

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const KUBECTL = '/usr/bin/kubectl';
const STEP_TIMEOUT_MS = 60_000;
// A cold start on two busy cores: certificates, etcd, the API server, kube-controller-manager.
const START_TIMEOUT_MS = 180_000;

const podList = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string(), uid: z.string(), deletionTimestamp: z.string().optional() }),
      spec: z.object({ nodeName: z.string().optional() }),
      status: z.object({
        phase: z.string().optional(),
        podIP: z.string().optional(),
        conditions: z.array(z.object({ type: z.string(), status: z.string() })).optional(),
      }),
    }),
  ),
});
type PodItem = z.infer<typeof podList>['items'][number];

const sliceList = z.object({
  items: z.array(
    z.object({
      ports: z.array(z.object({ port: z.number() })).nullish(),
      endpoints: z
        .array(
          z.object({
            addresses: z.array(z.string()),
            conditions: z.object({ ready: z.boolean().optional(), serving: z.boolean().optional(), terminating: z.boolean().optional() }),
            nodeName: z.string().optional(),
            zone: z.string().optional(),
            targetRef: z.object({ name: z.string(), uid: z.string().optional() }).optional(),
          }),
        )
        .nullish(),
    }),
  ),
});
type SliceEndpoint = NonNullable<z.infer<typeof sliceList>['items'][number]['endpoints']>[number];

let operator: ChildProcess | undefined;
let exited: Promise<number | null> | undefined;
let kubeconfig = '';
let output = '';

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000 });
  return stdout;
}

const pods = async (): Promise<PodItem[]> => podList.parse(JSON.parse(await kubectl('get', 'pods', '-l', 'app=web', '-o', 'json'))).items;

async function endpoints(): Promise<SliceEndpoint[]> {
  const slices = sliceList.parse(JSON.parse(await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json')));
  return slices.items.flatMap((s) => s.endpoints ?? []);
}

const isReady = (p: PodItem) => p.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
const readyEndpoints = async () => (await endpoints()).filter((e) => e.conditions.ready === true);

// Processes whose command line names the cluster's work directory: etcd, kube-apiserver, kube-controller-manager.
async function clusterProcesses(workDir: string): Promise<string[]> {
  const { stdout } = await run('pgrep', ['-af', workDir]).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter((l) => l.trim() !== '');
}

describe('the playground (npm start without a kubeconfig)', { timeout: 600_000 }, () => {
  before(async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.KUBECONFIG;
    delete env.KUBERNETES_SERVICE_HOST;
    const child = spawn(
      process.execPath,
      [
        'cmd/operator/main.ts',
        '--leader-elect=false',
        '--metrics-bind-address=0',
        '--health-probe-bind-address=0',
        '--log-level=warn',
        // The data plane has its own suite (test/e2e/); here the control-plane side is under test.
        '--playground-data-plane=off',
      ],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    operator = child;
    exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    kubeconfig = await waitFor(() => /kubeconfig: (\S+)/.exec(output)?.[1], {
      description: 'the playground banner with the kubeconfig path',
      timeoutMs: START_TIMEOUT_MS,
      intervalMs: 200,
    });
  });

  after(async () => {
    // A failed test must not leave a control plane behind: SIGTERM lets main.ts stop it; SIGKILL is the last resort.
    if (operator !== undefined && operator.exitCode === null) {
      operator.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(r, 60_000, 'timeout').unref())]);
      if (code === 'timeout') operator.kill('SIGKILL');
    }
    // After a SIGKILL nobody stopped the components (each runs in its own process group): stop them by PID.
    if (kubeconfig !== '') {
      for (const line of await clusterProcesses(dirname(kubeconfig))) {
        const pid = Number(line.split(' ')[0]);
        if (Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGKILL');
      }
    }
  });

  it('starts kube-controller-manager and three simulated Nodes in three zones', async () => {
    assert.match(output, /kubectl create deployment web --image=nginx --replicas=3/);
    const workDir = dirname(kubeconfig);
    const processes = await clusterProcesses(workDir);
    for (const component of ['etcd', 'kube-apiserver', 'kube-controller-manager']) {
      assert.ok(
        processes.some((p) => p.includes(`/${component} `)),
        `${component} is not running: ${processes.join('\n')}`,
      );
    }
    const zones = await waitFor(
      async () => {
        const out = await kubectl(
          'get',
          'nodes',
          '-o',
          'jsonpath={range .items[*]}{.metadata.labels.topology\\.kubernetes\\.io/zone}{" "}{end}',
        );
        const z = out.trim().split(' ').filter(Boolean).sort();
        return z.length === 3 ? z : undefined;
      },
      { description: 'three Nodes', timeoutMs: STEP_TIMEOUT_MS, intervalMs: 500 },
    );
    assert.deepEqual(zones, ['zone-a', 'zone-b', 'zone-c']);
  });

  it('runs a Deployment: Pods get unique IPs from their Node CIDR, turn Ready, and the EndpointSlice lists them', async () => {
    await kubectl('create', 'deployment', 'web', '--image=nginx', '--replicas=3');
    await kubectl('expose', 'deployment', 'web', '--port=80', '--target-port=8080');
    const ready = await waitFor(
      async () => {
        const ps = await pods();
        return ps.length === 3 && ps.every((p) => p.status.phase === 'Running' && isReady(p)) ? ps : undefined;
      },
      { description: '3 Running and Ready web Pods', timeoutMs: STEP_TIMEOUT_MS, intervalMs: 500 },
    );
    const ips = ready.map((p) => p.status.podIP ?? '');
    assert.equal(new Set(ips).size, 3, `pod IPs are not unique: ${ips.join(', ')}`);
    for (const p of ready) {
      const index = /playground-node-(\d+)$/.exec(p.spec.nodeName ?? '')?.[1];
      assert.ok(index, `${p.metadata.name} is on ${p.spec.nodeName}`);
      assert.ok(p.status.podIP?.startsWith(`10.244.${index}.`), `${p.status.podIP} is not in the pod CIDR of ${p.spec.nodeName}`);
    }
    assert.equal(new Set(ready.map((p) => p.spec.nodeName)).size, 3, 'the Pods are not spread over the three Nodes');

    const eps = await waitFor(
      async () => {
        const e = await readyEndpoints();
        return e.length === 3 ? e : undefined;
      },
      { description: 'an EndpointSlice with 3 ready endpoints', timeoutMs: STEP_TIMEOUT_MS, intervalMs: 500 },
    );
    assert.deepEqual(eps.map((e) => e.addresses[0]).sort(), [...ips].sort());
    assert.deepEqual(eps.map((e) => e.zone).sort(), ['zone-a', 'zone-b', 'zone-c']);
    const ports = sliceList.parse(JSON.parse(await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json')));
    assert.deepEqual(
      ports.items.flatMap((s) => (s.ports ?? []).map((p) => p.port)),
      [8080],
    );
  });

  it('follows a scale to zero (through terminating endpoints) and back to two', async () => {
    await kubectl('scale', 'deployment', 'web', '--replicas=0');
    let sawTerminating = false;
    await waitFor(
      async () => {
        const e = await endpoints();
        if (e.some((x) => x.conditions.terminating === true && x.conditions.ready === false)) sawTerminating = true;
        return e.length === 0 && (await pods()).length === 0;
      },
      { description: 'no web Pods and an empty EndpointSlice', timeoutMs: STEP_TIMEOUT_MS, intervalMs: 500 },
    );
    assert.ok(sawTerminating, 'the scaled-down Pods never showed as terminating, not-ready endpoints during their grace period');

    await kubectl('scale', 'deployment', 'web', '--replicas=2');
    await waitFor(
      async () => {
        const e = await endpoints();
        return e.length === 2 && e.every((x) => x.conditions.ready === true);
      },
      { description: '2 ready endpoints after scaling back to 2', timeoutMs: STEP_TIMEOUT_MS, intervalMs: 500 },
    );
  });

  it('terminates a deleted Pod (not ready, terminating), removes it after its grace period, and its replacement takes over', async () => {
    const [victim] = (await pods()).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    assert.ok(victim);
    await kubectl('delete', 'pod', victim.metadata.name, '--grace-period=5', '--wait=false');

    await waitFor(
      async () => {
        const e = (await endpoints()).find((x) => x.targetRef?.uid === victim.metadata.uid);
        return e !== undefined && e.conditions.terminating === true && e.conditions.ready === false;
      },
      {
        description: `the endpoint of ${victim.metadata.name} to be terminating and not ready`,
        timeoutMs: STEP_TIMEOUT_MS,
        intervalMs: 250,
      },
    );
    await waitFor(
      async () => {
        const ps = await pods();
        const e = await endpoints();
        const gone = !ps.some((p) => p.metadata.uid === victim.metadata.uid) && !e.some((x) => x.targetRef?.uid === victim.metadata.uid);
        return gone && e.length === 2 && e.every((x) => x.conditions.ready === true);
      },
      { description: `${victim.metadata.name} gone and its replacement ready`, timeoutMs: STEP_TIMEOUT_MS, intervalMs: 500 },
    );
  });

  it('keeps renewing the node Leases, so the node lifecycle controller leaves the Nodes Ready', async () => {
    const leases = z
      .object({
        items: z.array(
          z.object({ metadata: z.object({ name: z.string(), creationTimestamp: z.string() }), spec: z.object({ renewTime: z.string() }) }),
        ),
      })
      .parse(JSON.parse(await kubectl('get', 'leases', '-n', 'kube-node-lease', '-o', 'json')));
    assert.equal(leases.items.length, 3);
    for (const lease of leases.items) {
      // The suite has run for far longer than one renew interval (10 s) since the Nodes were created.
      const renewedAfterMs = Date.parse(lease.spec.renewTime) - Date.parse(lease.metadata.creationTimestamp);
      assert.ok(renewedAfterMs >= 10_000, `${lease.metadata.name} was last renewed ${renewedAfterMs} ms after its creation`);
      assert.ok(Date.now() - Date.parse(lease.spec.renewTime) < 20_000, `${lease.metadata.name} was not renewed recently`);
    }
    const ready = await kubectl(
      'get',
      'nodes',
      '-o',
      'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}',
    );
    assert.deepEqual(ready.trim().split(' '), ['True', 'True', 'True']);
  });

  it('stops everything on SIGTERM: exit code 0, no control-plane process, no work directory', async () => {
    const workDir = dirname(kubeconfig);
    assert.ok(operator);
    operator.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(r, STEP_TIMEOUT_MS, 'timeout').unref())]);
    assert.equal(code, 0, `the operator did not exit cleanly:\n${output.slice(-3000)}`);
    assert.deepEqual(await clusterProcesses(workDir), []);
    assert.equal(existsSync(workDir), false, `${workDir} is still there`);
  });
});
