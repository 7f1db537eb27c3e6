import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Real backends for integration tests. Endpoint addresses cannot be loopback or link-local, so a test backend needs
// an ordinary address: each test host is a network namespace joined to the root namespace by a veth pair, with a /30
// from 198.18.0.0/15 (RFC 2544 benchmarking space: never routed on the Internet, and unused by this machine, whose
// uplink is 192.0.2.0/24). The operator under test probes it from the root namespace like any external backend.
//
// Uniqueness across concurrent test processes: every /30 is claimed by creating a state file exclusively before any
// interface exists, in STATE_DIR. The file names its owner's pid, so hosts left behind by a crashed or killed test
// process are swept by the next createTestHost (removeStaleTestHosts). Hosts of this process are also removed when
// it exits normally.

const IP = '/usr/sbin/ip';
const STATE_DIR = '/run/keo-nethost';
const BLOCKS = 32768; // /30 blocks in 198.18.0.0/15
const BASE = (198 << 24) | (18 << 16);
const COMMAND_TIMEOUT_MS = 10_000;
const KILL_GRACE_MS = 3000;
const OUTPUT_LIMIT = 64 * 1024;
const NODE = existsSync(fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url)))
  ? fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url))
  : process.execPath;
const SERVERS = fileURLToPath(new URL('./servers/', import.meta.url));

/** This machine cannot create network namespaces; `message` is one line saying why and what is needed. */
export class NetnsUnavailableError extends Error {
  override readonly name = 'NetnsUnavailableError';
}

/** A command of the harness failed. */
export class TestHostError extends Error {
  override readonly name = 'TestHostError';
}

/** What to create. */
export interface TestHostOptions {
  /** A label for messages (the namespace gets a random name). */
  readonly name: string;
  /** The host's IPv4 address: 198.18.x.y with y ≡ 2 (mod 4), i.e. the second address of a /30. Default: a free one. */
  readonly address?: string;
  /** Also give the host an IPv6 address (ULA fd6b:656f::/48, a /64 per host). Default false. */
  readonly ipv6?: boolean;
}

