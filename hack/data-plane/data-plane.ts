import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderKubeconfig } from '../local-cluster/kubeconfig.ts';
import { renderCorefile } from './corefile.ts';
import { type ProxyMode, renderKubeProxyConfig } from './kube-proxy-config.ts';
import {
  DataPlaneError,
  deleteNamespaceSync,
  inNamespace,
  IP,
  ip,
  listNamespacesSync,
  type NamespaceProcess,
  namespacePidsSync,
  startInNamespace,
} from './netns.ts';
import { listenUnixRelay } from './unix-socket-relay.ts';

// A pod network with real kube-proxies, in network namespaces, for a control plane on loopback:
//
//   fabric namespace <prefix>-net: bridge "fabric", the node network 198.19.255.0/24 (no address of its own)
//   node namespace <prefix>-n<i>:  eth0 198.19.255.(10+i) on the fabric; bridge cbr0 198.18.i.1/24 (the Pod CIDR);
//                                  routes to the other Nodes' Pod CIDRs via their eth0; ip_forward on; kube-proxy;
//                                  a relay that makes the API server reachable at https://127.0.0.1:6443
//   pod namespace <prefix>-p<k>:   eth0 198.18.i.k/24, default route via cbr0 (hairpin on its bridge port, so a Pod
//                                  reaching its own Service can land on itself); a server on its container ports
//   client namespaces:             a Pod namespace without a server (the usual client of a ClusterIP), or an
//                                  "outside" client on the fabric (198.19.255.(200+k)) for NodePorts
//
// Nothing is added to the root namespace but one Unix socket: the API server listens on 127.0.0.1, which no other
// namespace can reach, so each Node (and CoreDNS) runs `socat` from 127.0.0.1:6443 in its namespace to that socket,
// and this process forwards the socket to the API server (Unix sockets are not per network namespace). 127.0.0.1 is
// the serving certificate's address, so TLS verifies unchanged. Addresses come from 198.18.0.0/15 (RFC 2544
// benchmarking space, never routed) and exist only inside these namespaces, so several data planes, and
// test/nethost hosts, can run side by side.
//
// Cleanup follows test/nethost: a claim file per data plane in STATE_DIR names its owner pid; a later start sweeps
// the namespaces of owners that died; an exit hook removes this process's; leftovers() lets tests assert it.

const STATE_DIR = '/run/keo-dataplane';
/** Where the playground's data plane lists its Node and Pod namespaces, for `npm run playground -- exec`. */
export const PLAYGROUND_INDEX = `${STATE_DIR}/playground.json`;
const NETNS_ETC = '/etc/netns';
const NODE = existsSync(fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url)))
  ? fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url))
  : process.execPath;
/** The server every simulated Pod runs (see its header); exported for backends the caller runs itself. */
export const POD_SERVER: string = fileURLToPath(new URL('./pod-server.ts', import.meta.url));
const TRAFFIC_CLIENT = fileURLToPath(new URL('./traffic-client.ts', import.meta.url));

/** All Pod addresses: Node i has 198.18.i.0/24. kube-proxy's clusterCIDR. */
export const CLUSTER_CIDR = '198.18.0.0/16';
/** The port the API server is reachable at inside every Node and CoreDNS namespace (on 127.0.0.1). */
export const IN_NAMESPACE_API_PORT = 6443;
export const MAX_NODES = 100;

/** Node `index` (1-based): its default address on the node network, its Pod CIDR and bridge address. Pure. */
export function nodeAddressing(index: number): { nodeIp: string; podCidr: string; gateway: string } {
  if (!Number.isInteger(index) || index < 1 || index > MAX_NODES) throw new DataPlaneError(`node index ${index} must be 1..${MAX_NODES}`);
  return { nodeIp: `198.19.255.${10 + index}`, podCidr: `198.18.${index}.0/24`, gateway: `198.18.${index}.1` };
}

/**
 * The bridge (gateway) address of an IPv4 Pod CIDR, its prefix length, and the `host`-th address in it. Pure; throws
 * DataPlaneError for anything but an IPv4 CIDR with room for a gateway and a Pod.
 */
