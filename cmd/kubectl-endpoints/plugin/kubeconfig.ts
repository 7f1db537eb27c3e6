import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

// Finds the cluster the way kubectl does: `--kubeconfig`, else every file of KUBECONFIG merged (the first file to
// define a name or the current context wins), else ~/.kube/config, else the in-cluster service account; then
// `--context` picks the context and `-n` the namespace (default: the context's, else "default").

/** Where the kubeconfig came from, for error messages. */
export type KubeconfigSource = 'flag' | 'KUBECONFIG' | 'home' | 'in-cluster';

/** The loaded configuration and the namespace to use. */
export interface ResolvedKubeconfig {
  readonly kubeConfig: KubeConfig;
  readonly source: KubeconfigSource;
  readonly context: string;
  readonly namespace: string;
}

/** The kubeconfig could not be loaded or does not name what was asked for. */
export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
}

/** What resolution reads besides flags; injectable for tests. */
export interface KubeconfigEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
  readonly exists: (path: string) => boolean;
}

/** The real environment: `env` (process.env), the user's home directory and the file system. */
export function processEnvironment(env: Readonly<Record<string, string | undefined>>): KubeconfigEnvironment {
  return { env, home: homedir(), exists: existsSync };
}

function load(path: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (err) {
    throw new KubeconfigError(`cannot load kubeconfig ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return kc;
}

/** kubectl's merge of a KUBECONFIG list: for every name (and the current context) the first file that sets it wins. */
export function mergeKubeconfigs(configs: readonly KubeConfig[]): KubeConfig {
  const clusters = new Map<string, KubeConfig['clusters'][number]>();
  const users = new Map<string, KubeConfig['users'][number]>();
  const contexts = new Map<string, KubeConfig['contexts'][number]>();
  let currentContext = '';
  for (const kc of configs) {
    for (const c of kc.clusters) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of kc.users) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of kc.contexts) if (!contexts.has(c.name)) contexts.set(c.name, c);
    if (currentContext === '' && kc.currentContext) currentContext = kc.currentContext;
  }
  const merged = new KubeConfig();
  merged.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext,
  });
  return merged;
}

/**
 * Resolves the kubeconfig, context and namespace. Throws {@link KubeconfigError} when no configuration is found, a
 * file cannot be read, or the context does not exist.
 */
export function resolveKubeconfig(
  flags: { readonly kubeconfig?: string; readonly context?: string; readonly namespace?: string },
  environment: KubeconfigEnvironment,
): ResolvedKubeconfig {
  const { env, home, exists } = environment;
  let kubeConfig: KubeConfig;
  let source: KubeconfigSource;
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  const homeConfig = join(home, '.kube', 'config');
  if (flags.kubeconfig !== undefined) {
    kubeConfig = load(flags.kubeconfig);
    source = 'flag';
  } else if (fromEnv.length > 0) {
    // kubectl skips KUBECONFIG entries that do not exist, as long as one does.
    const present = fromEnv.filter((p) => exists(p));
    if (present.length === 0) throw new KubeconfigError(`none of the files in KUBECONFIG exist: ${fromEnv.join(delimiter)}`);
    kubeConfig = mergeKubeconfigs(present.map(load));
    source = 'KUBECONFIG';
  } else if (exists(homeConfig)) {
    kubeConfig = load(homeConfig);
    source = 'home';
  } else if ((env.KUBERNETES_SERVICE_HOST ?? '') !== '') {
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromCluster();
    source = 'in-cluster';
  } else {
    throw new KubeconfigError('no kubeconfig: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config');
  }

  if (flags.context !== undefined) {
    if (kubeConfig.getContextObject(flags.context) === null)
      throw new KubeconfigError(`context "${flags.context}" not found in the kubeconfig`);
    kubeConfig.setCurrentContext(flags.context);
  }
  const context = kubeConfig.getCurrentContext();
  if (kubeConfig.getCurrentCluster() === null) {
    throw new KubeconfigError(
      context ? `context "${context}" names no known cluster` : 'the kubeconfig has no current context; pass --context',
    );
  }
  const namespace = flags.namespace ?? kubeConfig.getContextObject(context)?.namespace ?? 'default';
  return { kubeConfig, source, context, namespace: namespace === '' ? 'default' : namespace };
}
