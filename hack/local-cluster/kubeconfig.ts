import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

// The admin kubeconfig handed to clients (client-node, kubectl, kube-controller-manager). Certificates are embedded
// as *-data fields so the file stays valid after the cluster's certificate directory is gone.

/** One cluster, one user, one context, all under `name`. */
export interface KubeconfigInput {
  /** Name of the cluster, user and context. Default `local-cluster`. */
  readonly name?: string;
  /** `https://127.0.0.1:<port>`: an IP literal, never localhost (Node may resolve it to ::1). */
  readonly server: string;
  readonly caPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

const base64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');

/** Renders the kubeconfig as YAML. Pure. */
export function renderKubeconfig(input: KubeconfigInput): string {
  const name = input.name ?? 'local-cluster';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: input.server, 'certificate-authority-data': base64(input.caPem) } }],
    users: [{ name, user: { 'client-certificate-data': base64(input.clientCertPem), 'client-key-data': base64(input.clientKeyPem) } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
    preferences: {},
  });
}

/** Writes {@link renderKubeconfig} to `path`, readable by the owner only (it holds a private key). */
export async function writeKubeconfig(path: string, input: KubeconfigInput): Promise<void> {
  await writeFile(path, renderKubeconfig(input), { mode: 0o600 });
}