export function podCidrAddressing(cidr: string): { gateway: string; prefix: number; address: (host: number) => string } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m === null ? [] : m.slice(1, 5).map(Number);
  const prefix = Number(m?.[5]);
  if (m === null || octets.some((o) => o > 255) || prefix > 30)
    throw new DataPlaneError(`Pod CIDR ${cidr} must be an IPv4 CIDR of at most /30`);
  const size = 2 ** (32 - prefix);
  const base =
    Math.floor(((octets[0] ?? 0) * 2 ** 24 + (octets[1] ?? 0) * 2 ** 16 + (octets[2] ?? 0) * 2 ** 8 + (octets[3] ?? 0)) / size) * size;
  const render = (n: number) =>
    [Math.floor(n / 2 ** 24) % 256, Math.floor(n / 2 ** 16) % 256, Math.floor(n / 2 ** 8) % 256, n % 256].join('.');
  return {
    gateway: render(base + 1),
    prefix,
    address: (host: number) => {
      if (!Number.isInteger(host) || host < 2 || host > size - 2) throw new DataPlaneError(`host ${host} is outside Pod CIDR ${cidr}`);
      return render(base + host);
    },
  };
}

/** The binaries the data plane runs. */
export interface DataPlaneBinaries {
  readonly kubeProxy: string;
  readonly coredns: string;
}

