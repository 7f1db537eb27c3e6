import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, openSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, stat, utimes, writeFile } from 'node:fs/promises';
import type { Server } from 'node:net';
import { join } from 'node:path';
import type { ProbeTarget } from '../../controllers/playground/pod-simulator/container-probe.ts';
import type { ContainerEngine, CreatedContainer, Sandbox } from '../../controllers/playground/pod-simulator/container-runtime.ts';
import { runcSpec } from '../../controllers/playground/pod-simulator/runc-spec.ts';
import type { SimContainer, SimPod } from '../../controllers/playground/pod-simulator/simulated-objects.ts';
import { deleteNamespaceSync, inNamespace, ip, type NamespaceProcess, run, startInNamespace } from '../data-plane/netns.ts';
import { type LayoutImage, readLayoutImage } from './oci-layout.ts';
import { listenUnixRelay } from '../data-plane/unix-socket-relay.ts';

// Runs the containers of the playground's Pods with runc (docs/playground.md, "Running images"): each Pod gets a network
// namespace with its Pod IP, the ServiceAccount files, and an /etc/hosts. With a {@link SandboxNetwork} (a data plane,
// as CNI for a kubelet) the namespace is a Pod of that network and the Pod reaches the API server through the
// `kubernetes` Service (kube-proxy's rules); without one, or when the network cannot take the Pod, the engine makes its
// own namespace (the Pod IP on a dummy eth0) with a socat relay that makes the API server reachable at 127.0.0.1:6443
// (the API server listens on the host's loopback, which no other namespace reaches, and its default serving
// certificate names 127.0.0.1 only). Images come
// from local OCI layouts, unpacked once per manifest digest with umoci; a container with a writable root gets an
// overlay over that copy. `runc run` stays in the foreground so its exit is the container's exit; its output (the
// container's) goes to one log file per run: <logDir>/<namespace>_<pod>_<uid>/<container>/<run>.log, as the kubelet's
// /var/log/pods. Root only; cgroup v1 (cgroupfs) and v2 both work, limits are runc's.

/** Where the API server is reached inside every Pod. */
export const IN_POD_API = { host: '127.0.0.1', port: 6443 } as const;
/** The cgroup parent of every container (`/sys/fs/cgroup/<controller>/keo-runtime/<id>` on cgroup v1). */
export const CGROUP_PARENT = 'keo-runtime';

/** A local image: the OCI layout directory and the tag in it. */
export interface LocalImage {
  readonly layout: string;
  readonly ref: string;
}

/** Options of {@link RuncEngine.start}. */
export interface RuncEngineOptions {
  /** Image references Pods use (`kube-endpoints-operator:0.1.0`) -> local layouts. */
  readonly images: Readonly<Record<string, LocalImage>>;
  /** The API server (`https://127.0.0.1:<port>`) and its serving CA. */
  readonly apiServer: { readonly server: string; readonly caPem: string };
  /** A ServiceAccount token for the Pod (TokenRequest, bound to the Pod). */
  readonly token: (pod: Readonly<SimPod>, signal: AbortSignal) => Promise<string>;
  /** State (runc root, sandboxes, bundles). Default /run/keo-runtime/<random>. */
  readonly stateDir?: string;
  /** Unpacked images, kept between runs. Default /var/tmp/keo-runtime-images. */
  readonly imageCacheDir?: string;
  /** Container logs; kept after the Pod is gone (the caller removes them). Default <stateDir>/logs. */
  readonly logDir?: string;
  /** The Pod network sandboxes join when it takes them. Default: none (each sandbox is a namespace of its own). */
  readonly network?: SandboxNetwork;
}

/** A Pod network the engine puts sandboxes on (what CNI's ADD and DEL are to a kubelet). */
export interface SandboxNetwork {
  /** Creates the Pod's network namespace with `podIP` on its Node; undefined when this network cannot take it now. */
  attach(pod: Readonly<SimPod>, podIP: string): Promise<AttachedNetwork | undefined>;
}

/** A Pod's namespace on a {@link SandboxNetwork}. */
export interface AttachedNetwork {
  readonly netnsName: string;
  /** How the Pod reaches the API server: the `kubernetes` Service (ClusterIP and port). */
  readonly apiServer: { readonly host: string; readonly port: number };
  /** The Pod's resolv.conf (the cluster DNS), when the network has one. */
  readonly resolvConf?: string;
  /** Removes the namespace. Idempotent. */
  detach(): Promise<void>;
}