/** A process running inside a test host. */
export interface TestProcess {
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stdout and stderr so far (the last 64 KiB). */
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects after `timeoutMs` or if the process exits. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` (default SIGTERM), then SIGKILL after a grace period; resolves once it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** A server started with {@link TestHost.startServer}: the process and the port it listens on. */
export interface TestServer extends TestProcess {
  readonly port: number;
}

/** A network namespace reachable from the root namespace at `address` (and `address6`). */
export interface TestHost {
  readonly name: string;
  readonly namespace: string;
  /** The host's IPv4 address (inside the namespace). */
  readonly address: string;
  /** The root namespace's end of the link. */
  readonly gatewayAddress: string;
  readonly address6: string | undefined;
  /** The veth interface in the root namespace. */
  readonly hostLink: string;
  /** Runs `command` inside the namespace. */
  spawn(command: string, args: readonly string[]): TestProcess;
  /** Starts servers/<kind>-server.ts inside the namespace and waits until it listens. */
  startServer(
    kind: 'http' | 'tcp' | 'grpc-health' | 'ping',
    options?: { port?: number; args?: readonly string[]; timeoutMs?: number },
  ): Promise<TestServer>;
  /**
   * Takes the host's link down or up again. While down, connects get no answer: they time out, or fail with
   * EHOSTUNREACH after about 3 s when neighbour resolution gives up.
   */
  setLinkUp(up: boolean): Promise<void>;
  /** Kills its processes and deletes the namespace, the link and the claim. Idempotent. */
  remove(): Promise<void>;
}

interface Claim {
  readonly pid: number;
  readonly name: string;
  readonly namespace: string;
  readonly hostLink: string;
  readonly block: number;
}

function ipv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function blockOf(address: string): number {
  const m = /^198\.(18|19)\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  const [o1, o2, o3] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
  if (m === null || o2 > 255 || o3 > 255 || o3 % 4 !== 2) {
    throw new TestHostError(`test host address ${address} must be 198.18.0.0/15 with the last octet ≡ 2 (mod 4), e.g. 198.18.0.6`);
  }
  return (((o1 - 18) << 16) | (o2 << 8) | o3) >>> 2;
}

function run(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(IP, args, { timeout: COMMAND_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) reject(new TestHostError(`ip ${args.join(' ')}: ${(stderr || err.message).trim()}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

function runSync(args: readonly string[]): void {
  try {
    execFileSync(IP, args, { timeout: COMMAND_TIMEOUT_MS, stdio: 'ignore' });
  } catch {
    // cleanup of something that may already be gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killNamespaceProcessesSync(namespace: string): void {
  let pids: string[];
  try {
    pids = execFileSync(IP, ['netns', 'pids', namespace], {
      timeout: COMMAND_TIMEOUT_MS,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split(/\s+/)
      .filter((p) => /^\d+$/.test(p));
  } catch {
    return;
  }
  for (const p of pids) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function claimPath(block: number): string {
  return join(STATE_DIR, `${ipv4(BASE + block * 4)}.json`);
}

function removeClaimSync(claim: Claim): void {
  killNamespaceProcessesSync(claim.namespace);
  runSync(['link', 'del', claim.hostLink]);
  runSync(['netns', 'del', claim.namespace]);
  try {
    unlinkSync(claimPath(claim.block));
  } catch {
    // already gone
  }
}

function readClaim(path: string): Claim | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Claim;
  } catch {
    return undefined;
  }
}

/**
 * Removes test hosts whose owning process is gone (crashed, killed by a timeout), with their processes, links and
 * namespaces. Returns the namespaces removed. Called by {@link createTestHost}; also usable as a global teardown.
 */
export function removeStaleTestHosts(): string[] {
  if (!existsSync(STATE_DIR)) return [];
  const removed: string[] = [];
  for (const file of readdirSync(STATE_DIR)) {
    if (!file.endsWith('.json')) continue;
    const claim = readClaim(join(STATE_DIR, file));
    if (claim === undefined || alive(claim.pid)) continue;
    removeClaimSync(claim);
    removed.push(claim.namespace);
  }
  return removed;
}

let support: { ok: true } | { ok: false; reason: string } | undefined;

/**
 * Whether this machine can create test hosts (root, iproute2, network namespaces). Checked once per process by
 * creating and deleting a namespace; `reason` is one line for a skip message.
 */
export function testHostSupport(): { ok: true } | { ok: false; reason: string } {
  if (support !== undefined) return support;
  const why = (detail: string) =>
    `test hosts unavailable: ${detail} (needs root, iproute2 at ${IP} and permission to create network namespaces)`;
  if (!existsSync(IP)) support = { ok: false, reason: why(`${IP} not found`) };
  else if (process.getuid?.() !== 0) support = { ok: false, reason: why(`running as uid ${process.getuid?.()}, not root`) };
  else {
    const ns = `keo-check-${randomBytes(3).toString('hex')}`;
    try {
      execFileSync(IP, ['netns', 'add', ns], { timeout: COMMAND_TIMEOUT_MS, stdio: ['ignore', 'ignore', 'pipe'] });
      runSync(['netns', 'del', ns]);
      support = { ok: true };
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim().split('\n')[0];
      support = { ok: false, reason: why(`"ip netns add" failed: ${stderr || (err as Error).message}`) };
    }
  }
  return support;
}

// Hosts of this process, for the exit hook: the one piece of module state, because process exit is global.
const live = new Map<string, Claim>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const claim of live.values()) removeClaimSync(claim);
  });
}

function claimBlock(name: string, requested: number | undefined): Claim {
  mkdirSync(STATE_DIR, { recursive: true });
  for (let attempt = 0; attempt < 64; attempt++) {
    const block = requested ?? randomInt(1, BLOCKS);
    const id = randomBytes(4).toString('hex');
    const claim: Claim = { pid: process.pid, name, namespace: `keo-${id}`, hostLink: `keo${id}`, block };
    let fd: number;
    try {
      fd = openSync(claimPath(block), 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new TestHostError(`cannot claim a test host address in ${STATE_DIR}`, { cause: err });
      if (requested !== undefined) throw new TestHostError(`test host address ${ipv4(BASE + block * 4 + 2)} is already in use`);
      continue;
    }
    writeSync(fd, JSON.stringify(claim));
    closeSync(fd);
    return claim;
  }
  throw new TestHostError('no free test host address found after 64 attempts');
}

function startProcess(namespace: string, command: string, args: readonly string[]): TestProcess & { child: ChildProcess } {
  const child = spawn(IP, ['netns', 'exec', namespace, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const append = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-OUTPUT_LIMIT);
    for (const w of waiters) w();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      for (const w of waiters) w();
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    pid: child.pid ?? -1,
    exited,
    output: () => out,
    waitForOutput(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(out);
          if (m !== null) finish(() => resolve(m));
          else if (done || child.exitCode !== null || child.signalCode !== null) {
            finish(() => reject(new TestHostError(`${command} exited before printing ${pattern}; output:\n${out}`)));
          }
        };
        const timer = setTimeout(
          () => finish(() => reject(new TestHostError(`${command} did not print ${pattern} within ${timeoutMs}ms; output:\n${out}`))),
          timeoutMs,
        );
        const finish = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const grace = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      await exited;
      clearTimeout(grace);
    },
  };
}

