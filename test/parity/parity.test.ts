import { before, describe, it } from 'node:test';
import { runScenario } from './run-scenario.ts';
import { type ParityEnv, startParityEnv } from './parity-env.ts';
import { SCENARIOS } from './scenarios.ts';

// Parity with the real kube-controller-manager: every scenario runs on both control planes and the normalised
// Endpoints and EndpointSlices must agree after every step.

const env: ParityEnv = await startParityEnv();

describe('parity with kube-controller-manager', () => {
  before(async () => {
    for (const c of [env.upstream, env.ours]) {
      await c.createNode('node-a', 'zone-a');
      await c.createNode('node-b', 'zone-b');
    }
  });
  // PARITY_ONLY=<substring> runs the matching scenarios alone (to replay a failure).
  const only = process.env.PARITY_ONLY;
  for (const [i, scenario] of SCENARIOS.entries()) {
    if (only !== undefined && !scenario.name.includes(only)) continue;
    it(scenario.name, async () => {
      await runScenario(env, scenario, `parity-${i}`);
    });
  }
});
