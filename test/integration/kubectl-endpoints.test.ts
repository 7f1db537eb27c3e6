import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_SKIP_MIRROR, MANAGED_BY_EXTERNAL_ENDPOINTS } from '../../api/labels.ts';
import { EXTERNAL_ENDPOINTS_RESOURCE } from '../../api/v1alpha1/group-version.ts';
import type { DiffReport } from '../../cmd/kubectl-endpoints/plugin/explain/explain-diff.ts';
import { explainDiff } from '../../cmd/kubectl-endpoints/plugin/explain/explain-diff.ts';
import type { WhyReport } from '../../cmd/kubectl-endpoints/plugin/explain/explain-why.ts';
import type { WhyPodReport } from '../../cmd/kubectl-endpoints/plugin/explain/explain-pod.ts';
import type { PodVerdict } from '../../cmd/kubectl-endpoints/plugin/explain/pod-verdict.ts';
import { DEFAULT_EXPLAIN_SETTINGS } from '../../cmd/kubectl-endpoints/plugin/explain/snapshot.ts';
import { fetchSnapshot } from '../../cmd/kubectl-endpoints/plugin/fetch-snapshot.ts';
import { setupEndpointsController } from '../../controllers/endpoints/controller.ts';
import { setupEndpointSliceController } from '../../controllers/endpointslice/controller.ts';
import { setupEndpointSliceMirroringController } from '../../controllers/endpointslice-mirroring/controller.ts';
import { ENDPOINT_SLICES, ENDPOINTS, NODES, PODS, type ResourceType, SERVICES } from '../../controllers/runtime/resource.ts';
import { setupSessionAffinityController } from '../../controllers/session-affinity/controller.ts';
import { ANNOTATION_SESSION_AFFINITY_POLICY } from '../../controllers/session-affinity/record.ts';
import { SESSION_AFFINITY_POLICIES } from '../../controllers/session-affinity/resources.ts';
import { startTestCluster } from '../envtest/test-cluster.ts';
import { waitFor } from '../envtest/wait-for.ts';
import { type RunningOperator, startOperator } from './operator-harness.ts';

// `kubectl endpoints` against a real kube-apiserver, with this operator's endpoint controllers (and the
// session-affinity controller) running in-process so that the Endpoints, EndpointSlices and policy records it reads
// are the real ones. Every reason is produced by objects set up as a kubelet, a user or a controller would leave them,
// and checked in both the text and the JSON output of the plugin, run as a child process like kubectl would run it.

const env = await startTestCluster({ name: 'kubectl-endpoints-test' });
const kubeconfigPath = env.cluster.kubeconfigPath;
const MAIN = join(import.meta.dirname, '../../cmd/kubectl-endpoints/main.ts');
const run = promisify(execFile);
const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', kubeconfigPath, ...args], { timeout: 60_000 });
await kubectl('apply', '-f', join(import.meta.dirname, '../../config/crd/bases'));
await kubectl(
  'wait',
  '--for',
  'condition=established',
  '--timeout=60s',
  'crd/sessionaffinitypolicies.kube-endpoints-operator.io',
  'crd/externalendpoints.kube-endpoints-operator.io',
);

const EXTERNAL_ENDPOINTS: ResourceType = EXTERNAL_ENDPOINTS_RESOURCE;
const HOLD_FINALIZER = 'kube-endpoints-operator.io/test-hold';
const NOW = '2025-06-01T12:00:00Z';

function startEndpointControllers(): RunningOperator {
  return startOperator(
    env,
    (r) => {
      setupEndpointsController(r, {});
      setupEndpointSliceController(r, {});
      setupEndpointSliceMirroringController(r, {});
      setupSessionAffinityController(r, { statusBatchPeriodMs: 100 });
    },
    { qps: 200, burst: 400 },
  );
}

let operator = startEndpointControllers();
after(() => operator.stop());

// ---- running the plugin -------------------------------------------------------------------------------------------