/**
 * Creates a test host: a network namespace `keo-<random>` with `lo` up and `eth0` at `address`/30, joined by a veth
 * pair to `gatewayAddress` in the root namespace (the connected route needs nothing else). No default route inside,
 * so a test host reaches nothing but the root namespace. Throws {@link NetnsUnavailableError} when namespaces cannot
 * be created here, {@link TestHostError} when a step fails (after undoing the earlier ones).
 */
export async function createTestHost(options: TestHostOptions): Promise<TestHost> {
  const supported = testHostSupport();
  if (!supported.ok) throw new NetnsUnavailableError(supported.reason);
  removeStaleTestHosts();
  installExitHook();
  const claim = claimBlock(options.name, options.address === undefined ? undefined : blockOf(options.address));
  live.set(claim.namespace, claim);
  const base = BASE + claim.block * 4;
  const gatewayAddress = ipv4(base + 1);
  const address = ipv4(base + 2);
  const v6prefix = `fd6b:656f:0:${claim.block.toString(16)}`;
  const address6 = options.ipv6 === true ? `${v6prefix}::2` : undefined;
  const children = new Set<TestProcess & { child: ChildProcess }>();
  let removing: Promise<void> | undefined;

  const remove = (): Promise<void> => {
    removing ??= (async () => {
      await Promise.all([...children].map((c) => c.kill('SIGKILL')));
      removeClaimSync(claim);
      live.delete(claim.namespace);
    })();
    return removing;
  };

  try {
    const ns = claim.namespace;
    await run(['netns', 'add', ns]);
    await run(['link', 'add', claim.hostLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await run(['addr', 'add', `${gatewayAddress}/30`, 'dev', claim.hostLink]);
    await run(['-n', ns, 'addr', 'add', `${address}/30`, 'dev', 'eth0']);
    if (address6 !== undefined) {
      // nodad: usable at once instead of after duplicate address detection.
      await run(['addr', 'add', `${v6prefix}::1/64`, 'dev', claim.hostLink, 'nodad']);
      await run(['-n', ns, 'addr', 'add', `${address6}/64`, 'dev', 'eth0', 'nodad']);
    }
    await run(['link', 'set', claim.hostLink, 'up']);
    await run(['-n', ns, 'link', 'set', 'eth0', 'up']);
    await run(['-n', ns, 'link', 'set', 'lo', 'up']);
  } catch (err) {
    await remove();
    throw err;
  }

  const host: TestHost = {
    name: options.name,
    namespace: claim.namespace,
    address,
    gatewayAddress,
    address6,
    hostLink: claim.hostLink,
    spawn(command, args) {
      if (removing !== undefined) throw new TestHostError(`test host ${options.name} has been removed`);
      const p = startProcess(claim.namespace, command, args);
      children.add(p);
      void p.exited.then(() => children.delete(p));
      return p;
    },
    async startServer(kind, opts = {}) {
      const port = opts.port ?? (kind === 'http' ? 8080 : kind === 'grpc-health' ? 50051 : kind === 'ping' ? 7000 : 5432);
      const p = host.spawn(NODE, [join(SERVERS, `${kind}-server.ts`), '--port', String(port), ...(opts.args ?? [])]);
      try {
        await p.waitForOutput(/^LISTENING \d+$/m, opts.timeoutMs ?? 15_000);
      } catch (err) {
        await p.kill('SIGKILL');
        throw err;
      }
      return { ...p, port };
    },
    async setLinkUp(up) {
      await run(['-n', claim.namespace, 'link', 'set', 'eth0', up ? 'up' : 'down']);
    },
    remove,
  };
  return host;
}
