import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { objectKey } from '../../api/core/meta.ts';
import { type Service, serviceSchema } from '../../api/core/v1.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import { Manager, type ManagerOptions } from '../../controllers/runtime/manager.ts';
import { done } from '../../controllers/runtime/reconcile.ts';
import { CUSTOM_RESOURCE_DEFINITIONS, NAMESPACES, type ResourceType, SERVICES } from '../../controllers/runtime/resource.ts';
import { captureLogger } from '../../controllers/runtime/runtime-test-helpers.ts';
import { startTestCluster } from '../envtest/test-cluster.ts';
import { waitFor } from '../envtest/wait-for.ts';

// The Manager against a real API server: a stop waits for the reconcile in flight and its write, the client-side rate
// limit holds, and an informer on a resource the server does not serve says so instead of silently holding every
// controller back.

const env = await startTestCluster({ name: 'runtime-manager' });

function newManager(options: Partial<ManagerOptions> = {}) {
  const { logger, lines } = captureLogger('info');
  const manager = new Manager({ logger, kubeConfig: env.kubeConfig, registry: new Registry(), clock: realClock, ...options });
  return { manager, lines };
}

const serviceBody = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { selector: { app: name }, ports: [{ port: 80 }] },
});

const annotated = z.object({ metadata: z.object({ annotations: z.record(z.string(), z.string()).optional() }) });

