import type { SimContainer, SimPod, SimSecurityContext } from './simulated-objects.ts';

// The OCI runtime configuration (runc's config.json) of one container of a Pod, as a kubelet + CRI runtime would
// build it: the image's entrypoint, command, environment and user overridden by the container spec
// (pkg/kubelet/kuberuntime/kuberuntime_container.go: generateContainerConfig), `$(VAR)` references expanded
// (third_party/forked/golang/expansion/expand.go: Expand), the Pod's network namespace joined, the ServiceAccount
// volume mounted where client libraries look for it, limits as cgroup settings (pkg/kubelet/cm: MilliCPUToQuota,
// MilliCPUToShares) and the securityContext's user, capabilities and read-only root. Pure.

/** The mount point of the ServiceAccount volume (token, ca.crt, namespace). */
export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The CFS period a kubelet sets (100 ms). */
export const CPU_PERIOD_US = 100_000;

/** What the runtime reads of an image's configuration (OCI image config `config`). */
export interface ImageConfig {
  /** `User`: `uid`, `uid:gid`, or a name (names cannot be checked against runAsNonRoot). */
  readonly user?: string;
  readonly env: readonly string[];
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly workingDir?: string;
}

/** Host paths and addresses the container is wired to. */
export interface RuncSpecInput {
  readonly pod: Readonly<SimPod>;
  readonly container: Readonly<SimContainer>;
  readonly image: ImageConfig;
  /** The unpacked root filesystem. */
  readonly rootfs: string;
  /** The Pod's network namespace (`/run/netns/<name>`). */
  readonly netnsPath: string;
  readonly podIP: string;
  /** Directory with token, ca.crt and namespace; absent: no ServiceAccount volume. */
  readonly serviceAccountDir?: string;
  /** An /etc/hosts file for the Pod. */
  readonly hostsFile?: string;
  /** An /etc/resolv.conf for the Pod (the cluster DNS); absent: the image's. */
  readonly resolvConfFile?: string;
  /** How the API server is reached from inside the Pod (KUBERNETES_SERVICE_HOST/PORT). */
  readonly apiServer: { readonly host: string; readonly port: number };
  /** cgroupfs path (relative to each controller's root). */
  readonly cgroupsPath: string;
}

/** A mount of the OCI runtime spec. */
export interface OciMount {
  readonly destination: string;
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
}

/** The subset of the OCI runtime spec this runtime writes. */
export interface OciSpec {
  readonly ociVersion: string;
  readonly process: {
    readonly terminal: false;
    readonly user: { readonly uid: number; readonly gid: number };
    readonly args: readonly string[];
    readonly env: readonly string[];
    readonly cwd: string;
    readonly capabilities: Readonly<Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', readonly string[]>>;
    readonly rlimits: readonly { readonly type: string; readonly hard: number; readonly soft: number }[];
    readonly noNewPrivileges: boolean;
  };
  readonly root: { readonly path: string; readonly readonly: boolean };
  readonly hostname: string;
  readonly mounts: readonly OciMount[];
  readonly linux: {
    readonly namespaces: readonly { readonly type: string; readonly path?: string }[];
    readonly cgroupsPath: string;
    readonly resources: {
      readonly devices: readonly { readonly allow: boolean; readonly access: string }[];
      readonly memory?: { readonly limit: number };
      readonly cpu?: { readonly shares?: number; readonly quota?: number; readonly period?: number };
    };
    readonly maskedPaths: readonly string[];
    readonly readonlyPaths: readonly string[];
  };
}

/** The spec, or why the container cannot be created (the kubelet's CreateContainerConfigError). */
export type RuncSpecResult = { readonly ok: true; readonly spec: OciSpec } | { readonly ok: false; readonly message: string };

