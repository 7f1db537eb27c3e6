import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock, flushMicrotasks } from '../../runtime/clock.ts';
import type { ProbeTarget } from './container-probe.ts';
import type { ContainerEngine, CreatedContainer, Sandbox } from './container-runtime.ts';
import { PodWorkers } from './pod-workers.ts';
import type { SimContainer, SimPod } from './simulated-objects.ts';
import { pod } from './test-fixtures.ts';

// A scripted engine: containers run until the test (or a signal) ends them; probes answer from `healthy`.
class FakeEngine implements ContainerEngine {
  readonly calls: string[] = [];
  readonly exits = new Map<string, (code: number) => void>();
  healthy = true;
  /** What a container does on SIGTERM: exit 0 at once, or ignore it (then only SIGKILL ends it). */
  onTerm: 'exit' | 'ignore' = 'exit';
  sandboxes = 0;

  handles(image: string): boolean {
    return image.startsWith('local/');
  }
  async createSandbox(p: Readonly<SimPod>, podIP: string): Promise<Sandbox> {
    this.sandboxes++;
    this.calls.push(`sandbox ${p.metadata.name} ${podIP}`);
    return { netnsName: 'ns1', netnsPath: '/run/netns/ns1', dir: '/state/p', ip: podIP };
  }
  async removeSandbox(): Promise<void> {
    this.sandboxes--;
    this.calls.push('remove-sandbox');
  }
  async createContainer(_s: Sandbox, _p: Readonly<SimPod>, c: Readonly<SimContainer>, attempt: number): Promise<CreatedContainer> {
    this.calls.push(`create ${c.name}-${attempt}`);
    return { id: `${c.name}-${attempt}`, imageID: 'sha256:1', logPath: `/logs/${c.name}/${attempt}.log` };
  }
  run(id: string): Promise<number> {
    this.calls.push(`run ${id}`);
    return new Promise((resolve) => this.exits.set(id, resolve));
  }
  async kill(id: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    this.calls.push(`kill ${id} ${signal}`);
    if (signal === 'SIGKILL') this.exits.get(id)?.(137);
    else if (this.onTerm === 'exit') this.exits.get(id)?.(0);
  }
  async remove(id: string): Promise<void> {
    this.calls.push(`remove ${id}`);
  }
  async probe(_s: Sandbox, target: ProbeTarget): Promise<boolean> {
    this.calls.push(`probe ${target.kind}:${target.port}`);
    return this.healthy;
  }
}

const KEY = 'default/web-1';
function runtimePod(over: { restartPolicy?: string; container?: Partial<SimContainer> } = {}): SimPod {
  return pod({
    spec: {
      nodeName: 'playground-node-1',
      terminationGracePeriodSeconds: 30,
      ...(over.restartPolicy === undefined ? {} : { restartPolicy: over.restartPolicy }),
      containers: [{ name: 'app', image: 'local/app:1', ports: [{ name: 'health', containerPort: 8081 }], ...over.container }],
    },
  });
}

function setup() {
  const engine = new FakeEngine();
  const clock = new FakeClock();
  const changes: string[] = [];
  const workers = new PodWorkers({ engine, clock, onChange: (k) => changes.push(k) });
  const state = () => workers.state(KEY, 'uid-web-1');
  const container = () => state()?.containers[0];
  return { engine, clock, changes, workers, state, container };
}