describe('Manager against a real API server', () => {
  it('lets the reconcile in flight finish, its write included, before start() resolves; queued keys are dropped', async () => {
    const ns = await env.createNamespace('drain');
    await env.client.create(SERVICES, ns, serviceBody('a-slow'));
    await env.client.create(SERVICES, ns, serviceBody('b-queued'));
    const { manager } = newManager({ informerOptions: { namespace: ns }, gracefulShutdownTimeoutMs: 10_000 });
    const client = manager.client('drain-test');
    const started: string[] = [];
    let finishedAt: number | undefined;
    let resolve!: () => void;
    const slowStarted = new Promise<void>((r) => {
      resolve = r;
    });
    const controller = manager.addController({
      name: 'slow',
      workers: 1,
      reconciler: {
        reconcile: async ({ key }) => {
          started.push(key);
          const [, name = ''] = key.split('/');
          resolve();
          // A slow reconcile that ignores nothing: the graceful stop must not abort it (ctx.signal stays quiet).
          await sleep(1_000);
          await client.patch(SERVICES, ns, name, { metadata: { annotations: { 'test/reconciled': 'true' } } }, 'merge');
          finishedAt = performance.now();
          return done();
        },
      },
    });
    manager
      .informer<Service>({ resource: SERVICES, parse: (raw) => serviceSchema.parse(raw), parseId: 'test.Service' })
      .addEventHandler({ onAdd: (s) => controller.enqueue(objectKey(s)) });

    const stop = new AbortController();
    const running = manager.start(stop.signal);
    await slowStarted;
    const stoppedAt = performance.now();
    stop.abort();
    const outcome = await running;
    const resolvedAt = performance.now();

    assert.deepEqual(outcome, { kind: 'stopped' });
    assert.deepEqual(started, [`${ns}/a-slow`], 'the queued key was not started after the stop');
    assert.ok(finishedAt !== undefined && finishedAt <= resolvedAt, 'the reconcile finished before start() resolved');
    const slow = annotated.parse(await env.client.get(SERVICES, ns, 'a-slow'));
    assert.equal(slow.metadata.annotations?.['test/reconciled'], 'true', 'its write landed');
    const queued = annotated.parse(await env.client.get(SERVICES, ns, 'b-queued'));
    assert.equal(queued.metadata.annotations?.['test/reconciled'], undefined);
    process.stderr.write(
      `[runtime-manager] graceful stop waited ${((resolvedAt - stoppedAt) / 1000).toFixed(2)} s for the reconcile in flight\n`,
    );
  });

  it('holds the client-side QPS and burst against the real server, per component', async () => {
    const { manager } = newManager({ qps: 10, burst: 5 });
    const defaultNamespace = (component: string) => manager.client(component).get(NAMESPACES, '', 'default');
    const burstOf50 = async (component: string) => {
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 50 }, () => defaultNamespace(component)));
      return performance.now() - t0;
    };
    // Two components at once: each has its own limiter (as each upstream controller has its own client).
    const [a, b] = await Promise.all([burstOf50('component-a'), burstOf50('component-b')]);
    // 5 at once, then 45 at 10 per second: the last one leaves 4.5 s after the first.
    for (const ms of [a, b]) {
      assert.ok(ms >= 4_400, `50 requests at qps 10 / burst 5 took only ${ms.toFixed(0)} ms`);
      assert.ok(ms <= 7_000, `50 requests at qps 10 / burst 5 took ${ms.toFixed(0)} ms`);
    }
    // The same requests without the limit: the server is not what takes 4.5 s.
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 50 }, () => env.client.get(NAMESPACES, '', 'default')));
    const unthrottled = performance.now() - t0;
    assert.ok(unthrottled < 2_000, `unthrottled: ${unthrottled.toFixed(0)} ms`);
    process.stderr.write(
      `[runtime-manager] 50 GETs at qps 10 / burst 5: ${(a / 1000).toFixed(2)} s and ${(b / 1000).toFixed(2)} s in parallel; ` +
        `without limit ${(unthrottled / 1000).toFixed(2)} s\n`,
    );
  });

  it('names a resource the server does not serve in /readyz and one error line, and recovers once its CRD exists', async () => {
    const group = 'runtime-test.example.com';
    const widgets: ResourceType = { group, version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: true };
    const { manager, lines } = newManager({
      healthProbeBindAddress: '127.0.0.1:0',
      informerOptions: { backoff: { initialMs: 200, maxMs: 1_000 } },
    });
    let controllerStarted = false;
    manager.addController({
      name: 'widgets',
      reconciler: { reconcile: async () => done() },
      onStart: async () => {
        controllerStarted = true;
      },
    });
    manager.informer({ resource: widgets, parse: (raw) => raw, parseId: 'test.Widget' });
    const stop = new AbortController();
    const running = manager.start(stop.signal);
    try {
      await waitFor(() => manager.serverAddresses().health, { description: 'the health server' });
      const readyz = async () => {
        const res = await fetch(`http://127.0.0.1:${manager.serverAddresses().health?.port}/readyz`);
        return { status: res.status, body: await res.text() };
      };
      const notReady = await waitFor(
        async () => {
          const r = await readyz();
          return r.body.includes('404') ? r : undefined;
        },
        { description: '/readyz to give the reason' },
      );
      assert.equal(notReady.status, 500);
      assert.match(
        notReady.body,
        /caches not synced: runtime-test\.example\.com\/v1\/widgets\?.*does not serve widgets\.runtime-test\.example\.com\/v1/,
      );
      // Several failed lists later, still one error line.
      await waitFor(() => lines.filter((l) => l.msg === 'Failed to list or watch, retrying').length >= 3, {
        description: 'three failed lists',
      });
      const said = lines.filter((l) => l.msg?.startsWith('Failed to list a resource the API server does not serve'));
      assert.equal(said.length, 1);
      assert.equal(said[0]?.resource, 'widgets.runtime-test.example.com/v1');
      assert.equal(controllerStarted, false, 'controllers wait for every cache');

      await env.client.create(CUSTOM_RESOURCE_DEFINITIONS, '', {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `widgets.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            },
          ],
        },
      });
      await waitFor(async () => (await readyz()).status === 200 && controllerStarted, {
        description: 'the informer to sync once the CRD is served',
        timeoutMs: 20_000,
      });
    } finally {
      stop.abort();
      await running;
    }
  });
});