const TOOLS = ['runc', 'umoci', 'socat', 'curl'] as const;

/** Whether this machine can run containers, and if not one line saying why. */
export function runtimeSupport(): { ok: true } | { ok: false; reason: string } {
  const why = (detail: string) => ({ ok: false as const, reason: `no container runtime: ${detail}` });
  if (process.platform !== 'linux') return why(`runc needs Linux (this is ${process.platform})`);
  if (process.getuid?.() !== 0) return why(`running as uid ${process.getuid?.()}; runc, network namespaces and cgroups need root`);
  for (const tool of TOOLS)
    if (findTool(tool) === undefined) return why(`${tool} not found (install the Debian packages runc, umoci, socat, curl)`);
  return { ok: true };
}

function findTool(tool: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin']) {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return join(dir, tool);
    } catch {
      // next
    }
  }
  return undefined;
}

interface SandboxRecord extends Sandbox {
  /** `<prefix>-<n>`: names the sandbox's containers (and their cgroups). */
  readonly id: string;
  /** The engine's own relay (no SandboxNetwork), or the network's namespace. */
  readonly relay: NamespaceProcess | undefined;
  readonly attached: AttachedNetwork | undefined;
  readonly apiServer: { readonly host: string; readonly port: number };
  readonly podKeyDir: string;
  /** Rewrites the token before it expires, as the kubelet does at 80 % of its lifetime. */
  readonly refresh: NodeJS.Timeout | undefined;
}

/** Unpacked images unused this long are removed. */
const IMAGE_CACHE_TTL_MS = 24 * 3_600_000;

/** How often a Pod's token is rewritten (tokens are requested for an hour). */
export const TOKEN_REFRESH_MS = 48 * 60_000;

interface ContainerRecord {
  readonly bundle: string;
  readonly overlay: string | undefined;
}

// Engines of this process, for the exit hook.
const live = new Set<RuncEngine>();
let exitHookInstalled = false;

/** The runc engine; see the top of this file. */
export class RuncEngine implements ContainerEngine {
  readonly stateDir: string;
  readonly logDir: string;
  readonly runcRoot: string;
  readonly #opts: RuncEngineOptions;
  readonly #cacheDir: string;
  readonly #socketPath: string;
  readonly #unpacks = new Map<string, Promise<{ image: LayoutImage; rootfs: string }>>();
  readonly #sandboxes = new Map<string, SandboxRecord>();
  readonly #containers = new Map<string, ContainerRecord>();
  readonly #prefix: string;
  #relay: Server | undefined;
  #nextSandbox = 1;
  #closing: Promise<void> | undefined;

  private constructor(opts: RuncEngineOptions, id: string) {
    this.#opts = opts;
    this.#prefix = `keo-rt-${id}`;
    this.stateDir = opts.stateDir ?? join('/run/keo-runtime', id);
    this.runcRoot = join(this.stateDir, 'runc');
    this.logDir = opts.logDir ?? join(this.stateDir, 'logs');
    this.#cacheDir = opts.imageCacheDir ?? '/var/tmp/keo-runtime-images';
    this.#socketPath = join(this.stateDir, 'api.sock');
  }

