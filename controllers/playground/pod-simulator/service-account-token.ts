import { z } from 'zod';
import type { ApiClient } from '../../runtime/api-client.ts';
import type { ResourceType } from '../../runtime/resource.ts';
import type { SimPod } from './simulated-objects.ts';

// The token a kubelet projects into a Pod: minted with the TokenRequest API for the Pod's ServiceAccount and bound to
// the Pod, so deleting the Pod revokes it (pkg/kubelet/token/token_manager.go: GetServiceAccountToken).

const TOKEN_REQUEST_SECONDS = 3607;
const tokenRequestSchema = z.object({ status: z.object({ token: z.string().min(1) }) });

const tokenRequests = (serviceAccount: string): ResourceType => ({
  group: '',
  version: 'v1',
  plural: `serviceaccounts/${serviceAccount}/token`,
  kind: 'TokenRequest',
  namespaced: true,
});

/** Mints a token for the Pod's ServiceAccount (`default` when unset), bound to the Pod. */
export async function podServiceAccountToken(client: ApiClient, pod: Readonly<SimPod>, signal?: AbortSignal): Promise<string> {
  const body = {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      // The kubelet's default projected token lifetime (an hour and seven seconds).
      expirationSeconds: TOKEN_REQUEST_SECONDS,
      boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
    },
  };
  const created = await client.create(tokenRequests(pod.spec.serviceAccountName ?? 'default'), pod.metadata.namespace, body, {
    ...(signal === undefined ? {} : { signal }),
  });
  return tokenRequestSchema.parse(created).status.token;
}