// containerd's default capability set (pkg/oci/spec.go: defaultUnixCaps), which a securityContext adds to and drops
// from.
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Builds the config.json of `input.container`. Pure. */
export function runcSpec(input: RuncSpecInput): RuncSpecResult {
  const { pod, container, image } = input;
  const security = mergeSecurityContext(pod.spec.securityContext ?? undefined, container.securityContext ?? undefined);
  const user = resolveUser(security, image.user);
  if (!user.ok) return user;

  const env = containerEnv(input);
  const vars = new Map(env.map(([k, v]) => [k, v]));
  const expand = (s: string) => expandVars(s, vars);
  const args = processArgs(container, image).map(expand);
  if (args.length === 0) return { ok: false, message: 'no command specified: neither the container nor the image has one' };

  const caps = capabilities(security);
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const memory = limits.memory === undefined ? undefined : quantityValue(String(limits.memory));
  if (limits.memory !== undefined && memory === undefined) return { ok: false, message: `invalid memory limit ${String(limits.memory)}` };
  const cpuLimitMilli = limits.cpu === undefined ? undefined : quantityMilli(String(limits.cpu));
  const cpuRequestMilli = requests.cpu === undefined ? cpuLimitMilli : quantityMilli(String(requests.cpu));

  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
  if (input.hostsFile !== undefined)
    mounts.push({ destination: '/etc/hosts', type: 'bind', source: input.hostsFile, options: ['rbind', 'ro'] });
  if (input.resolvConfFile !== undefined)
    mounts.push({ destination: '/etc/resolv.conf', type: 'bind', source: input.resolvConfFile, options: ['rbind', 'ro'] });
  if (input.serviceAccountDir !== undefined)
    mounts.push({ destination: SERVICE_ACCOUNT_MOUNT, type: 'bind', source: input.serviceAccountDir, options: ['rbind', 'ro'] });

  return {
    ok: true,
    spec: {
      ociVersion: '1.0.2',
      process: {
        terminal: false,
        user: { uid: user.uid, gid: user.gid },
        args,
        env: env.map(([k, v]) => `${k}=${v}`),
        cwd: container.workingDir ?? (image.workingDir || '/'),
        capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
        // Inherited from this process (a higher limit than the host's hard one is refused).
        rlimits: [],
        noNewPrivileges: security.allowPrivilegeEscalation === false,
      },
      root: { path: input.rootfs, readonly: security.readOnlyRootFilesystem === true },
      hostname: pod.metadata.name,
      mounts,
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: input.netnsPath }],
        cgroupsPath: input.cgroupsPath,
        resources: {
          devices: [{ allow: false, access: 'rwm' }],
          ...(memory === undefined ? {} : { memory: { limit: memory } }),
          ...(cpuLimitMilli === undefined && cpuRequestMilli === undefined
            ? {}
            : {
                cpu: {
                  ...(cpuRequestMilli === undefined ? {} : { shares: milliCpuToShares(cpuRequestMilli) }),
                  ...(cpuLimitMilli === undefined ? {} : { quota: milliCpuToQuota(cpuLimitMilli), period: CPU_PERIOD_US }),
                },
              }),
        },
        maskedPaths: MASKED_PATHS,
        readonlyPaths: READONLY_PATHS,
      },
    },
  };
}

/** The container's securityContext over the Pod's (the fields both have). Pure. */
export function mergeSecurityContext(
  podLevel: SimSecurityContext | undefined,
  containerLevel: SimSecurityContext | undefined,
): SimSecurityContext {
  return { ...podLevel, ...Object.fromEntries(Object.entries(containerLevel ?? {}).filter(([, v]) => v !== undefined)) };
}

/** uid/gid from runAsUser/runAsGroup, else the image's User; refused when runAsNonRoot cannot hold. Pure. */
export function resolveUser(
  security: SimSecurityContext,
  imageUser: string | undefined,
): { ok: true; uid: number; gid: number } | { ok: false; message: string } {
  const [imageUid = '', imageGid = ''] = (imageUser ?? '').split(':');
  const numeric = (s: string) => (/^\d+$/.test(s) ? Number(s) : undefined);
  let uid = security.runAsUser;
  if (uid === undefined) {
    if (imageUid !== '' && numeric(imageUid) === undefined)
      return security.runAsNonRoot === true
        ? { ok: false, message: `container has runAsNonRoot and image has non-numeric user (${imageUid}), cannot verify user is non-root` }
        : { ok: false, message: `image user ${imageUid} is a name; this runtime only runs numeric users` };
    uid = numeric(imageUid) ?? 0;
  }
  if (security.runAsNonRoot === true && uid === 0) return { ok: false, message: 'container has runAsNonRoot and image will run as root' };
  const gid = security.runAsGroup ?? (security.runAsUser === undefined ? numeric(imageGid) : undefined) ?? 0;
  return { ok: true, uid, gid };
}