/** How to reach and authenticate to the API server (the LocalCluster admin identity). */
export interface ApiServerAccess {
  /** `https://127.0.0.1:<port>`. */
  readonly server: string;
  readonly caPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

/** Options of {@link DataPlane.start}. */
export interface DataPlaneOptions {
  readonly binaries: DataPlaneBinaries;
  readonly apiServer: ApiServerAccess;
  readonly mode: ProxyMode;
  /**
   * The Nodes, named as registered in the API. Node i (1-based, in this order) defaults to nodeAddressing(i); a Node
   * may bring its own InternalIP and IPv4 Pod CIDR instead (the playground's simulated Nodes do).
   */
  readonly nodes: readonly DataPlaneNodeSpec[];
  /** Prefix length of the node network (the Nodes' addresses share it). Default 24. */
  readonly nodeNetworkPrefix?: number;
  /** kube-proxy's clusterCIDR: every Pod address. Default {@link CLUSTER_CIDR}. */
  readonly clusterCidr?: string;
  /** Parent of the work directory (logs, configs). Default /dev/shm, else the OS temp dir. */
  readonly baseDir?: string;
  /** Receives one line per phase. Default: silent. */
  readonly progress?: (line: string) => void;
  /** How long to wait for each kube-proxy's first rules. Default 60 s. */
  readonly readyTimeoutMs?: number;
  /**
   * Opt-in: the address the API server advertises as the `kubernetes` Service's endpoint (LocalCluster's
   * `inClusterApi`; {@link DATA_PLANE_API_ADDRESS}). The fabric namespace takes it and relays its secure port to the API
   * server, so Pods reach the API through the ClusterIP and kube-proxy's rules. Default: none.
   */
  readonly apiServerAddress?: string;
}

/** The address on the node network that relays to the API server when {@link DataPlaneOptions.apiServerAddress} is set. */
export const DATA_PLANE_API_ADDRESS = '198.19.255.2';

/** A Node of {@link DataPlaneOptions.nodes}. */
export interface DataPlaneNodeSpec {
  readonly name: string;
  readonly nodeIp?: string;
  readonly podCidr?: string;
}

/** A simulated Node's network. */
export interface DataPlaneNode {
  readonly name: string;
  readonly index: number;
  readonly namespace: string;
  readonly nodeIp: string;
  readonly podCidr: string;
  readonly gateway: string;
  readonly podPrefix: number;
}

/** A Pod's (or client's) network namespace. */
export interface PodNetwork {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  readonly node: string;
  /** The pod server (or CoreDNS); absent for clients. */
  readonly process?: NamespaceProcess;
}

/** What a Pod serves: its identity and container ports. */
export interface PodSpecInput {
  /** Pod name and Kubernetes namespace (they only label the answers). */
  readonly name: string;
  readonly kubeNamespace: string;
  readonly node: string;
  readonly httpPorts?: readonly number[];
  readonly tcpPorts?: readonly number[];
  /** The Pod's address, inside the Node's Pod CIDR. Default: the Node's next free one. */
  readonly ip?: string;
}

/** What is left of a data plane after stop(): all lists empty when the cleanup worked. */
export interface DataPlaneLeftovers {
  readonly namespaces: string[];
  readonly processes: number[];
  readonly resolvConfDirs: string[];
  readonly socket: boolean;
}

/** Whether this machine can run a data plane in `mode`, and if not, one line saying why. */
export function dataPlaneSupport(mode: ProxyMode): { ok: true } | { ok: false; reason: string } {
  const why = (detail: string) => ({ ok: false as const, reason: `no data plane: ${detail}` });
  if (process.platform !== 'linux') return why(`network namespaces need Linux (this is ${process.platform})`);
  if (process.getuid?.() !== 0) return why(`running as uid ${process.getuid?.()}; network namespaces and ${mode} rules need root`);
  const tools = mode === 'nftables' ? ['nft', 'socat'] : ['iptables', 'iptables-restore', 'iptables-save', 'socat'];
  for (const tool of [IP, ...tools]) {
    if (findTool(tool) === undefined) return why(`${tool} not found (install iproute2, nftables, iptables and socat)`);
  }
  const ns = `keo-dp-check-${randomBytes(3).toString('hex')}`;
  try {
    execFileSync(IP, ['netns', 'add', ns], { timeout: 10_000, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      const probe = mode === 'nftables' ? ['nft', 'list', 'tables'] : ['iptables', '-t', 'nat', '-S'];
      execFileSync(IP, ['netns', 'exec', ns, ...probe], { timeout: 10_000, stdio: ['ignore', 'ignore', 'pipe'] });
    } finally {
      deleteNamespaceSync(ns);
    }
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim().split('\n')[0];
    return why(`a network namespace with ${mode} rules could not be created: ${stderr || (err as Error).message}`);
  }
  return { ok: true };
}

function findTool(tool: string): string | undefined {
  if (tool.startsWith('/')) return existsSync(tool) ? tool : undefined;
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

interface Claim {
  readonly pid: number;
  readonly prefix: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeByPrefixSync(prefix: string): void {
  for (const ns of listNamespacesSync().filter((n) => n.startsWith(`${prefix}-`))) {
    deleteNamespaceSync(ns);
    rmSync(join(NETNS_ETC, ns), { recursive: true, force: true });
  }
  if (existsSync(NETNS_ETC)) {
    for (const dir of readdirSync(NETNS_ETC).filter((d) => d.startsWith(`${prefix}-`))) {
      rmSync(join(NETNS_ETC, dir), { recursive: true, force: true });
    }
  }
}

/** Removes the data planes whose owning process is gone. Returns their prefixes. Called by {@link DataPlane.start}. */
export function removeStaleDataPlanes(): string[] {
  if (!existsSync(STATE_DIR)) return [];
  const removed: string[] = [];
  for (const file of readdirSync(STATE_DIR).filter((f) => f.endsWith('.json'))) {
    let claim: Claim;
    try {
      claim = JSON.parse(readFileSync(join(STATE_DIR, file), 'utf8')) as Claim;
    } catch {
      continue;
    }
    if (alive(claim.pid)) continue;
    removeByPrefixSync(claim.prefix);
    rmSync(join(STATE_DIR, file), { force: true });
    removed.push(claim.prefix);
  }
  return removed;
}

// Data planes of this process, for the exit hook (process exit is global).
const live = new Set<DataPlane>();
let exitHookInstalled = false;

/** A running data plane; see the comment at the top of this file. */
export class DataPlane {
  readonly prefix: string;
  readonly mode: ProxyMode;
  readonly workDir: string;
  readonly nodes: readonly DataPlaneNode[];
  readonly #opts: DataPlaneOptions;
  readonly #socketPath: string;
  readonly #claimPath: string;
  readonly #processes = new Set<NamespaceProcess>();
  readonly #pods = new Map<string, PodNetwork>();
  readonly #nextHost = new Map<string, number>();
  #relay: Server | undefined;
  #nextPod = 1;
  #nextOutside = 1;
  #nextExternal = 1;
  #stopping: Promise<void> | undefined;

  private constructor(opts: DataPlaneOptions, prefix: string, workDir: string) {
    this.#opts = opts;
    this.prefix = prefix;
    this.mode = opts.mode;
    this.workDir = workDir;
    this.#socketPath = join(workDir, 'api.sock');
    this.#claimPath = join(STATE_DIR, `${prefix}.json`);
    this.nodes = opts.nodes.map((spec, i) => {
      const defaults = nodeAddressing(i + 1);
      const podCidr = spec.podCidr ?? defaults.podCidr;
      const { gateway, prefix: podPrefix } = podCidrAddressing(podCidr);
      return {
        name: spec.name,
        index: i + 1,
        namespace: `${prefix}-n${i + 1}`,
        nodeIp: spec.nodeIp ?? defaults.nodeIp,
        podCidr,
        gateway,
        podPrefix,
      };
    });
  }

  /**
   * Builds the node network, one kube-proxy per Node (the Node objects must exist, with their InternalIP from
   * {@link nodeAddressing}), and resolves once every kube-proxy has written its first rules. On failure everything
   * created is removed and the error says which step failed (with the kube-proxy log tail when it was kube-proxy).
   */
  static async start(opts: DataPlaneOptions): Promise<DataPlane> {
    const support = dataPlaneSupport(opts.mode);
    if (!support.ok) throw new DataPlaneError(support.reason);
    if (opts.nodes.length === 0 || opts.nodes.length > MAX_NODES)
      throw new DataPlaneError(`1..${MAX_NODES} nodes, got ${opts.nodes.length}`);
    removeStaleDataPlanes();
    const id = randomBytes(4).toString('hex');
    const prefix = `keo-dp-${id}`;
    const base = opts.baseDir ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
    const workDir = join(base, prefix);
    mkdirSync(workDir, { recursive: true, mode: 0o700 });
    mkdirSync(STATE_DIR, { recursive: true });
    const plane = new DataPlane(opts, prefix, workDir);
    writeFileSync(plane.#claimPath, JSON.stringify({ pid: process.pid, prefix } satisfies Claim));
    live.add(plane);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const p of live) p.#removeNow();
      });
    }
    try {
      await plane.#build();
      return plane;
    } catch (err) {
      await plane.stop();
      throw err;
    }
  }

  #progress(line: string): void {
    this.#opts.progress?.(`[data-plane ${this.mode}] ${line}`);
  }