describe('PodWorkers', () => {
  it('runs only Pods whose every image the engine handles', () => {
    const { workers } = setup();
    assert.equal(workers.handles(runtimePod()), true);
    assert.equal(workers.handles(pod({ spec: { containers: [{ name: 'a', image: 'nginx' }] } })), false);
    assert.equal(
      workers.handles(
        pod({
          spec: {
            containers: [
              { name: 'a', image: 'local/a' },
              { name: 'b', image: 'nginx' },
            ],
          },
        }),
      ),
      false,
    );
  });

  it('creates the sandbox and the container once; without readiness probe it is ready when running', async () => {
    const { engine, workers, container, changes } = setup();
    workers.ensure(KEY, runtimePod(), '10.244.1.5');
    workers.ensure(KEY, runtimePod(), '10.244.1.5');
    await flushMicrotasks();
    assert.deepEqual(engine.calls, ['sandbox web-1 10.244.1.5', 'create app-0', 'run app-0']);
    assert.deepEqual([container()?.phase.kind, container()?.ready, container()?.logPath], ['running', true, '/logs/app/0.log']);
    assert.ok(changes.length > 0 && changes.every((k) => k === KEY));
  });

  it('a readiness probe makes it ready after its first success and unready after failureThreshold failures', async () => {
    const { engine, clock, workers, container } = setup();
    const probe = { httpGet: { path: '/readyz', port: 'health' }, periodSeconds: 5, failureThreshold: 2 };
    workers.ensure(KEY, runtimePod({ container: { readinessProbe: probe } }), '10.244.1.5');
    await flushMicrotasks();
    assert.equal(container()?.ready, false);
    await clock.advance(0);
    assert.equal(container()?.ready, true);
    engine.healthy = false;
    await clock.advance(5000);
    assert.equal(container()?.ready, true, 'one failure is below the threshold');
    await clock.advance(5000);
    assert.equal(container()?.ready, false);
    assert.ok(engine.calls.includes('probe http:8081'));
  });

  it('a failing liveness probe restarts the container after the crash-loop backoff, counting the restart', async () => {
    const { engine, clock, workers, container } = setup();
    const probe = { tcpSocket: { port: 8081 }, periodSeconds: 10, failureThreshold: 1 };
    workers.ensure(KEY, runtimePod({ container: { livenessProbe: probe } }), '10.244.1.5');
    await flushMicrotasks();
    engine.healthy = false;
    await clock.advance(0);
    assert.ok(engine.calls.includes('kill app-0 SIGTERM'));
    assert.equal(container()?.phase.kind, 'waiting');
    assert.equal(container()?.lastTermination?.exitCode, 0);
    assert.equal(container()?.restartCount, 0);
    engine.healthy = true;
    await clock.advance(10_000);
    assert.deepEqual([container()?.phase.kind, container()?.restartCount], ['running', 1]);
    assert.ok(engine.calls.includes('run app-1'));
  });

  it('restartPolicy Never: an exited container stays terminated and the worker keeps the sandbox until termination', async () => {
    const { engine, workers, container } = setup();
    workers.ensure(KEY, runtimePod({ restartPolicy: 'Never' }), '10.244.1.5');
    await flushMicrotasks();
    engine.exits.get('app-0')?.(3);
    await flushMicrotasks();
    assert.deepEqual(container()?.phase, {
      kind: 'terminated',
      exitCode: 3,
      reason: 'Error',
      startedAtMs: 1_700_000_000_000,
      finishedAtMs: 1_700_000_000_000,
    });
    assert.ok(engine.calls.includes('remove app-0'));
  });

  it('sends SIGTERM once however often termination is asked for with a shrinking remainder', async () => {
    const { engine, clock, workers } = setup();
    engine.onTerm = 'ignore';
    workers.ensure(KEY, runtimePod(), '10.244.1.5');
    await flushMicrotasks();
    workers.terminate(KEY, 'uid-web-1', 30_000);
    await clock.advance(500);
    workers.terminate(KEY, 'uid-web-1', 29_500);
    await clock.advance(500);
    workers.terminate(KEY, 'uid-web-1', 29_000);
    assert.deepEqual(
      engine.calls.filter((c) => c.startsWith('kill')),
      ['kill app-0 SIGTERM'],
    );
    // A forced delete (grace 0) still kills at once.
    workers.terminate(KEY, 'uid-web-1', 0);
    await clock.advance(0);
    assert.deepEqual(
      engine.calls.filter((c) => c.startsWith('kill')),
      ['kill app-0 SIGTERM', 'kill app-0 SIGKILL'],
    );
  });

  it('terminates with SIGTERM, and removes everything once the container exited', async () => {
    const { engine, workers, state } = setup();
    workers.ensure(KEY, runtimePod(), '10.244.1.5');
    await flushMicrotasks();
    workers.terminate(KEY, 'uid-web-1', 30_000);
    await flushMicrotasks();
    assert.deepEqual(engine.calls.slice(-3), ['kill app-0 SIGTERM', 'remove app-0', 'remove-sandbox']);
    assert.equal(state()?.removed, true);
    assert.equal(engine.sandboxes, 0);
    workers.forget(KEY, 'uid-web-1');
    assert.deepEqual(workers.keys(), []);
  });

  it('sends SIGKILL when the grace period is over and the container ignored SIGTERM', async () => {
    const { engine, clock, workers, state } = setup();
    engine.onTerm = 'ignore';
    workers.ensure(KEY, runtimePod(), '10.244.1.5');
    await flushMicrotasks();
    workers.terminate(KEY, 'uid-web-1', 30_000);
    await clock.advance(29_999);
    assert.equal(state()?.removed, false);
    await clock.advance(1);
    assert.ok(engine.calls.includes('kill app-0 SIGKILL'));
    assert.equal(state()?.removed, true);
    const phase = state()?.containers[0]?.phase;
    assert.equal(phase?.kind === 'terminated' ? phase.exitCode : undefined, 137);
  });

  it('a new incarnation of the same name starts only after the old one is gone', async () => {
    const { engine, clock, workers } = setup();
    workers.ensure(KEY, runtimePod(), '10.244.1.5');
    await flushMicrotasks();
    const next = pod({
      metadata: { uid: 'uid-2' },
      spec: { nodeName: 'playground-node-1', containers: [{ name: 'app', image: 'local/app:1' }] },
    });
    workers.ensure(KEY, next, '10.244.1.6');
    await clock.advance(0);
    assert.ok(engine.calls.includes('kill app-0 SIGKILL'));
    assert.equal(workers.state(KEY, 'uid-2'), undefined);
    workers.ensure(KEY, next, '10.244.1.6');
    await flushMicrotasks();
    assert.equal(workers.state(KEY, 'uid-2')?.containers[0]?.phase.kind, 'running');
  });
});