  /** Checks the tools, creates the state directory and the API relay socket. Throws one line when it cannot run. */
  static async start(opts: RuncEngineOptions): Promise<RuncEngine> {
    const support = runtimeSupport();
    if (!support.ok) throw new Error(support.reason);
    const engine = new RuncEngine(opts, randomBytes(3).toString('hex'));
    await mkdir(engine.runcRoot, { recursive: true, mode: 0o700 });
    await mkdir(engine.logDir, { recursive: true });
    await mkdir(engine.#cacheDir, { recursive: true, mode: 0o700 });
    await engine.#startRelay();
    live.add(engine);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const e of live) e.#removeNow();
      });
    }
    return engine;
  }

  handles(image: string): boolean {
    return Object.hasOwn(this.#opts.images, image);
  }

  /** The network namespaces of this engine's sandboxes all start with it. */
  get namespacePrefix(): string {
    return this.#prefix;
  }

  async #startRelay(): Promise<void> {
    this.#relay = await listenUnixRelay(this.#socketPath, this.#opts.apiServer.server);
  }

  async createSandbox(pod: Readonly<SimPod>, podIP: string, signal: AbortSignal): Promise<Sandbox> {
    if (this.#closing !== undefined) throw new Error('the container runtime is stopped');
    const id = `${this.#prefix}-${this.#nextSandbox++}`;
    const dir = join(this.stateDir, 'pods', `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
    const podKeyDir = `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`;
    await mkdir(dir, { recursive: true });
    const attached = await this.#opts.network?.attach(pod, podIP).catch(async (err: unknown) => {
      await rm(dir, { recursive: true, force: true });
      throw err;
    });
    const netnsName = attached?.netnsName ?? id;
    let relay: NamespaceProcess | undefined;
    try {
      if (attached === undefined) {
        await ip('netns', 'add', netnsName);
        await ip('-n', netnsName, 'link', 'set', 'lo', 'up');
        // A veth pair with both ends inside (no dummy module needed): eth0 carries the Pod IP.
        await ip('-n', netnsName, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0-peer');
        await ip('-n', netnsName, 'addr', 'add', `${podIP}/32`, 'dev', 'eth0');
        await ip('-n', netnsName, 'link', 'set', 'eth0-peer', 'up');
        await ip('-n', netnsName, 'link', 'set', 'eth0', 'up');
        relay = startInNamespace(
          netnsName,
          'socat',
          [`TCP-LISTEN:${IN_POD_API.port},bind=${IN_POD_API.host},reuseaddr,fork`, `UNIX-CONNECT:${this.#socketPath}`],
          join(dir, 'api-relay.log'),
        );
      }
      await writeFile(
        join(dir, 'hosts'),
        `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${podIP}\t${pod.metadata.name}\n`,
      );
      if (pod.spec.automountServiceAccountToken !== false) {
        const sa = join(dir, 'serviceaccount');
        await mkdir(sa, { recursive: true, mode: 0o755 });
        await writeFile(join(sa, 'ca.crt'), this.#opts.apiServer.caPem, { mode: 0o644 });
        await writeFile(join(sa, 'namespace'), pod.metadata.namespace, { mode: 0o644 });
        await writeFile(join(sa, 'token'), await this.#opts.token(pod, signal), { mode: 0o644 });
      }
    } catch (err) {
      await relay?.stop(1000);
      if (attached === undefined) deleteNamespaceSync(netnsName);
      else await attached.detach();
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    const refresh =
      pod.spec.automountServiceAccountToken === false
        ? undefined
        : setInterval(() => {
            void this.#opts
              .token(pod, new AbortController().signal)
              .then((token) => writeFile(join(dir, 'serviceaccount', 'token.tmp'), token, { mode: 0o644 }))
              .then(() => rename(join(dir, 'serviceaccount', 'token.tmp'), join(dir, 'serviceaccount', 'token')))
              .catch(() => undefined);
          }, TOKEN_REFRESH_MS).unref();
    const sandbox: SandboxRecord = {
      id,
      netnsName,
      netnsPath: `/run/netns/${netnsName}`,
      dir,
      ip: podIP,
      relay,
      attached,
      apiServer: attached?.apiServer ?? IN_POD_API,
      podKeyDir,
      refresh,
    };
    this.#sandboxes.set(netnsName, sandbox);
    return sandbox;
  }

  async removeSandbox(sandbox: Sandbox): Promise<void> {
    const record = this.#sandboxes.get(sandbox.netnsName);
    clearInterval(record?.refresh);
    await record?.relay?.stop(1000);
    if (record?.attached === undefined) deleteNamespaceSync(sandbox.netnsName);
    else await record.attached.detach();
    await rm(sandbox.dir, { recursive: true, force: true });
    this.#sandboxes.delete(sandbox.netnsName);
  }

  // The image unpacked once per manifest digest: <cache>/<digest>/rootfs, written to a temporary name and renamed.
  #unpack(ref: string): Promise<{ image: LayoutImage; rootfs: string }> {
    const local = this.#opts.images[ref];
    if (local === undefined) return Promise.reject(new Error(`${ref} is not a local image`));
    const key = `${local.layout}:${local.ref}`;
    let pending = this.#unpacks.get(key);
    if (pending === undefined) {
      pending = (async () => {
        const image = await readLayoutImage(local.layout, local.ref);
        const bundle = join(this.#cacheDir, image.digest.replace(':', '-'));
        const rootfs = join(bundle, 'rootfs');
        if (!existsSync(rootfs)) {
          const tmp = `${bundle}.tmp-${randomBytes(3).toString('hex')}`;
          try {
            await run('umoci', ['unpack', '--image', `${local.layout}:${local.ref}`, tmp], 300_000);
            await rename(tmp, bundle).catch(async (err: unknown) => {
              // Another process unpacked the same digest meanwhile.
              if (!existsSync(rootfs)) throw err;
            });
          } finally {
            await rm(tmp, { recursive: true, force: true });
          }
        }
        await this.#pruneCache(bundle);
        return { image, rootfs };
      })();
      pending.catch(() => this.#unpacks.delete(key));
      this.#unpacks.set(key, pending);
    }
    return pending;
  }

  // Marks `inUse` as used now and removes unpacked images nobody used for a day (each rebuilt image is a new digest).
  async #pruneCache(inUse: string): Promise<void> {
    const now = new Date();
    await utimes(inUse, now, now).catch(() => undefined);
    for (const entry of await readdir(this.#cacheDir).catch(() => [])) {
      const path = join(this.#cacheDir, entry);
      if (path === inUse || !entry.startsWith('sha256-')) continue;
      const mtime = (await stat(path).catch(() => undefined))?.mtimeMs ?? now.getTime();
      if (now.getTime() - mtime > IMAGE_CACHE_TTL_MS) await rm(path, { recursive: true, force: true });
    }
  }

  async createContainer(
    sandbox: Sandbox,
    pod: Readonly<SimPod>,
    container: Readonly<SimContainer>,
    attempt: number,
  ): Promise<CreatedContainer> {
    const record = this.#sandboxes.get(sandbox.netnsName);
    if (record === undefined) throw new Error(`no sandbox ${sandbox.netnsName}`);
    const { image, rootfs: imageRootfs } = await this.#unpack(container.image ?? '');
    const id = `${record.id}-${container.name}-${attempt}`;
    const bundle = join(sandbox.dir, 'containers', id);
    await mkdir(bundle, { recursive: true });
    const readOnly = (container.securityContext?.readOnlyRootFilesystem ?? pod.spec.securityContext?.readOnlyRootFilesystem) === true;
    let rootfs = imageRootfs;
    let overlay: string | undefined;
    if (!readOnly) {
      overlay = join(bundle, 'rootfs');
      await mkdir(join(bundle, 'upper'), { recursive: true });
      await mkdir(join(bundle, 'work'), { recursive: true });
      await mkdir(overlay, { recursive: true });
      await run('mount', [
        '-t',
        'overlay',
        'overlay',
        '-o',
        `lowerdir=${imageRootfs},upperdir=${join(bundle, 'upper')},workdir=${join(bundle, 'work')}`,
        overlay,
      ]);
      rootfs = overlay;
    }
    this.#containers.set(id, { bundle, overlay });
    const spec = runcSpec({
      pod,
      container,
      image: image.config,
      rootfs,
      netnsPath: sandbox.netnsPath,
      podIP: sandbox.ip,
      apiServer: record.apiServer,
      cgroupsPath: `/${CGROUP_PARENT}/${id}`,
      hostsFile: join(sandbox.dir, 'hosts'),
      ...(record.attached?.resolvConf === undefined ? {} : { resolvConfFile: record.attached.resolvConf }),
      ...(pod.spec.automountServiceAccountToken === false ? {} : { serviceAccountDir: join(sandbox.dir, 'serviceaccount') }),
    });
    if (!spec.ok) {
      await this.remove(id);
      throw new Error(spec.message);
    }
    await writeFile(join(bundle, 'config.json'), JSON.stringify(spec.spec, null, 2));
    const logDir = join(this.logDir, record.podKeyDir, container.name);
    await mkdir(logDir, { recursive: true });
    return { id, imageID: image.digest, logPath: join(logDir, `${attempt}.log`) };
  }

  run(id: string): Promise<number> {
    const record = this.#containers.get(id);
    if (record === undefined) return Promise.reject(new Error(`no container ${id}`));
    const logPath = this.#logPathOf(id);
    const fd = openSync(logPath, 'a');
    try {
      const child = spawn('runc', ['--root', this.runcRoot, 'run', '--bundle', record.bundle, '--no-new-keyring', id], {
        detached: true,
        stdio: ['ignore', fd, fd],
      });
      return new Promise((resolve) => {
        child.once('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
        child.once('error', () => resolve(128));
      });
    } finally {
      closeSync(fd);
    }
  }

  // The log path createContainer handed out for `id` (<sandbox>-<container>-<attempt>).
  #logPathOf(id: string): string {
    const sandbox = [...this.#sandboxes.values()].find((s) => id.startsWith(`${s.id}-`));
    const rest = sandbox === undefined ? id : id.slice(sandbox.id.length + 1);
    const dash = rest.lastIndexOf('-');
    const container = rest.slice(0, dash);
    const attempt = rest.slice(dash + 1);
    return join(this.logDir, sandbox?.podKeyDir ?? 'unknown', container, `${attempt}.log`);
  }

  async kill(id: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const args = ['--root', this.runcRoot, 'kill', ...(signal === 'SIGKILL' ? ['--all'] : []), id, signal.replace('SIG', '')];
    await run('runc', args).catch(() => undefined);
  }

  async remove(id: string): Promise<void> {
    await run('runc', ['--root', this.runcRoot, 'delete', '--force', id]).catch(() => undefined);
    const record = this.#containers.get(id);
    if (record === undefined) return;
    if (record.overlay !== undefined) await run('umount', [record.overlay]).catch(() => undefined);
    await rm(record.bundle, { recursive: true, force: true });
    this.#containers.delete(id);
  }

  async probe(sandbox: Sandbox, target: ProbeTarget, timeoutMs: number): Promise<boolean> {
    const seconds = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
    try {
      if (target.kind === 'http') {
        const code = await inNamespace(
          sandbox.netnsName,
          'curl',
          ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', seconds, `http://${sandbox.ip}:${target.port}${target.path}`],
          timeoutMs + 5000,
        );
        const status = Number(code.trim());
        return status >= 200 && status < 400;
      }
      await inNamespace(
        sandbox.netnsName,
        'socat',
        ['-u', 'OPEN:/dev/null', `TCP:${sandbox.ip}:${target.port},connect-timeout=${seconds}`],
        timeoutMs + 5000,
      );
      return true;
    } catch {
      return false;
    }
  }

  /** Containers runc still knows of (`runc list`), for cleanup checks. */
  async listContainers(): Promise<string[]> {
    if (!existsSync(this.runcRoot)) return [];
    const out = await run('runc', ['--root', this.runcRoot, 'list', '-q']);
    return out.split('\n').filter((l) => l.trim() !== '');
  }

  /**
   * Kills every container, removes every sandbox, the relay socket and the state directory (logs too, when they are
   * in it). The image cache stays. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const id of await this.listContainers().catch(() => [])) await this.kill(id, 'SIGKILL');
      for (const id of [...this.#containers.keys()]) await this.remove(id);
      for (const s of [...this.#sandboxes.values()]) await this.removeSandbox(s);
      this.#relay?.close();
      await rmdirCgroups();
      live.delete(this);
      await rm(this.stateDir, { recursive: true, force: true });
    })();
    return this.#closing;
  }

  #removeNow(): void {
    try {
      const ids = execFileSync('runc', ['--root', this.runcRoot, 'list', '-q'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      for (const id of ids.split('\n').filter((l) => l !== '')) {
        execFileSync('runc', ['--root', this.runcRoot, 'kill', '--all', id, 'KILL'], { stdio: 'ignore' });
      }
      for (const id of ids.split('\n').filter((l) => l !== '')) {
        execFileSync('runc', ['--root', this.runcRoot, 'delete', '--force', id], { stdio: 'ignore' });
      }
    } catch {
      // best effort at exit
    }
    for (const record of this.#containers.values()) {
      if (record.overlay !== undefined) {
        try {
          execFileSync('umount', [record.overlay], { stdio: 'ignore' });
        } catch {
          // not mounted
        }
      }
    }
    // Namespaces of a SandboxNetwork are its owner's to remove (a data plane has its own exit hook).
    for (const s of this.#sandboxes.values()) if (s.attached === undefined) deleteNamespaceSync(s.netnsName);
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

// The empty cgroup parents (one per v1 controller, or the v2 directory).
async function rmdirCgroups(): Promise<void> {
  const root = '/sys/fs/cgroup';
  const candidates = [join(root, CGROUP_PARENT)];
  try {
    for (const c of readdirSync(root)) candidates.push(join(root, c, CGROUP_PARENT));
  } catch {
    return;
  }
  for (const dir of candidates) await rmdir(dir).catch(() => undefined);
}

/** The cgroup v1 memory directory of a container (memory.max_usage_in_bytes and friends). */
export function memoryCgroupDir(id: string): string {
  return join('/sys/fs/cgroup/memory', CGROUP_PARENT, id);
}