interface PluginRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` with `args`, collecting output; resolves with the exit code (never rejects on a non-zero code). */
function spawnCollect(command: string, args: readonly string[], extraEnv: Record<string, string> = {}): Promise<PluginRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, NO_COLOR: '', ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** `node cmd/kubectl-endpoints/main.ts --kubeconfig <admin> ...args`, as a user with Node 24 would run it. */
const plugin = (...args: string[]) => spawnCollect(process.execPath, [MAIN, '--kubeconfig', kubeconfigPath, ...args]);

async function whyJson(namespace: string, service: string): Promise<{ run: PluginRun; report: WhyReport }> {
  const r = await plugin('why', service, '-n', namespace, '-o', 'json');
  assert.equal(r.stderr, '', 'no error output');
  return { run: r, report: JSON.parse(r.stdout) as WhyReport };
}

async function whyText(namespace: string, service: string): Promise<PluginRun> {
  const r = await plugin('why', service, '-n', namespace);
  assert.equal(r.stdout.includes('\u001b['), false, 'plain text when piped');
  return r;
}

/** The line of the text output about `pod`, and the indented lines after it. */
function podBlock(text: string, pod: string): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => new RegExp(`^  . ${pod} `).test(l));
  if (i < 0) return '';
  const block = [lines[i]];
  for (let j = i + 1; j < lines.length && /^ {10,}/.test(lines[j] ?? ''); j++) block.push(lines[j]);
  return block.join('\n');
}

function verdict(report: WhyReport, pod: string): PodVerdict {
  const v = report.pods.find((p) => p.pod === pod);
  assert.ok(v, `Pod ${pod} in the report`);
  return v;
}

/** Waits until the stored Endpoints and EndpointSlices of the Service are what the controllers would write. */
async function waitInSync(namespace: string, service: string, timeoutMs = 30_000, intervalMs = 200): Promise<void> {
  await waitFor(
    async () =>
      explainDiff(await fetchSnapshot(env.client, namespace, service, AbortSignal.timeout(10_000)), DEFAULT_EXPLAIN_SETTINGS).inSync,
    { description: `Endpoints and EndpointSlices of ${namespace}/${service} in sync`, timeoutMs, intervalMs },
  );
}

// ---- objects ------------------------------------------------------------------------------------------------------

interface PodSpecInput {
  readonly labels?: Record<string, string>;
  readonly nodeName?: string;
  readonly ports?: { name?: string; containerPort: number; protocol?: string }[];
  readonly readinessGates?: string[];
  readonly hold?: boolean;
}

const readyContainer = (ready: boolean) => [
  {
    name: 'app',
    image: 'example.invalid/app:1',
    imageID: '',
    ready,
    started: true,
    restartCount: ready ? 0 : 3,
    state: { running: { startedAt: NOW } },
  },
];

const conditions = (ready: boolean, extra: Record<string, unknown>[] = [], readyReason?: { reason: string; message: string }) => [
  { type: 'PodScheduled', status: 'True', lastTransitionTime: NOW },
  { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: NOW },
  { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: NOW, ...(readyReason ?? {}) },
  ...extra,
];

/** A running Pod's status as a kubelet writes it. */
function runningStatus(ip: string | string[], ready = true): Record<string, unknown> {
  const ips = Array.isArray(ip) ? ip : [ip];
  return {
    phase: 'Running',
    podIP: ips[0],
    podIPs: ips.map((x) => ({ ip: x })),
    conditions: conditions(ready),
    containerStatuses: readyContainer(ready),
  };
}

async function createPod(namespace: string, name: string, spec: PodSpecInput, status?: Record<string, unknown>): Promise<void> {
  await env.client.create(PODS, namespace, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: spec.labels ?? { app: 'web' }, ...(spec.hold ? { finalizers: [HOLD_FINALIZER] } : {}) },
    spec: {
      ...(spec.nodeName !== undefined ? { nodeName: spec.nodeName } : {}),
      containers: [
        { name: 'app', image: 'example.invalid/app:1', ports: spec.ports ?? [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] },
      ],
      ...(spec.readinessGates ? { readinessGates: spec.readinessGates.map((conditionType) => ({ conditionType })) } : {}),
    },
  });
  if (status !== undefined) await env.client.patch(PODS, namespace, name, { status }, 'merge', { subresource: 'status' });
}

async function createService(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
  labels: Record<string, string> = {},
): Promise<void> {
  await env.client.create(
    SERVICES,
    namespace,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, labels },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...spec },
    },
    { fieldManager: 'kubectl-create' },
  );
}

async function setNodeReady(name: string, status: 'True' | 'Unknown'): Promise<void> {
  const condition =
    status === 'True'
      ? {
          type: 'Ready',
          status,
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
          lastHeartbeatTime: NOW,
          lastTransitionTime: NOW,
        }
      : {
          type: 'Ready',
          status,
          reason: 'NodeStatusUnknown',
          message: 'Kubelet stopped posting node status.',
          lastHeartbeatTime: NOW,
          lastTransitionTime: NOW,
        };
  await env.client.patch(NODES, '', name, { status: { conditions: [condition] } }, 'merge', { subresource: 'status' });
}

// ---- scenario: every Pod-level reason behind one Service ----------------------------------------------------------

const ns = await env.createNamespace('why');

before(async () => {
  await env.createNode('node-up');
  await setNodeReady('node-up', 'True');
  await env.createNode('node-down');
  await setNodeReady('node-down', 'Unknown');

  await createService(ns, 'web', { selector: { app: 'web' } }, { tier: 'frontend' });
  await createService(ns, 'web-headless', { selector: { app: 'web' }, clusterIP: 'None', publishNotReadyAddresses: true });
  await Promise.all([
    createPod(ns, 'web-ready', { nodeName: 'node-up' }, runningStatus('10.244.0.1')),
    createPod(ns, 'web-done', { nodeName: 'node-up' }, { ...runningStatus('10.244.0.2', false), phase: 'Succeeded' }),
    createPod(
      ns,
      'web-pending',
      {},
      {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/2 nodes are available: 2 Insufficient cpu.',
            lastTransitionTime: NOW,
          },
        ],
      },
    ),
    createPod(
      ns,
      'web-port',
      { nodeName: 'node-up', ports: [{ name: 'web', containerPort: 8080, protocol: 'TCP' }] },
      runningStatus('10.244.0.4'),
    ),
    createPod(
      ns,
      'web-udp',
      { nodeName: 'node-up', ports: [{ name: 'http', containerPort: 8080, protocol: 'UDP' }] },
      runningStatus('10.244.0.5'),
    ),
    createPod(ns, 'web-ghost', { nodeName: 'ghost-node' }, runningStatus('10.244.0.6')),
    createPod(ns, 'web-v6', { nodeName: 'node-up' }, runningStatus('fd00:10:244::7')),
    createPod(ns, 'web-probe', { nodeName: 'node-up' }, runningStatus('10.244.0.8', false)),
    createPod(
      ns,
      'web-gate',
      { nodeName: 'node-up', readinessGates: ['example.com/lb-registered'] },
      {
        ...runningStatus('10.244.0.9'),
        conditions: conditions(
          false,
          [{ type: 'example.com/lb-registered', status: 'False', reason: 'TargetNotRegistered', lastTransitionTime: NOW }],
          {
            reason: 'ReadinessGatesNotReady',
            message: 'the status of pod readiness gate "example.com/lb-registered" is not "True", but False',
          },
        ),
        containerStatuses: readyContainer(true),
      },
    ),
    createPod(
      ns,
      'web-node-down',
      { nodeName: 'node-down' },
      // What the node lifecycle controller leaves: Ready False, the containers' last report still ready.
      { ...runningStatus('10.244.0.10'), conditions: conditions(true).map((c) => (c.type === 'Ready' ? { ...c, status: 'False' } : c)) },
    ),
    createPod(ns, 'web-bye', { nodeName: 'node-up', hold: true }, runningStatus('10.244.0.11')),
    createPod(ns, 'web-bye-down', { nodeName: 'node-up', hold: true }, runningStatus('10.244.0.12', false)),
    createPod(ns, 'web-typo', { nodeName: 'node-up', labels: { app: 'wbe' } }, runningStatus('10.244.0.13')),
    createPod(ns, 'db-0', { nodeName: 'node-up', labels: { app: 'db' } }, runningStatus('10.244.0.14')),
  ]);
  await env.client.delete(PODS, ns, 'web-bye');
  await env.client.delete(PODS, ns, 'web-bye-down');
  await waitInSync(ns, 'web');
  await waitInSync(ns, 'web-headless');
});

describe('kubectl endpoints why: each Pod-level reason, text and JSON', () => {
  const expectations: { pod: string; state: string; code?: string; text: RegExp; json?: (v: PodVerdict) => void }[] = [
    { pod: 'web-ready', state: 'ready', text: /✓ web-ready\s+ready\s+10\.244\.0\.1 on node-up$/ },
    {
      pod: 'web-done',
      state: 'absent',
      code: 'TerminalPhase',
      text: /✗ web-done\s+absent\s+Pod phase Succeeded: a finished Pod is never an endpoint/,
    },
    {
      pod: 'web-pending',
      state: 'absent',
      code: 'NoPodIP',
      text: /✗ web-pending\s+absent\s+no IP: not scheduled to a Node yet \(Unschedulable: 0\/2 nodes are available: 2 Insufficient cpu\.\)/,
      json: (v) =>
        assert.deepEqual(v.reason, {
          code: 'NoPodIP',
          scheduled: false,
          scheduling: { reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient cpu.' },
        }),
    },
    {
      pod: 'web-port',
      state: 'absent',
      code: 'NoPortResolved',
      text: /✗ web-port\s+absent\s+no Service port resolves on this Pod: "http" \(TCP\) not declared; it declares web 8080\/TCP/,
      json: (v) => assert.deepEqual(v.endpoints, { state: 'absent', reason: 'NoMatchingPort' }),
    },
    {
      pod: 'web-udp',
      state: 'absent',
      code: 'NoPortResolved',
      text: /✗ web-udp\s+absent\s+.*"http" \(TCP\) not declared; it declares http 8080\/UDP/,
    },
    {
      pod: 'web-ghost',
      state: 'absent',
      code: 'NodeMissing',
      text: /✗ web-ghost\s+absent\s+Node ghost-node does not exist: EndpointSlices skip the Pod until it does\n\s+Endpoints: still listed in the Endpoints object as ready/,
      json: (v) => assert.deepEqual(v.endpoints, { state: 'ready' }),
    },
    {
      pod: 'web-v6',
      state: 'absent',
      code: 'IPFamilyNotServed',
      text: /✗ web-v6\s+absent\s+no IPv4 address: Pod IPs fd00:10:244::7, Service families IPv4/,
    },
    {
      pod: 'web-probe',
      state: 'notReady',
      code: 'NotReady',
      text: /! web-probe\s+not ready\s+not Ready: Ready=False\n\s+container app not ready: running, readiness probe not passing, 3 restarts/,
      // Near miss: its Node is Ready, so the Node must not be named.
      json: (v) => assert.deepEqual(v.reason?.code === 'NotReady' ? v.reason.causes.map((c) => c.kind) : [], ['ContainerNotReady']),
    },
    {
      pod: 'web-gate',
      state: 'notReady',
      code: 'NotReady',
      text: /! web-gate\s+not ready\s+not Ready: Ready=False \(ReadinessGatesNotReady: .*\)\n\s+readiness gate example\.com\/lb-registered: False \(TargetNotRegistered\)/,
      json: (v) =>
        assert.deepEqual(v.reason?.code === 'NotReady' ? v.reason.causes : [], [
          { kind: 'ReadinessGateNotReady', conditionType: 'example.com/lb-registered', status: 'False', reason: 'TargetNotRegistered' },
        ]),
    },
    {
      pod: 'web-node-down',
      state: 'notReady',
      code: 'NotReady',
      text: /! web-node-down\s+not ready\s+not Ready: Ready=False\n\s+Node node-down is not reporting \(Ready Unknown\) \(NodeStatusUnknown: Kubelet stopped posting node status\.\)/,
      json: (v) => assert.deepEqual(v.reason?.code === 'NotReady' ? v.reason.causes.map((c) => c.kind) : [], ['NodeNotReady']),
    },
    {
      pod: 'web-bye',
      state: 'serving',
      code: 'Terminating',
      text: /! web-bye\s+serving\s+terminating \(deleted .*\), still serving: proxies use it only while no endpoint is ready/,
      json: (v) =>
        assert.deepEqual(
          [v.conditions, v.endpoints],
          [
            { ready: false, serving: true, terminating: true },
            { state: 'absent', reason: 'Terminating' },
          ],
        ),
    },
    {
      pod: 'web-bye-down',
      state: 'terminating',
      code: 'Terminating',
      text: /! web-bye-down\s+terminating\s+terminating \(deleted .*\) and no longer serving/,
    },
  ];

  let report: WhyReport;
  let text: string;
  before(async () => {
    const json = await whyJson(ns, 'web');
    assert.equal(json.run.code, 0, 'exit 0: web-ready is a ready endpoint');
    report = json.report;
    const t = await whyText(ns, 'web');
    assert.equal(t.code, 0);
    text = t.stdout;
  });

  for (const e of expectations) {
    it(`${e.pod}: ${e.code ?? e.state}`, () => {
      const v = verdict(report, e.pod);
      assert.equal(v.state, e.state);
      assert.equal(v.reason?.code, e.code);
      e.json?.(v);
      assert.match(podBlock(text, e.pod), e.text);
    });
  }

  it('reports the Pod that almost matches, and only that one', () => {
    assert.deepEqual(report.nearMisses, [{ pod: 'web-typo', difference: { key: 'app', want: 'web', actual: 'wbe' } }]);
    assert.match(text, /Pods that almost match \(1\)\n\s+~ web-typo\s+app=wbe \(the Service selects app=web\)/);
    assert.doesNotMatch(text, /db-0/);
  });

  it('publishes what the controllers wrote: one ready, one serving, three not ready, no finding', () => {
    assert.deepEqual(report.published, { ready: 1, serving: 1, terminating: 1, notReady: 3, slices: 2 });
    assert.deepEqual(report.findings, []);
    assert.match(text, /endpoints\s+✓ 1 ready, 1 serving, 1 terminating, 3 not ready in 2 EndpointSlices\n/);
  });

  it('headless with publishNotReadyAddresses: findings, and not-ready Pods published ready', async () => {
    const { run: r, report: headless } = await whyJson(ns, 'web-headless');
    assert.equal(r.code, 0);
    assert.deepEqual(
      headless.findings.map((f) => f.code),
      ['Headless', 'PublishNotReadyAddresses'],
    );
    const probe = verdict(headless, 'web-probe');
    assert.deepEqual(
      [probe.state, probe.reason, probe.conditions],
      ['ready', undefined, { ready: true, serving: false, terminating: false }],
    );
    // With publishNotReadyAddresses a Pod on an unknown Node is kept, without a zone.
    assert.equal(verdict(headless, 'web-ghost').state, 'ready');
    const t = await whyText(ns, 'web-headless');
    assert.match(t.stdout, /· headless Service \(clusterIP None\): DNS returns the Pod IPs directly/);
    assert.match(t.stdout, /· publishNotReadyAddresses: every Pod with an IP is published as ready/);
    assert.match(
      podBlock(t.stdout, 'web-probe'),
      /ready\s+10\.244\.0\.8 on node-up \(published although not Ready: publishNotReadyAddresses\)/,
    );
  });
});

// ---- scenario: one Pod in depth -----------------------------------------------------------------------------------

describe('kubectl endpoints why SERVICE POD: one Pod in depth', () => {
  const whyPod = async (pod: string, ...extra: string[]) => plugin('why', 'web', pod, '-n', ns, ...extra);
  const whyPodJson = async (pod: string): Promise<{ code: number; report: WhyPodReport }> => {
    const r = await whyPod(pod, '-o', 'json');
    assert.equal(r.stderr, '');
    return { code: r.code, report: JSON.parse(r.stdout) as WhyPodReport };
  };
  const sliceOf = async (pod: string): Promise<string> => {
    const list = (await env.client.list(ENDPOINT_SLICES, ns, { labelSelector: `${LABEL_SERVICE_NAME}=web` })) as {
      items: { metadata: { name: string }; endpoints?: { targetRef?: { name?: string } }[] }[];
    };
    const slice = list.items.find((s) => (s.endpoints ?? []).some((e) => e.targetRef?.name === pod));
    assert.ok(slice, `a stored slice lists ${pod}`);
    return slice.metadata.name;
  };

  it('a ready Pod: where it is stored, exit 0', async () => {
    const { code, report } = await whyPodJson('web-ready');
    assert.equal(code, 0);
    assert.equal(report.verdict?.state, 'ready');
    assert.deepEqual(report.pod.ips, [{ ip: '10.244.0.1', family: 'IPv4' }]);
    assert.deepEqual(
      report.storedSlices.map((s) => [s.slice, s.addresses, s.conditions]),
      [[await sliceOf('web-ready'), ['10.244.0.1'], { ready: true, serving: true, terminating: false }]],
    );
    assert.deepEqual(report.storedEndpoints, [{ ip: '10.244.0.1', ready: true, ports: ['http:8080/TCP'] }]);
    assert.deepEqual([report.slicesUpToDate, report.endpointsUpToDate], [true, true]);
  });

  it('a readiness gate False: the gate, the verdict, and both stored objects listing it not ready, exit 3', async () => {
    const { code, report } = await whyPodJson('web-gate');
    assert.equal(code, 3);
    assert.deepEqual(report.pod.readinessGates, [{ conditionType: 'example.com/lb-registered', status: 'False' }]);
    assert.equal(report.verdict?.reason?.code, 'NotReady');
    assert.deepEqual(report.storedEndpoints, [{ ip: '10.244.0.9', ready: false, ports: ['http:8080/TCP'] }]);
    const t = await whyPod('web-gate');
    assert.equal(t.code, 3);
    assert.match(
      t.stdout,
      /^Pod \S+\/web-gate behind Service web \(ClusterIP [\d.]+\)\n {2}selector {5}✓ app=web\n {2}node {9}node-up \(Ready=True\)\n/,
    );
    assert.match(t.stdout, /gates {8}! example\.com\/lb-registered: False/);
    assert.match(t.stdout, /Verdict\n {2}! not Ready: Ready=False \(ReadinessGatesNotReady/);
    const slice = await sliceOf('web-gate');
    assert.match(t.stdout, new RegExp(`! ${slice} IPv4 10\\.244\\.0\\.9 \\[http:8080/TCP\\] ready=false serving=false terminating=false`));
    assert.match(t.stdout, /Endpoints\n {2}! 10\.244\.0\.9 in notReadyAddresses \[http:8080\/TCP\]\n$/);
  });

  it("a named targetPort it does not declare: absent, with the Endpoints controller's reason", async () => {
    const { code, report } = await whyPodJson('web-port');
    assert.equal(code, 3);
    assert.equal(report.verdict?.reason?.code, 'NoPortResolved');
    assert.deepEqual(report.verdict?.endpoints, { state: 'absent', reason: 'NoMatchingPort' });
    // The EndpointSlice controller still lists it, in a slice without ports, which proxies ignore.
    assert.deepEqual(
      report.storedSlices.map((s) => [s.addresses, s.ports]),
      [[['10.244.0.4'], []]],
    );
    const t = await whyPod('web-port');
    assert.match(t.stdout, /ports {8}✗ http 80→"http"\/TCP: no container port named http with protocol TCP/);
    assert.match(
      t.stdout,
      /\[\] ready=true serving=true terminating=false(, zone \S+)? \(endpointslice-controller\.k8s\.io\)\n\s+a port-less slice: proxies ignore it/,
    );
    assert.match(t.stdout, /Endpoints\n {2}· not listed: no Service port resolves on it/);
  });

  it('a Pod the selector misses: the label and its value, exit 3', async () => {
    const { code, report } = await whyPodJson('pod/web-typo');
    assert.equal(code, 3);
    assert.deepEqual(report.selector, { matches: false, labels: [{ key: 'app', want: 'web', actual: 'wbe', matches: false }] });
    assert.match((await whyPod('web-typo')).stdout, /selector {5}✗ app=web: the Pod has app=wbe/);
  });

  it('a Pod that does not exist: exit 2', async () => {
    const t = await whyPod('web-nope');
    assert.deepEqual([t.code, t.stdout], [2, `✗ Pod ${ns}/web-nope not found\n`]);
  });
});

// ---- scenario: Service-level causes -------------------------------------------------------------------------------

describe('kubectl endpoints why: Service-level causes and exit codes', () => {
  it('Service not found: exit 2, in text and JSON', async () => {
    const t = await plugin('why', 'nope', '-n', ns);
    assert.deepEqual([t.code, t.stdout], [2, `✗ Service ${ns}/nope not found\n`]);
    const { run: j, report } = await whyJson(ns, 'nope');
    assert.equal(j.code, 2);
    assert.deepEqual(report.findings, [{ severity: 'cause', code: 'ServiceNotFound' }]);
  });

  it('no Pod matches (a typo in the Pod label is offered): exit 3', async () => {
    await createService(ns, 'frontend', { selector: { app: 'frontend' } });
    await createPod(ns, 'frontend-0', { nodeName: 'node-up', labels: { app: 'fronted' } }, runningStatus('10.244.1.1'));
    await waitInSync(ns, 'frontend');
    const { run: j, report } = await whyJson(ns, 'frontend');
    assert.equal(j.code, 3);
    assert.deepEqual(
      report.findings.map((f) => f.code),
      ['NoMatchingPods'],
    );
    assert.deepEqual(report.nearMisses[0]?.difference, { key: 'app', want: 'frontend', actual: 'fronted' });
    const t = await whyText(ns, 'frontend');
    assert.equal(t.code, 3);
    assert.match(t.stdout, /✗ no Pod matches the selector app=frontend \(1 almost match, see below\)/);
    assert.match(t.stdout, /endpoints\s+✗ 0 ready in 1 EndpointSlice/);
  });

  it('ExternalName: no endpoints by design, exit 3', async () => {
    await createService(ns, 'legacy-db', { type: 'ExternalName', externalName: 'db.example.com', ports: undefined });
    const { run: j, report } = await whyJson(ns, 'legacy-db');
    assert.equal(j.code, 3);
    assert.deepEqual(report.findings, [{ severity: 'cause', code: 'ExternalName', externalName: 'db.example.com' }]);
    const t = await whyText(ns, 'legacy-db');
    assert.match(t.stdout, /✗ ExternalName Service: DNS answers with a CNAME to db\.example\.com; it has no endpoints, by design/);
    assert.match(t.stdout, /Session affinity\n\s+not applicable to an ExternalName Service/);
  });

  it('selectorless with user-written Endpoints: mirrored, who wrote them', async () => {
    await createService(ns, 'partner', { ports: [{ name: 'https', port: 443, protocol: 'TCP' }] });
    await env.client.create(
      ENDPOINTS,
      ns,
      {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'partner' },
        subsets: [{ addresses: [{ ip: '192.0.2.10' }, { ip: '192.0.2.11' }], ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }],
      },
      { fieldManager: 'kubectl-create' },
    );
    await waitInSync(ns, 'partner');
    const { run: j, report } = await whyJson(ns, 'partner');
    assert.equal(j.code, 0);
    const f = report.findings[0];
    assert.equal(f?.code, 'Selectorless');
    if (f?.code !== 'Selectorless') return;
    assert.deepEqual(
      [f.source, f.mirroring, f.sliceManagers],
      ['Endpoints', { mirrored: true }, ['endpointslicemirroring-controller.k8s.io']],
    );
    assert.deepEqual(
      f.endpoints?.fieldManagers.map((m) => m.manager),
      ['kubectl-create'],
    );
    assert.equal(report.published.ready, 2);
    const t = await whyText(ns, 'partner');
    assert.match(
      t.stdout,
      /· no selector: endpoints come from the Endpoints object \(2 addresses, written by kubectl-create\), mirrored into EndpointSlices/,
    );
  });

  it('selectorless Endpoints with the skip-mirror label: kube-proxy sees nothing, exit 3', async () => {
    await createService(ns, 'hidden', { ports: [{ name: 'https', port: 443, protocol: 'TCP' }] });
    await env.client.create(ENDPOINTS, ns, {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'hidden', labels: { [LABEL_SKIP_MIRROR]: 'true' } },
      subsets: [{ addresses: [{ ip: '192.0.2.20' }], ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }],
    });
    await waitInSync(ns, 'hidden');
    const { run: j, report } = await whyJson(ns, 'hidden');
    assert.equal(j.code, 3);
    assert.deepEqual(
      report.findings.map((f) => f.code),
      ['Selectorless', 'MirroringSkipped'],
    );
    const t = await whyText(ns, 'hidden');
    assert.match(
      t.stdout,
      /! the Endpoints object carries endpointslice\.kubernetes\.io\/skip-mirror=true: no EndpointSlices are made from it/,
    );
  });

  it('selectorless with nothing behind it: exit 3', async () => {
    await createService(ns, 'empty', { ports: [{ name: 'https', port: 443, protocol: 'TCP' }] });
    const { run: j, report } = await whyJson(ns, 'empty');
    assert.equal(j.code, 3);
    assert.deepEqual(
      report.findings.map((f) => f.code),
      ['Selectorless', 'NoEndpointsSource'],
    );
    assert.match((await whyText(ns, 'empty')).stdout, /✗ nothing provides endpoints: add a selector, or create an Endpoints object/);
  });
});

// ---- scenario: ExternalEndpoints backends -------------------------------------------------------------------------

describe('kubectl endpoints why: an ExternalEndpoints-backed Service', () => {
  it('shows each backend with its health and how it is published', async () => {
    await createService(ns, 'db', { ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] });
    await env.client.create(EXTERNAL_ENDPOINTS, ns, {
      apiVersion: 'kube-endpoints-operator.io/v1alpha1',
      kind: 'ExternalEndpoints',
      metadata: { name: 'db' },
      spec: {
        endpoints: [{ ip: '192.0.2.30' }, { ip: '192.0.2.31' }, { dnsName: 'replica.db.example.com' }],
        ports: [{ name: 'pg', port: 5432 }],
        healthCheck: { type: 'TCP' },
      },
    });
    // What the ExternalEndpoints controller reports and publishes after a few probes: one backend refusing connections.
    await env.client.patch(
      EXTERNAL_ENDPOINTS,
      ns,
      'db',
      {
        status: {
          observedGeneration: 1,
          readyCount: 1,
          totalCount: 2,
          conditions: [
            {
              type: 'Degraded',
              status: 'True',
              reason: 'BackendsUnhealthy',
              message: '1 of 2 backends unhealthy',
              lastTransitionTime: NOW,
            },
          ],
          endpoints: [
            { address: '192.0.2.30', healthy: true, lastProbeTime: NOW, consecutiveFailures: 0, consecutiveSuccesses: 12 },
            {
              address: '192.0.2.31',
              healthy: false,
              lastProbeTime: NOW,
              lastError: 'connection refused',
              consecutiveFailures: 4,
              consecutiveSuccesses: 0,
            },
          ],
        },
      },
      'merge',
      { subresource: 'status' },
    );
    await env.client.create(ENDPOINT_SLICES, ns, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'db-xyz12', labels: { [LABEL_SERVICE_NAME]: 'db', [LABEL_MANAGED_BY]: MANAGED_BY_EXTERNAL_ENDPOINTS } },
      addressType: 'IPv4',
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['192.0.2.30'], conditions: { ready: true, serving: true, terminating: false } },
        { addresses: ['192.0.2.31'], conditions: { ready: false, serving: false, terminating: false } },
      ],
    });
    const { run: j, report } = await whyJson(ns, 'db');
    assert.equal(j.code, 0);
    assert.equal(report.findings[0]?.code === 'Selectorless' && report.findings[0].source, 'ExternalEndpoints');
    assert.deepEqual(
      report.externalEndpoints?.backends.map((b) => [b.address, b.healthy, b.published, b.lastError]),
      [
        ['192.0.2.30', true, 'ready', undefined],
        ['192.0.2.31', false, 'notReady', 'connection refused'],
      ],
    );
    assert.deepEqual(report.externalEndpoints?.pending, [{ dnsName: 'replica.db.example.com', maintenance: false }]);
    const t = await whyText(ns, 'db');
    assert.match(t.stdout, /ExternalEndpoints db\n\s+health check TCP; failure policy: minHealthy 1, PublishAll below it; 1\/2 ready/);
    assert.match(t.stdout, /✓ 192\.0\.2\.30\s+healthy, published ready, last probe 2025-06-01T12:00:00Z/);
    assert.match(t.stdout, /! 192\.0\.2\.31\s+unhealthy: connection refused \(4 failures in a row\), published not ready/);
    assert.match(t.stdout, /! replica\.db\.example\.com\s+not resolved yet/);
  });
});

// ---- scenario: the governing SessionAffinityPolicy ----------------------------------------------------------------

describe('kubectl endpoints why: which SessionAffinityPolicy governs the Service', () => {
  it('names the winner, the loser, the controller record and the policy status', async () => {
    const body = (name: string, spec: Record<string, unknown>) => ({
      apiVersion: 'kube-endpoints-operator.io/v1alpha1',
      kind: 'SessionAffinityPolicy',
      metadata: { name },
      spec: { serviceSelector: { matchLabels: { tier: 'frontend' } }, sessionAffinity: 'ClientIP', ...spec },
    });
    await env.client.create(SESSION_AFFINITY_POLICIES, ns, body('sticky', { timeoutSeconds: 3600, mode: 'Enforce', priority: 10 }));
    await env.client.create(SESSION_AFFINITY_POLICIES, ns, body('loser', { timeoutSeconds: 600 }));
    await waitFor(
      async () => {
        const { report } = await whyJson(ns, 'web');
        return report.sessionAffinity?.state === 'Applied' && report.sessionAffinity.record.kind === 'held' ? report : undefined;
      },
      { description: 'the session-affinity controller to apply sticky and report it', timeoutMs: 30_000, intervalMs: 500 },
    );
    const { report } = await whyJson(ns, 'web');
    const a = report.sessionAffinity;
    assert.deepEqual(a?.governedBy, { name: 'sticky', mode: 'Enforce', priority: 10, affinity: 'ClientIP (timeout 3600s)' });
    assert.deepEqual(
      a?.overridden.map((p) => p.name),
      ['loser'],
    );
    assert.deepEqual(a?.record, { kind: 'held', policy: 'sticky', applied: 'ClientIP (timeout 3600s)', previous: 'None' });
    assert.equal(a?.current, 'ClientIP (timeout 3600s)');
    const t = await whyText(ns, 'web');
    assert.match(t.stdout, /governed by SessionAffinityPolicy sticky \(mode Enforce, priority 10\): ClientIP \(timeout 3600s\) — Applied/);
    assert.match(t.stdout, /also selects it but loses: loser \(priority 0, ClientIP \(timeout 600s\)\)/);
    // The record annotation the text explains is the controller's.
    const svc = (await env.client.get(SERVICES, ns, 'web')) as { metadata: { annotations?: Record<string, string> } };
    assert.ok(svc.metadata.annotations?.[ANNOTATION_SESSION_AFFINITY_POLICY]);
  });
});

// ---- scenario: over capacity --------------------------------------------------------------------------------------

describe('kubectl endpoints why: the 1000-address cap of Endpoints', () => {
  it('reports the truncation and the Pod left out, which EndpointSlices still list', async () => {
    const big = await env.createNamespace('big');
    // Pods first, Service last: the controllers then sync once instead of once per Pod.
    const names = Array.from({ length: 1001 }, (_, i) => `big-${String(i).padStart(4, '0')}`);
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const i = next++;
        await createPod(
          big,
          names[i] ?? '',
          { nodeName: 'node-up', labels: { app: 'big' } },
          runningStatus(`10.250.${Math.floor(i / 250)}.${(i % 250) + 1}`),
        );
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await createService(big, 'big', { selector: { app: 'big' } });
    // Each check reads 1001 Pods: poll slowly.
    await waitInSync(big, 'big', 120_000, 1000);
    const { run: j, report } = await whyJson(big, 'big');
    assert.equal(j.code, 0);
    assert.deepEqual(report.findings, [
      { severity: 'warning', code: 'EndpointsOverCapacity', addresses: 1001, kept: 1000, droppedPods: 1 },
    ]);
    const dropped = report.pods.filter((p) => p.endpoints?.reason === 'OverCapacity');
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]?.state, 'ready');
    assert.equal(report.published.ready, 1001);
    const t = await whyText(big, 'big');
    assert.match(
      t.stdout,
      /! the Endpoints object is over capacity: it keeps 1000 of 1001 addresses \(1 Pod left out; EndpointSlices list them all\)/,
    );
    assert.match(podBlock(t.stdout, dropped[0]?.pod ?? '?'), /Endpoints: left out of the Endpoints object: over its 1000-address capacity/);
    assert.match(t.stdout, /… and 1000 more \(1000 ready with nothing to report\); -o json lists every Pod/);
    const stored = (await env.client.get(ENDPOINTS, big, 'big')) as { metadata: { annotations?: Record<string, string> } };
    assert.equal(stored.metadata.annotations?.['endpoints.kubernetes.io/over-capacity'], 'truncated');
  });
});

// ---- kubectl endpoints why --watch --------------------------------------------------------------------------------

describe('kubectl endpoints why SERVICE --watch', () => {
  it('a readiness flip prints the Pod line, then the slice line with its delay; Ctrl-C stops it with exit 0', async () => {
    const wns = await env.createNamespace('watch');
    await createService(wns, 'web', { selector: { app: 'web' } });
    await createPod(wns, 'web-1', { nodeName: 'node-up' }, runningStatus('10.246.0.1'));
    await createPod(wns, 'web-2', { nodeName: 'node-up' }, runningStatus('10.246.0.2', false));
    await waitInSync(wns, 'web');

    const child = spawn(process.execPath, [MAIN, '--kubeconfig', kubeconfigPath, 'why', 'web', '-n', wns, '--watch'], {
      env: { ...process.env, NO_COLOR: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await waitFor(() => /watching \(Ctrl-C to stop\)/.test(stdout), {
        description: 'the watch to start',
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      assert.match(
        stdout,
        /^\d\d:\d\d:\d\d\.\d{3} watch web Service selector app=web; 2 Pods selected \(1 Ready\), 1 EndpointSlices, an Endpoints object; watching/,
      );

      await env.client.patch(PODS, wns, 'web-2', { status: runningStatus('10.246.0.2', true) }, 'merge', { subresource: 'status' });
      const slicePattern = /^(\d\d:\d\d:\d\d\.\d{3}) slice (\S+) updated: web-2 ready \(\+(\d+) ms after the Pod change\)$/m;
      await waitFor(() => slicePattern.test(stdout) && /endpoints web updated: web-2 ready/.test(stdout), {
        description: 'the slice and Endpoints lines',
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      const lines = stdout.trim().split('\n');
      const podLine = lines.findIndex((l) => /^\d\d:\d\d:\d\d\.\d{3} pod web-2 became Ready$/.test(l));
      const sliceLine = lines.findIndex((l) => slicePattern.test(l));
      assert.ok(podLine > 0 && sliceLine > podLine, `Pod line before slice line:\n${stdout}`);
      const [, , sliceName, delay] = slicePattern.exec(stdout) ?? [];
      const stored = (await env.client.list(ENDPOINT_SLICES, wns, { labelSelector: `${LABEL_SERVICE_NAME}=web` })) as {
        items: { metadata: { name: string } }[];
      };
      assert.deepEqual(
        stored.items.map((i) => i.metadata.name),
        [sliceName],
      );
      assert.ok(Number(delay) >= 0);

      child.kill('SIGINT');
      assert.equal(await exited, 0, stderr);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });
});

// ---- kubectl plugin discovery -------------------------------------------------------------------------------------

describe('kubectl finds the plugin on the PATH', () => {
  it('`kubectl endpoints why` runs it, with KUBECONFIG and the context namespace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubectl-endpoints-path-'));
    try {
      // What `npm install -g` puts on the PATH is a link to main.ts run by `node`; this wrapper pins the Node 24.
      const wrapper = join(dir, 'kubectl-endpoints');
      writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
      chmodSync(wrapper, 0o755);
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      kc.contexts = kc.contexts.map((c) => (c.name === kc.currentContext ? { ...c, namespace: ns } : c));
      const contextKubeconfig = join(dir, 'kubeconfig');
      writeFileSync(contextKubeconfig, kc.exportConfig());
      const r = await spawnCollect('kubectl', ['endpoints', 'why', 'web', '-o', 'json'], {
        PATH: [dir, dirname(process.execPath), process.env.PATH ?? ''].join(delimiter),
        KUBECONFIG: contextKubeconfig,
      });
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as WhyReport;
      assert.deepEqual([report.service.namespace, report.service.name, report.published.ready], [ns, 'web', 1]);
      const text = await spawnCollect('kubectl', ['endpoints', 'why', 'svc/web', '--color=always'], {
        PATH: [dir, process.env.PATH ?? ''].join(delimiter),
        KUBECONFIG: contextKubeconfig,
      });
      assert.equal(text.code, 0, text.stderr);
      assert.ok(text.stdout.includes('\u001b[32m✓\u001b[39m web-ready'), text.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- kubectl endpoints diff ---------------------------------------------------------------------------------------

describe('kubectl endpoints diff: stored versus what the controllers would write', () => {
  let dns: string;
  before(async () => {
    dns = await env.createNamespace('diff');
    await createService(dns, 'web', { selector: { app: 'web' } });
    await createPod(dns, 'web-1', { nodeName: 'node-up' }, runningStatus('10.245.0.1'));
    await createPod(dns, 'web-2', { nodeName: 'node-up' }, runningStatus('10.245.0.2'));
    await waitInSync(dns, 'web');
  });

  const diffJson = async (): Promise<{ code: number; report: DiffReport }> => {
    const r = await plugin('diff', 'web', '-n', dns, '-o', 'json');
    assert.equal(r.stderr, '');
    return { code: r.code, report: JSON.parse(r.stdout) as DiffReport };
  };

  it('in sync: exit 0', async () => {
    const { code, report } = await diffJson();
    assert.deepEqual([code, report.inSync], [0, true]);
    const t = await plugin('diff', 'web', '-n', dns);
    assert.equal(t.code, 0);
    assert.match(t.stdout, new RegExp(`^✓ Service ${dns}/web: stored endpoints match what the controllers would write`));
    assert.match(t.stdout, /stored: managed-by endpoint-controller; written by kube-endpoints-operator \(Update/);
  });

  it('a foreign edit of the Endpoints (kubectl patch) is shown with its writer: exit 1', async () => {
    await kubectl(
      '-n',
      dns,
      'patch',
      'endpoints',
      'web',
      '--type=json',
      '-p',
      '[{"op":"add","path":"/subsets/0/addresses/-","value":{"ip":"10.245.9.9"}}]',
    );
    const { code, report } = await diffJson();
    assert.equal(code, 1);
    assert.equal(report.endpoints.action, 'update');
    assert.deepEqual(report.endpoints.addressChanges, [{ ip: '10.245.9.9', ports: 'http:8080/TCP', stored: 'ready', desired: 'absent' }]);
    assert.deepEqual(
      report.endpoints.stored?.foreignManagers.map((m) => m.manager),
      ['kubectl-patch'],
    );
    assert.equal(report.endpointSlices.inSync, true);
    const t = await plugin('diff', 'web', '-n', dns);
    assert.equal(t.code, 1);
    assert.match(t.stdout, /! the controller would update it\n\s+- 10\.245\.9\.9 http:8080\/TCP\s+ready → absent/);
    assert.match(t.stdout, /kubectl-patch \(Update \S+\) foreign/);
    // why points at it too.
    const why = await whyJson(dns, 'web');
    assert.deepEqual(
      why.report.findings.map((f) => f.code),
      ['EndpointsOutOfDate'],
    );
  });

  it('with the controllers stopped, a readiness change shows as out of date, then converges: exit 1, then 0', async () => {
    await operator.stop();
    await env.client.patch(PODS, dns, 'web-2', { status: runningStatus('10.245.0.2', false) }, 'merge', { subresource: 'status' });
    const { code, report } = await diffJson();
    assert.equal(code, 1);
    assert.deepEqual(
      report.endpointSlices.endpointChanges.map((c) => [c.pod, c.fields]),
      [['web-2', ['ready', 'serving']]],
    );
    assert.equal(report.endpointSlices.stored[0]?.action, 'update');
    const t = await plugin('diff', 'web', '-n', dns);
    assert.match(t.stdout, /endpointslice-controller would write:\n\s+~ update \S+ IPv4 http:8080\/TCP \(2 endpoints\)/);
    assert.match(t.stdout, /~ 10\.245\.0\.2 \(web-2\) IPv4 http:8080\/TCP\s+ready → not ready \[ready, serving\]/);

    operator = startEndpointControllers();
    await waitInSync(dns, 'web');
    const converged = await diffJson();
    assert.deepEqual([converged.code, converged.report.inSync], [0, true]);
  });

  it('errors exit 2: a Service that does not exist, and a bad flag', async () => {
    const missing = await plugin('diff', 'nope', '-n', dns);
    assert.equal(missing.code, 2);
    const bad = await plugin('diff', 'web', '-o', 'yaml');
    assert.deepEqual([bad.code, bad.stderr], [2, "error: --output must be text or json\nRun 'kubectl endpoints --help' for usage.\n"]);
  });
});
