import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import type {
  ApiClient,
  DeleteOptions,
  ListOptions,
  PatchType,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from '../../controllers/runtime/api-client.ts';
import { ApiError } from '../../controllers/runtime/api-errors.ts';
import type { ResourceType } from '../../controllers/runtime/resource.ts';

// What the deploy and RBAC suites share: the shipped manifests as kubectl renders them, the operator's identity (its
// ServiceAccount, a token minted for it, and a KubeConfig built the way a Pod builds it), and a client wrapper that
// records every request the API server refused.

/** Repository root. */
export const REPO = join(import.meta.dirname, '../..');
/** Where the operator and its RBAC live (config/manager/namespace.yaml). */
export const OPERATOR_NAMESPACE = 'kube-endpoints-operator-system';
/** The ServiceAccount every replica runs as (config/rbac/service-account.yaml). */
export const SERVICE_ACCOUNT = 'kube-endpoints-operator';
/** The user name the API server sees for that ServiceAccount. */
export const SERVICE_ACCOUNT_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${SERVICE_ACCOUNT}`;

/** One kubectl run. */
export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const exec = promisify(execFile);

/**
 * Runs kubectl (with the given kubeconfig, or none for client-only commands such as `kustomize`). Never throws for a
 * non-zero exit; throws when kubectl is not on PATH (these suites install the way users do, with kubectl).
 */
export async function kubectl(kubeconfig: string | undefined, ...args: string[]): Promise<KubectlResult> {
  const base = kubeconfig === undefined ? [] : ['--kubeconfig', kubeconfig];
  try {
    const { stdout, stderr } = await exec('kubectl', [...base, ...args], { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error('kubectl is not on PATH: the deploy and RBAC suites install the way users do, with kubectl', { cause: err });
    }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A rendered manifest object, loosely typed: tests pick what they need with zod. */
export const manifestObjectSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
});
/** See {@link manifestObjectSchema}. */
export type ManifestObject = z.infer<typeof manifestObjectSchema>;

/** The objects of a kustomization as `kubectl kustomize` renders them (what `kubectl apply -k` would send). */
export async function renderKustomization(dir: string): Promise<ManifestObject[]> {
  const rendered = await kubectl(undefined, 'kustomize', dir);
  if (rendered.code !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${rendered.stderr}`);
  return parseAllDocuments(rendered.stdout)
    .map((d) => d.toJS() as unknown)
    .filter((o) => o !== null)
    .map((o) => manifestObjectSchema.parse(o));
}

const TOKEN_REQUESTS = (serviceAccount: string): ResourceType => ({
  group: '',
  version: 'v1',
  plural: `serviceaccounts/${serviceAccount}/token`,
  kind: 'TokenRequest',
  namespaced: true,
});
const tokenRequestSchema = z.object({ status: z.object({ token: z.string().min(1) }) });

/**
 * Mints a token for the operator's ServiceAccount with the TokenRequest API, as the kubelet does for a Pod (bound,
 * expiring). `boundSecret` binds it to a Secret instead of a Pod: deleting the Secret revokes the token.
 */
export async function serviceAccountToken(
  admin: ApiClient,
  opts: { readonly boundSecret?: { readonly name: string; readonly uid: string }; readonly expirationSeconds?: number } = {},
): Promise<string> {
  const body = {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      expirationSeconds: opts.expirationSeconds ?? 3600,
      ...(opts.boundSecret === undefined ? {} : { boundObjectRef: { apiVersion: 'v1', kind: 'Secret', ...opts.boundSecret } }),
    },
  };
  return tokenRequestSchema.parse(await admin.create(TOKEN_REQUESTS(SERVICE_ACCOUNT), OPERATOR_NAMESPACE, body)).status.token;
}

/** Where a Pod finds its ServiceAccount files, below `root` (client-node's `loadFromCluster(root)` reads them there). */
export function serviceAccountDir(root: string): string {
  return join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
}

/** Writes (or rewrites: a rotation) the token file a kubelet would project. */
export async function writeServiceAccountToken(root: string, token: string): Promise<void> {
  await writeFile(join(serviceAccountDir(root), 'token'), token);
}

/**
 * A KubeConfig built exactly as the operator builds it in a Pod (cmd/operator/main.ts: `loadFromCluster()`), with the
 * Pod's files under `root`: `KUBERNETES_SERVICE_HOST`/`_PORT` from `server`, the CA file, the token file (read per
 * request and re-read when older than a minute) and the namespace file.
 */
