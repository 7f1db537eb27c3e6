import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkBackendAddress, newAddressPolicy } from '../../controllers/external-endpoints/address-policy.ts';
import { type HealthPolicy, observeProbe, UNKNOWN_HEALTH } from '../../controllers/external-endpoints/health.ts';
import { NetProber } from '../../controllers/external-endpoints/probe/net-prober.ts';
import { ProbeScheduler } from '../../controllers/external-endpoints/probe/probe-scheduler.ts';
import type { HttpProbeSpec, ProbeResult, TcpProbeSpec } from '../../controllers/external-endpoints/probe/prober.ts';
import { createTestHost, removeStaleTestHosts, type TestHost, TestHostError, testHostSupport } from './test-host.ts';

// Real test hosts in network namespaces, probed from the root namespace by the operator's prober: the setup the
// ExternalEndpoints integration tests build on.

const support = testHostSupport();
const skip = support.ok ? false : support.reason;
const prober = new NetProber();
const http: HttpProbeSpec = { type: 'HTTP', timeoutMs: 2000, path: '/healthz', expectedStatuses: [{ min: 200, max: 399 }] };
const tcp: TcpProbeSpec = { type: 'TCP', timeoutMs: 2000 };

function reasonOf(r: ProbeResult): string {
  return r.ok ? 'ok' : r.error.reason;
}

function ip(...args: string[]): string {
  return execFileSync('/usr/sbin/ip', args, { encoding: 'utf8', timeout: 10_000 });
}

function leftovers(host: TestHost): string[] {
  const found: string[] = [];
  if (ip('netns', 'list').includes(host.namespace)) found.push(`namespace ${host.namespace}`);
  if (ip('-o', 'link').includes(`${host.hostLink}@`) || ip('-o', 'link').includes(` ${host.hostLink}:`))
    found.push(`link ${host.hostLink}`);
  if (ip('-o', 'addr').includes(`${host.gatewayAddress}/`)) found.push(`address ${host.gatewayAddress}`);
  if (existsSync(`/run/keo-nethost/${host.gatewayAddress.replace(/\.\d+$/, (m) => `.${Number(m.slice(1)) - 1}`)}.json`))
    found.push('claim file');
  return found;
}

