import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { z } from 'zod';
import { DATA_PLANE_API_ADDRESS, dataPlaneSupport, PLAYGROUND_INDEX } from '../../hack/data-plane/data-plane.ts';
import { listNamespacesSync } from '../../hack/data-plane/netns.ts';
import { waitFor } from '../envtest/wait-for.ts';

// The playground's data plane, started exactly as `npm start` starts it: `kubectl create deployment` + `kubectl
// expose` really serve, reached with `npm run playground -- exec <pod> -- curl`, a Pod reaches the API server through
// the `kubernetes` Service, and Ctrl-C leaves no namespace behind.

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const NODE = process.execPath;
// A cold start on two busy cores (and, on a cold cache, building kube-proxy and CoreDNS).
const START_TIMEOUT_MS = 420_000;
const support = dataPlaneSupport('nftables');

const podList = z.object({
  items: z.array(z.object({ metadata: z.object({ name: z.string() }), status: z.object({ podIP: z.string().optional() }) })),
});

describe('the playground data plane (npm start as root)', { timeout: 600_000 }, () => {
  if (!support.ok) {
    it('serves a Service to curl in a Pod', { skip: support.reason }, () => {});
    return;
  }
  let operator: ChildProcess | undefined;
  let exited: Promise<number | null> | undefined;
  let output = '';
  let kubeconfig = '';
  const kubectl = async (...args: string[]) => (await run('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000 })).stdout;
  const exec = async (...args: string[]) =>
    (await run(NODE, ['cmd/playground/main.ts', 'exec', ...args], { cwd: ROOT, timeout: 30_000 })).stdout;

  before(async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.KUBECONFIG;
    delete env.KUBERNETES_SERVICE_HOST;
    const child = spawn(
      NODE,
      [
        'cmd/operator/main.ts',
        '--leader-elect=false',
        '--metrics-bind-address=0',
        '--health-probe-bind-address=0',
        '--log-level=warn',
        '--playground-nodes=2',
      ],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    operator = child;
    exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    kubeconfig = await waitFor(() => /kubeconfig: (\S+)/.exec(output)?.[1], {
      description: 'the playground banner',
      timeoutMs: START_TIMEOUT_MS,
      intervalMs: 200,
    });
  });

  after(async () => {
    if (operator !== undefined && operator.exitCode === null) {
      operator.kill('SIGKILL');
      await exited;
    }
  });

  it('announces the data plane in the banner', () => {
    assert.match(output, /^Data plane: kube-proxy \(nftables\) on 2 Nodes, CoreDNS at 10\.0\.0\.10/m);
  });

  it('serves kubectl create deployment + expose to curl and nslookup inside a Pod', async () => {
    await kubectl('create', 'deployment', 'web', '--image=nginx', '--replicas=2');
    await kubectl('expose', 'deployment', 'web', '--port=80', '--target-port=8080');
    const pods = await waitFor(
      async () => {
        const items = podList.parse(JSON.parse(await kubectl('get', 'pods', '-l', 'app=web', '-o', 'json'))).items;
        return items.length === 2 && items.every((p) => p.status.podIP !== undefined) ? items.map((p) => p.metadata.name).sort() : false;
      },
      { description: 'two web Pods with IPs', timeoutMs: 60_000, intervalMs: 500 },
    );
    const [client = ''] = pods;
    const seen = new Set<string>();
    await waitFor(
      async () => {
        const answer = await exec(client, '--', 'curl', '-s', '--max-time', '2', 'http://web');
        const pod = /^pod=(\S+) namespace=default node=playground-node-\d/.exec(answer)?.[1];
        if (pod !== undefined) seen.add(pod);
        return JSON.stringify([...seen].sort()) === JSON.stringify(pods);
      },
      {
        description: `curl http://web from ${client} to reach both Pods`,
        timeoutMs: 60_000,
        intervalMs: 100,
      },
    );
    const clusterIP = (await kubectl('get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}')).trim();
    const dig = await exec(client, '--', 'dig', '+short', '+time=2', '+tries=2', 'web.default.svc.cluster.local');
    assert.equal(dig.trim(), clusterIP);
  });

  it('reaches the API server from a Pod through the kubernetes Service (its name, ClusterIP and TLS verified)', async () => {
    const slice = await waitFor(
      async () => {
        const out = await kubectl('get', 'endpointslice', 'kubernetes', '-o', 'jsonpath={.endpoints[*].addresses[*]}').catch(() => '');
        return out.trim() === '' ? undefined : out.trim();
      },
      { description: 'the kubernetes EndpointSlice', timeoutMs: 30_000 },
    );
    assert.equal(slice, DATA_PLANE_API_ADDRESS);
    const ca = join(await mkdtemp(join(tmpdir(), 'playground-ca-')), 'ca.crt');
    await writeFile(
      ca,
      Buffer.from(await kubectl('config', 'view', '--raw', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority-data}'), 'base64'),
    );
    const [client = ''] = podList
      .parse(JSON.parse(await kubectl('get', 'pods', '-l', 'app=web', '-o', 'json')))
      .items.map((p) => p.metadata.name);
    try {
      const version = await exec(client, '--', 'curl', '-s', '--max-time', '5', '--cacert', ca, 'https://kubernetes.default.svc/version');
      assert.match(version, /"gitVersion": "v1\./);
    } finally {
      await rm(dirname(ca), { recursive: true, force: true });
    }
  });

  it('removes every namespace and the exec index on Ctrl-C', async () => {
    const index = z.object({ nodes: z.record(z.string(), z.string()) }).parse(JSON.parse(readFileSync(PLAYGROUND_INDEX, 'utf8')));
    const prefix = /^(keo-dp-[0-9a-f]+)-/.exec(Object.values(index.nodes)[0] ?? '')?.[1];
    assert.ok(prefix !== undefined, 'the index names the Node namespaces');
    assert.ok(listNamespacesSync().some((n) => n.startsWith(`${prefix}-`)));
    operator?.kill('SIGINT');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(r, 60_000, 'timeout').unref())]);
    assert.equal(code, 0);
    assert.deepEqual(
      listNamespacesSync().filter((n) => n.startsWith(`${prefix}-`)),
      [],
    );
    assert.equal(existsSync(PLAYGROUND_INDEX), false);
  });
});