  async #build(): Promise<void> {
    const started = performance.now();
    await this.#startRelay();
    const fabric = `${this.prefix}-net`;
    await ip('netns', 'add', fabric);
    await ip('-n', fabric, 'link', 'add', 'fabric', 'type', 'bridge');
    await ip('-n', fabric, 'link', 'set', 'fabric', 'up');
    await ip('-n', fabric, 'link', 'set', 'lo', 'up');
    for (const node of this.nodes) {
      const ns = node.namespace;
      await ip('netns', 'add', ns);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `n${node.index}`, 'netns', fabric);
      await ip('-n', fabric, 'link', 'set', `n${node.index}`, 'master', 'fabric', 'up');
      await ip('-n', ns, 'addr', 'add', `${node.nodeIp}/${this.#opts.nodeNetworkPrefix ?? 24}`, 'dev', 'eth0');
      await ip('-n', ns, 'link', 'set', 'eth0', 'up');
      await ip('-n', ns, 'link', 'add', 'cbr0', 'type', 'bridge');
      await ip('-n', ns, 'addr', 'add', `${node.gateway}/${node.podPrefix}`, 'dev', 'cbr0');
      await ip('-n', ns, 'link', 'set', 'cbr0', 'up');
      await inNamespace(ns, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
      for (const other of this.nodes) {
        if (other !== node) await ip('-n', ns, 'route', 'add', other.podCidr, 'via', other.nodeIp);
      }
    }
    this.#progress(`node network up: ${this.nodes.map((n) => `${n.name} ${n.nodeIp} pods ${n.podCidr}`).join(', ')}`);
    if (this.#opts.apiServerAddress !== undefined) await this.#startApiEndpoint(fabric, this.#opts.apiServerAddress);
    await Promise.all(this.nodes.map((node) => this.#startKubeProxy(node)));
    this.#progress(`kube-proxy (${this.mode}) serving on ${this.nodes.length} node(s) after ${Math.round(performance.now() - started)} ms`);
  }

  async #startRelay(): Promise<void> {
    this.#relay = await listenUnixRelay(this.#socketPath, this.#opts.apiServer.server);
  }

  /**
   * The `kubernetes` Service's endpoint: `address` on the fabric bridge (a /32 with host routes, so it need not share
   * the Nodes' subnet), routes back to every Pod CIDR through its Node (kube-proxy does not masquerade Pod traffic to
   * an endpoint outside the cluster CIDR), and socat from address:<secure port> to the relay socket.
   */
  async #startApiEndpoint(fabric: string, address: string): Promise<void> {
    const port = Number(new URL(this.#opts.apiServer.server).port);
    await ip('-n', fabric, 'addr', 'add', `${address}/32`, 'dev', 'fabric');
    for (const node of this.nodes) {
      await ip('-n', fabric, 'route', 'add', `${node.nodeIp}/32`, 'dev', 'fabric');
      await ip('-n', fabric, 'route', 'add', node.podCidr, 'via', node.nodeIp);
      await ip('-n', node.namespace, 'route', 'add', `${address}/32`, 'dev', 'eth0');
    }
    const relay = startInNamespace(
      fabric,
      'socat',
      [`TCP-LISTEN:${port},bind=${address},reuseaddr,fork`, `UNIX-CONNECT:${this.#socketPath}`],
      join(this.workDir, 'api-endpoint-relay.log'),
    );
    this.#processes.add(relay);
    const deadline = Date.now() + 10_000;
    while (!(await inNamespace(fabric, 'ss', ['-Htln']).catch(() => '')).includes(`${address}:${port}`)) {
      if (!relay.isRunning()) throw new DataPlaneError(`the API endpoint relay exited; log:\n${await tail(relay.logPath)}`);
      if (Date.now() > deadline) throw new DataPlaneError(`the API endpoint relay did not listen on ${address}:${port} in 10 s`);
      await sleep(50);
    }
    this.#progress(`API server reachable at ${address}:${port} on the node network`);
  }

  /** Starts socat in `ns` from 127.0.0.1:6443 to the relay socket, and writes a kubeconfig using it. */
  async #apiAccess(ns: string, name: string): Promise<string> {
    const relay = startInNamespace(
      ns,
      'socat',
      [`TCP-LISTEN:${IN_NAMESPACE_API_PORT},bind=127.0.0.1,reuseaddr,fork`, `UNIX-CONNECT:${this.#socketPath}`],
      join(this.workDir, `${name}-relay.log`),
    );
    this.#processes.add(relay);
    const kubeconfigPath = join(this.workDir, `${name}.kubeconfig`);
    const { caPem, clientCertPem, clientKeyPem } = this.#opts.apiServer;
    await writeFile(
      kubeconfigPath,
      renderKubeconfig({ name, server: `https://127.0.0.1:${IN_NAMESPACE_API_PORT}`, caPem, clientCertPem, clientKeyPem }),
      { mode: 0o600 },
    );
    return kubeconfigPath;
  }

  async #startKubeProxy(node: DataPlaneNode): Promise<void> {
    const kubeconfigPath = await this.#apiAccess(node.namespace, node.name);
    const configPath = join(this.workDir, `${node.name}-kube-proxy.yaml`);
    await writeFile(
      configPath,
      renderKubeProxyConfig({ mode: this.mode, nodeName: node.name, kubeconfigPath, clusterCidr: this.#opts.clusterCidr ?? CLUSTER_CIDR }),
    );
    const logPath = join(this.workDir, `${node.name}-kube-proxy.log`);
    const proxy = startInNamespace(node.namespace, this.#opts.binaries.kubeProxy, [`--config=${configPath}`, '--v=2'], logPath);
    this.#processes.add(proxy);
    const deadline = Date.now() + (this.#opts.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (await this.#hasServiceRules(node)) return;
      if (!proxy.isRunning()) throw new DataPlaneError(`kube-proxy on ${node.name} exited; log ${logPath}:\n${await tail(logPath)}`);
      if (Date.now() > deadline)
        throw new DataPlaneError(`kube-proxy on ${node.name} wrote no rules in time; log ${logPath}:\n${await tail(logPath)}`);
      await sleep(250);
    }
  }

  async #hasServiceRules(node: DataPlaneNode): Promise<boolean> {
    try {
      const rules = await this.rules(node.name);
      return this.mode === 'nftables' ? /chain services \{/.test(rules) : /^:KUBE-SERVICES /m.test(rules);
    } catch {
      return false;
    }
  }

  /** The Service rules kube-proxy wrote on `nodeName`: `nft list ruleset` or `iptables-save`. */
  rules(nodeName: string): Promise<string> {
    const node = this.node(nodeName);
    return this.mode === 'nftables'
      ? inNamespace(node.namespace, 'nft', ['list', 'ruleset'])
      : inNamespace(node.namespace, 'iptables-save', []);
  }

  node(name: string): DataPlaneNode {
    const node = this.nodes.find((n) => n.name === name);
    if (node === undefined)
      throw new DataPlaneError(`no node ${name} in this data plane (nodes: ${this.nodes.map((n) => n.name).join(', ')})`);
    return node;
  }

  /** The Pod networks (servers and clients) that exist now. */
  get pods(): readonly PodNetwork[] {
    return [...this.#pods.values()];
  }

  /**
   * Creates the network namespace of a Pod on `spec.node` with the next free address of its Pod CIDR, and starts a
   * server on its ports (resolves once they listen). Pods and clients share the Pod CIDR.
   */
  async addPod(spec: PodSpecInput): Promise<PodNetwork> {
    const args = ['--pod', spec.name, '--namespace', spec.kubeNamespace, '--node', spec.node];
    for (const p of spec.httpPorts ?? []) args.push('--http', String(p));
    for (const p of spec.tcpPorts ?? []) args.push('--tcp', String(p));
    return this.#addPodNetwork(
      spec.name,
      spec.node,
      spec.kubeNamespace,
      { command: NODE, args: [POD_SERVER, ...args], ready: /^LISTENING$/m },
      spec.ip,
    );
  }

  /**
   * A client namespace on `node`'s Pod network (a Pod without a server), with the cluster DNS in its resolv.conf; at
   * `ip` when given (a Pod whose containers run in it: hack/container-runtime/data-plane-network.ts).
   */
  addClient(name: string, node: string, kubeNamespace = 'default', ip?: string): Promise<PodNetwork> {
    return this.#addPodNetwork(name, node, kubeNamespace, undefined, ip);
  }

  /** The resolv.conf of a namespace of this data plane, if it has one (setClusterDns). */
  resolvConfOf(namespace: string): string | undefined {
    const path = join(NETNS_ETC, namespace, 'resolv.conf');
    return existsSync(path) ? path : undefined;
  }

  /**
   * Starts CoreDNS in a Pod namespace on `node`, answering for `clusterDomain` from the API. The caller registers the
   * Pod (with this address) and the kube-dns Service. Resolves once CoreDNS has started; its kubernetes plugin then
   * needs its first list to answer.
   */
  async addCoreDns(opts: {
    readonly name: string;
    readonly node: string;
    readonly clusterDomain?: string;
    readonly ip?: string;
  }): Promise<PodNetwork> {
    const clusterDomain = opts.clusterDomain ?? 'cluster.local';
    return this.#addPodNetwork(
      opts.name,
      opts.node,
      'kube-system',
      {
        command: this.#opts.binaries.coredns,
        args: [],
        ready: /CoreDNS-/,
        prepare: async (ns) => {
          const kubeconfigPath = await this.#apiAccess(ns, opts.name);
          const corefile = join(this.workDir, `${opts.name}.Corefile`);
          await writeFile(corefile, renderCorefile({ clusterDomain, kubeconfigPath, healthPort: 8080 }));
          return ['-conf', corefile];
        },
      },
      opts.ip,
    );
  }

  /** The cluster DNS every Pod and client namespace resolves with (written to /etc/netns/<ns>/resolv.conf). */
  #dns: { server: string; clusterDomain: string } | undefined;

  /**
   * Sets the resolv.conf of namespaces created from now on (call before adding Pods): `server`, and a kubelet's
   * search path for the Pod's Kubernetes namespace (<ns>.svc.<domain> svc.<domain> <domain>, ndots 5).
   */
  setClusterDns(server: string, clusterDomain: string): void {
    this.#dns = { server, clusterDomain };
  }

  async #addPodNetwork(
    name: string,
    nodeName: string,
    kubeNamespace: string,
    program: { command: string; args: string[]; ready: RegExp; prepare?: (ns: string) => Promise<string[]> } | undefined,
    givenIp?: string,
  ): Promise<PodNetwork> {
    if (this.#stopping !== undefined) throw new DataPlaneError('the data plane is stopped');
    const node = this.node(nodeName);
    let podIp = givenIp;
    if (podIp === undefined) {
      const host = this.#nextHost.get(node.name) ?? 2;
      podIp = podCidrAddressing(node.podCidr).address(host);
      this.#nextHost.set(node.name, host + 1);
    }
    const k = this.#nextPod++;
    const ns = `${this.prefix}-p${k}`;
    const hostSide = `vp${k}`;
    const pod: { -readonly [K in keyof PodNetwork]: PodNetwork[K] } = { name, namespace: ns, ip: podIp, node: node.name };
    this.#pods.set(ns, pod);
    await ip('netns', 'add', ns);
    await ip('-n', node.namespace, 'link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    await ip('-n', node.namespace, 'link', 'set', hostSide, 'master', 'cbr0', 'up');
    await ip('-n', node.namespace, 'link', 'set', 'dev', hostSide, 'type', 'bridge_slave', 'hairpin', 'on');
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    await ip('-n', ns, 'addr', 'add', `${podIp}/${node.podPrefix}`, 'dev', 'eth0');
    await ip('-n', ns, 'link', 'set', 'eth0', 'up');
    await ip('-n', ns, 'route', 'add', 'default', 'via', node.gateway);
    if (this.#dns !== undefined) {
      const domain = this.#dns.clusterDomain;
      await this.#writeResolvConf(ns, this.#dns.server, [`${kubeNamespace}.svc.${domain}`, `svc.${domain}`, domain]);
    }
    if (program !== undefined) {
      const extra = program.prepare === undefined ? [] : await program.prepare(ns);
      const logPath = join(this.workDir, `${name}-${k}.log`);
      const proc = startInNamespace(ns, program.command, [...program.args, ...extra], logPath);
      this.#processes.add(proc);
      pod.process = proc;
      const deadline = Date.now() + 30_000;
      while (!program.ready.test(await readFile(logPath, 'utf8').catch(() => ''))) {
        if (!proc.isRunning()) throw new DataPlaneError(`${program.command} in pod ${name} exited; log:\n${await tail(logPath)}`);
        if (Date.now() > deadline)
          throw new DataPlaneError(`${program.command} in pod ${name} did not start in 30 s; log:\n${await tail(logPath)}`);
        await sleep(50);
      }
    }
    return pod;
  }

  async #writeResolvConf(ns: string, server: string, search: readonly string[]): Promise<void> {
    const dir = join(NETNS_ETC, ns);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'resolv.conf'), `nameserver ${server}\nsearch ${search.join(' ')}\noptions ndots:5\n`);
  }

