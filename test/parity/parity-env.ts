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
// and subset boundaries with a handful of Pods.

/** Tuning shared by both sides. kube-controller-manager's defaults except the two size caps. */
export const PARITY_TUNING = {
  maxEndpointsPerSlice: 5,
  mirroringMaxEndpointsPerSubset: 5,
} as const;

export interface ParityEnv {
  readonly upstream: TestCluster;
  readonly ours: TestCluster;
  /** Every request our controllers made, for write counts. */
  readonly ourRequests: RequestRecord[];
  /** Our manager's recent log lines (debug and up, JSON), for failure reports; at most {@link LOG_RING_SIZE}. */
  readonly ourLog: string[];
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
  const [upstream, ours] = await Promise.all([
    startTestCluster({
      name: 'upstream',
      apiServerFlags,
      controllers: ['endpoints-controller', 'endpointslice-controller', 'endpointslice-mirroring-controller'],
      controllerManagerFlags: {
        'max-endpoints-per-slice': String(PARITY_TUNING.maxEndpointsPerSlice),
        'mirroring-max-endpoints-per-subset': String(PARITY_TUNING.mirroringMaxEndpointsPerSubset),
      },
    }),
    startTestCluster({ name: 'ours', apiServerFlags }),
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
  return { upstream, ours, ourRequests, ourLog };
}