/** Kubernetes' command/args over the image's Entrypoint/Cmd (a command discards the image's Cmd). Pure. */
export function processArgs(container: Readonly<SimContainer>, image: ImageConfig): string[] {
  const command = container.command ?? undefined;
  const args = container.args ?? undefined;
  if (command !== undefined && command.length > 0) return [...command, ...(args ?? [])];
  return [...image.entrypoint, ...(args !== undefined && args.length > 0 ? args : image.cmd)];
}

/**
 * The environment, in order: the image's, the `kubernetes` Service variables, then the container's (each value may
 * reference the ones before it as `$(NAME)`; fieldRefs resolved). Later names override earlier ones. Pure.
 */
export function containerEnv(input: Pick<RuncSpecInput, 'pod' | 'container' | 'image' | 'podIP' | 'apiServer'>): [string, string][] {
  const vars = new Map<string, string>();
  for (const entry of input.image.env) {
    const eq = entry.indexOf('=');
    if (eq > 0) vars.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  const { host, port } = input.apiServer;
  vars.set('KUBERNETES_SERVICE_HOST', host);
  vars.set('KUBERNETES_SERVICE_PORT', String(port));
  vars.set('KUBERNETES_SERVICE_PORT_HTTPS', String(port));
  vars.set('KUBERNETES_PORT', `tcp://${host}:${port}`);
  vars.set('HOSTNAME', input.pod.metadata.name);
  for (const e of input.container.env ?? []) {
    const field = e.valueFrom?.fieldRef?.fieldPath;
    const value = field !== undefined ? fieldValue(input.pod, field, input.podIP) : expandVars(e.value ?? '', vars);
    vars.set(e.name, value);
  }
  return [...vars];
}

function fieldValue(pod: Readonly<SimPod>, path: string, podIP: string): string {
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'metadata.uid':
      return pod.metadata.uid;
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? 'default';
    case 'status.podIP':
      return podIP;
    default:
      return '';
  }
}

/** Expands `$(NAME)` from `vars` (unknown names stay as written) and `$$` to `$`, as the kubelet does. Pure. */
export function expandVars(s: string, vars: ReadonlyMap<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) =>
    name === undefined ? '$' : (vars.get(name) ?? match),
  );
}

function capabilities(security: SimSecurityContext): string[] {
  const norm = (c: string) => (c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`);
  const drop = (security.capabilities?.drop ?? []).map(norm);
  const add = (security.capabilities?.add ?? []).map(norm);
  const base = drop.includes('CAP_ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c));
  return [...new Set([...base, ...add.filter((c) => c !== 'CAP_ALL')])];
}

const SUFFIX: Readonly<Record<string, number>> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** A resource quantity (`512Mi`, `1`, `500m`, `1.5Gi`) as a number of units, rounded up; undefined if invalid. Pure. */
export function quantityValue(q: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q.trim());
  if (m === null) return undefined;
  return Math.ceil(Number(m[1]) * (SUFFIX[m[2] ?? ''] ?? 1));
}

/** A CPU quantity in millicores; undefined if invalid. Pure. */
export function quantityMilli(q: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(q.trim());
  if (m === null) return undefined;
  return Math.ceil(m[2] === 'm' ? Number(m[1]) : Number(m[1]) * 1000);
}

/** pkg/kubelet/cm/helpers_linux.go: MilliCPUToQuota (min 1 ms). */
export function milliCpuToQuota(milli: number): number {
  return Math.max(1000, Math.floor((milli * CPU_PERIOD_US) / 1000));
}

/** pkg/kubelet/cm/helpers_linux.go: MilliCPUToShares (min 2). */
export function milliCpuToShares(milli: number): number {
  return Math.max(2, Math.floor((milli * 1024) / 1000));
}