  /**
   * A client outside the Pod network, on the node network (198.19.255.(200+k)): what reaches a NodePort from another
   * machine. It has no route to Pods or ClusterIPs.
   */
  async addOutsideClient(name: string): Promise<PodNetwork> {
    const k = this.#nextOutside++;
    if (k > 50) throw new DataPlaneError('no free outside-client address left');
    const ns = `${this.prefix}-o${k}`;
    const fabric = `${this.prefix}-net`;
    const address = `198.19.255.${200 + k}`;
    const pod: PodNetwork = { name, namespace: ns, ip: address, node: '' };
    this.#pods.set(ns, pod);
    await ip('netns', 'add', ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    await ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `o${k}`, 'netns', fabric);
    await ip('-n', fabric, 'link', 'set', `o${k}`, 'master', 'fabric', 'up');
    await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    await ip('-n', ns, 'link', 'set', 'eth0', 'up');
    return pod;
  }

  /**
   * Joins a namespace the caller owns (e.g. a test/nethost host, reachable from the root namespace at `address`) to the
   * node network as a backend outside the cluster: a second link `dp0` with 198.19.255.(150+k), routes back to every
   * Pod CIDR through its Node, and on every Node a route to `address` through it. So kube-proxy can send Service
   * traffic to `address` (ExternalEndpoints) while the operator probes the same address from the root namespace. The
   * link goes away with the data plane.
   */
  async attachExternalHost(namespace: string, address: string): Promise<void> {
    const k = this.#nextExternal++;
    if (k > 40) throw new DataPlaneError('no free external-host address left');
    const fabric = `${this.prefix}-net`;
    const local = `198.19.255.${150 + k}`;
    await ip('-n', fabric, 'link', 'add', `x${k}`, 'type', 'veth', 'peer', 'name', 'dp0', 'netns', namespace);
    await ip('-n', fabric, 'link', 'set', `x${k}`, 'master', 'fabric', 'up');
    await ip('-n', namespace, 'addr', 'add', `${local}/${this.#opts.nodeNetworkPrefix ?? 24}`, 'dev', 'dp0');
    await ip('-n', namespace, 'link', 'set', 'dp0', 'up');
    for (const node of this.nodes) {
      await ip('-n', namespace, 'route', 'add', node.podCidr, 'via', node.nodeIp, 'dev', 'dp0');
      await ip('-n', node.namespace, 'route', 'add', `${address}/32`, 'via', local);
    }
  }

