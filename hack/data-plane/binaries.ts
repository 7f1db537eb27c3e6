import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILD_SCRIPT, type LocateBinariesOptions, runBuildScript } from '../local-cluster/binaries.ts';
import type { DataPlaneBinaries } from './data-plane.ts';

// kube-proxy and coredns sit beside the control-plane binaries (hack/build-control-plane.sh --data-plane builds them
// into the same cached directory, each only when missing). The environment is an explicit input.

/** The data-plane binaries in `dir`. Pure. */
export function dataPlaneBinariesIn(dir: string): DataPlaneBinaries {
  return { kubeProxy: join(dir, 'kube-proxy'), coredns: join(dir, 'coredns') };
}

/**
 * Returns kube-proxy and coredns from `kubebuilderAssets` when both are there, otherwise runs
 * `hack/build-control-plane.sh --data-plane` (which waits for a build of the same version already running) and
 * returns them from the directory it prints. Throws BinariesUnavailableError.
 */
export async function locateDataPlaneBinaries(opts: LocateBinariesOptions): Promise<DataPlaneBinaries> {
  if (opts.kubebuilderAssets !== undefined && opts.kubebuilderAssets !== '') {
    const found = dataPlaneBinariesIn(opts.kubebuilderAssets);
    if (await executable(found)) return found;
  }
  const dir = await runBuildScript(opts.buildScript ?? BUILD_SCRIPT, opts, ['--data-plane']);
  return dataPlaneBinariesIn(dir);
}

async function executable(b: DataPlaneBinaries): Promise<boolean> {
  const ok = (p: string) =>
    access(p, constants.X_OK).then(
      () => true,
      () => false,
    );
  return (await ok(b.kubeProxy)) && (await ok(b.coredns));
}