export async function inClusterKubeConfig(root: string, server: string, caPem: string, token: string): Promise<KubeConfig> {
  const dir = serviceAccountDir(root);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'ca.crt'), caPem);
  await writeFile(join(dir, 'namespace'), OPERATOR_NAMESPACE);
  await writeServiceAccountToken(root, token);
  const url = new URL(server);
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  process.env.KUBERNETES_SERVICE_HOST = url.hostname;
  process.env.KUBERNETES_SERVICE_PORT = url.port;
  try {
    const kc = new KubeConfig();
    kc.loadFromCluster(root);
    return kc;
  } finally {
    restoreEnv('KUBERNETES_SERVICE_HOST', saved.host);
    restoreEnv('KUBERNETES_SERVICE_PORT', saved.port);
  }
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** A kubeconfig file (YAML; JSON is YAML) that authenticates with a bearer token, for a child process. */
export function tokenKubeconfig(server: string, caPem: string, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'cluster', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: SERVICE_ACCOUNT, user: { token } }],
    contexts: [{ name: SERVICE_ACCOUNT, context: { cluster: 'cluster', user: SERVICE_ACCOUNT } }],
    'current-context': SERVICE_ACCOUNT,
  });
}

/** One request the API server refused with 403 Forbidden. */
export interface ForbiddenRequest {
  readonly verb: string;
  /** The request path, e.g. `/api/v1/namespaces/ns/endpoints`. */
  readonly path: string;
  /** The resource (plural, with `/subresource` when there is one) the path addresses. */
  readonly resource: string;
  /** The namespace in the path; '' for cluster-wide requests. */
  readonly namespace: string;
  readonly message: string;
}

/**
 * The resource and namespace a REST path addresses: `/api/v1/namespaces/ns/endpoints/web` -> endpoints in ns,
 * `/apis/g/v/namespaces/ns/things/x/status` -> things/status in ns, `/api/v1/services` -> services cluster-wide. Pure.
 */
export function resourceOfPath(path: string): { resource: string; namespace: string } {
  const segments = (path.split('?')[0] ?? '').split('/').filter((s) => s !== '');
  const rest = segments[0] === 'api' ? segments.slice(2) : segments.slice(3);
  let namespace = '';
  let tail = rest;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = decodeURIComponent(rest[1] ?? '');
    tail = rest.slice(2);
  }
  const [plural = '', , subresource] = tail;
  return { resource: subresource === undefined ? plural : `${plural}/${subresource}`, namespace };
}

/**
 * An ApiClient that forwards to another and remembers every 403 answer (in `forbidden`, shared with the clients
 * `forComponent` derives), so a test can say which permission a behaviour lacked.
 */
export class ForbiddenRecordingClient implements ApiClient {
  readonly #inner: ApiClient;
  readonly forbidden: ForbiddenRequest[];

  constructor(inner: ApiClient, forbidden: ForbiddenRequest[] = []) {
    this.#inner = inner;
    this.forbidden = forbidden;
  }

  #record(err: unknown): never {
    if (err instanceof ApiError && err.code === 403)
      this.forbidden.push({ verb: err.verb, path: err.path, message: err.message, ...resourceOfPath(err.path) });
    throw err;
  }

  get(r: ResourceType, namespace: string, name: string, signal?: AbortSignal): Promise<unknown> {
    return this.#inner.get(r, namespace, name, signal).catch((e: unknown) => this.#record(e));
  }
  list(r: ResourceType, namespace: string, opts?: ListOptions, signal?: AbortSignal) {
    return this.#inner.list(r, namespace, opts, signal).catch((e: unknown) => this.#record(e));
  }
  async *watch(r: ResourceType, namespace: string, opts: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent> {
    try {
      yield* this.#inner.watch(r, namespace, opts, signal);
    } catch (e) {
      this.#record(e);
    }
  }
  create(r: ResourceType, namespace: string, body: unknown, opts?: WriteOptions): Promise<unknown> {
    return this.#inner.create(r, namespace, body, opts).catch((e: unknown) => this.#record(e));
  }
  update(
    r: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    opts?: WriteOptions & { subresource?: string },
  ): Promise<unknown> {
    return this.#inner.update(r, namespace, name, body, opts).catch((e: unknown) => this.#record(e));
  }
  patch(
    r: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    type: PatchType,
    opts?: WriteOptions & { subresource?: string; force?: boolean },
  ): Promise<unknown> {
    return this.#inner.patch(r, namespace, name, body, type, opts).catch((e: unknown) => this.#record(e));
  }
  delete(r: ResourceType, namespace: string, name: string, opts?: DeleteOptions): Promise<void> {
    return this.#inner.delete(r, namespace, name, opts).catch((e: unknown) => this.#record(e));
  }
  getPath(path: string, signal?: AbortSignal): Promise<unknown> {
    return this.#inner.getPath(path, signal).catch((e: unknown) => this.#record(e));
  }
  forComponent(userAgent: string): ApiClient {
    return new ForbiddenRecordingClient(this.#inner.forComponent(userAgent), this.forbidden);
  }
}