  /** Stops a Pod's server and removes its namespace (a deleted Pod). Idempotent. */
  async removePod(pod: PodNetwork): Promise<void> {
    if (!this.#pods.has(pod.namespace)) return;
    await pod.process?.stop();
    if (pod.process !== undefined) this.#processes.delete(pod.process);
    deleteNamespaceSync(pod.namespace);
    await rm(join(NETNS_ETC, pod.namespace), { recursive: true, force: true });
    this.#pods.delete(pod.namespace);
  }

  /** Runs a program inside a namespace of this data plane and resolves with its stdout. */
  exec(namespace: string, command: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
    return inNamespace(namespace, command, args, timeoutMs);
  }

  /**
   * Sends HTTP GETs from `from` (a client or Pod namespace) to `url`, one fresh connection each, with
   * hack/data-plane/traffic-client.ts, and returns its result lines (`OK <ms> <answer>` / `ERR <ms> <code>`).
   */
  async requests(
    from: PodNetwork,
    url: string,
    opts: { count?: number; durationMs?: number; intervalMs?: number; timeoutMs?: number },
  ): Promise<string[]> {
    const args = [
      TRAFFIC_CLIENT,
      '--url',
      url,
      '--timeout-ms',
      String(opts.timeoutMs ?? 1000),
      '--interval-ms',
      String(opts.intervalMs ?? 0),
    ];
    if (opts.count !== undefined) args.push('--count', String(opts.count));
    if (opts.durationMs !== undefined) args.push('--duration-ms', String(opts.durationMs));
    const budget = (opts.durationMs ?? (opts.count ?? 1) * ((opts.timeoutMs ?? 1000) + (opts.intervalMs ?? 0))) + 30_000;
    const out = await inNamespace(from.namespace, NODE, args, budget);
    return out.split('\n').filter((l) => l.startsWith('OK ') || l.startsWith('ERR '));
  }

  /** Starts the traffic client in the background (for measuring while something changes). */
  startTraffic(
    from: PodNetwork,
    url: string,
    opts: { durationMs: number; intervalMs?: number; timeoutMs?: number },
    logName: string,
  ): NamespaceProcess {
    const logPath = join(this.workDir, `${logName}.log`);
    const proc = startInNamespace(
      from.namespace,
      NODE,
      [
        TRAFFIC_CLIENT,
        '--url',
        url,
        '--duration-ms',
        String(opts.durationMs),
        '--interval-ms',
        String(opts.intervalMs ?? 0),
        '--timeout-ms',
        String(opts.timeoutMs ?? 1000),
      ],
      logPath,
    );
    this.#processes.add(proc);
    return proc;
  }

  /** What is left of this data plane (after stop(): nothing, when cleanup worked). */
  leftovers(): DataPlaneLeftovers {
    const namespaces = listNamespacesSync().filter((n) => n.startsWith(`${this.prefix}-`));
    const processes = [...this.#processes].filter((p) => p.isRunning()).map((p) => p.pid);
    // kube-proxy, CoreDNS and the relays name files of the work directory on their command lines.
    processes.push(...processesMentioning(this.workDir).filter((pid) => !processes.includes(pid)));
    for (const ns of namespaces) processes.push(...namespacePidsSync(ns));
    const resolvConfDirs = existsSync(NETNS_ETC) ? readdirSync(NETNS_ETC).filter((d) => d.startsWith(`${this.prefix}-`)) : [];
    return { namespaces, processes, resolvConfDirs, socket: existsSync(this.#socketPath) };
  }

  /** Log files of kube-proxy, CoreDNS and the servers, for failure dumps. */
  logs(): string[] {
    return existsSync(this.workDir)
      ? readdirSync(this.workDir)
          .filter((f) => f.endsWith('.log'))
          .map((f) => join(this.workDir, f))
      : [];
  }

  /**
   * Stops every process (kube-proxy needs a second or two after SIGTERM), deletes every namespace (with its rules,
   * links and conntrack state), the resolv.conf directories, the socket, the work directory and the claim. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await Promise.all([...this.#processes].map((p) => p.stop()));
      this.#relay?.close();
      this.#removeNow();
      live.delete(this);
      await rm(this.workDir, { recursive: true, force: true });
    })();
    return this.#stopping;
  }

  #removeNow(): void {
    for (const p of this.#processes) {
      // Only groups still running: an exited leader's pid may already belong to someone else.
      if (!p.isRunning()) continue;
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    removeByPrefixSync(this.prefix);
    try {
      unlinkSync(this.#socketPath);
    } catch {
      // already gone
    }
    rmSync(this.#claimPath, { force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function tail(path: string, lines = 30): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

/** Pids whose command line contains `text` (from /proc; none when it cannot be read). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return pids;
  }
  for (const e of entries) {
    try {
      if (Number(e) !== process.pid && readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(text)) pids.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}
