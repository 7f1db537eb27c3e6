import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import packageJson from '../../../package.json' with { type: 'json' };
import type { ContainerEngine } from '../../../controllers/playground/pod-simulator/container-runtime.ts';
import { podServiceAccountToken } from '../../../controllers/playground/pod-simulator/service-account-token.ts';
import type { ApiClient } from '../../../controllers/runtime/api-client.ts';
import { DataPlaneSandboxNetwork } from '../../../hack/container-runtime/data-plane-network.ts';
import { RuncEngine, runtimeSupport } from '../../../hack/container-runtime/runc-engine.ts';
import type { InClusterApiService } from '../../../hack/local-cluster/local-cluster.ts';

// The playground's container runtime (docs/playground.md, "Running images"): when this machine can run runc and the
// operator's image was built (`npm run image` -> dist/image/oci), Pods using `kube-endpoints-operator:<version>` run
// for real; every other image stays simulated. Wired here because it joins the cluster's credentials, the simulator and
// hack/container-runtime.

/** The operator's own image as the playground runs it. */
export const PLAYGROUND_IMAGE = `kube-endpoints-operator:${packageJson.version}`;
const LAYOUT = fileURLToPath(new URL('../../dist/image/oci', import.meta.url));

/**
 * A started runtime, or one line saying why there is none. Never throws. With `kubernetesService`, its sandboxes join
 * the data plane once `network.use(plane)` is called (hack/container-runtime/data-plane-network.ts).
 */
export async function startPlaygroundRuntime(input: {
  readonly server: string;
  readonly caPem: string;
  readonly client: ApiClient;
  readonly kubernetesService?: InClusterApiService;
}): Promise<{ engine?: ContainerEngine & { close(): Promise<void> }; network?: DataPlaneSandboxNetwork; note: string }> {
  if (!existsSync(`${LAYOUT}/index.json`)) return { note: `no container runtime: no image at ${LAYOUT} (npm run image builds it)` };
  const support = runtimeSupport();
  if (!support.ok) return { note: support.reason };
  try {
    const service = input.kubernetesService;
    const network = service === undefined ? undefined : new DataPlaneSandboxNetwork({ host: service.clusterIP, port: service.port });
    const engine = await RuncEngine.start({
      ...(network === undefined ? {} : { network }),
      images: { [PLAYGROUND_IMAGE]: { layout: LAYOUT, ref: packageJson.version } },
      apiServer: { server: input.server, caPem: input.caPem },
      token: (pod, signal) => podServiceAccountToken(input.client, pod, signal),
    });
    return {
      engine,
      ...(network === undefined ? {} : { network }),
      note: `container runtime: Pods using ${PLAYGROUND_IMAGE} run with runc; logs in ${engine.logDir}`,
    };
  } catch (err) {
    return { note: `no container runtime: ${(err as Error).message.split('\n')[0]}` };
  }
}
