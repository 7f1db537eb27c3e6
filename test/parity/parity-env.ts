import { after } from 'node:test';
import { pino } from 'pino';
import { setupEndpointsController } from '../../controllers/endpoints/controller.ts';
import { setupEndpointSliceController } from '../../controllers/endpointslice/controller.ts';
import { setupEndpointSliceMirroringController } from '../../controllers/endpointslice-mirroring/controller.ts';
import type { RequestRecord } from '../../controllers/runtime/api-client.ts';
import { Manager } from '../../controllers/runtime/manager.ts';
import { startTestCluster, type TestCluster } from '../envtest/test-cluster.ts';

// Two control planes fed the same inputs: `upstream` runs kube-controller-manager's three endpoint controllers,
// `ours` runs this operator's, in-process. Both get the same tuning flags, chosen small so that scenarios cross slice
// and subset boundaries with a handful of Pods. Both also run kube-controller-manager's garbage collector (on `ours`
// a kube-controller-manager with only `garbage-collector-controller`), so that slices owned by a deleted Service go
// away on both sides as in a real cluster.
//
// Calibration (PARITY_CALIBRATE=1): a third control plane, `twin`, runs a second kube-controller-manager with the
// same controllers and flags as `upstream`. Where the two kube-controller-managers disagree after a step, the outcome
// depends on event timing upstream; the runner reports the step as racy upstream and accepts ours when it equals
// either of them (run-scenario.ts).

/** Tuning shared by both sides. kube-controller-manager's defaults except the two size caps. */
export const PARITY_TUNING = {
  maxEndpointsPerSlice: 5,
  mirroringMaxEndpointsPerSubset: 5,
} as const;

/** The endpoint controllers of kube-controller-manager, and its garbage collector (names from `--controllers`). */
const KCM_ENDPOINT_CONTROLLERS = ['endpoints-controller', 'endpointslice-controller', 'endpointslice-mirroring-controller'];
const GARBAGE_COLLECTOR = 'garbage-collector-controller';

export interface ParityEnv {
  readonly upstream: TestCluster;
  readonly ours: TestCluster;
  /** Calibration only: a second kube-controller-manager fed the same inputs. */
  readonly twin?: TestCluster;
  /** Every request our controllers made, for write counts. */
  readonly ourRequests: RequestRecord[];
  /** Our manager's recent log lines (debug and up, JSON), for failure reports; at most {@link LOG_RING_SIZE}. */
  readonly ourLog: string[];
}

/** Every control plane of the env: upstream, ours and (calibrating) the twin. */
export const clustersOf = (env: ParityEnv): TestCluster[] => [env.upstream, env.ours, ...(env.twin ? [env.twin] : [])];

/** Creates the Nodes every scenario may use (`node-a` in zone-a, `node-b` in zone-b) on every cluster. */
export async function createBaseNodes(env: ParityEnv): Promise<void> {
  for (const c of clustersOf(env)) {
    await c.createNode('node-a', 'zone-a');
    await c.createNode('node-b', 'zone-b');
  }
}

/** PARITY_ONLY=<a>|<b>: whether a test name contains one of the `|`-separated substrings (all tests when unset). */
export function selected(name: string, only: string | undefined = process.env.PARITY_ONLY): boolean {
  return only === undefined || only.split('|').some((part) => name.includes(part));
}

/** Prints a run's writes report (and its racy-upstream steps, when calibrating) as test diagnostics. */
export function reportRun(t: { diagnostic(message: string): void }, run: { report(): string[] }): void {
  for (const line of run.report()) t.diagnostic(line);
}

/** How many of our manager's log lines a failure report can draw on. */
export const LOG_RING_SIZE = 4000;

/**
 * Our manager's logs: to stdout at PARITY_LOG_LEVEL when set (to watch a replay live), otherwise at debug into a ring
 * buffer that failure reports read, so a rare mismatch comes with the controller's side of the story.
 */
function parityLogger(ring: string[]) {
  const level = process.env.PARITY_LOG_LEVEL;
  if (level !== undefined) return pino({ level });
  return pino(
    { level: 'debug' },
    {
      write(line: string) {
        ring.push(line.trimEnd());
        if (ring.length > LOG_RING_SIZE) ring.splice(0, ring.length - LOG_RING_SIZE);
      },
    },
  );
}

/** Starts both clusters and our manager; everything stops in the calling file's `after` hook. */
export async function startParityEnv(): Promise<ParityEnv> {
  // Dual-stack Service CIDRs so that dual-stack scenarios run; kube-controller-manager needs nothing more for them.
  const apiServerFlags = { 'service-cluster-ip-range': '10.0.0.0/24,fd00:10:96::/112' };
  const controllerManagerFlags = {
    'max-endpoints-per-slice': String(PARITY_TUNING.maxEndpointsPerSlice),
    'mirroring-max-endpoints-per-subset': String(PARITY_TUNING.mirroringMaxEndpointsPerSubset),
  };
  const kcm = (name: string) =>
    startTestCluster({ name, apiServerFlags, controllers: [...KCM_ENDPOINT_CONTROLLERS, GARBAGE_COLLECTOR], controllerManagerFlags });
  const calibrate = process.env.PARITY_CALIBRATE === '1';
  const [upstream, ours, twin] = await Promise.all([
    kcm('upstream'),
    startTestCluster({ name: 'ours', apiServerFlags, controllers: [GARBAGE_COLLECTOR] }),
    calibrate ? kcm('twin') : undefined,
  ]);
  const ourRequests: RequestRecord[] = [];
  const ourLog: string[] = [];
  const { newApiClient } = await import('../../controllers/runtime/api-client.ts');
  const { realClock } = await import('../../controllers/runtime/clock.ts');
  const client = newApiClient(ours.kubeConfig, { clock: realClock, qps: 20, burst: 30, observer: (r) => ourRequests.push(r) });
  const manager = new Manager({ client, logger: parityLogger(ourLog) });
  setupEndpointsController(manager, {});
  setupEndpointSliceController(manager, { maxEndpointsPerSlice: PARITY_TUNING.maxEndpointsPerSlice });
  setupEndpointSliceMirroringController(manager, { maxEndpointsPerSubset: PARITY_TUNING.mirroringMaxEndpointsPerSubset });
  const stop = new AbortController();
  const outcome = manager.start(stop.signal);
  after(async () => {
    stop.abort();
    await outcome;
  });
  return { upstream, ours, ...(twin ? { twin } : {}), ourRequests, ourLog };
}