describe('test hosts', { skip }, () => {
  const hosts: TestHost[] = [];
  after(async () => {
    await Promise.all(hosts.map((h) => h.remove()));
  });

  it('serve HTTP to the prober from the root namespace, refuse when the server dies, recover when it restarts', async () => {
    const web = await createTestHost({ name: 'web' });
    hosts.push(web);
    assert.match(web.address, /^198\.1[89]\.\d+\.\d+$/);
    assert.deepEqual(checkBackendAddress(web.address, newAddressPolicy()), { allowed: true, address: web.address });
    const target = { address: web.address, port: 8080, dnsName: 'web.test' };

    const server = await web.startServer('http');
    assert.equal(reasonOf(await prober.probe(target, http, AbortSignal.timeout(5000))), 'ok');
    // The server logs after it answered, so its line can trail the probe's result: wait for it, bounded.
    await server.waitForOutput(/REQUEST GET \/healthz host=web\.test:8080/, 5_000);

    await server.kill();
    assert.equal(reasonOf(await prober.probe(target, http, AbortSignal.timeout(5000))), 'Refused');

    const restarted = await web.startServer('http');
    assert.equal(reasonOf(await prober.probe(target, http, AbortSignal.timeout(5000))), 'ok');

    await restarted.kill();
    await web.startServer('http', { args: ['--status', '503'] });
    const unhealthy = await prober.probe(target, http, AbortSignal.timeout(5000));
    assert.deepEqual([reasonOf(unhealthy), unhealthy.statusCode], ['HTTPStatus', 503]);
  });

  it('keep several hosts apart, over IPv4 and IPv6, each with its own port space', async () => {
    const [a, b] = await Promise.all([createTestHost({ name: 'db-a', ipv6: true }), createTestHost({ name: 'db-b' })]);
    hosts.push(a, b);
    assert.notEqual(a.address, b.address);
    assert.notEqual(a.namespace, b.namespace);
    assert.match(a.address6 ?? '', /^fd6b:656f:0:[0-9a-f]+::2$/);
    assert.equal(b.address6, undefined);
    await a.startServer('tcp');
    await b.startServer('tcp');
    for (const address of [a.address, a.address6 ?? '', b.address]) {
      assert.equal(reasonOf(await prober.probe({ address, port: 5432 }, tcp, AbortSignal.timeout(5000))), 'ok', address);
    }
    const web6 = await a.startServer('http');
    const r = await prober.probe({ address: a.address6 ?? '', port: 8080 }, http, AbortSignal.timeout(5000));
    assert.equal(reasonOf(r), 'ok');
    // As above: the server's log line can trail the probe's result.
    await web6.waitForOutput(new RegExp(`host=\\[${a.address6}\\]:8080`), 5_000);
  });

  it('flip a real backend through the scheduler and the health state machine within interval x threshold', async () => {
    const db = await createTestHost({ name: 'db' });
    hosts.push(db);
    let server = await db.startServer('tcp');
    const policy: HealthPolicy = { healthyThreshold: 1, unhealthyThreshold: 2, minDwellMs: 0 };
    let health = UNKNOWN_HEALTH;
    const transitions: { to: string; at: number }[] = [];
    const leader = new AbortController();
    const scheduler = new ProbeScheduler({
      prober,
      addressPolicy: newAddressPolicy(),
      concurrency: 2,
    });
    const intervalMs = 250;
    scheduler.upsert({ key: 'db', target: { address: db.address, port: 5432 }, spec: { type: 'TCP', timeoutMs: 150 }, intervalMs });
    void scheduler.run(leader.signal, (report) => {
      const step = observeProbe(health, report.result, report.finishedAt, policy);
      health = step.health;
      if (step.transition) transitions.push({ to: step.transition.to, at: report.finishedAt });
    });
    const waitFor = async (state: string) => {
      for (let i = 0; i < 100 && health.state !== state; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(health.state, state);
    };
    try {
      await waitFor('Healthy');
      const killedAt = Date.now();
      await server.kill();
      await waitFor('Unhealthy');
      // Two failed probes at most 1.1 intervals apart (jitter): about 2.2 intervals, plus slack for a loaded machine.
      assert.ok((transitions.at(-1)?.at ?? 0) - killedAt < 6 * intervalMs, JSON.stringify(transitions));
      assert.equal(health.lastError?.reason, 'Refused');
      server = await db.startServer('tcp');
      await waitFor('Healthy');
      assert.deepEqual(
        transitions.map((t) => t.to),
        ['Healthy', 'Unhealthy', 'Healthy'],
      );
    } finally {
      leader.abort();
      await scheduler.stop();
    }
    assert.equal(scheduler.running, 0);
  });

  it('time out (or become unreachable) while the link is down, and recover when it is up', async () => {
    const flaky = await createTestHost({ name: 'flaky' });
    hosts.push(flaky);
    await flaky.startServer('tcp');
    const target = { address: flaky.address, port: 5432 };
    assert.equal(reasonOf(await prober.probe(target, tcp, AbortSignal.timeout(5000))), 'ok');
    await flaky.setLinkUp(false);
    const down = await prober.probe(target, { type: 'TCP', timeoutMs: 500 }, AbortSignal.timeout(5000));
    assert.ok(['Timeout', 'Unreachable'].includes(reasonOf(down)), `${reasonOf(down)}: ${down.ok ? '' : down.error.message}`);
    await flaky.setLinkUp(true);
    assert.equal(reasonOf(await prober.probe(target, tcp, AbortSignal.timeout(5000))), 'ok');
  });

  it('take a requested address, and refuse it to a second host', async () => {
    const first = await createTestHost({ name: 'pinned' });
    hosts.push(first);
    const again = createTestHost({ name: 'pinned-again', address: first.address });
    await assert.rejects(again, (e: unknown) => e instanceof TestHostError && /already in use/.test(e.message));
    await assert.rejects(createTestHost({ name: 'bad', address: '10.0.0.2' }), /must be 198\.18\.0\.0\/15/);
  });

  it('leave nothing behind once removed, and removing twice is fine', async () => {
    const temp = await createTestHost({ name: 'temp', ipv6: true });
    const server = await temp.startServer('http');
    assert.deepEqual(
      leftovers(temp).sort(),
      [`address ${temp.gatewayAddress}`, 'claim file', `link ${temp.hostLink}`, `namespace ${temp.namespace}`].sort(),
    );
    await temp.remove();
    await temp.remove();
    assert.deepEqual(leftovers(temp), []);
    assert.notEqual((await server.exited).signal, null, 'the server was killed');
    assert.throws(() => temp.spawn('true', []), /has been removed/);
  });

  it('are removed when their process exits, and swept after it is killed', async () => {
    const script = fileURLToPath(new URL('./test-host.ts', import.meta.url));
    const child = (exit: boolean) =>
      spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { createTestHost } = await import(${JSON.stringify(script)});
           const h = await createTestHost({ name: 'child' });
           console.log(h.namespace);
           ${exit ? 'process.exit(0);' : 'setInterval(() => {}, 1000);'}`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
    const namespaceOf = async (c: ReturnType<typeof child>) => {
      let out = '';
      for await (const chunk of c.stdout ?? []) {
        out += String(chunk);
        if (out.includes('\n')) break;
      }
      return out.trim();
    };

    const exiting = child(true);
    const ns1 = await namespaceOf(exiting);
    await new Promise((r) => exiting.once('exit', r));
    assert.match(ns1, /^keo-[0-9a-f]{8}$/);
    assert.ok(!ip('netns', 'list').includes(ns1), 'a normal exit left the namespace behind');

    const killed = child(false);
    const ns2 = await namespaceOf(killed);
    killed.kill('SIGKILL');
    await new Promise((r) => killed.once('exit', r));
    assert.ok(ip('netns', 'list').includes(ns2), 'SIGKILL cannot run exit hooks, so the namespace is still there');
    assert.ok(removeStaleTestHosts().includes(ns2));
    assert.ok(!ip('netns', 'list').includes(ns2));
  });
});

describe(
  'test host support',
  {
    skip: existsSync('/usr/bin/setpriv') ? false : 'setpriv (util-linux) is needed to drop privileges',
  },
  () => {
    // Where test hosts cannot be made, createTestHost must say why in one line; simulated by dropping privileges.
    const script = fileURLToPath(new URL('./test-host.ts', import.meta.url));
    const attempt = (setprivArgs: string[]) =>
      execFileSync(
        '/usr/bin/setpriv',
        [
          ...setprivArgs,
          process.execPath,
          '--input-type=module',
          '-e',
          `const { createTestHost } = await import(${JSON.stringify(script)});
         try { await createTestHost({ name: 'x' }); console.log('created'); } catch (e) { console.log(e.name + ': ' + e.message); }`,
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
    const cases = [
      { name: 'not root', given: ['--reuid=65534', '--regid=65534', '--clear-groups'], want: /running as uid 65534, not root/ },
      {
        name: 'root without capabilities',
        given: ['--bounding-set=-all', '--inh-caps=-all'],
        want: /"ip netns add" failed: .*not permitted/i,
      },
    ];
    for (const { name, given, want } of cases) {
      it(`explains in one line why test hosts are unavailable: ${name}`, { skip }, () => {
        const out = attempt(given);
        assert.match(out, /^NetnsUnavailableError: test hosts unavailable: [^\n]+\n$/);
        assert.match(out, want);
      });
    }
  },
);
