import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { ENDPOINTS, SERVICES } from '../../controllers/runtime/resource.ts';
import { SESSION_AFFINITY_POLICIES } from '../../controllers/session-affinity/resources.ts';
import { EXTERNAL_ENDPOINTS } from '../../controllers/external-endpoints/resources.ts';
import { createTestHost, type TestHost, type TestProcess, TestHostError } from '../nethost/test-host.ts';
import { dataPlaneSupport, POD_SERVER } from '../../hack/data-plane/data-plane.ts';
import type { ProxyMode } from '../../hack/data-plane/kube-proxy-config.ts';
import { waitFor } from '../envtest/wait-for.ts';
import { CLUSTER_DOMAIN, type EndpointControllers, NODE_NAMES, type ServingPod, startTrafficEnv, type TrafficEnv } from './traffic-env.ts';
import { countByPod, enteredRotationAt, leftRotationAt, parseTraffic, percentile, type TrafficResult } from './traffic-stats.ts';

// The end-to-end traffic suite: Services written by the endpoint controllers carry real packets through real
// kube-proxies (hack/data-plane/). Every check is on traffic: which Pods answered requests from a client Pod, or
// what CoreDNS answered. Run per proxy mode, and once with kube-controller-manager's endpoint controllers instead of
// this operator's (data-plane parity: the same outcomes). Needs root, iproute2, nftables/iptables and socat; without
// them the suite is reported skipped with the reason.

const FLIP_CYCLES = 4;
// Pause after each observed rotation change, longer than kube-proxy's minSyncPeriod (1 s): the next flip then measures
// the path status -> EndpointSlice -> rules, not the rate limit that a sync less than a second old imposes.
const SETTLE_MS = 1_500;

