import type { ApiClient } from '../../controllers/runtime/api-client.ts';
import { CUSTOM_RESOURCE_DEFINITIONS } from '../../controllers/runtime/resource.ts';
import { waitFor } from './wait-for.ts';

/**
 * Waits until every named CustomResourceDefinition (`name` or `crd/name`) has condition Established=True, read through
 * the API. Tests use this instead of `kubectl wait --for=condition=Established`: kubectl up to at least v1.32 fails at
 * once, instead of waiting, when it reads a CRD whose `.status.conditions` is not set yet ("accessor error: <nil> is
 * of the type <nil>"), which is the case for a moment after `kubectl apply` on a loaded machine
 * (kubernetes/kubernetes#66439); it failed CI that way.
 */
export async function waitForCrdsEstablished(client: ApiClient, names: readonly string[], timeoutMs = 60_000): Promise<void> {
  for (const name of names.map((n) => n.replace(/^crd\//, ''))) {
    await waitFor(
      async () => {
        const crd = (await client.get(CUSTOM_RESOURCE_DEFINITIONS, '', name)) as {
          status?: { conditions?: readonly { type?: string; status?: string }[] };
        };
        return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true;
      },
      { description: `CustomResourceDefinition ${name} to be Established`, timeoutMs },
    );
  }
}