/** Declares the suite for one proxy mode and one writer of Endpoints and EndpointSlices. */
export function describeTrafficSuite(mode: ProxyMode, controllers: EndpointControllers): void {
  const support = dataPlaneSupport(mode);
  const title = `traffic through kube-proxy (${mode}), endpoints by ${controllers === 'operator' ? 'this operator' : 'kube-controller-manager'}`;
  if (!support.ok) {
    describe(title, () => {
      it('runs the traffic suite', { skip: support.reason }, () => {});
    });
    return;
  }

  describe(title, { concurrency: false }, () => {
    let te: TrafficEnv;
    const pods = new Map<string, ServingPod>();
    let rootTablesBefore = '';
    let stopped = false;
    const label = `[${mode}/${controllers}]`;
    const pod = (name: string): ServingPod => {
      const p = pods.get(name);
      if (p === undefined) throw new Error(`no pod ${name}`);
      return p;
    };
    const url = () => `http://web.${te.namespace}.svc.${CLUSTER_DOMAIN}/`;

    /** Sends `count` requests from the client Pod; fails on an unexpected error line. */
    const send = async (target: string, count: number): Promise<TrafficResult[]> =>
      parseTraffic((await te.plane.requests(te.client, target, { count, timeoutMs: 1000 })).join('\n'));

    /** Waits until requests to `target` reach exactly `expected` Pods, without errors. */
    const waitForBackends = (target: string, expected: readonly string[], timeoutMs = 30_000) =>
      waitFor(
        async () => {
          const { perPod, errors } = countByPod(await send(target, 12 * expected.length));
          const seen = Object.keys(perPod).sort();
          if (errors > 0 || JSON.stringify(seen) !== JSON.stringify([...expected].sort()))
            throw new Error(`answered by ${JSON.stringify(perPod)}, errors ${errors}`);
          return perPod;
        },
        { description: `requests to ${target} to reach exactly ${expected.join(', ')}`, timeoutMs, intervalMs: 200 },
      );

    const dig = async (name: string, type = 'A'): Promise<string[]> =>
      (await te.plane.exec(te.client.namespace, 'dig', ['+short', '+time=2', '+tries=1', name, type]))
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '')
        .sort();

    before(async () => {
      rootTablesBefore = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' });
      te = await startTrafficEnv(mode, controllers);
      const specs: [string, string, boolean][] = [
        ['web-1', NODE_NAMES[0], true],
        ['web-2', NODE_NAMES[1], true],
        ['web-3', NODE_NAMES[0], true],
        ['web-4', NODE_NAMES[1], false],
      ];
      for (const [name, node, ready] of specs) pods.set(name, await te.addPod(name, { app: 'web' }, node, ready));
      await te.createService({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web' },
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      });
    });
    afterEach(async (t) => {
      // TestContext.passed exists at runtime (Node 24) but is not yet in @types/node.
      if ('passed' in t && t.passed === false && te !== undefined && !stopped) process.stderr.write(await te.logTails());
    });
    after(async () => {
      await te?.stop();
    });

    it('resolves the Service name through CoreDNS at the kube-dns ClusterIP', async () => {
      const svc = (await te.env.client.get(SERVICES, te.namespace, 'web')) as { spec: { clusterIP: string } };
      const answer = await waitFor(
        async () => {
          const a = await dig(`web.${te.namespace}.svc.${CLUSTER_DOMAIN}`);
          return a.length > 0 ? a : false;
        },
        { description: 'CoreDNS to answer for the web Service', timeoutMs: 30_000, intervalMs: 500 },
      );
      assert.deepEqual(answer, [svc.spec.clusterIP]);
    });

    it('spreads requests over exactly the ready endpoints (a not-ready Pod gets none)', async () => {
      await waitForBackends(url(), ['web-1', 'web-2', 'web-3']);
      const { perPod, errors } = countByPod(await send(url(), 90));
      process.stderr.write(`${label} 90 requests to the ClusterIP: ${JSON.stringify(perPod)}, errors ${errors}\n`);
      assert.equal(errors, 0);
      assert.deepEqual(Object.keys(perPod), ['web-1', 'web-2', 'web-3']);
      for (const n of Object.values(perPod)) assert.ok(n >= 10, `each ready Pod gets a share: ${JSON.stringify(perPod)}`);
    });

    it('takes a Pod out of rotation when it turns not ready and back when ready again', async () => {
      const flipped = pod('web-2');
      const traffic = te.plane.startTraffic(te.client, url(), { durationMs: 120_000, intervalMs: 5, timeoutMs: 1000 }, `flip-${mode}`);
      const read = async () => parseTraffic(await readFile(traffic.logPath, 'utf8').catch(() => ''));
      const leave: number[] = [];
      const enter: number[] = [];
      try {
        await waitFor(async () => enteredRotationAt(await read(), flipped.name, 0), {
          description: 'traffic to reach web-2',
          timeoutMs: 20_000,
        });
        for (let cycle = 0; cycle < FLIP_CYCLES; cycle++) {
          const t0 = Date.now();
          await te.setReady(flipped, false);
          const left = await waitFor(async () => leftRotationAt(await read(), flipped.name, t0, 60), {
            description: `web-2 to leave the rotation (cycle ${cycle + 1})`,
            timeoutMs: 30_000,
            intervalMs: 50,
          });
          leave.push(left - t0);
          await sleep(SETTLE_MS);
          const t1 = Date.now();
          await te.setReady(flipped, true);
          const entered = await waitFor(async () => enteredRotationAt(await read(), flipped.name, t1), {
            description: `web-2 to re-enter the rotation (cycle ${cycle + 1})`,
            timeoutMs: 30_000,
            intervalMs: 50,
          });
          enter.push(entered - t1);
          await sleep(SETTLE_MS);
        }
      } finally {
        await traffic.stop();
      }
      const results = await read();
      const { perPod, errors } = countByPod(results);
      const fmt = (s: number[]) => `p50 ${percentile(s, 50)} ms, p99 ${percentile(s, 99)} ms (samples ${s.join(', ')})`;
      process.stderr.write(`${label} readiness flip -> out of rotation: ${fmt(leave)}; -> back in rotation: ${fmt(enter)}\n`);
      process.stderr.write(`${label} ${results.length} requests during the flips: ${JSON.stringify(perPod)}, errors ${errors}\n`);
      assert.equal(errors, 0, 'a readiness flip never fails a request');
      assert.equal(perPod['web-4'], undefined, 'the not-ready web-4 never answers');
    });

    it('follows scale up, a terminating Pod and a deleted Pod (no new connections, no errors)', async () => {
      for (const [name, node] of [
        ['web-5', NODE_NAMES[1]],
        ['web-6', NODE_NAMES[0]],
      ] as const)
        pods.set(name, await te.addPod(name, { app: 'web' }, node));
      await waitForBackends(url(), ['web-1', 'web-2', 'web-3', 'web-5', 'web-6']);
      await te.startTermination(pod('web-5'));
      await waitForBackends(url(), ['web-1', 'web-2', 'web-3', 'web-6']);
      await te.deletePod(pod('web-6'));
      pods.delete('web-6');
      await waitForBackends(url(), ['web-1', 'web-2', 'web-3']);
      const { perPod, errors } = countByPod(await send(url(), 60));
      assert.equal(errors, 0);
      assert.deepEqual(Object.keys(perPod), ['web-1', 'web-2', 'web-3'], 'the terminating web-5 (still serving) gets no new connection');
    });

    it('answers a headless Service with the ready Pod IPs', async () => {
      await te.createService({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web-headless' },
        spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      });
      const want = ['web-1', 'web-2', 'web-3'].map((n) => pod(n).network.ip).sort();
      await waitFor(async () => JSON.stringify(await dig(`web-headless.${te.namespace}.svc.${CLUSTER_DOMAIN}`)) === JSON.stringify(want), {
        description: `web-headless to resolve to ${want.join(', ')}`,
        timeoutMs: 30_000,
        intervalMs: 500,
      });
    });

    it('carries traffic of a selectorless Service through slices mirrored from hand-written Endpoints', async () => {
      const target = pod('web-4'); // not ready: only the hand-written Endpoints can send traffic to it
      await te.createService({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'manual' },
        spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      });
      await te.env.client.create(ENDPOINTS, te.namespace, {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'manual' },
        subsets: [{ addresses: [{ ip: target.network.ip }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
      });
      await waitForBackends(`http://manual.${te.namespace}.svc.${CLUSTER_DOMAIN}/`, ['web-4']);
    });

    it('serves a NodePort on every Node address to a client outside the Pod network', async () => {
      const { nodePort } = await te.createService({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web-np' },
        spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      });
      assert.ok(nodePort !== undefined);
      const outside = await te.plane.addOutsideClient('outside');
      for (const node of te.plane.nodes) {
        await waitFor(
          async () => {
            const results = parseTraffic(
              (await te.plane.requests(outside, `http://${node.nodeIp}:${nodePort}/`, { count: 36 })).join('\n'),
            );
            const { perPod, errors } = countByPod(results);
            return errors === 0 && JSON.stringify(Object.keys(perPod)) === JSON.stringify(['web-1', 'web-2', 'web-3']);
          },
          { description: `NodePort ${nodePort} on ${node.name} (${node.nodeIp}) to reach web-1..3`, timeoutMs: 30_000, intervalMs: 200 },
        );
      }
    });

    it('answers an ExternalName Service with a CNAME', async () => {
      await te.createService({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'ext' },
        spec: { type: 'ExternalName', externalName: 'backend.example.test' },
      });
      await waitFor(async () => (await dig(`ext.${te.namespace}.svc.${CLUSTER_DOMAIN}`, 'CNAME')).join() === 'backend.example.test.', {
        description: 'ext to resolve to a CNAME backend.example.test.',
        timeoutMs: 30_000,
        intervalMs: 500,
      });
    });

    it('keeps one client on one Pod with sessionAffinity ClientIP, and spreads again without it', async () => {
      await te.createService({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'sticky' },
        spec: { selector: { app: 'web' }, sessionAffinity: 'ClientIP', ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      });
      const sticky = `http://sticky.${te.namespace}.svc.${CLUSTER_DOMAIN}/`;
      const first = await waitFor(
        async () => {
          const { perPod, errors } = countByPod(await send(sticky, 30));
          return errors === 0 && Object.keys(perPod).length === 1 ? perPod : false;
        },
        { description: 'sticky to send all 30 requests to one Pod', timeoutMs: 30_000, intervalMs: 200 },
      );
      process.stderr.write(`${label} 30 requests with sessionAffinity ClientIP: ${JSON.stringify(first)}\n`);
      await te.env.client.patch(SERVICES, te.namespace, 'sticky', { spec: { sessionAffinity: 'None' } }, 'merge');
      await waitForBackends(sticky, ['web-1', 'web-2', 'web-3']);
    });

    it(
      'applies a SessionAffinityPolicy on the proxy (one client, one Pod) and gives spreading back when it is deleted',
      controllers === 'operator' ? {} : { skip: 'kube-controller-manager has no SessionAffinityPolicy controller' },
      async () => {
        await te.createService({
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'policed', labels: { tier: 'web' } },
          spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
        });
        const policed = `http://policed.${te.namespace}.svc.${CLUSTER_DOMAIN}/`;
        await waitForBackends(policed, ['web-1', 'web-2', 'web-3']);
        await te.env.client.create(SESSION_AFFINITY_POLICIES, te.namespace, {
          apiVersion: 'kube-endpoints-operator.io/v1alpha1',
          kind: 'SessionAffinityPolicy',
          metadata: { name: 'sticky-web' },
          spec: { serviceSelector: { matchLabels: { tier: 'web' } }, sessionAffinity: 'ClientIP', timeoutSeconds: 600 },
        });
        const sticky = await waitFor(
          async () => {
            const { perPod, errors } = countByPod(await send(policed, 30));
            return errors === 0 && Object.keys(perPod).length === 1 ? perPod : false;
          },
          { description: 'the policy to send all 30 requests of the client to one Pod', timeoutMs: 30_000, intervalMs: 200 },
        );
        process.stderr.write(`${label} 30 requests under SessionAffinityPolicy ClientIP: ${JSON.stringify(sticky)}\n`);
        await te.env.client.delete(SESSION_AFFINITY_POLICIES, te.namespace, 'sticky-web');
        await waitForBackends(policed, ['web-1', 'web-2', 'web-3']);
      },
    );

    it(
      'sends ExternalEndpoints traffic to healthy backends outside the cluster: a killed one stops, maintenance drains',
      controllers === 'operator' ? {} : { skip: 'kube-controller-manager has no ExternalEndpoints controller' },
      async () => {
        const hosts: TestHost[] = [];
        try {
          const servers = new Map<string, TestProcess>();
          const startServer = async (host: TestHost, name: string) => {
            const p = host.spawn(NODE, [POD_SERVER, '--pod', name, '--namespace', 'outside', '--node', 'none', '--http', '8080']);
            await p.waitForOutput(/^LISTENING$/m, 15_000);
            servers.set(name, p);
          };
          for (const name of ['ext-1', 'ext-2']) {
            const host = await createOutsideHost(name);
            hosts.push(host);
            await te.plane.attachExternalHost(host.namespace, host.address);
            await startServer(host, name);
          }
          await te.createService({
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: 'legacy' },
            spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
          });
          const body = (maintenance: boolean) => ({
            apiVersion: 'kube-endpoints-operator.io/v1alpha1',
            kind: 'ExternalEndpoints',
            metadata: { name: 'legacy' },
            spec: {
              endpoints: hosts.map((h, i) => ({ ip: h.address, ...(i === 0 && maintenance ? { maintenance: true } : {}) })),
              ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
              healthCheck: {
                type: 'TCP',
                port: 8080,
                intervalSeconds: 1,
                timeoutSeconds: 1,
                healthyThreshold: 1,
                unhealthyThreshold: 1,
                minDwellSeconds: 0,
              },
            },
          });
          await te.env.client.create(EXTERNAL_ENDPOINTS, te.namespace, body(false));
          const legacy = `http://legacy.${te.namespace}.svc.${CLUSTER_DOMAIN}/`;
          await waitForBackends(legacy, ['ext-1', 'ext-2']);
          await servers.get('ext-1')?.kill('SIGKILL');
          await waitForBackends(legacy, ['ext-2']);
          const [first] = hosts;
          if (first !== undefined) await startServer(first, 'ext-1');
          await waitForBackends(legacy, ['ext-1', 'ext-2']);
          await te.env.client.patch(EXTERNAL_ENDPOINTS, te.namespace, 'legacy', { spec: body(true).spec }, 'merge');
          await waitForBackends(legacy, ['ext-2']);
          const { perPod, errors } = countByPod(await send(legacy, 30));
          process.stderr.write(`${label} 30 requests with ext-1 in maintenance: ${JSON.stringify(perPod)}, errors ${errors}\n`);
          assert.deepEqual({ perPod, errors }, { perPod: { 'ext-2': 30 }, errors: 0 });
        } finally {
          for (const h of hosts) await h.remove();
        }
      },
    );

    it('removes every namespace, process, resolv.conf and socket it created, and leaves the root namespace rules alone', async () => {
      const rules = await te.plane.rules(NODE_NAMES[0]);
      assert.match(rules, mode === 'nftables' ? /table ip kube-proxy/ : /KUBE-SERVICES/);
      stopped = true;
      await te.stop();
      assert.deepEqual(te.plane.leftovers(), { namespaces: [], processes: [], resolvConfDirs: [], socket: false });
      assert.equal(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }), rootTablesBefore);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const NODE = process.execPath;

/**
 * A test host (test/nethost: reachable from the root namespace, where the operator probes) with an address outside
 * the data plane's Pod and node networks: 198.19.0.0/17.
 */
async function createOutsideHost(name: string): Promise<TestHost> {
  for (let attempt = 0; ; attempt++) {
    const address = `198.19.${Math.floor(Math.random() * 128)}.${4 * Math.floor(Math.random() * 64) + 2}`;
    try {
      return await createTestHost({ name, address });
    } catch (err) {
      if (!(err instanceof TestHostError && /already in use/.test(err.message)) || attempt >= 20) throw err;
    }
  }
}
